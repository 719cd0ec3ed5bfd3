//! Expressions: one file per kernel expression, and here the only name → parser table.
//!
//! An expression this crate does not model — or one carrying an attribute it does not know — decodes
//! to [`Expr::Unknown`] with its name and raw `NFTA_EXPR_DATA` bytes, and is written back unchanged.

mod bitwise;
mod cmp;
mod counter;
mod ct;
mod fib;
mod immediate;
mod limit;
mod log;
mod lookup;
mod masq;
mod meta;
mod nat;
mod payload;
mod range;
mod redir;
mod register;
mod reject;
mod xt;

pub use bitwise::{Bitwise, BitwiseOp};
pub use cmp::{Cmp, CmpOp};
pub use counter::Counter;
pub use ct::{Ct, CtKey};
pub use fib::{
    Fib, NFT_FIB_RESULT_ADDRTYPE, NFT_FIB_RESULT_OIF, NFT_FIB_RESULT_OIFNAME, NFTA_FIB_F_DADDR,
    NFTA_FIB_F_IIF, NFTA_FIB_F_MARK, NFTA_FIB_F_OIF, NFTA_FIB_F_SADDR, RTN_LOCAL,
};
pub use immediate::Immediate;
pub use limit::{Limit, NFT_LIMIT_F_INV, NFT_LIMIT_PKT_BYTES, NFT_LIMIT_PKTS};
pub use log::Log;
pub use lookup::{Lookup, NFT_LOOKUP_F_INV};
pub use masq::Masq;
pub use meta::{Meta, MetaKey};
pub use nat::{
    NF_NAT_RANGE_MAP_IPS, NF_NAT_RANGE_PERSISTENT, NF_NAT_RANGE_PROTO_RANDOM,
    NF_NAT_RANGE_PROTO_RANDOM_FULLY, NF_NAT_RANGE_PROTO_SPECIFIED, Nat, NatType,
};
pub use payload::{Payload, PayloadBase, PayloadOp};
pub use range::Range;
pub use redir::Redir;
pub use register::Register;
pub use reject::{NFT_REJECT_ICMP_UNREACH, NFT_REJECT_ICMPX_UNREACH, NFT_REJECT_TCP_RST, Reject};
pub use xt::Xt;

use crate::attr::{Attrs, Writer};
use crate::data::Verdict;
use crate::error::DecodeError;

const NFTA_LIST_ELEM: u16 = 1;
const NFTA_EXPR_NAME: u16 = 1;
const NFTA_EXPR_DATA: u16 = 2;

/// One expression of a rule.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Expr {
    /// `payload`.
    Payload(Payload),
    /// `cmp`.
    Cmp(Cmp),
    /// `bitwise`.
    Bitwise(Bitwise),
    /// `meta`.
    Meta(Meta),
    /// `immediate`.
    Immediate(Immediate),
    /// `counter`.
    Counter(Counter),
    /// `ct`.
    Ct(Ct),
    /// `nat`.
    Nat(Nat),
    /// `masq`.
    Masq(Masq),
    /// `redir`.
    Redir(Redir),
    /// `lookup`.
    Lookup(Lookup),
    /// `range`.
    Range(Range),
    /// `limit`.
    Limit(Limit),
    /// `log`.
    Log(Log),
    /// `reject`.
    Reject(Reject),
    /// `fib`.
    Fib(Fib),
    /// xt `match`.
    Match(Xt),
    /// xt `target`.
    Target(Xt),
    /// Anything else, kept verbatim.
    Unknown(UnknownExpr),
}

/// An expression kept as it came: its name and its raw `NFTA_EXPR_DATA` content.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UnknownExpr {
    /// `NFTA_EXPR_NAME`.
    pub name: String,
    /// The bytes inside `NFTA_EXPR_DATA`, or `None` when the expression had no data attribute.
    pub data: Option<Vec<u8>>,
}

impl Expr {
    /// The kernel's name of this expression (`NFTA_EXPR_NAME`).
    pub fn name(&self) -> &str {
        match self {
            Expr::Payload(_) => "payload",
            Expr::Cmp(_) => "cmp",
            Expr::Bitwise(_) => "bitwise",
            Expr::Meta(_) => "meta",
            Expr::Immediate(_) => "immediate",
            Expr::Counter(_) => "counter",
            Expr::Ct(_) => "ct",
            Expr::Nat(_) => "nat",
            Expr::Masq(_) => "masq",
            Expr::Redir(_) => "redir",
            Expr::Lookup(_) => "lookup",
            Expr::Range(_) => "range",
            Expr::Limit(_) => "limit",
            Expr::Log(_) => "log",
            Expr::Reject(_) => "reject",
            Expr::Fib(_) => "fib",
            Expr::Match(_) => "match",
            Expr::Target(_) => "target",
            Expr::Unknown(u) => &u.name,
        }
    }

    /// A verdict statement (`immediate` into the verdict register).
    pub fn verdict(v: Verdict) -> Expr {
        Expr::Immediate(Immediate::verdict(v))
    }

    /// Writes the content of `NFTA_EXPR_DATA`.
    fn emit_data(&self, w: &mut Writer) {
        match self {
            Expr::Payload(e) => e.emit(w),
            Expr::Cmp(e) => e.emit(w),
            Expr::Bitwise(e) => e.emit(w),
            Expr::Meta(e) => e.emit(w),
            Expr::Immediate(e) => e.emit(w),
            Expr::Counter(e) => e.emit(w),
            Expr::Ct(e) => e.emit(w),
            Expr::Nat(e) => e.emit(w),
            Expr::Masq(e) => e.emit(w),
            Expr::Redir(e) => e.emit(w),
            Expr::Lookup(e) => e.emit(w),
            Expr::Range(e) => e.emit(w),
            Expr::Limit(e) => e.emit(w),
            Expr::Log(e) => e.emit(w),
            Expr::Reject(e) => e.emit(w),
            Expr::Fib(e) => e.emit(w),
            Expr::Match(e) | Expr::Target(e) => e.emit(w),
            Expr::Unknown(_) => {}
        }
    }

    /// Writes one `NFTA_LIST_ELEM` {`NFTA_EXPR_NAME`, `NFTA_EXPR_DATA`}.
    pub(crate) fn emit(&self, w: &mut Writer) {
        w.nest(NFTA_LIST_ELEM, |w| self.emit_inner(w));
    }

    /// Writes `NFTA_EXPR_NAME` and `NFTA_EXPR_DATA` (the content of a single-expression nest such as
    /// `NFTA_SET_EXPR`).
    pub(crate) fn emit_inner(&self, w: &mut Writer) {
        w.str(NFTA_EXPR_NAME, self.name());
        match self {
            Expr::Unknown(UnknownExpr { data: Some(d), .. }) => {
                w.bytes(NFTA_EXPR_DATA | netlink_packet_core::NLA_F_NESTED, d)
            }
            Expr::Unknown(UnknownExpr { data: None, .. }) => {}
            _ => w.nest(NFTA_EXPR_DATA, |w| self.emit_data(w)),
        }
    }

    /// The registry: decodes `NFTA_EXPR_DATA` for expression `name`; anything it cannot model
    /// becomes [`Expr::Unknown`].
    fn decode(name: String, data: Option<&[u8]>) -> Expr {
        let Some(d) = data else {
            return Expr::Unknown(UnknownExpr { name, data: None });
        };
        let typed = match name.as_str() {
            "payload" => Payload::parse(d).map(Expr::Payload),
            "cmp" => Cmp::parse(d).map(Expr::Cmp),
            "bitwise" => Bitwise::parse(d).map(Expr::Bitwise),
            "meta" => Meta::parse(d).map(Expr::Meta),
            "immediate" => Immediate::parse(d).map(Expr::Immediate),
            "counter" => Counter::parse(d).map(Expr::Counter),
            "ct" => Ct::parse(d).map(Expr::Ct),
            "nat" => Nat::parse(d).map(Expr::Nat),
            "masq" => Masq::parse(d).map(Expr::Masq),
            "redir" => Redir::parse(d).map(Expr::Redir),
            "lookup" => Lookup::parse(d).map(Expr::Lookup),
            "range" => Range::parse(d).map(Expr::Range),
            "limit" => Limit::parse(d).map(Expr::Limit),
            "log" => Log::parse(d).map(Expr::Log),
            "reject" => Reject::parse(d).map(Expr::Reject),
            "fib" => Fib::parse(d).map(Expr::Fib),
            "match" => Xt::parse(d).map(Expr::Match),
            "target" => Xt::parse(d).map(Expr::Target),
            _ => Err(unknown_attr("expression")),
        };
        typed.unwrap_or_else(|_| Expr::Unknown(UnknownExpr { name, data: Some(d.to_vec()) }))
    }

    /// Parses one `NFTA_LIST_ELEM` content (or a single-expression nest such as `NFTA_SET_EXPR`).
    pub(crate) fn parse_elem(buf: &[u8]) -> Result<Expr, DecodeError> {
        let (mut name, mut data) = (None, None);
        for a in Attrs::new(buf) {
            let a = a?;
            match a.kind() {
                NFTA_EXPR_NAME => name = Some(a.str("NFTA_EXPR_NAME")?),
                NFTA_EXPR_DATA => data = Some(a.value()),
                _ => return Err(DecodeError::bad_value("NFTA_LIST_ELEM")),
            }
        }
        Ok(Expr::decode(field(name, "NFTA_EXPR_NAME")?, data))
    }
}

/// Writes a list of expressions (the content of `NFTA_RULE_EXPRESSIONS` or `NFTA_SET_ELEM_EXPRESSIONS`).
pub(crate) fn emit_list(exprs: &[Expr], w: &mut Writer) {
    for e in exprs {
        e.emit(w);
    }
}

/// Parses a list of expressions.
pub(crate) fn parse_list(buf: &[u8]) -> Result<Vec<Expr>, DecodeError> {
    let mut out = Vec::new();
    for a in Attrs::new(buf) {
        let a = a?;
        if a.kind() != NFTA_LIST_ELEM {
            return Err(DecodeError::bad_value("NFTA_RULE_EXPRESSIONS"));
        }
        out.push(Expr::parse_elem(a.value())?);
    }
    Ok(out)
}

macro_rules! expr_from {
    ($($t:ident => $v:ident),* $(,)?) => {
        $(impl From<$t> for Expr {
            fn from(e: $t) -> Expr {
                Expr::$v(e)
            }
        })*
    };
}
expr_from!(Payload => Payload, Cmp => Cmp, Bitwise => Bitwise, Meta => Meta, Immediate => Immediate,
    Counter => Counter, Ct => Ct, Nat => Nat, Masq => Masq, Redir => Redir, Lookup => Lookup,
    Range => Range, Limit => Limit, Log => Log, Reject => Reject, Fib => Fib);

/// A mandatory attribute, or a `Missing` error naming it.
pub(crate) fn field<T>(v: Option<T>, at: &'static str) -> Result<T, DecodeError> {
    v.ok_or_else(|| DecodeError::missing(at))
}

/// The error a typed parser returns for an attribute it does not know (the registry then keeps the
/// expression verbatim).
pub(crate) fn unknown_attr(at: &'static str) -> DecodeError {
    DecodeError::bad_value(at)
}

//! Rules (`NFTA_RULE_*`): a list of expressions in a chain, with iptables-nft's `NFTA_RULE_COMPAT`
//! and a userdata comment.

use crate::attr::{Attrs, RawAttr, Writer};
use crate::error::DecodeError;
use crate::expr::{Expr, emit_list, field, parse_list};
use crate::family::Family;

const NFTA_RULE_TABLE: u16 = 1;
const NFTA_RULE_CHAIN: u16 = 2;
const NFTA_RULE_HANDLE: u16 = 3;
const NFTA_RULE_EXPRESSIONS: u16 = 4;
const NFTA_RULE_COMPAT: u16 = 5;
const NFTA_RULE_POSITION: u16 = 6;
const NFTA_RULE_USERDATA: u16 = 7;
const NFTA_RULE_PAD: u16 = 8;

const NFTA_RULE_COMPAT_PROTO: u16 = 1;
const NFTA_RULE_COMPAT_FLAGS: u16 = 2;

/// `NFT_RULE_COMPAT_F_INV`: the compat protocol is negated (`! -p`).
pub const NFT_RULE_COMPAT_F_INV: u32 = 2;

/// `NFTNL_UDATA_RULE_COMMENT`: the userdata TLV type nft and iptables-nft read as the rule's comment.
const NFTNL_UDATA_RULE_COMMENT: u8 = 0;

/// `NFTA_RULE_COMPAT`: the protocol an xt extension may rely on (the kernel checks it, never dumps it).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Compat {
    /// Layer-4 protocol number (`-p`), 0 for any.
    pub proto: u32,
    /// [`NFT_RULE_COMPAT_F_INV`] when negated.
    pub flags: u32,
}

/// A rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// Family of its table.
    pub family: Family,
    /// Table name.
    pub table: String,
    /// Chain name.
    pub chain: String,
    /// Kernel handle (dumps and events).
    pub handle: Option<u64>,
    /// Handle of the rule before it (dumps and events).
    pub position: Option<u64>,
    /// The expressions, in order.
    pub exprs: Vec<Expr>,
    /// `NFTA_RULE_COMPAT`, as iptables-nft sends it (never present in dumps).
    pub compat: Option<Compat>,
    /// `NFTA_RULE_USERDATA` (TLVs; type 0 is the comment).
    pub userdata: Option<Vec<u8>>,
    /// Attributes this crate does not know, kept verbatim.
    pub other: Vec<RawAttr>,
}

impl Rule {
    /// An empty rule in `table`/`chain`.
    pub fn new(family: Family, table: impl Into<String>, chain: impl Into<String>) -> Rule {
        Rule {
            family,
            table: table.into(),
            chain: chain.into(),
            handle: None,
            position: None,
            exprs: Vec::new(),
            compat: None,
            userdata: None,
            other: Vec::new(),
        }
    }

    /// Appends an expression (builder style).
    pub fn with(mut self, e: impl Into<Expr>) -> Rule {
        self.exprs.push(e.into());
        self
    }

    /// Sets the comment, as `nft ... comment "x"` and iptables-nft read it (userdata TLV type 0).
    /// Comments longer than 254 bytes are cut (the TLV length is one byte).
    pub fn with_comment(mut self, comment: &str) -> Rule {
        let mut bytes: Vec<u8> = comment.bytes().filter(|&b| b != 0).take(254).collect();
        bytes.push(0);
        let mut udata = vec![NFTNL_UDATA_RULE_COMMENT, bytes.len() as u8];
        udata.extend_from_slice(&bytes);
        self.userdata = Some(udata);
        self
    }

    /// The comment from userdata, if there is one.
    pub fn comment(&self) -> Option<String> {
        let mut u = self.userdata.as_deref()?;
        while let [kind, len, rest @ ..] = u {
            let value = rest.get(..usize::from(*len))?;
            if *kind == NFTNL_UDATA_RULE_COMMENT {
                let s = value.split(|&b| b == 0).next().unwrap_or(value);
                return String::from_utf8(s.to_vec()).ok();
            }
            u = &rest[usize::from(*len)..];
        }
        None
    }

    /// Writes the attributes of a NEWRULE message; handle/position are added by the transaction.
    pub(crate) fn emit(&self, w: &mut Writer, handle: Option<u64>, position: Option<u64>) {
        w.str(NFTA_RULE_TABLE, &self.table);
        w.str(NFTA_RULE_CHAIN, &self.chain);
        if let Some(h) = handle {
            w.be64(NFTA_RULE_HANDLE, h);
        }
        if let Some(p) = position {
            w.be64(NFTA_RULE_POSITION, p);
        }
        w.nest(NFTA_RULE_EXPRESSIONS, |w| emit_list(&self.exprs, w));
        if let Some(c) = self.compat {
            w.nest(NFTA_RULE_COMPAT, |w| {
                w.be32(NFTA_RULE_COMPAT_PROTO, c.proto);
                w.be32(NFTA_RULE_COMPAT_FLAGS, c.flags);
            });
        }
        if let Some(u) = &self.userdata {
            w.bytes(NFTA_RULE_USERDATA, u);
        }
        for a in &self.other {
            w.raw(a);
        }
    }

    pub(crate) fn emit_key(table: &str, chain: Option<&str>, handle: Option<u64>, w: &mut Writer) {
        w.str(NFTA_RULE_TABLE, table);
        if let Some(c) = chain {
            w.str(NFTA_RULE_CHAIN, c);
        }
        if let Some(h) = handle {
            w.be64(NFTA_RULE_HANDLE, h);
        }
    }

    pub(crate) fn parse(family: Family, buf: &[u8]) -> Result<Rule, DecodeError> {
        let mut r = Rule::new(family, String::new(), String::new());
        let (mut table, mut chain) = (None, None);
        for a in Attrs::new(buf) {
            let a = a?;
            match a.kind() {
                NFTA_RULE_TABLE => table = Some(a.str("NFTA_RULE_TABLE")?),
                NFTA_RULE_CHAIN => chain = Some(a.str("NFTA_RULE_CHAIN")?),
                NFTA_RULE_HANDLE => r.handle = Some(a.be64("NFTA_RULE_HANDLE")?),
                NFTA_RULE_POSITION => r.position = Some(a.be64("NFTA_RULE_POSITION")?),
                NFTA_RULE_EXPRESSIONS => r.exprs = parse_list(a.value())?,
                NFTA_RULE_COMPAT => r.compat = Some(parse_compat(a.value())?),
                NFTA_RULE_USERDATA => r.userdata = Some(a.value().to_vec()),
                NFTA_RULE_PAD => {}
                _ => r.other.push(a.to_raw()),
            }
        }
        r.table = field(table, "NFTA_RULE_TABLE")?;
        r.chain = field(chain, "NFTA_RULE_CHAIN")?;
        Ok(r)
    }
}

fn parse_compat(buf: &[u8]) -> Result<Compat, DecodeError> {
    let mut c = Compat::default();
    for a in Attrs::new(buf) {
        let a = a?;
        match a.kind() {
            NFTA_RULE_COMPAT_PROTO => c.proto = a.be32("NFTA_RULE_COMPAT_PROTO")?,
            NFTA_RULE_COMPAT_FLAGS => c.flags = a.be32("NFTA_RULE_COMPAT_FLAGS")?,
            _ => return Err(DecodeError::bad_value("NFTA_RULE_COMPAT")),
        }
    }
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comment_round_trips_through_userdata() {
        let r = Rule::new(Family::Ip, "t", "c").with_comment("natkeeper hole virbr0");
        assert_eq!(r.userdata.as_deref().map(|u| u[0]), Some(0));
        assert_eq!(r.comment().as_deref(), Some("natkeeper hole virbr0"));
        let mut bogus = Rule::new(Family::Ip, "t", "c");
        bogus.userdata = Some(vec![0, 200, 1]);
        assert_eq!(bogus.comment(), None);
    }
}

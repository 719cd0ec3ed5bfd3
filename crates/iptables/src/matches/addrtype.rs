//! `-m addrtype` (libxt_addrtype, revision 1): address types as the routing table sees them.
//! The xt `addrtype` match, rev 1 ([`crate::xt::addrtype_v1`]).

use std::fmt;

use crate::error::ErrorKind;
use crate::ext::{Args, Ctx, MatchParser, OptSpec, bad};
use crate::matches::conntrack::Negatable;
use crate::table::Hook;

/// `rtn_names` (libxt_addrtype.c): bit `i` of a type mask is route type `i` (`RTN_*`).
const RTN_NAMES: [&str; 12] = [
    "UNSPEC",
    "UNICAST",
    "LOCAL",
    "BROADCAST",
    "ANYCAST",
    "MULTICAST",
    "BLACKHOLE",
    "UNREACHABLE",
    "PROHIBIT",
    "THROW",
    "NAT",
    "XRESOLVE",
];

/// A set of route types (bit `1 << RTN_x`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AddrTypes(pub u16);

impl AddrTypes {
    /// `LOCAL`.
    pub const LOCAL: AddrTypes = AddrTypes(1 << 2);

    /// `parse_types`: comma-separated case-insensitive name prefixes; first fit wins.
    fn parse(s: &str) -> Result<AddrTypes, &'static str> {
        let mut v = 0u16;
        for item in s.split(',') {
            if item.is_empty() {
                return Err("empty address type");
            }
            let i = RTN_NAMES
                .iter()
                .position(|n| n.get(..item.len()).is_some_and(|p| p.eq_ignore_ascii_case(item)))
                .ok_or("unknown address type")?;
            v |= 1 << i;
        }
        Ok(AddrTypes(v))
    }
}

impl fmt::Display for AddrTypes {
    /// `print_types`: names in `RTN_*` order, comma-separated.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut sep = "";
        for (i, name) in RTN_NAMES.iter().enumerate() {
            if self.0 & (1 << i) != 0 {
                write!(f, "{sep}{name}")?;
                sep = ",";
            }
        }
        Ok(())
    }
}

/// `--limit-iface-in` / `--limit-iface-out`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LimitIface {
    /// Only the incoming interface's addresses (`XT_ADDRTYPE_LIMIT_IFACE_IN`).
    In,
    /// Only the outgoing interface's addresses (`XT_ADDRTYPE_LIMIT_IFACE_OUT`).
    Out,
}

/// `-m addrtype`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct AddrtypeMatch {
    /// `--src-type`.
    pub src: Option<Negatable<AddrTypes>>,
    /// `--dst-type`.
    pub dst: Option<Negatable<AddrTypes>>,
    /// `--limit-iface-in/out`.
    pub limit_iface: Option<LimitIface>,
}

impl AddrtypeMatch {
    /// Writes the options as `addrtype_save_v1` prints them.
    pub(crate) fn fmt_opts(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (name, t) in [("--src-type", &self.src), ("--dst-type", &self.dst)] {
            if let Some(t) = t.filter(|t| t.value.0 != 0) {
                write!(f, "{} {name} {}", if t.invert { " !" } else { "" }, t.value)?;
            }
        }
        match self.limit_iface {
            Some(LimitIface::In) => f.write_str(" --limit-iface-in"),
            Some(LimitIface::Out) => f.write_str(" --limit-iface-out"),
            None => Ok(()),
        }
    }
}

const O_SRC: u8 = 0;
const O_DST: u8 = 1;
const O_IN: u8 = 2;
const O_OUT: u8 = 3;

/// `addrtype_opts_v1` (libxt_addrtype.c).
const OPTIONS: &[OptSpec] = &[
    OptSpec::value("src-type", O_SRC).inv(),
    OptSpec::value("dst-type", O_DST).inv(),
    OptSpec::flag("limit-iface-in", O_IN).excl(1 << O_OUT),
    OptSpec::flag("limit-iface-out", O_OUT).excl(1 << O_IN),
];

/// Parser state of one `-m addrtype`.
#[derive(Default)]
pub(crate) struct Parser(AddrtypeMatch);

impl Parser {
    pub(crate) fn boxed() -> Box<dyn MatchParser> {
        Box::<Parser>::default()
    }
}

impl MatchParser for Parser {
    fn options(&self) -> &'static [OptSpec] {
        OPTIONS
    }

    fn parse(
        &mut self,
        _ctx: &Ctx<'_>,
        spec: &OptSpec,
        args: Args<'_>,
        invert: bool,
    ) -> Result<(), ErrorKind> {
        let v = args.value();
        let types = || {
            AddrTypes::parse(v).map(|value| Some(Negatable { value, invert })).map_err(|r| bad(spec, v, r))
        };
        match spec.id {
            O_SRC => self.0.src = types()?,
            O_DST => self.0.dst = types()?,
            O_IN => self.0.limit_iface = Some(LimitIface::In),
            _ => self.0.limit_iface = Some(LimitIface::Out),
        }
        Ok(())
    }

    fn finish(self: Box<Self>, ctx: &Ctx<'_>, _seen: u32) -> Result<crate::Match, ErrorKind> {
        let m = self.0;
        if m.src.is_none() && m.dst.is_none() {
            return Err(ErrorKind::MissingOption {
                extension: "addrtype".into(),
                option: "--src-type or --dst-type".into(),
            });
        }
        // xt_addrtype's checkentry refuses these hooks (EINVAL).
        let bad_hook = match m.limit_iface {
            Some(LimitIface::In) => matches!(ctx.hook(), Some(Hook::Output | Hook::Postrouting)),
            Some(LimitIface::Out) => matches!(ctx.hook(), Some(Hook::Prerouting | Hook::Input)),
            None => false,
        };
        if bad_hook {
            let what = match m.limit_iface {
                Some(LimitIface::In) => "--limit-iface-in",
                _ => "--limit-iface-out",
            };
            return Err(ErrorKind::NotValidInChain {
                what: what.into(),
                chain: ctx.chain.unwrap_or_default().into(),
            });
        }
        Ok(crate::Match::Addrtype(m))
    }
}

//! `-m icmp` (libipt_icmp): ICMP type and code. Always the xt `icmp` match, rev 0
//! ([`crate::xt::icmp`]).

use std::fmt;

use crate::error::ErrorKind;
use crate::ext::{Args, Ctx, MatchParser, OptSpec, bad};
use crate::num;
use crate::protocol::Protocol;

/// `icmp_codes` (extensions/libxt_icmp.h, v1.8.9): name, type, code range. Order matters:
/// names are matched by case-insensitive prefix and a prefix that fits two names is ambiguous.
const ICMP_CODES: &[(&str, u8, u8, u8)] = &[
    ("any", 0xFF, 0, 0xFF),
    ("echo-reply", 0, 0, 0xFF),
    ("pong", 0, 0, 0xFF),
    ("destination-unreachable", 3, 0, 0xFF),
    ("network-unreachable", 3, 0, 0),
    ("host-unreachable", 3, 1, 1),
    ("protocol-unreachable", 3, 2, 2),
    ("port-unreachable", 3, 3, 3),
    ("fragmentation-needed", 3, 4, 4),
    ("source-route-failed", 3, 5, 5),
    ("network-unknown", 3, 6, 6),
    ("host-unknown", 3, 7, 7),
    ("network-prohibited", 3, 9, 9),
    ("host-prohibited", 3, 10, 10),
    ("TOS-network-unreachable", 3, 11, 11),
    ("TOS-host-unreachable", 3, 12, 12),
    ("communication-prohibited", 3, 13, 13),
    ("host-precedence-violation", 3, 14, 14),
    ("precedence-cutoff", 3, 15, 15),
    ("source-quench", 4, 0, 0xFF),
    ("redirect", 5, 0, 0xFF),
    ("network-redirect", 5, 0, 0),
    ("host-redirect", 5, 1, 1),
    ("TOS-network-redirect", 5, 2, 2),
    ("TOS-host-redirect", 5, 3, 3),
    ("echo-request", 8, 0, 0xFF),
    ("ping", 8, 0, 0xFF),
    ("router-advertisement", 9, 0, 0xFF),
    ("router-solicitation", 10, 0, 0xFF),
    ("time-exceeded", 11, 0, 0xFF),
    ("ttl-exceeded", 11, 0, 0xFF),
    ("ttl-zero-during-transit", 11, 0, 0),
    ("ttl-zero-during-reassembly", 11, 1, 1),
    ("parameter-problem", 12, 0, 0xFF),
    ("ip-header-bad", 12, 0, 0),
    ("required-option-missing", 12, 1, 1),
    ("timestamp-request", 13, 0, 0xFF),
    ("timestamp-reply", 14, 0, 0xFF),
    ("address-mask-request", 17, 0, 0xFF),
    ("address-mask-reply", 18, 0, 0xFF),
];

/// `--icmp-type`. Type 255 with codes 0-255 is `any`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IcmpMatch {
    /// ICMP type; 255 means any type.
    pub icmp_type: u8,
    /// Lowest code.
    pub code_min: u8,
    /// Highest code.
    pub code_max: u8,
    /// `! --icmp-type`.
    pub invert: bool,
}

impl IcmpMatch {
    /// Parses an `--icmp-type` argument as `ipt_parse_icmp` does: a name or unambiguous name
    /// prefix (case-insensitive), or `TYPE[/CODE[:CODE]]` with C integers.
    pub(crate) fn parse_type(s: &str) -> Result<(u8, u8, u8), &'static str> {
        let mut found = None;
        for (name, t, lo, hi) in ICMP_CODES {
            let prefix = name.get(..s.len()).is_some_and(|p| p.eq_ignore_ascii_case(s));
            if prefix {
                if found.is_some() {
                    return Err("ambiguous ICMP type name");
                }
                found = Some((*t, *lo, *hi));
            }
        }
        if let Some(f) = found {
            return Ok(f);
        }
        let (types, rest) = range(s).ok_or("unknown ICMP type")?;
        if types.0 != types.1 {
            return Err("ICMP type range not supported");
        }
        match rest.strip_prefix('/') {
            None if rest.is_empty() => Ok((types.0, 0, 0xFF)),
            None => Err("unexpected character after ICMP type"),
            Some(code) => match range(code) {
                // iptables-save 1.8.9 prints only the first code of a range (`3/1:4` as `3/1`),
                // so such a rule would not read back as itself: refused.
                Some((codes, "")) if codes.0 != codes.1 && codes != (0, 0xFF) => {
                    Err("ICMP code ranges are saved by iptables 1.8.9 as their first code only")
                }
                Some((codes, "")) => Ok((types.0, codes.0, codes.1)),
                Some(_) => Err("unexpected character after ICMP code"),
                None => Err("unknown ICMP code"),
            },
        }
    }

    /// Writes the option as `icmp_save` prints it: `any`, or the type and, when the codes are not
    /// 0-255, the lowest code (iptables 1.8.9 drops the upper end of a code range, which is why
    /// parsing refuses code ranges).
    pub(crate) fn fmt_opts(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.invert {
            f.write_str(" !")?;
        }
        if self.icmp_type == 0xFF {
            return f.write_str(" --icmp-type any");
        }
        write!(f, " --icmp-type {}", self.icmp_type)?;
        if self.code_min != 0 || self.code_max != 0xFF {
            write!(f, "/{}", self.code_min)?;
        }
        Ok(())
    }
}

/// `parse_range` of libxt_icmp.h: `N` or `N:M`, C integers 0-255, returning the rest.
fn range(s: &str) -> Option<((u8, u8), &str)> {
    let (a, rest) = num::strtoul_prefix(s, 0, 255)?;
    let a = a as u8;
    match rest.strip_prefix(':') {
        Some(r) => {
            let (b, rest) = num::strtoul_prefix(r, 0, 255)?;
            Some(((a, b as u8), rest))
        }
        None => Some(((a, a), rest)),
    }
}

const O_TYPE: u8 = 0;
const OPTIONS: &[OptSpec] = &[OptSpec::value("icmp-type", O_TYPE).inv().mand()];

/// Parser state of one `-m icmp`.
#[derive(Default)]
pub(crate) struct Parser(Option<IcmpMatch>);

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
        let (icmp_type, code_min, code_max) = IcmpMatch::parse_type(v).map_err(|r| bad(spec, v, r))?;
        self.0 = Some(IcmpMatch { icmp_type, code_min, code_max, invert });
        Ok(())
    }

    fn finish(self: Box<Self>, ctx: &Ctx<'_>, _seen: u32) -> Result<crate::Match, ErrorKind> {
        let m = self
            .0
            .ok_or(ErrorKind::MissingOption { extension: "icmp".into(), option: "--icmp-type".into() })?;
        // The kernel's xt_check_match refuses icmp without `-p icmp` (EINVAL).
        if ctx.plain_proto() != Some(Protocol::ICMP) {
            return Err(ErrorKind::RequiresProtocol { extension: "icmp", protocols: "`-p icmp'" });
        }
        Ok(crate::Match::Icmp(m))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn icmp_types() {
        assert_eq!(IcmpMatch::parse_type("echo-request"), Ok((8, 0, 255)));
        assert_eq!(IcmpMatch::parse_type("ECHO-REQ"), Ok((8, 0, 255)));
        assert_eq!(IcmpMatch::parse_type("any"), Ok((255, 0, 255)));
        assert_eq!(IcmpMatch::parse_type("3/4"), Ok((3, 4, 4)));
        assert!(IcmpMatch::parse_type("3/1:4").is_err());
        assert_eq!(IcmpMatch::parse_type("3/0:255"), Ok((3, 0, 255)));
        assert_eq!(IcmpMatch::parse_type("port-unreachable"), Ok((3, 3, 3)));
        assert!(IcmpMatch::parse_type("echo-re").is_err());
        assert!(IcmpMatch::parse_type("3:4").is_err());
        assert!(IcmpMatch::parse_type("").is_err());
        assert!(IcmpMatch::parse_type("3x").is_err());
    }
}

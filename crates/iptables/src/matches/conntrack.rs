//! `-m conntrack` (libxt_conntrack, revision 3) and `-m state`, which iptables 1.8.9 writes as
//! conntrack revision 3 with `XT_CONNTRACK_STATE_ALIAS` ([`crate::xt::conntrack_v3`]).

use std::fmt;

use std::net::Ipv4Addr;

use crate::addr;
use crate::error::ErrorKind;
use crate::ext::{Args, Ctx, MatchParser, OptSpec, bad};
use crate::num;
use crate::port::{self, PortRange};
use crate::protocol::Protocol;

/// A value with a `!` flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Negatable<T> {
    /// The value.
    pub value: T,
    /// Whether `!` preceded the option.
    pub invert: bool,
}

/// Connection states (`--ctstate`, `--state`), the `state_mask` bits of `xt_conntrack_mtinfo3`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CtStates(pub u16);

/// `(name, bit)` in the order iptables parses names (prefixes allowed, first fit wins).
const STATE_PARSE_ORDER: [(&str, u16); 7] = [
    ("INVALID", CtStates::INVALID.0),
    ("NEW", CtStates::NEW.0),
    ("ESTABLISHED", CtStates::ESTABLISHED.0),
    ("RELATED", CtStates::RELATED.0),
    ("UNTRACKED", CtStates::UNTRACKED.0),
    ("SNAT", CtStates::SNAT.0),
    ("DNAT", CtStates::DNAT.0),
];

/// `print_state` order.
const STATE_PRINT_ORDER: [(&str, u16); 7] = [
    ("INVALID", CtStates::INVALID.0),
    ("NEW", CtStates::NEW.0),
    ("RELATED", CtStates::RELATED.0),
    ("ESTABLISHED", CtStates::ESTABLISHED.0),
    ("UNTRACKED", CtStates::UNTRACKED.0),
    ("SNAT", CtStates::SNAT.0),
    ("DNAT", CtStates::DNAT.0),
];

impl CtStates {
    /// `XT_CONNTRACK_STATE_INVALID`.
    pub const INVALID: CtStates = CtStates(0x1);
    /// `XT_CONNTRACK_STATE_BIT(IP_CT_ESTABLISHED)`.
    pub const ESTABLISHED: CtStates = CtStates(0x2);
    /// `XT_CONNTRACK_STATE_BIT(IP_CT_RELATED)`.
    pub const RELATED: CtStates = CtStates(0x4);
    /// `XT_CONNTRACK_STATE_BIT(IP_CT_NEW)`.
    pub const NEW: CtStates = CtStates(0x8);
    /// `XT_CONNTRACK_STATE_SNAT`.
    pub const SNAT: CtStates = CtStates(0x40);
    /// `XT_CONNTRACK_STATE_DNAT`.
    pub const DNAT: CtStates = CtStates(0x80);
    /// `XT_CONNTRACK_STATE_UNTRACKED`.
    pub const UNTRACKED: CtStates = CtStates(0x100);

    /// Parses a comma-separated state list. Each item is a case-insensitive prefix of a name;
    /// `state_only` limits the names to those of `-m state` (no SNAT/DNAT).
    fn parse(s: &str, state_only: bool) -> Result<CtStates, &'static str> {
        let names = if state_only { &STATE_PARSE_ORDER[..5] } else { &STATE_PARSE_ORDER[..] };
        parse_names(s, names, ("empty state in list", "unknown state")).map(CtStates)
    }
}

impl fmt::Display for CtStates {
    /// `NEW,RELATED,...` in the order iptables prints them.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt_names(f, self.0, &STATE_PRINT_ORDER)
    }
}

/// Parses a comma-separated list of bit names; each item is a case-insensitive prefix of a name.
/// `(empty, unknown)` are the errors for an empty item and an unknown one.
fn parse_names(
    s: &str,
    names: &[(&str, u16)],
    (empty, unknown): (&'static str, &'static str),
) -> Result<u16, &'static str> {
    let mut v = 0;
    for item in s.split(',') {
        if item.is_empty() {
            return Err(empty);
        }
        v |= names
            .iter()
            .find(|(n, _)| n.get(..item.len()).is_some_and(|p| p.eq_ignore_ascii_case(item)))
            .map(|(_, b)| *b)
            .ok_or(unknown)?;
    }
    Ok(v)
}

/// Writes the names of the bits set in `v`, comma-separated, in the order of `names`.
fn fmt_names(f: &mut fmt::Formatter<'_>, v: u16, names: &[(&str, u16)]) -> fmt::Result {
    let mut sep = "";
    for (name, bit) in names {
        if v & bit != 0 {
            write!(f, "{sep}{name}")?;
            sep = ",";
        }
    }
    Ok(())
}

/// Connection status bits (`--ctstatus`), `IPS_*`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CtStatus(pub u16);

impl CtStatus {
    /// `NONE`.
    pub const NONE: CtStatus = CtStatus(0);
    /// `IPS_EXPECTED`.
    pub const EXPECTED: CtStatus = CtStatus(0x1);
    /// `IPS_SEEN_REPLY`.
    pub const SEEN_REPLY: CtStatus = CtStatus(0x2);
    /// `IPS_ASSURED`.
    pub const ASSURED: CtStatus = CtStatus(0x4);
    /// `IPS_CONFIRMED`.
    pub const CONFIRMED: CtStatus = CtStatus(0x8);

    const NAMES: [(&str, u16); 5] =
        [("NONE", 0), ("EXPECTED", 0x1), ("SEEN_REPLY", 0x2), ("ASSURED", 0x4), ("CONFIRMED", 0x8)];

    fn parse(s: &str) -> Result<CtStatus, &'static str> {
        parse_names(s, &Self::NAMES, ("empty status in list", "unknown status")).map(CtStatus)
    }
}

impl fmt::Display for CtStatus {
    /// `EXPECTED,SEEN_REPLY,ASSURED,CONFIRMED` order, `NONE` for no bit.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt_names(f, self.0, &Self::NAMES[1..])?;
        if self.0 == 0 {
            f.write_str("NONE")?;
        }
        Ok(())
    }
}

/// `--ctdir`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CtDirection {
    /// `ORIGINAL`.
    Original,
    /// `REPLY`.
    Reply,
}

/// A conntrack address option (`XTTYPE_HOSTMASK`): an address and an optional prefix length.
///
/// The address is not masked (iptables keeps it as written). Without a prefix iptables fills
/// all 16 bytes of the `nf_inet_addr` mask with ones; with `/N` (or a contiguous dotted mask) it
/// sets N bits. Both print the same for `/32`, but the blobs differ, and `iptables -D` compares
/// blobs, so the difference is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CtAddr {
    /// The address.
    pub addr: Ipv4Addr,
    /// `/N`, when given.
    pub prefix: Option<u8>,
}

impl CtAddr {
    /// Parses `ADDR[/N]` or `ADDR/DOTTED-MASK`. A non-contiguous mask is refused: iptables
    /// 1.8.9 silently turns it into `/32`.
    fn parse(s: &str) -> Result<CtAddr, &'static str> {
        let (host, prefix) = match s.split_once('/') {
            None => (s, None),
            Some((h, m)) => {
                let len = match num::strtoul_full(m, 0, 32) {
                    Some(n) => n as u8,
                    None => {
                        let mask: Ipv4Addr = m.parse().map_err(|_| "bad mask")?;
                        addr::mask_prefix_len(mask)
                            .ok_or("non-contiguous mask (iptables 1.8.9 would use /32)")?
                    }
                };
                (h, Some(len))
            }
        };
        let addr = host
            .parse::<Ipv4Addr>()
            .map_err(|_| "not a dotted-quad IPv4 address (host names are not resolved)")?;
        Ok(CtAddr { addr, prefix })
    }
}

impl fmt::Display for CtAddr {
    /// The address and `/N` unless the mask is all ones (`conntrack_dump_addr`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.addr)?;
        match self.prefix {
            Some(len) if len < 32 => write!(f, "/{len}"),
            _ => Ok(()),
        }
    }
}

/// `--ctexpire MIN[:MAX]`, seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ExpireRange {
    /// Lowest remaining lifetime.
    pub min: u32,
    /// Highest remaining lifetime.
    pub max: u32,
}

/// `-m conntrack`. Every option is optional; at least one is given.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct ConntrackMatch {
    /// `--ctstate`.
    pub state: Option<Negatable<CtStates>>,
    /// `--ctproto`.
    pub proto: Option<Negatable<Protocol>>,
    /// `--ctorigsrc`.
    pub orig_src: Option<Negatable<CtAddr>>,
    /// `--ctorigdst`.
    pub orig_dst: Option<Negatable<CtAddr>>,
    /// `--ctreplsrc`.
    pub repl_src: Option<Negatable<CtAddr>>,
    /// `--ctrepldst`.
    pub repl_dst: Option<Negatable<CtAddr>>,
    /// `--ctorigsrcport`.
    pub orig_src_port: Option<Negatable<PortRange>>,
    /// `--ctorigdstport`.
    pub orig_dst_port: Option<Negatable<PortRange>>,
    /// `--ctreplsrcport`.
    pub repl_src_port: Option<Negatable<PortRange>>,
    /// `--ctrepldstport`.
    pub repl_dst_port: Option<Negatable<PortRange>>,
    /// `--ctstatus`.
    pub status: Option<Negatable<CtStatus>>,
    /// `--ctexpire`.
    pub expires: Option<Negatable<ExpireRange>>,
    /// `--ctdir`.
    pub direction: Option<CtDirection>,
}

fn neg(f: &mut fmt::Formatter<'_>, invert: bool) -> fmt::Result {
    if invert { f.write_str(" !") } else { Ok(()) }
}

impl ConntrackMatch {
    /// Writes the options as `conntrack_dump(..., "--", NFPROTO_IPV4, true, true)` prints them.
    pub(crate) fn fmt_opts(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(s) = &self.state {
            neg(f, s.invert)?;
            write!(f, " --ctstate {}", s.value)?;
        }
        if let Some(p) = &self.proto {
            neg(f, p.invert)?;
            write!(f, " --ctproto {}", p.value.0)?;
        }
        for (name, a) in [
            ("--ctorigsrc", &self.orig_src),
            ("--ctorigdst", &self.orig_dst),
            ("--ctreplsrc", &self.repl_src),
            ("--ctrepldst", &self.repl_dst),
        ] {
            if let Some(a) = a {
                neg(f, a.invert)?;
                write!(f, " {name} {}", a.value)?;
            }
        }
        for (name, p) in [
            ("--ctorigsrcport", &self.orig_src_port),
            ("--ctorigdstport", &self.orig_dst_port),
            ("--ctreplsrcport", &self.repl_src_port),
            ("--ctrepldstport", &self.repl_dst_port),
        ] {
            if let Some(p) = p {
                neg(f, p.invert)?;
                let r = p.value;
                if r.last == 0 || r.first == r.last {
                    write!(f, " {name} {}", r.first)?;
                } else {
                    write!(f, " {name} {}:{}", r.first, r.last)?;
                }
            }
        }
        if let Some(s) = &self.status {
            neg(f, s.invert)?;
            write!(f, " --ctstatus {}", s.value)?;
        }
        if let Some(e) = &self.expires {
            neg(f, e.invert)?;
            if e.value.min == e.value.max {
                write!(f, " --ctexpire {}", e.value.min)?;
            } else {
                write!(f, " --ctexpire {}:{}", e.value.min, e.value.max)?;
            }
        }
        match self.direction {
            Some(CtDirection::Original) => f.write_str(" --ctdir ORIGINAL")?,
            Some(CtDirection::Reply) => f.write_str(" --ctdir REPLY")?,
            None => {}
        }
        Ok(())
    }
}

/// `-m state`: conntrack revision 3 with the state alias flag; prints as `-m state --state`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct StateMatch {
    /// The states.
    pub states: CtStates,
    /// `! --state`.
    pub invert: bool,
}

impl StateMatch {
    /// Writes the option as iptables-save prints it.
    pub(crate) fn fmt_opts(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        neg(f, self.invert)?;
        write!(f, " --state {}", self.states)
    }
}

const O_CTSTATE: u8 = 0;
const O_CTPROTO: u8 = 1;
const O_CTORIGSRC: u8 = 2;
const O_CTORIGDST: u8 = 3;
const O_CTREPLSRC: u8 = 4;
const O_CTREPLDST: u8 = 5;
const O_CTSTATUS: u8 = 6;
const O_CTEXPIRE: u8 = 7;
const O_CTORIGSRCPORT: u8 = 8;
const O_CTORIGDSTPORT: u8 = 9;
const O_CTREPLSRCPORT: u8 = 10;
const O_CTREPLDSTPORT: u8 = 11;
const O_CTDIR: u8 = 12;

/// `conntrack3_mt_opts` (libxt_conntrack.c).
const OPTIONS: &[OptSpec] = &[
    OptSpec::value("ctstate", O_CTSTATE).inv(),
    OptSpec::value("ctproto", O_CTPROTO).inv(),
    OptSpec::value("ctorigsrc", O_CTORIGSRC).inv(),
    OptSpec::value("ctorigdst", O_CTORIGDST).inv(),
    OptSpec::value("ctreplsrc", O_CTREPLSRC).inv(),
    OptSpec::value("ctrepldst", O_CTREPLDST).inv(),
    OptSpec::value("ctstatus", O_CTSTATUS).inv(),
    OptSpec::value("ctexpire", O_CTEXPIRE).inv(),
    OptSpec::value("ctorigsrcport", O_CTORIGSRCPORT).inv(),
    OptSpec::value("ctorigdstport", O_CTORIGDSTPORT).inv(),
    OptSpec::value("ctreplsrcport", O_CTREPLSRCPORT).inv(),
    OptSpec::value("ctrepldstport", O_CTREPLDSTPORT).inv(),
    OptSpec::value("ctdir", O_CTDIR),
];

/// `XTTYPE_UINT32RC` (`xtopt_parse_mint`): `A`, `A:B`, `:B`, `A:`; C integers.
fn expire_range(s: &str) -> Result<ExpireRange, &'static str> {
    let parts: Vec<&str> = s.split(':').collect();
    if parts.len() > 2 {
        return Err("too many components (max 2)");
    }
    let mut v = [0u32, u32::MAX];
    for (i, p) in parts.iter().enumerate() {
        if !p.is_empty() {
            let n = num::strtoul_full(p, 0, u64::from(u32::MAX))
                .ok_or("bad value, or out of range (0-4294967295)")?;
            v[i] = n as u32;
        }
    }
    if parts.len() == 1 {
        v[1] = v[0];
    }
    Ok(ExpireRange { min: v[0], max: v[1] })
}

/// Parser state of one `-m conntrack`.
#[derive(Default)]
pub(crate) struct Parser(ConntrackMatch);

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
        let m = &mut self.0;
        let addr = |v: &str| {
            CtAddr::parse(v).map(|value| Some(Negatable { value, invert })).map_err(|r| bad(spec, v, r))
        };
        let ports = |v: &str| match port::portrc_range(v) {
            // `conntrack_dump_ports` prints `P:0` as `P`, a broader test than the kernel's.
            Ok(r) if r.last == 0 && r.first != 0 => {
                Err(bad(spec, v, "a range ending at port 0 is saved by iptables 1.8.9 as its first port"))
            }
            Ok(value) => Ok(Some(Negatable { value, invert })),
            Err(r) => Err(bad(spec, v, r)),
        };
        match spec.id {
            O_CTSTATE => {
                let value = CtStates::parse(v, false).map_err(|r| bad(spec, v, r))?;
                m.state = Some(Negatable { value, invert });
            }
            O_CTPROTO => {
                let value = Protocol::parse(v).ok_or_else(|| bad(spec, v, "unknown protocol"))?;
                // libxt_conntrack tests `invert_flags & XT_INV_PROTO` (0x40), which is the
                // `! --ctstatus` bit: reproduced as iptables 1.8.9 behaves.
                if value == Protocol::ALL && m.status.is_some_and(|s| s.invert) {
                    return Err(ErrorKind::NeverMatches { what: "conntrack protocol 0" });
                }
                m.proto = Some(Negatable { value, invert });
            }
            O_CTORIGSRC => m.orig_src = addr(v)?,
            O_CTORIGDST => m.orig_dst = addr(v)?,
            O_CTREPLSRC => m.repl_src = addr(v)?,
            O_CTREPLDST => m.repl_dst = addr(v)?,
            O_CTSTATUS => {
                let value = CtStatus::parse(v).map_err(|r| bad(spec, v, r))?;
                m.status = Some(Negatable { value, invert });
            }
            O_CTEXPIRE => {
                let value = expire_range(v).map_err(|r| bad(spec, v, r))?;
                m.expires = Some(Negatable { value, invert });
            }
            O_CTORIGSRCPORT => m.orig_src_port = ports(v)?,
            O_CTORIGDSTPORT => m.orig_dst_port = ports(v)?,
            O_CTREPLSRCPORT => m.repl_src_port = ports(v)?,
            O_CTREPLDSTPORT => m.repl_dst_port = ports(v)?,
            _ => {
                m.direction = Some(if v.eq_ignore_ascii_case("ORIGINAL") {
                    CtDirection::Original
                } else if v.eq_ignore_ascii_case("REPLY") {
                    CtDirection::Reply
                } else {
                    return Err(bad(spec, v, "ORIGINAL or REPLY"));
                });
            }
        }
        Ok(())
    }

    fn finish(self: Box<Self>, _ctx: &Ctx<'_>, seen: u32) -> Result<crate::Match, ErrorKind> {
        if seen == 0 {
            return Err(ErrorKind::NoOption { extension: "conntrack" });
        }
        Ok(crate::Match::Conntrack(self.0))
    }
}

const O_STATE: u8 = 0;
const STATE_OPTIONS: &[OptSpec] = &[OptSpec::value("state", O_STATE).inv().mand()];

/// Parser state of one `-m state`.
#[derive(Default)]
pub(crate) struct StateParser(Option<StateMatch>);

impl StateParser {
    pub(crate) fn boxed() -> Box<dyn MatchParser> {
        Box::<StateParser>::default()
    }
}

impl MatchParser for StateParser {
    fn options(&self) -> &'static [OptSpec] {
        STATE_OPTIONS
    }

    fn parse(
        &mut self,
        _ctx: &Ctx<'_>,
        spec: &OptSpec,
        args: Args<'_>,
        invert: bool,
    ) -> Result<(), ErrorKind> {
        let v = args.value();
        let states = CtStates::parse(v, true).map_err(|r| bad(spec, v, r))?;
        self.0 = Some(StateMatch { states, invert });
        Ok(())
    }

    fn finish(self: Box<Self>, _ctx: &Ctx<'_>, _seen: u32) -> Result<crate::Match, ErrorKind> {
        self.0
            .map(crate::Match::State)
            .ok_or(ErrorKind::MissingOption { extension: "state".into(), option: "--state".into() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states() {
        assert_eq!(CtStates::parse("NEW,est", false).unwrap(), CtStates(0xa));
        assert_eq!(CtStates::parse("RELATED,ESTABLISHED", true).unwrap().to_string(), "RELATED,ESTABLISHED");
        assert_eq!(CtStates::parse("S", false).unwrap(), CtStates::SNAT);
        assert!(CtStates::parse("SNAT", true).is_err());
        assert!(CtStates::parse("NEW,", false).is_err());
        assert!(CtStates::parse("wrong", false).is_err());
        assert_eq!(CtStatus::parse("NONE").unwrap().to_string(), "NONE");
        assert_eq!(CtStatus::parse("assured,EXPECTED").unwrap().to_string(), "EXPECTED,ASSURED");
    }

    #[test]
    fn expires() {
        assert_eq!(expire_range("0:4294967295").unwrap(), ExpireRange { min: 0, max: u32::MAX });
        assert_eq!(expire_range("5").unwrap(), ExpireRange { min: 5, max: 5 });
        assert_eq!(expire_range("5:").unwrap(), ExpireRange { min: 5, max: u32::MAX });
        assert!(expire_range("42949672956").is_err());
        assert!(expire_range("-1").is_err());
    }
}

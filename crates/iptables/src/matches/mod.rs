//! Match extensions (`-m NAME ...`): one module per match, and the only name → parser table.

use std::fmt;

use crate::ext::MatchParser;
use crate::port::PortRange;

pub mod addrtype;
pub mod comment;
pub mod conntrack;
pub mod icmp;
pub mod iprange;
pub mod length;
pub mod limit;
pub mod mark;
pub mod multiport;
pub mod physdev;
pub mod pkttype;
pub mod tcp;
pub mod ttl;
pub mod udp;

pub use addrtype::{AddrTypes, AddrtypeMatch, LimitIface};
pub use comment::CommentMatch;
pub use conntrack::{
    ConntrackMatch, CtAddr, CtDirection, CtStates, CtStatus, ExpireRange, Negatable, StateMatch,
};
pub use icmp::IcmpMatch;
pub use iprange::{IprangeMatch, Ipv4Range};
pub use length::LengthMatch;
pub use limit::LimitMatch;
pub use mark::MarkMatch;
pub use multiport::{MultiportKind, MultiportMatch};
pub use physdev::PhysdevMatch;
pub use pkttype::PkttypeMatch;
pub use tcp::{TcpFlags, TcpFlagsMatch, TcpMatch, TcpOptionMatch};
pub use ttl::{TtlMatch, TtlMode};
pub use udp::UdpMatch;

/// A port test of `-m tcp`/`-m udp`: `[!] --dport RANGE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PortMatch {
    /// The ports.
    pub ports: PortRange,
    /// `!`.
    pub invert: bool,
}

impl PortMatch {
    /// A port field of an xt `tcp`/`udp` struct: `None` for the whole range (no option), `Err(())`
    /// for the whole range negated (`! 0:65535`, which iptables-save prints as nothing at all).
    pub(crate) fn from_xt(pts: [u16; 2], invert: bool) -> Result<Option<PortMatch>, ()> {
        let ports = PortRange::new(pts[0], pts[1]);
        match (ports.is_any(), invert) {
            (true, true) => Err(()),
            (true, false) => Ok(None),
            (false, _) => Ok(Some(PortMatch { ports, invert })),
        }
    }
}

/// One `-m` match of a rule, typed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Match {
    /// `-m tcp`.
    Tcp(TcpMatch),
    /// `-m udp`.
    Udp(UdpMatch),
    /// `-m icmp`.
    Icmp(IcmpMatch),
    /// `-m multiport`.
    Multiport(MultiportMatch),
    /// `-m conntrack`.
    Conntrack(ConntrackMatch),
    /// `-m state`.
    State(StateMatch),
    /// `-m limit`.
    Limit(LimitMatch),
    /// `-m length`.
    Length(LengthMatch),
    /// `-m comment`.
    Comment(CommentMatch),
    /// `-m mark`.
    Mark(MarkMatch),
    /// `-m connmark`.
    Connmark(MarkMatch),
    /// `-m physdev`.
    Physdev(PhysdevMatch),
    /// `-m addrtype`.
    Addrtype(AddrtypeMatch),
    /// `-m pkttype`.
    Pkttype(PkttypeMatch),
    /// `-m ttl`.
    Ttl(TtlMatch),
    /// `-m iprange`.
    Iprange(IprangeMatch),
}

impl Match {
    /// The name iptables-save prints after `-m`.
    pub fn name(&self) -> &'static str {
        match self {
            Match::Tcp(_) => "tcp",
            Match::Udp(_) => "udp",
            Match::Icmp(_) => "icmp",
            Match::Multiport(_) => "multiport",
            Match::Conntrack(_) => "conntrack",
            Match::State(_) => "state",
            Match::Limit(_) => "limit",
            Match::Length(_) => "length",
            Match::Comment(_) => "comment",
            Match::Mark(_) => "mark",
            Match::Connmark(_) => "connmark",
            Match::Physdev(_) => "physdev",
            Match::Addrtype(_) => "addrtype",
            Match::Pkttype(_) => "pkttype",
            Match::Ttl(_) => "ttl",
            Match::Iprange(_) => "iprange",
        }
    }

    /// Writes the options (each with a leading space) as the extension's save function does.
    pub(crate) fn fmt_opts(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Match::Tcp(m) => m.fmt_opts(f),
            Match::Udp(m) => m.fmt_opts(f),
            Match::Icmp(m) => m.fmt_opts(f),
            Match::Multiport(m) => m.fmt_opts(f),
            Match::Conntrack(m) => m.fmt_opts(f),
            Match::State(m) => m.fmt_opts(f),
            Match::Limit(m) => m.fmt_opts(f),
            Match::Length(m) => m.fmt_opts(f),
            Match::Comment(m) => m.fmt_opts(f),
            Match::Mark(m) | Match::Connmark(m) => m.fmt_opts(f),
            Match::Physdev(m) => m.fmt_opts(f),
            Match::Addrtype(m) => m.fmt_opts(f),
            Match::Pkttype(m) => m.fmt_opts(f),
            Match::Ttl(m) => m.fmt_opts(f),
            Match::Iprange(m) => m.fmt_opts(f),
        }
    }
}

impl fmt::Display for Match {
    /// `-m NAME OPTIONS` as iptables-save prints it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "-m {}", self.name())?;
        self.fmt_opts(f)
    }
}

/// Merges the tcp (and the udp) matches iptables-nft 1.8.9 writes natively into one, at the
/// place of the first, as iptables-save shows them: reading the rule back, iptables puts every
/// native port and flag test of a rule into a single `tcp` (`udp`) match. A field given in two
/// such matches is refused: iptables-save would show only the last of two tests the kernel
/// applies both of.
pub(crate) fn merge_native(matches: Vec<Match>) -> Result<Vec<Match>, crate::ErrorKind> {
    fn take<T: Copy>(into: &mut Option<T>, from: Option<T>, opt: &str) -> Result<(), crate::ErrorKind> {
        if let Some(v) = from {
            if into.is_some() {
                return Err(crate::ErrorKind::DuplicateOption {
                    option: format!("{opt} (in two matches of the rule)"),
                });
            }
            *into = Some(v);
        }
        Ok(())
    }
    let mut out: Vec<Match> = Vec::with_capacity(matches.len());
    let (mut tcp_at, mut udp_at) = (None, None);
    for m in matches {
        match m {
            Match::Tcp(t) if t.is_native() => match tcp_at.and_then(|i| out.get_mut(i)) {
                Some(Match::Tcp(first)) => {
                    take(&mut first.sport, t.sport, "--sport")?;
                    take(&mut first.dport, t.dport, "--dport")?;
                    take(&mut first.flags, t.flags, "--tcp-flags")?;
                }
                _ => {
                    tcp_at = Some(out.len());
                    out.push(Match::Tcp(t));
                }
            },
            Match::Udp(u) if u.is_native() => match udp_at.and_then(|i| out.get_mut(i)) {
                Some(Match::Udp(first)) => {
                    take(&mut first.sport, u.sport, "--sport")?;
                    take(&mut first.dport, u.dport, "--dport")?;
                }
                _ => {
                    udp_at = Some(out.len());
                    out.push(Match::Udp(u));
                }
            },
            other => out.push(other),
        }
    }
    Ok(out)
}

/// The parser of a supported match, by `-m` name (case-sensitive, as iptables).
pub(crate) fn parser(name: &str) -> Option<Box<dyn MatchParser>> {
    Some(match name {
        "tcp" => tcp::Parser::boxed(),
        "udp" => udp::Parser::boxed(),
        "icmp" => icmp::Parser::boxed(),
        "multiport" => multiport::Parser::boxed(),
        "conntrack" => conntrack::Parser::boxed(),
        "state" => conntrack::StateParser::boxed(),
        "limit" => limit::Parser::boxed(),
        "length" => length::Parser::boxed(),
        "comment" => comment::Parser::boxed(),
        "mark" => mark::Parser::boxed_mark(),
        "connmark" => mark::Parser::boxed_connmark(),
        "physdev" => physdev::Parser::boxed(),
        "addrtype" => addrtype::Parser::boxed(),
        "pkttype" => pkttype::Parser::boxed(),
        "ttl" => ttl::Parser::boxed(),
        "iprange" => iprange::Parser::boxed(),
        _ => return None,
    })
}

/// Match extensions iptables 1.8.9 has for IPv4 (`extensions/libxt_*.c`, `libipt_*.c`), so
/// that an unsupported one is reported as such rather than as unknown.
pub(crate) const IPTABLES_MATCHES: &[&str] = &[
    "addrtype",
    "ah",
    "bpf",
    "cgroup",
    "cluster",
    "comment",
    "connbytes",
    "connlabel",
    "connlimit",
    "connmark",
    "conntrack",
    "cpu",
    "dccp",
    "devgroup",
    "dscp",
    "ecn",
    "esp",
    "hashlimit",
    "helper",
    "icmp",
    "iprange",
    "ipvs",
    "length",
    "limit",
    "mac",
    "mark",
    "multiport",
    "nfacct",
    "osf",
    "owner",
    "physdev",
    "pkttype",
    "policy",
    "quota",
    "rateest",
    "realm",
    "recent",
    "rpfilter",
    "sctp",
    "set",
    "socket",
    "state",
    "statistic",
    "string",
    "tcp",
    "tcpmss",
    "time",
    "tos",
    "ttl",
    "u32",
    "udp",
];

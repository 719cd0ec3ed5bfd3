//! The `-p` protocol: a number with the names iptables 1.8.9 knows.

use std::fmt;

use crate::num;

/// `xtables_chain_protos` (libxtables/xtables.c, v1.8.9): looked up before `/etc/protocols`, both
/// when parsing a name and when printing a number.
const CHAIN_PROTOS: &[(&str, u8)] = &[
    ("tcp", 6),
    ("sctp", 132),
    ("udp", 17),
    ("udplite", 136),
    ("icmp", 1),
    ("ipv6-icmp", 58),
    ("icmpv6", 58),
    ("esp", 50),
    ("ah", 51),
    ("mobility-header", 135),
    ("ipv6-mh", 135),
    ("mh", 135),
    ("all", 0),
];

/// Official names of Debian 12 `netbase` 6.4 `/etc/protocols` (numbers up to 255), in file order.
/// iptables uses `getprotobyname(3)`/`getprotobynumber(3)`; the library does not read the host's
/// file so that it answers the same everywhere.
const ETC_PROTOCOLS: &[(&str, u8)] = &[
    ("ip", 0),
    ("hopopt", 0),
    ("icmp", 1),
    ("igmp", 2),
    ("ggp", 3),
    ("ipencap", 4),
    ("st", 5),
    ("tcp", 6),
    ("egp", 8),
    ("igp", 9),
    ("pup", 12),
    ("udp", 17),
    ("hmp", 20),
    ("xns-idp", 22),
    ("rdp", 27),
    ("iso-tp4", 29),
    ("dccp", 33),
    ("xtp", 36),
    ("ddp", 37),
    ("idpr-cmtp", 38),
    ("ipv6", 41),
    ("ipv6-route", 43),
    ("ipv6-frag", 44),
    ("idrp", 45),
    ("rsvp", 46),
    ("gre", 47),
    ("esp", 50),
    ("ah", 51),
    ("skip", 57),
    ("ipv6-icmp", 58),
    ("ipv6-nonxt", 59),
    ("ipv6-opts", 60),
    ("rspf", 73),
    ("vmtp", 81),
    ("eigrp", 88),
    ("ospf", 89),
    ("ax.25", 93),
    ("ipip", 94),
    ("etherip", 97),
    ("encap", 98),
    ("pim", 103),
    ("ipcomp", 108),
    ("vrrp", 112),
    ("l2tp", 115),
    ("isis", 124),
    ("sctp", 132),
    ("fc", 133),
    ("mobility-header", 135),
    ("udplite", 136),
    ("mpls-in-ip", 137),
    ("manet", 138),
    ("hip", 139),
    ("shim6", 140),
    ("wesp", 141),
    ("rohc", 142),
    ("ethernet", 143),
];

/// Aliases of the same file, in file order (`getprotobyname` matches them too, case-sensitive:
/// `--ctproto TCP` is 6, while `-p TCP` is lower-cased to `tcp` first).
const ETC_PROTOCOL_ALIASES: &[(&str, u8)] = &[
    ("IP", 0),
    ("HOPOPT", 0),
    ("ICMP", 1),
    ("IGMP", 2),
    ("GGP", 3),
    ("IP-ENCAP", 4),
    ("ST", 5),
    ("TCP", 6),
    ("EGP", 8),
    ("IGP", 9),
    ("PUP", 12),
    ("UDP", 17),
    ("HMP", 20),
    ("XNS-IDP", 22),
    ("RDP", 27),
    ("ISO-TP4", 29),
    ("DCCP", 33),
    ("XTP", 36),
    ("DDP", 37),
    ("IDPR-CMTP", 38),
    ("IPv6", 41),
    ("IPv6-Route", 43),
    ("IPv6-Frag", 44),
    ("IDRP", 45),
    ("RSVP", 46),
    ("GRE", 47),
    ("IPSEC-ESP", 50),
    ("IPSEC-AH", 51),
    ("SKIP", 57),
    ("IPv6-ICMP", 58),
    ("IPv6-NoNxt", 59),
    ("IPv6-Opts", 60),
    ("RSPF", 73),
    ("CPHB", 73),
    ("VMTP", 81),
    ("EIGRP", 88),
    ("OSPFIGP", 89),
    ("AX.25", 93),
    ("IPIP", 94),
    ("ETHERIP", 97),
    ("ENCAP", 98),
    ("PIM", 103),
    ("IPCOMP", 108),
    ("VRRP", 112),
    ("L2TP", 115),
    ("ISIS", 124),
    ("SCTP", 132),
    ("FC", 133),
    ("Mobility-Header", 135),
    ("UDPLite", 136),
    ("MPLS-in-IP", 137),
    ("HIP", 139),
    ("Shim6", 140),
    ("WESP", 141),
    ("ROHC", 142),
    ("Ethernet", 143),
];

/// An IP protocol number (`-p`, `--ctproto`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Protocol(pub u8);

impl Protocol {
    /// `all` / `0`: any protocol.
    pub const ALL: Protocol = Protocol(0);
    /// ICMP (1).
    pub const ICMP: Protocol = Protocol(1);
    /// TCP (6).
    pub const TCP: Protocol = Protocol(6);
    /// UDP (17).
    pub const UDP: Protocol = Protocol(17);
    /// DCCP (33).
    pub const DCCP: Protocol = Protocol(33);
    /// SCTP (132).
    pub const SCTP: Protocol = Protocol(132);
    /// UDP-Lite (136).
    pub const UDPLITE: Protocol = Protocol(136);

    /// Parses a protocol as `xtables_parse_protocol` does: a number 0-255 (decimal, `0x` hex or
    /// `0` octal), then the iptables built-in names, then `/etc/protocols` names. The caller
    /// lower-cases `-p` arguments first, as iptables does; `--ctproto` is not lower-cased.
    pub fn parse(s: &str) -> Option<Protocol> {
        if let Some(n) = num::strtoul_full(s, 0, u64::from(u8::MAX)) {
            return u8::try_from(n).ok().map(Protocol);
        }
        CHAIN_PROTOS
            .iter()
            .chain(ETC_PROTOCOLS)
            .chain(ETC_PROTOCOL_ALIASES)
            .find(|(name, _)| *name == s)
            .map(|(_, n)| Protocol(*n))
    }

    /// The name iptables-save prints (`proto_to_name(proto, 0)`), or `None` when it prints the number.
    pub fn name(self) -> Option<&'static str> {
        CHAIN_PROTOS.iter().chain(ETC_PROTOCOLS).find(|(_, n)| *n == self.0).map(|(name, _)| *name)
    }
}

impl fmt::Display for Protocol {
    /// As iptables-save prints `-p`: the name when it has one, else the number.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.write_str(name),
            None => write!(f, "{}", self.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_numbers() {
        assert_eq!(Protocol::parse("tcp"), Some(Protocol::TCP));
        assert_eq!(Protocol::parse("6"), Some(Protocol::TCP));
        assert_eq!(Protocol::parse("0x11"), Some(Protocol::UDP));
        assert_eq!(Protocol::parse("gre"), Some(Protocol(47)));
        assert_eq!(Protocol::parse("all"), Some(Protocol::ALL));
        assert_eq!(Protocol::parse("256"), None);
        assert_eq!(Protocol::parse("nosuch"), None);
        assert_eq!(Protocol(47).to_string(), "gre");
        assert_eq!(Protocol(58).to_string(), "ipv6-icmp");
        assert_eq!(Protocol(143).to_string(), "ethernet");
        assert_eq!(Protocol(255).to_string(), "255");
    }
}

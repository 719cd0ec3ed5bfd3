//! Address families of nf_tables tables (`NFPROTO_*`), printed as `nft` names them.

use std::fmt;

const NFPROTO_UNSPEC: u8 = 0;
const NFPROTO_INET: u8 = 1;
const NFPROTO_IPV4: u8 = 2;
const NFPROTO_ARP: u8 = 3;
const NFPROTO_NETDEV: u8 = 5;
const NFPROTO_BRIDGE: u8 = 7;
const NFPROTO_IPV6: u8 = 10;

/// A table family: `ip`, `ip6`, `inet`, `arp`, `bridge`, `netdev`; anything else is kept as its number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Family {
    /// `NFPROTO_UNSPEC`: all families (dumps and events only).
    Unspec,
    /// `inet`: IPv4 and IPv6.
    Inet,
    /// `ip`: IPv4 (iptables' tables live here).
    Ip,
    /// `arp`.
    Arp,
    /// `netdev`.
    Netdev,
    /// `bridge`.
    Bridge,
    /// `ip6`: IPv6.
    Ip6,
    /// A family this crate does not name.
    Other(u8),
}

impl From<u8> for Family {
    fn from(v: u8) -> Family {
        match v {
            NFPROTO_UNSPEC => Family::Unspec,
            NFPROTO_INET => Family::Inet,
            NFPROTO_IPV4 => Family::Ip,
            NFPROTO_ARP => Family::Arp,
            NFPROTO_NETDEV => Family::Netdev,
            NFPROTO_BRIDGE => Family::Bridge,
            NFPROTO_IPV6 => Family::Ip6,
            other => Family::Other(other),
        }
    }
}

impl From<Family> for u8 {
    fn from(f: Family) -> u8 {
        match f {
            Family::Unspec => NFPROTO_UNSPEC,
            Family::Inet => NFPROTO_INET,
            Family::Ip => NFPROTO_IPV4,
            Family::Arp => NFPROTO_ARP,
            Family::Netdev => NFPROTO_NETDEV,
            Family::Bridge => NFPROTO_BRIDGE,
            Family::Ip6 => NFPROTO_IPV6,
            Family::Other(v) => v,
        }
    }
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Family::Unspec => f.write_str("unspec"),
            Family::Inet => f.write_str("inet"),
            Family::Ip => f.write_str("ip"),
            Family::Arp => f.write_str("arp"),
            Family::Netdev => f.write_str("netdev"),
            Family::Bridge => f.write_str("bridge"),
            Family::Ip6 => f.write_str("ip6"),
            Family::Other(v) => write!(f, "family{v}"),
        }
    }
}

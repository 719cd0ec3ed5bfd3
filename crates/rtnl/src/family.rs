//! IP address families.

use std::fmt;

// include/linux/socket.h
const AF_INET: u8 = 2;
const AF_INET6: u8 = 10;

/// An IP address family: which of the two worlds an address or route belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Family {
    /// IPv4 (`AF_INET`).
    Ipv4,
    /// IPv6 (`AF_INET6`).
    Ipv6,
}

impl Family {
    /// The family's `AF_*` number.
    pub fn af(self) -> u8 {
        match self {
            Family::Ipv4 => AF_INET,
            Family::Ipv6 => AF_INET6,
        }
    }

    /// The family for an `AF_*` number, if it is an IP family.
    pub fn from_af(af: u8) -> Option<Family> {
        match af {
            AF_INET => Some(Family::Ipv4),
            AF_INET6 => Some(Family::Ipv6),
            _ => None,
        }
    }
}

impl fmt::Display for Family {
    /// `inet` or `inet6`, as `ip` names them.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Family::Ipv4 => "inet",
            Family::Ipv6 => "inet6",
        })
    }
}

//! Ports and port ranges, parsed the several ways iptables 1.8.9 parses them.

use std::fmt;

use crate::num;
use crate::services::{self, ServiceProto};

/// An inclusive port range; a single port has `first == last`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PortRange {
    /// First port.
    pub first: u16,
    /// Last port.
    pub last: u16,
}

impl PortRange {
    /// Every port, `0:65535`.
    pub const ANY: PortRange = PortRange { first: 0, last: u16::MAX };

    /// One port.
    pub fn single(port: u16) -> Self {
        PortRange { first: port, last: port }
    }

    /// `first:last`.
    pub fn new(first: u16, last: u16) -> Self {
        PortRange { first, last }
    }

    /// Whether this is `0:65535`.
    pub fn is_any(&self) -> bool {
        *self == PortRange::ANY
    }
}

impl fmt::Display for PortRange {
    /// `N` or `N:M`, as iptables-save prints tcp/udp ranges.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.first == self.last {
            write!(f, "{}", self.first)
        } else {
            write!(f, "{}:{}", self.first, self.last)
        }
    }
}

/// `xtables_parse_port(s, proto)`: a C integer 0-65535, else a service name of `proto`.
pub(crate) fn xt_port(s: &str, proto: Option<ServiceProto>) -> Option<u16> {
    match num::strtoul_full(s, 0, u64::from(u16::MAX)) {
        Some(n) => u16::try_from(n).ok(),
        None => services::port_by_name(s, proto),
    }
}

/// `xtables_getportbyname(s)` (getaddrinfo): a decimal number, else a service name of any
/// protocol.
pub(crate) fn ai_port(s: &str) -> Option<u16> {
    num::decimal_port(s).or_else(|| services::port_by_name(s, None))
}

/// The tcp match's `parse_tcp_ports`: `P`, `P:Q`, `:Q` (from 0), `P:` (to 65535), `:`; the
/// first must not exceed the last.
pub(crate) fn tcp_range(s: &str) -> Result<PortRange, &'static str> {
    let port = |p: &str| xt_port(p, Some(ServiceProto::Tcp)).ok_or("invalid port/service");
    match s.split_once(':') {
        None => Ok(PortRange::single(port(s)?)),
        Some((a, b)) => {
            let first = if a.is_empty() { 0 } else { port(a)? };
            let last = if b.is_empty() { u16::MAX } else { port(b)? };
            if first > last {
                return Err("invalid port range (min > max)");
            }
            Ok(PortRange { first, last })
        }
    }
}

/// `XTTYPE_PORTRC` (`xtopt_parse_mport`): up to two `:`-separated ports resolved with
/// getaddrinfo; an empty first part is 0, an empty second part 65535, one part is a single
/// port. iptables does not check the order (`5:3` never matches).
pub(crate) fn portrc_range(s: &str) -> Result<PortRange, &'static str> {
    let parts: Vec<&str> = s.split(':').collect();
    if parts.len() > 2 {
        return Err("too many components (max 2)");
    }
    let mut range = [0u16, u16::MAX];
    for (i, p) in parts.iter().enumerate() {
        if !p.is_empty() {
            range[i] = ai_port(p).ok_or("port does not resolve to anything")?;
        }
    }
    if parts.len() == 1 {
        range[1] = range[0];
    }
    Ok(PortRange { first: range[0], last: range[1] })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tcp_ranges() {
        assert_eq!(tcp_range("1024:").unwrap(), PortRange::new(1024, 65535));
        assert_eq!(tcp_range(":1023").unwrap(), PortRange::new(0, 1023));
        assert_eq!(tcp_range(":").unwrap(), PortRange::ANY);
        assert_eq!(tcp_range("ssh").unwrap(), PortRange::single(22));
        assert_eq!(tcp_range("010").unwrap(), PortRange::single(8));
        assert!(tcp_range("5:3").is_err());
        assert!(tcp_range("65536").is_err());
        assert!(tcp_range("-1").is_err());
    }

    #[test]
    fn portrc_ranges() {
        assert_eq!(portrc_range("010").unwrap(), PortRange::single(10));
        assert_eq!(portrc_range("5:3").unwrap(), PortRange::new(5, 3));
        assert_eq!(portrc_range("1024:").unwrap(), PortRange::new(1024, 65535));
        assert_eq!(portrc_range("domain").unwrap(), PortRange::single(53));
        assert!(portrc_range("1:2:3").is_err());
        assert!(portrc_range("0x10").is_err());
        assert!(portrc_range("-1").is_err());
    }
}

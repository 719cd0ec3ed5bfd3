//! IPv4 address with mask, as `-s`/`-d` and the conntrack address options take it.

use std::fmt;
use std::net::Ipv4Addr;

use crate::num;

/// An IPv4 address and a mask. The mask need not be contiguous (`10.1.0.1/255.255.0.255`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AddrMask {
    /// The address.
    pub addr: Ipv4Addr,
    /// The mask.
    pub mask: Ipv4Addr,
}

impl AddrMask {
    /// `addr/32`.
    pub fn host(addr: Ipv4Addr) -> Self {
        AddrMask { addr, mask: Ipv4Addr::BROADCAST }
    }

    /// `addr/len` with the address bits outside the prefix cleared, as iptables does.
    /// `None` when `len > 32`.
    pub fn prefix(addr: Ipv4Addr, len: u8) -> Option<Self> {
        let mask = prefix_mask(len)?;
        Some(AddrMask { addr: Ipv4Addr::from(u32::from(addr) & u32::from(mask)), mask })
    }

    /// The prefix length when the mask is contiguous.
    pub fn prefix_len(&self) -> Option<u8> {
        mask_prefix_len(self.mask)
    }

    /// Parses a `-s`/`-d` argument as iptables 1.8.9 does (`xtables_ipparse_multiple`):
    /// `A[/M]` where `A` is a dotted address whose missing trailing bytes are zero (`10.1` is
    /// `10.1.0.0`) and each byte is a C integer, and `M` is a prefix length or a dotted mask.
    /// The address is ANDed with the mask. Host names (which iptables resolves with DNS) and
    /// comma-separated lists (which iptables expands into several rules) are refused by the caller.
    pub(crate) fn parse_iptables(s: &str) -> Result<Self, &'static str> {
        let s = s.trim_start_matches(|c: char| c.is_ascii_whitespace());
        let (host, mask) = match s.rfind('/') {
            Some(i) => (&s[..i], parse_mask(&s[i + 1..])?),
            None => (s, Ipv4Addr::BROADCAST),
        };
        // iptables ignores the name when the mask is 0 ("any/0").
        let addr = if mask.is_unspecified() {
            Ipv4Addr::UNSPECIFIED
        } else {
            dotted_autocomplete(host).ok_or("not a numeric IPv4 address (host names are not resolved)")?
        };
        Ok(AddrMask { addr: Ipv4Addr::from(u32::from(addr) & u32::from(mask)), mask })
    }

    /// Writes `addr/len` or `addr/mask` as `save_ipv4_addr` prints `-s`/`-d` (always with a mask).
    pub(crate) fn fmt_save(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.prefix_len() {
            Some(len) => write!(f, "{}/{}", self.addr, len),
            None => write!(f, "{}/{}", self.addr, self.mask),
        }
    }
}

impl fmt::Display for AddrMask {
    /// `addr/len`, or `addr/mask` for a non-contiguous mask.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.fmt_save(f)
    }
}

/// The mask of a prefix length.
pub(crate) fn prefix_mask(len: u8) -> Option<Ipv4Addr> {
    match len {
        0 => Some(Ipv4Addr::UNSPECIFIED),
        1..=32 => Some(Ipv4Addr::from(u32::MAX << (32 - u32::from(len)))),
        _ => None,
    }
}

/// The prefix length of a contiguous mask.
pub(crate) fn mask_prefix_len(mask: Ipv4Addr) -> Option<u8> {
    let m = u32::from(mask);
    let len = m.leading_ones();
    (m.checked_shl(len).unwrap_or(0) == 0).then_some(len as u8)
}

/// `parse_ipmask`: a dotted mask (four parts) or a prefix length 0-32.
fn parse_mask(s: &str) -> Result<Ipv4Addr, &'static str> {
    if let Some(mask) = dotted_exact(s) {
        return Ok(mask);
    }
    let len = num::strtoul_full(s, 0, 32).ok_or("invalid mask")?;
    prefix_mask(len as u8).ok_or("invalid mask")
}

/// `__numeric_to_ipaddr(s, false)`: up to four dot-separated C integers 0-255; missing trailing
/// bytes are zero.
pub(crate) fn dotted_autocomplete(s: &str) -> Option<Ipv4Addr> {
    let parts: Vec<&str> = s.split('.').collect();
    if parts.len() > 4 {
        return None;
    }
    let mut bytes = [0u8; 4];
    for (i, p) in parts.iter().enumerate() {
        bytes[i] = u8::try_from(num::strtoul_full(p, 0, 255)?).ok()?;
    }
    Some(Ipv4Addr::from(bytes))
}

/// `__numeric_to_ipaddr(s, true)`: exactly four dot-separated C integers 0-255.
fn dotted_exact(s: &str) -> Option<Ipv4Addr> {
    if s.split('.').count() != 4 {
        return None;
    }
    dotted_autocomplete(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn save(a: AddrMask) -> String {
        struct S(AddrMask);
        impl fmt::Display for S {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt_save(f)
            }
        }
        S(a).to_string()
    }

    #[test]
    fn iptables_forms() {
        let p = |s| save(AddrMask::parse_iptables(s).unwrap());
        assert_eq!(p("10.1.2.3"), "10.1.2.3/32");
        assert_eq!(p("10.11.12.13/8"), "10.0.0.0/8");
        assert_eq!(p("10.11.12.13/255.0.255.0"), "10.0.12.0/255.0.255.0");
        assert_eq!(p("10.11.12.13/255.128.0.0"), "10.0.0.0/9");
        assert_eq!(p("192.168.122.0/255.255.255.0"), "192.168.122.0/24");
        assert_eq!(p("10.1"), "10.1.0.0/32");
        assert_eq!(p("0x0a.1.2.3"), "10.1.2.3/32");
        assert_eq!(p("whatever/0"), "0.0.0.0/0");
        assert!(AddrMask::parse_iptables("example.com").is_err());
        assert!(AddrMask::parse_iptables("1.2.3.4/33").is_err());
        assert!(AddrMask::parse_iptables("1.2.3.256").is_err());
        assert!(AddrMask::parse_iptables("1.2.3.4.5").is_err());
    }

    #[test]
    fn prefix_lengths() {
        assert_eq!(mask_prefix_len(Ipv4Addr::BROADCAST), Some(32));
        assert_eq!(mask_prefix_len(Ipv4Addr::UNSPECIFIED), Some(0));
        assert_eq!(mask_prefix_len(Ipv4Addr::new(255, 255, 240, 0)), Some(20));
        assert_eq!(mask_prefix_len(Ipv4Addr::new(255, 0, 255, 0)), None);
    }
}

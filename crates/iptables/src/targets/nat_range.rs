//! The address/port range of the NAT targets (`parse_to`, `parse_ports` and `sprint_range` of
//! libxt_NAT.c, iptables 1.8.9).

use std::fmt;
use std::net::Ipv4Addr;

use crate::ext::Ctx;
use crate::matches::Ipv4Range;
use crate::num;
use crate::port::PortRange;
use crate::protocol::Protocol;
use crate::services;

/// A NAT mapping: addresses (`NF_NAT_RANGE_MAP_IPS`), ports (`NF_NAT_RANGE_PROTO_SPECIFIED`)
/// and, for DNAT, a base port for shifted port maps (`NF_NAT_RANGE_PROTO_OFFSET`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct NatRange {
    /// Address range; `None` keeps the address.
    pub addrs: Option<Ipv4Range>,
    /// Port range; `None` keeps the port.
    pub ports: Option<PortRange>,
    /// `/BASE` of `PORT-PORT/BASE` (DNAT only).
    pub base_port: Option<u16>,
}

impl NatRange {
    /// Whether `-p` allows a port part (`portok` in libxt_NAT.c: tcp, udp, sctp, dccp or icmp,
    /// negated or not, given before the target option).
    pub(crate) fn ports_allowed(ctx: &Ctx<'_>) -> bool {
        matches!(
            ctx.compat_proto(),
            Some(Protocol::TCP | Protocol::UDP | Protocol::SCTP | Protocol::DCCP | Protocol::ICMP)
        )
    }

    /// Parses `--to-destination`/`--to-source`: `[ADDR[-ADDR]][:PORT[-PORT[/BASE]]]`.
    pub(crate) fn parse_to(s: &str, ports_ok: bool, base_ok: bool) -> Result<NatRange, &'static str> {
        if s.contains('[') {
            return Err("invalid address format");
        }
        // One colon separates the ports; two or more would be IPv6.
        let colon = s.find(':').filter(|&i| !s[i + 1..].contains(':'));
        let mut range = NatRange::default();
        let addr_part = match colon {
            Some(i) => {
                let (ports, base) = parse_ports(&s[i + 1..], ports_ok, base_ok)?;
                range.ports = Some(ports);
                range.base_port = base;
                &s[..i]
            }
            None => s,
        };
        if colon == Some(0) {
            return Ok(range);
        }
        let (a, b) = addr_part.split_once('-').unwrap_or((addr_part, addr_part));
        let ip = |x: &str| x.parse::<Ipv4Addr>().map_err(|_| "bad IP address");
        range.addrs = Some(Ipv4Range { first: ip(a)?, last: ip(b)? });
        Ok(range)
    }

    /// Parses `--to-ports PORT[-PORT]` (MASQUERADE, REDIRECT).
    pub(crate) fn parse_to_ports(s: &str, ports_ok: bool) -> Result<PortRange, &'static str> {
        parse_ports(s, ports_ok, false).map(|(p, _)| p)
    }

    /// Writes the range as `sprint_range` does; `skip_colon` drops the `:` before ports when
    /// no address is printed (`--to-ports`).
    pub(crate) fn fmt_range(&self, f: &mut fmt::Formatter<'_>, skip_colon: bool) -> fmt::Result {
        if let Some(a) = self.addrs {
            write!(f, "{}", a.first)?;
            if a.first != a.last {
                write!(f, "-{}", a.last)?;
            }
        }
        if let Some(p) = self.ports {
            if self.addrs.is_some() || !skip_colon {
                f.write_str(":")?;
            }
            write!(f, "{}", p.first)?;
            if p.last != p.first {
                write!(f, "-{}", p.last)?;
            }
            if let Some(base) = self.base_port {
                write!(f, "/{base}")?;
            }
        }
        Ok(())
    }

    /// Whether `sprint_range` prints anything.
    pub(crate) fn is_empty(&self) -> bool {
        self.addrs.is_none() && self.ports.is_none()
    }
}

/// `parse_ports`: `PORT`, `PORT-PORT`, `PORT-PORT/BASE`. The first port and the base may be
/// service names; the last port may not. iptables ignores garbage after the base port; this
/// refuses it.
fn parse_ports(s: &str, ports_ok: bool, base_ok: bool) -> Result<(PortRange, Option<u16>), &'static str> {
    if !ports_ok {
        return Err("need -p tcp, udp, sctp, dccp or icmp with a port specification");
    }
    let max = u64::from(u16::MAX);
    let (first, rest) = match num::strtoul_prefix(s, 0, max) {
        Some((p, rest)) => (p as u16, rest),
        None => (services::port_by_name(s, None).ok_or("port not valid")?, ""),
    };
    let rest = match rest.as_bytes().first() {
        None => return Ok((PortRange::single(first), None)),
        Some(b'-') => &rest[1..],
        Some(b':') => return Err("invalid port:port syntax - use dash"),
        Some(_) => return Err("garbage after port value"),
    };
    let (last, rest) =
        num::strtoul_prefix(rest, 0, max).ok_or("port not valid (no service names in a range)")?;
    let last = last as u16;
    if last < first {
        return Err("port range funky (last below first)");
    }
    let ports = PortRange { first, last };
    let base = match rest.as_bytes().first() {
        None => return Ok((ports, None)),
        Some(b'/') => &rest[1..],
        Some(_) => return Err("garbage after port range"),
    };
    if !base_ok {
        return Err("shifted port maps (/BASE) are only supported by DNAT");
    }
    let base = match num::strtoul_full(base, 1, max) {
        Some(b) => b as u16,
        None => {
            services::port_by_name(base, None).filter(|&p| p != 0).ok_or("base port not valid (1-65535)")?
        }
    };
    Ok((ports, Some(base)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn to_forms() {
        let r = NatRange::parse_to("1.1.1.1-1.1.1.10:1025-65535", true, true).unwrap();
        assert_eq!(r.ports, Some(PortRange::new(1025, 65535)));
        let r = NatRange::parse_to("1.1.1.1:10-20/ftp", true, true).unwrap();
        assert_eq!(r.base_port, Some(21));
        let r = NatRange::parse_to("1.1.1.1:ssh", true, true).unwrap();
        assert_eq!(r.ports, Some(PortRange::single(22)));
        let r = NatRange::parse_to(":80", true, true).unwrap();
        assert!(r.addrs.is_none());
        assert!(NatRange::parse_to("1.1.1.1:80", false, true).is_err());
        assert!(NatRange::parse_to("1.1.1.1:echo-ssh", true, true).is_err());
        assert!(NatRange::parse_to("1.1.1.1:1000-2000/0", true, true).is_err());
        assert!(NatRange::parse_to("1.1.1.1:1025-65536", true, true).is_err());
        assert!(NatRange::parse_to("1.1.1.1:10-20/30", true, false).is_err());
        assert!(NatRange::parse_to("host.example", true, true).is_err());
        assert!(NatRange::parse_to_ports("10-ssh", true).is_err());
        assert!(NatRange::parse_to_ports("ftp-ssh", true).is_err());
        assert_eq!(NatRange::parse_to_ports("ftp-data", true), Ok(PortRange::single(20)));
        assert!(NatRange::parse_to_ports("-1", true).is_err());
    }
}

//! Routes: `RTM_NEWROUTE` / `RTM_DELROUTE` messages as typed values.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;
use netlink_packet_core::{parse_ip, parse_u16, parse_u32};
use netlink_packet_route::route::RouteHeader;

use crate::decode::{after_header, attributes, value};
use crate::error::Error;
use crate::family::Family;
use crate::scope::Scope;

// include/uapi/linux/rtnetlink.h: enum rt_class_t
/// The main routing table (`ip route` without `table`).
pub const RT_TABLE_MAIN: u32 = 254;

// include/uapi/linux/rtnetlink.h: sizeof(struct rtmsg), sizeof(struct rtnexthop)
const RTMSG_LEN: usize = 12;
const RTNEXTHOP_LEN: usize = 8;
// include/uapi/linux/rtnetlink.h: enum rtattr_type_t
const RTA_DST: u16 = 1;
const RTA_OIF: u16 = 4;
const RTA_GATEWAY: u16 = 5;
const RTA_PRIORITY: u16 = 6;
const RTA_PREFSRC: u16 = 7;
const RTA_MULTIPATH: u16 = 9;
const RTA_TABLE: u16 = 15;
const RTA_VIA: u16 = 18;
const RTA_NH_ID: u16 = 30;

// include/uapi/linux/rtnetlink.h: enum { RTN_UNSPEC, RTN_UNICAST, ... }
const RTN_UNSPEC: u8 = 0;
const RTN_UNICAST: u8 = 1;
const RTN_LOCAL: u8 = 2;
const RTN_BROADCAST: u8 = 3;
const RTN_ANYCAST: u8 = 4;
const RTN_MULTICAST: u8 = 5;
const RTN_BLACKHOLE: u8 = 6;
const RTN_UNREACHABLE: u8 = 7;
const RTN_PROHIBIT: u8 = 8;
const RTN_THROW: u8 = 9;
const RTN_NAT: u8 = 10;

/// One route, as `ip route show table all` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// IPv4 or IPv6.
    pub family: Family,
    /// The destination prefix (`RTA_DST` and the header's length); `0.0.0.0/0` or `::/0` for a default route.
    pub destination: IpNet,
    /// The routing table (`RTA_TABLE`, else the header's 8 bits); [`RT_TABLE_MAIN`] is 254.
    pub table: u32,
    /// The route type (`unicast`, `local`, `blackhole`, ...).
    pub kind: RouteKind,
    /// Who installed it (`RTPROT_*`: 2 kernel, 3 boot, 4 static, 16 dhcp, ...).
    pub protocol: u8,
    /// The route's scope.
    pub scope: Scope,
    /// The output interface's index (`RTA_OIF`, `dev X`).
    pub oif: Option<u32>,
    /// The gateway (`RTA_GATEWAY`, or `RTA_VIA` for an IPv4 route via an IPv6 gateway).
    pub gateway: Option<IpAddr>,
    /// The metric (`RTA_PRIORITY`, `metric N`); the kernel's default is 0 for IPv4, 1024 for IPv6.
    pub metric: Option<u32>,
    /// The preferred source address (`RTA_PREFSRC`, `src X`).
    pub prefsrc: Option<IpAddr>,
    /// The next hops of a multipath route (`RTA_MULTIPATH`, `nexthop via ... nexthop via ...`).
    pub nexthops: Vec<NextHop>,
    /// The nexthop object the route uses (`RTA_NH_ID`, `nhid N`).
    pub nexthop_id: Option<u32>,
}

impl Route {
    /// True for a default route (prefix length 0).
    pub fn is_default(&self) -> bool {
        self.destination.prefix_len() == 0
    }

    /// Decodes the body of an `RTM_NEWROUTE`/`RTM_DELROUTE` message (after the `nlmsghdr`).
    /// `Ok(None)` for a family other than IPv4 and IPv6 (multicast routing tables, MPLS).
    pub(crate) fn parse(body: &[u8], what: &'static str) -> Result<Option<Route>, Error> {
        let header = RouteHeader::parse(body).map_err(|e| Error::decode(what, e))?;
        let Some(family) = Family::from_af(u8::from(header.address_family)) else {
            return Ok(None);
        };
        let mut destination = None;
        let mut table = u32::from(header.table);
        let mut oif = None;
        let mut gateway = None;
        let mut metric = None;
        let mut prefsrc = None;
        let mut nexthops = Vec::new();
        let mut nexthop_id = None;
        attributes(after_header(body, RTMSG_LEN), what, |kind, v| {
            match kind {
                RTA_DST => destination = Some(value(what, "RTA_DST", parse_ip(v))?),
                RTA_TABLE => table = value(what, "RTA_TABLE", parse_u32(v))?,
                RTA_OIF => oif = Some(value(what, "RTA_OIF", parse_u32(v))?),
                RTA_GATEWAY => gateway = Some(value(what, "RTA_GATEWAY", parse_ip(v))?),
                RTA_VIA => gateway = Some(via(v, what)?),
                RTA_PRIORITY => metric = Some(value(what, "RTA_PRIORITY", parse_u32(v))?),
                RTA_PREFSRC => prefsrc = Some(value(what, "RTA_PREFSRC", parse_ip(v))?),
                RTA_NH_ID => nexthop_id = Some(value(what, "RTA_NH_ID", parse_u32(v))?),
                RTA_MULTIPATH => nexthops = multipath(v, what)?,
                _ => {}
            }
            Ok(())
        })?;
        let unspecified = match family {
            Family::Ipv4 => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            Family::Ipv6 => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
        };
        let dst = destination.unwrap_or(unspecified);
        let prefix = header.destination_prefix_length;
        if dst.is_ipv4() != unspecified.is_ipv4() {
            return Err(Error::decode(what, format!("{family} route to {dst}")));
        }
        let destination = IpNet::new(dst, prefix)
            .map_err(|_| Error::decode(what, format!("route to {dst} with prefix length {prefix}")))?;
        Ok(Some(Route {
            family,
            destination,
            table,
            kind: u8::from(header.kind).into(),
            protocol: u8::from(header.protocol),
            scope: u8::from(header.scope).into(),
            oif,
            gateway,
            metric,
            prefsrc,
            nexthops,
            nexthop_id,
        }))
    }
}

/// One next hop of a multipath route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NextHop {
    /// The output interface's index.
    pub oif: u32,
    /// The gateway, if any.
    pub gateway: Option<IpAddr>,
    /// The weight (`weight N`; the kernel stores N − 1).
    pub weight: u16,
}

/// `RTA_VIA`: `struct rtvia { __kernel_sa_family_t rtvia_family; __u8 rtvia_addr[]; }`.
fn via(v: &[u8], what: &'static str) -> Result<IpAddr, Error> {
    let family = value(what, "RTA_VIA", parse_u16(v.get(..2).unwrap_or_default()))?;
    let addr = value(what, "RTA_VIA", parse_ip(v.get(2..).unwrap_or_default()))?;
    match (u8::try_from(family).ok().and_then(Family::from_af), addr) {
        (Some(Family::Ipv4), IpAddr::V4(_)) | (Some(Family::Ipv6), IpAddr::V6(_)) => Ok(addr),
        _ => Err(Error::decode(what, format!("RTA_VIA of family {family} holds {addr}"))),
    }
}

/// `RTA_MULTIPATH`: a run of `struct rtnexthop { u16 len; u8 flags; u8 hops; int ifindex; }`, each
/// followed by its attributes.
fn multipath(mut buf: &[u8], what: &'static str) -> Result<Vec<NextHop>, Error> {
    let mut hops = Vec::new();
    while !buf.is_empty() {
        let bad = || Error::decode(what, format!("RTA_MULTIPATH: malformed rtnexthop in {buf:?}"));
        let head = buf.first_chunk::<RTNEXTHOP_LEN>().ok_or_else(bad)?;
        let len = usize::from(u16::from_ne_bytes([head[0], head[1]]));
        let attrs = buf.get(RTNEXTHOP_LEN..len).ok_or_else(bad)?;
        let mut gateway = None;
        attributes(attrs, what, |kind, v| {
            match kind {
                RTA_GATEWAY => gateway = Some(value(what, "RTA_GATEWAY", parse_ip(v))?),
                RTA_VIA => gateway = Some(via(v, what)?),
                _ => {}
            }
            Ok(())
        })?;
        hops.push(NextHop {
            oif: u32::from_ne_bytes([head[4], head[5], head[6], head[7]]),
            gateway,
            weight: u16::from(head[3]) + 1,
        });
        buf = buf.get(len.next_multiple_of(4)..).unwrap_or_default();
    }
    Ok(hops)
}

/// The type of a route (`rtm_type`, `RTN_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RouteKind {
    /// `RTN_UNSPEC`.
    Unspec,
    /// `RTN_UNICAST`: a gateway or directly connected route.
    Unicast,
    /// `RTN_LOCAL`: an address of this host.
    Local,
    /// `RTN_BROADCAST`.
    Broadcast,
    /// `RTN_ANYCAST`.
    Anycast,
    /// `RTN_MULTICAST`.
    Multicast,
    /// `RTN_BLACKHOLE`.
    Blackhole,
    /// `RTN_UNREACHABLE`.
    Unreachable,
    /// `RTN_PROHIBIT`.
    Prohibit,
    /// `RTN_THROW`.
    Throw,
    /// `RTN_NAT`.
    Nat,
    /// Any other value, kept as is.
    Other(u8),
}

impl From<u8> for RouteKind {
    fn from(v: u8) -> RouteKind {
        match v {
            RTN_UNSPEC => RouteKind::Unspec,
            RTN_UNICAST => RouteKind::Unicast,
            RTN_LOCAL => RouteKind::Local,
            RTN_BROADCAST => RouteKind::Broadcast,
            RTN_ANYCAST => RouteKind::Anycast,
            RTN_MULTICAST => RouteKind::Multicast,
            RTN_BLACKHOLE => RouteKind::Blackhole,
            RTN_UNREACHABLE => RouteKind::Unreachable,
            RTN_PROHIBIT => RouteKind::Prohibit,
            RTN_THROW => RouteKind::Throw,
            RTN_NAT => RouteKind::Nat,
            other => RouteKind::Other(other),
        }
    }
}

impl fmt::Display for RouteKind {
    /// As `ip route` prints it: `unicast`, `local`, `blackhole`, ...
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RouteKind::Unspec => f.write_str("unspec"),
            RouteKind::Unicast => f.write_str("unicast"),
            RouteKind::Local => f.write_str("local"),
            RouteKind::Broadcast => f.write_str("broadcast"),
            RouteKind::Anycast => f.write_str("anycast"),
            RouteKind::Multicast => f.write_str("multicast"),
            RouteKind::Blackhole => f.write_str("blackhole"),
            RouteKind::Unreachable => f.write_str("unreachable"),
            RouteKind::Prohibit => f.write_str("prohibit"),
            RouteKind::Throw => f.write_str("throw"),
            RouteKind::Nat => f.write_str("nat"),
            RouteKind::Other(v) => write!(f, "{v}"),
        }
    }
}

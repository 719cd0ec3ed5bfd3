//! Links (network interfaces): `RTM_NEWLINK` / `RTM_DELLINK` messages as typed values.

use std::fmt;

use netlink_packet_core::{parse_string, parse_u8, parse_u32};
use netlink_packet_route::link::{LinkFlags, LinkHeader};

use crate::decode::{after_header, attributes, value};
use crate::error::Error;

// include/uapi/linux/rtnetlink.h: sizeof(struct ifinfomsg)
const IFINFOMSG_LEN: usize = 16;
// include/uapi/linux/if_link.h: enum { IFLA_UNSPEC, IFLA_ADDRESS, ... }
const IFLA_ADDRESS: u16 = 1;
const IFLA_IFNAME: u16 = 3;
const IFLA_MTU: u16 = 4;
const IFLA_MASTER: u16 = 10;
const IFLA_OPERSTATE: u16 = 16;
const IFLA_LINKINFO: u16 = 18;
// include/uapi/linux/if_link.h: enum { IFLA_INFO_UNSPEC, IFLA_INFO_KIND, IFLA_INFO_DATA, ... }
const IFLA_INFO_KIND: u16 = 1;
const IFLA_INFO_DATA: u16 = 2;
// include/uapi/linux/if_link.h: enum { IFLA_TUN_UNSPEC, IFLA_TUN_OWNER, IFLA_TUN_GROUP, IFLA_TUN_TYPE, ... }
const IFLA_TUN_TYPE: u16 = 3;
// include/uapi/linux/if_tun.h
const IFF_TUN: u8 = 0x0001;
const IFF_TAP: u8 = 0x0002;
// include/uapi/linux/if.h: enum { IF_OPER_UNKNOWN, IF_OPER_NOTPRESENT, ... }
const IF_OPER_UNKNOWN: u8 = 0;
const IF_OPER_NOTPRESENT: u8 = 1;
const IF_OPER_DOWN: u8 = 2;
const IF_OPER_LOWERLAYERDOWN: u8 = 3;
const IF_OPER_TESTING: u8 = 4;
const IF_OPER_DORMANT: u8 = 5;
const IF_OPER_UP: u8 = 6;

/// One network interface, as `ip -d link show` describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// The interface index (`ifindex`); stable while the interface lives, reused after it is deleted.
    pub index: u32,
    /// The interface name (`IFLA_IFNAME`), e.g. `virbr0`.
    pub name: String,
    /// The kind (`IFLA_INFO_KIND`); `None` for devices that have none, such as physical NICs and `lo`.
    pub kind: Option<LinkKind>,
    /// Administratively up (`IFF_UP`, `ip link set X up`).
    pub admin_up: bool,
    /// The carrier is up (`IFF_LOWER_UP`).
    pub lower_up: bool,
    /// The RFC 2863 operational state (`IFLA_OPERSTATE`); [`OperState::Unknown`] when not reported.
    pub oper_state: OperState,
    /// The hardware address (`IFLA_ADDRESS`), if the device has one.
    pub mac: Option<HwAddr>,
    /// The MTU (`IFLA_MTU`), if reported.
    pub mtu: Option<u32>,
    /// The index of the controller this interface is a port of (`IFLA_MASTER`): its bridge or bond.
    pub controller: Option<u32>,
}

impl Link {
    /// True for a bridge (`LinkKind::Bridge`).
    pub fn is_bridge(&self) -> bool {
        self.kind == Some(LinkKind::Bridge)
    }

    /// Decodes the body of an `RTM_NEWLINK`/`RTM_DELLINK` message (after the `nlmsghdr`).
    pub(crate) fn parse(body: &[u8], what: &'static str) -> Result<Link, Error> {
        let header = LinkHeader::parse(body).map_err(|e| Error::decode(what, e))?;
        let mut link = Link {
            index: header.index,
            name: String::new(),
            kind: None,
            admin_up: header.flags.contains(LinkFlags::Up),
            lower_up: header.flags.contains(LinkFlags::LowerUp),
            oper_state: OperState::Unknown,
            mac: None,
            mtu: None,
            controller: None,
        };
        let mut name = None;
        attributes(after_header(body, IFINFOMSG_LEN), what, |kind, v| {
            match kind {
                IFLA_IFNAME => name = Some(value(what, "IFLA_IFNAME", parse_string(v))?),
                IFLA_LINKINFO => link.kind = kind_of(v, what)?,
                IFLA_OPERSTATE => link.oper_state = value(what, "IFLA_OPERSTATE", parse_u8(v))?.into(),
                IFLA_ADDRESS => link.mac = Some(HwAddr(v.to_vec())),
                IFLA_MTU => link.mtu = Some(value(what, "IFLA_MTU", parse_u32(v))?),
                IFLA_MASTER => link.controller = Some(value(what, "IFLA_MASTER", parse_u32(v))?),
                _ => {}
            }
            Ok(())
        })?;
        link.name =
            name.ok_or_else(|| Error::decode(what, format!("link {} has no IFLA_IFNAME", link.index)))?;
        Ok(link)
    }
}

/// The kind of an interface (`IFLA_INFO_KIND`, `ip link add ... type KIND`).
///
/// Kinds without a variant of their own are kept as the kernel's string in [`LinkKind::Other`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LinkKind {
    /// `bridge`.
    Bridge,
    /// `veth` (one end of a pair).
    Veth,
    /// `tun` in TUN mode (layer 3).
    Tun,
    /// `tun` in TAP mode (layer 2): what QEMU/libvirt attaches guests with (`vnet0`).
    Tap,
    /// `vlan` (802.1Q).
    Vlan,
    /// `macvlan`.
    Macvlan,
    /// `macvtap`.
    Macvtap,
    /// `ipvlan`.
    Ipvlan,
    /// `dummy`.
    Dummy,
    /// `vxlan`.
    Vxlan,
    /// `bond`.
    Bond,
    /// `wireguard`.
    Wireguard,
    /// Any other kind, as the kernel spells it (`gretap`, `vrf`, `team`, ...).
    Other(String),
}

impl fmt::Display for LinkKind {
    /// The kernel's kind string, except that TAP devices print as `tap` (the kernel says `tun` for both).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LinkKind::Bridge => "bridge",
            LinkKind::Veth => "veth",
            LinkKind::Tun => "tun",
            LinkKind::Tap => "tap",
            LinkKind::Vlan => "vlan",
            LinkKind::Macvlan => "macvlan",
            LinkKind::Macvtap => "macvtap",
            LinkKind::Ipvlan => "ipvlan",
            LinkKind::Dummy => "dummy",
            LinkKind::Vxlan => "vxlan",
            LinkKind::Bond => "bond",
            LinkKind::Wireguard => "wireguard",
            LinkKind::Other(s) => s,
        })
    }
}

/// The kind named by `IFLA_LINKINFO` (`None` if it names none), telling TUN from TAP by
/// `IFLA_TUN_TYPE`.
fn kind_of(linkinfo: &[u8], what: &'static str) -> Result<Option<LinkKind>, Error> {
    let mut kind = None;
    let mut tun_type = None;
    let mut data = None;
    attributes(linkinfo, what, |k, v| {
        match k {
            IFLA_INFO_KIND => kind = Some(value(what, "IFLA_INFO_KIND", parse_string(v))?),
            IFLA_INFO_DATA => data = Some(v.to_vec()),
            _ => {}
        }
        Ok(())
    })?;
    let Some(kind) = kind else {
        return Ok(None);
    };
    if kind == "tun" {
        if let Some(data) = &data {
            attributes(data, what, |k, v| {
                if k == IFLA_TUN_TYPE {
                    tun_type = Some(value(what, "IFLA_TUN_TYPE", parse_u8(v))?);
                }
                Ok(())
            })?;
        }
    }
    Ok(Some(match kind.as_str() {
        "bridge" => LinkKind::Bridge,
        "veth" => LinkKind::Veth,
        // The kernel always reports IFLA_TUN_TYPE; without it (or with a type it does not have)
        // keep the kind string rather than guess.
        "tun" if tun_type == Some(IFF_TAP) => LinkKind::Tap,
        "tun" if tun_type == Some(IFF_TUN) => LinkKind::Tun,
        "vlan" => LinkKind::Vlan,
        "macvlan" => LinkKind::Macvlan,
        "macvtap" => LinkKind::Macvtap,
        "ipvlan" => LinkKind::Ipvlan,
        "dummy" => LinkKind::Dummy,
        "vxlan" => LinkKind::Vxlan,
        "bond" => LinkKind::Bond,
        "wireguard" => LinkKind::Wireguard,
        _ => LinkKind::Other(kind),
    }))
}

/// The RFC 2863 operational state of an interface (`IFLA_OPERSTATE`, `IF_OPER_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OperState {
    /// `IF_OPER_UNKNOWN` (also what drivers that do not track it, such as `lo`, report).
    Unknown,
    /// `IF_OPER_NOTPRESENT`.
    NotPresent,
    /// `IF_OPER_DOWN`.
    Down,
    /// `IF_OPER_LOWERLAYERDOWN` (e.g. a veth whose peer is down).
    LowerLayerDown,
    /// `IF_OPER_TESTING`.
    Testing,
    /// `IF_OPER_DORMANT`.
    Dormant,
    /// `IF_OPER_UP`.
    Up,
    /// A value this crate does not know, kept as is.
    Other(u8),
}

impl From<u8> for OperState {
    fn from(v: u8) -> OperState {
        match v {
            IF_OPER_UNKNOWN => OperState::Unknown,
            IF_OPER_NOTPRESENT => OperState::NotPresent,
            IF_OPER_DOWN => OperState::Down,
            IF_OPER_LOWERLAYERDOWN => OperState::LowerLayerDown,
            IF_OPER_TESTING => OperState::Testing,
            IF_OPER_DORMANT => OperState::Dormant,
            IF_OPER_UP => OperState::Up,
            other => OperState::Other(other),
        }
    }
}

impl fmt::Display for OperState {
    /// As `ip link` prints it: `UP`, `DOWN`, `LOWERLAYERDOWN`, ...
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OperState::Unknown => f.write_str("UNKNOWN"),
            OperState::NotPresent => f.write_str("NOTPRESENT"),
            OperState::Down => f.write_str("DOWN"),
            OperState::LowerLayerDown => f.write_str("LOWERLAYERDOWN"),
            OperState::Testing => f.write_str("TESTING"),
            OperState::Dormant => f.write_str("DORMANT"),
            OperState::Up => f.write_str("UP"),
            OperState::Other(v) => write!(f, "{v}"),
        }
    }
}

/// A hardware (link-layer) address, as many bytes as the device has (6 for Ethernet).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HwAddr(pub Vec<u8>);

impl fmt::Display for HwAddr {
    /// Colon-separated lowercase hex, `52:54:00:12:34:56`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, b) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(":")?;
            }
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

//! The host's interfaces as natkeeper needs them: every interface with its addresses (labels such as
//! `eth0:0`, primary or secondary), the guests' bridges with their subnets and ports, and the uplink.

use std::net::IpAddr;

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use natkeeper_rtnl::{Address, Family, HwAddr, Link, LinkKind, Scope, Snapshot};
use serde::Serialize;

use super::libvirt::LibvirtEvidence;

/// An address of the host's, on one interface.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HostAddress {
    /// The address with its prefix length: `192.168.1.211/24`.
    pub address: IpNet,
    /// Its label (`eth0:0`); for IPv4 the kernel labels unlabelled addresses with the interface's
    /// name. IPv6 addresses have none.
    pub label: Option<String>,
    /// True for an IPv4 secondary address (another address of the same subnet came first).
    pub secondary: bool,
    /// `global`, `link`, `host`, ... as `ip addr` prints it.
    #[serde(serialize_with = "super::ser::display")]
    pub scope: Scope,
}

impl HostAddress {
    fn from_rtnl(a: &Address) -> HostAddress {
        HostAddress { address: a.net, label: a.label.clone(), secondary: a.is_secondary(), scope: a.scope }
    }

    /// The address without its prefix length.
    pub fn addr(&self) -> IpAddr {
        self.address.addr()
    }
}

/// One network interface.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Interface {
    /// Name (`eth0`).
    pub name: String,
    /// Interface index.
    pub index: u32,
    /// Link kind (`bridge`, `veth`, `tap`, ...); `None` for a physical device or `lo`.
    #[serde(serialize_with = "super::ser::display_opt")]
    pub kind: Option<LinkKind>,
    /// Link-layer address.
    #[serde(serialize_with = "super::ser::display_opt")]
    pub mac: Option<HwAddr>,
    /// Administratively up (`ip link set ... up`).
    pub up: bool,
    /// The bridge it is a port of.
    pub bridge: Option<String>,
    /// Its addresses, IPv4 first, primary before secondary.
    pub addresses: Vec<HostAddress>,
}

/// A port of a bridge: a guest's tap device (or a veth standing in for one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Port {
    /// Name (`vnet0`).
    pub name: String,
    /// Link kind (`tap`, `veth`, ...).
    #[serde(serialize_with = "super::ser::display_opt")]
    pub kind: Option<LinkKind>,
    /// Link-layer address (libvirt gives a guest's tap `fe:54:00:...`).
    #[serde(serialize_with = "super::ser::display_opt")]
    pub mac: Option<HwAddr>,
    /// Administratively up.
    pub up: bool,
}

/// A bridge: where guests are.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Bridge {
    /// Name (`virbr0`).
    pub name: String,
    /// Interface index (changes when the bridge is recreated).
    pub index: u32,
    /// Link-layer address (libvirt's bridges have `52:54:00:...`).
    #[serde(serialize_with = "super::ser::display_opt")]
    pub mac: Option<HwAddr>,
    /// Administratively up.
    pub up: bool,
    /// IPv4 subnets of its addresses (`192.168.122.0/24`).
    pub ipv4: Vec<Ipv4Net>,
    /// IPv6 subnets of its global or site addresses (link-local left out).
    pub ipv6: Vec<Ipv6Net>,
    /// The host's own addresses on it (`192.168.122.1/24`: the guests' gateway).
    pub addresses: Vec<HostAddress>,
    /// Its ports, by index.
    pub ports: Vec<Port>,
    /// True when libvirt created it (see [`LibvirtEvidence`] for the tests).
    pub libvirt: bool,
    /// Why it is taken for libvirt's; empty when it is not.
    pub libvirt_evidence: Vec<LibvirtEvidence>,
}

/// The uplink: the interface of the IPv4 default route.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Uplink {
    /// Interface name (`eth0`).
    pub name: String,
    /// Interface index.
    pub index: u32,
    /// The default route's gateway, when it has one.
    pub gateway: Option<IpAddr>,
    /// Every address on it, with its label and primary/secondary flag.
    pub addresses: Vec<HostAddress>,
}

impl Uplink {
    /// The uplink's primary IPv4 address (what `egress = "snat"` translates to).
    pub fn primary_ipv4(&self) -> Option<&HostAddress> {
        self.addresses.iter().find(|a| a.address.addr().is_ipv4() && !a.secondary)
    }
}

/// Every interface of `snap`, in the kernel's order.
pub(super) fn interfaces(snap: &Snapshot) -> Vec<Interface> {
    snap.links
        .iter()
        .map(|l| Interface {
            name: l.name.clone(),
            index: l.index,
            kind: l.kind.clone(),
            mac: l.mac.clone(),
            up: l.admin_up,
            bridge: l.controller.and_then(|c| snap.link_by_index(c)).map(|b| b.name.clone()),
            addresses: addresses_on(snap, l),
        })
        .collect()
}

/// Every bridge of `snap`; `evidence` says for each whether libvirt made it.
pub(super) fn bridges(snap: &Snapshot, evidence: impl Fn(&Link) -> Vec<LibvirtEvidence>) -> Vec<Bridge> {
    snap.bridges()
        .map(|b| {
            let subnets = snap.bridge_subnets(&b.name).unwrap_or_default();
            let ports = snap
                .links
                .iter()
                .filter(|l| l.controller == Some(b.index))
                .map(|l| Port {
                    name: l.name.clone(),
                    kind: l.kind.clone(),
                    mac: l.mac.clone(),
                    up: l.admin_up,
                })
                .collect();
            let libvirt_evidence = evidence(b);
            Bridge {
                name: b.name.clone(),
                index: b.index,
                mac: b.mac.clone(),
                up: b.admin_up,
                ipv4: subnets.ipv4,
                ipv6: subnets.ipv6,
                addresses: addresses_on(snap, b),
                ports,
                libvirt: !libvirt_evidence.is_empty(),
                libvirt_evidence,
            }
        })
        .collect()
}

/// The IPv4 uplink, if there is a default route.
pub(super) fn uplink(snap: &Snapshot) -> Option<Uplink> {
    let link = snap.uplink(Family::Ipv4)?;
    let route = snap.default_route(Family::Ipv4)?;
    let gateway = route.gateway.or_else(|| route.nexthops.first().and_then(|h| h.gateway));
    Some(Uplink { name: link.name.clone(), index: link.index, gateway, addresses: addresses_on(snap, link) })
}

/// The addresses on `link`, IPv4 first (primary before secondary, in the kernel's order).
fn addresses_on(snap: &Snapshot, link: &Link) -> Vec<HostAddress> {
    let mut out: Vec<HostAddress> = snap.addresses_on(link.index).map(HostAddress::from_rtnl).collect();
    out.sort_by_key(|a| (a.address.addr().is_ipv6(), a.secondary));
    out
}

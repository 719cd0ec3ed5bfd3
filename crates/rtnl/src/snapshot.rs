//! A consistent-enough picture of a namespace's links, addresses and routes, and the questions an agent
//! asks of it: which bridge, which ports, which subnets, which uplink, what `eth0:0` is.

use ipnet::{IpNet, Ipv4Net, Ipv6Net};

use crate::address::Address;
use crate::error::Error;
use crate::family::Family;
use crate::link::Link;
use crate::route::{RT_TABLE_MAIN, Route, RouteKind};
use crate::scope::Scope;

/// Links, addresses and routes as dumped one after the other (not atomically: a change between the
/// dumps shows up in some lists and not others; watch [`crate::Events`] and take a new snapshot).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Snapshot {
    /// Every interface, in the kernel's order (by index).
    pub links: Vec<Link>,
    /// Every IPv4 and IPv6 address.
    pub addresses: Vec<Address>,
    /// Every IPv4 and IPv6 route, all tables.
    pub routes: Vec<Route>,
}

/// A bridge's subnets: its addresses truncated to their prefixes, deduplicated and sorted.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Subnets {
    /// IPv4 subnets, e.g. `192.168.122.0/24`.
    pub ipv4: Vec<Ipv4Net>,
    /// IPv6 subnets of global or site scope (link-local `fe80::/64` is left out).
    pub ipv6: Vec<Ipv6Net>,
}

impl Snapshot {
    /// The interface named `name`, or [`Error::NoSuchInterface`] listing those that exist.
    pub fn link(&self, name: &str) -> Result<&Link, Error> {
        self.links.iter().find(|l| l.name == name).ok_or_else(|| Error::NoSuchInterface {
            name: name.to_string(),
            existing: sorted(self.links.iter().map(|l| l.name.clone())),
        })
    }

    /// The interface with index `index`, if there is one.
    pub fn link_by_index(&self, index: u32) -> Option<&Link> {
        self.links.iter().find(|l| l.index == index)
    }

    /// The addresses on the interface with index `index`, IPv4 first, in the kernel's order (primary
    /// before secondary).
    pub fn addresses_on(&self, index: u32) -> impl Iterator<Item = &Address> {
        self.addresses.iter().filter(move |a| a.index == index)
    }

    /// Every bridge.
    pub fn bridges(&self) -> impl Iterator<Item = &Link> {
        self.links.iter().filter(|l| l.is_bridge())
    }

    /// The ports of bridge `bridge` (interfaces whose controller it is), by index. Errors:
    /// [`Error::NoSuchInterface`], [`Error::NotABridge`].
    pub fn ports(&self, bridge: &str) -> Result<Vec<&Link>, Error> {
        let br = self.bridge(bridge)?;
        Ok(self.links.iter().filter(|l| l.controller == Some(br.index)).collect())
    }

    /// The IPv4 and IPv6 subnets of bridge `bridge` (`192.168.122.1/24` → `192.168.122.0/24`). Errors:
    /// [`Error::NoSuchInterface`], [`Error::NotABridge`].
    pub fn bridge_subnets(&self, bridge: &str) -> Result<Subnets, Error> {
        let br = self.bridge(bridge)?;
        let mut subnets = Subnets::default();
        for a in self.addresses_on(br.index) {
            match a.subnet() {
                IpNet::V4(net) => subnets.ipv4.push(net),
                IpNet::V6(net) if matches!(a.scope, Scope::Universe | Scope::Site) => subnets.ipv6.push(net),
                IpNet::V6(_) => {}
            }
        }
        subnets.ipv4.sort();
        subnets.ipv4.dedup();
        subnets.ipv6.sort();
        subnets.ipv6.dedup();
        Ok(subnets)
    }

    /// The IPv4 address labelled `label` (`eth0:0` → `192.168.1.211/24`). An interface's own name is
    /// the label of its unlabelled addresses; where several addresses share a label, the primary one
    /// is returned. [`Error::NoSuchLabel`] lists the labels that exist.
    pub fn resolve_label(&self, label: &str) -> Result<&Address, Error> {
        let matching: Vec<&Address> =
            self.addresses.iter().filter(|a| a.label.as_deref() == Some(label)).collect();
        matching.iter().find(|a| !a.is_secondary()).or(matching.first()).copied().ok_or_else(|| {
            Error::NoSuchLabel {
                label: label.to_string(),
                existing: sorted(self.addresses.iter().filter_map(|a| a.label.clone())),
            }
        })
    }

    /// The default route of `family` in the main table: the unicast route to `/0` with the lowest
    /// metric, as the kernel would pick it.
    pub fn default_route(&self, family: Family) -> Option<&Route> {
        self.routes
            .iter()
            .filter(|r| {
                r.family == family
                    && r.is_default()
                    && r.table == RT_TABLE_MAIN
                    && r.kind == RouteKind::Unicast
            })
            .min_by_key(|r| r.metric.unwrap_or(0))
    }

    /// The uplink of `family`: the interface of its default route (the first next hop's, for a
    /// multipath route).
    pub fn uplink(&self, family: Family) -> Option<&Link> {
        let route = self.default_route(family)?;
        let oif = route.oif.or_else(|| route.nexthops.first().map(|h| h.oif))?;
        self.link_by_index(oif)
    }

    fn bridge(&self, name: &str) -> Result<&Link, Error> {
        let link = self.link(name)?;
        if link.is_bridge() {
            Ok(link)
        } else {
            Err(Error::NotABridge { name: name.to_string(), kind: link.kind.clone() })
        }
    }
}

fn sorted(names: impl Iterator<Item = String>) -> Vec<String> {
    let mut names: Vec<String> = names.collect();
    names.sort();
    names.dedup();
    names
}

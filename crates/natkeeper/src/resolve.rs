//! Resolving a [`Policy`] against the host: bridge subnets, the uplink, address labels and
//! interfaces become concrete addresses; every forward becomes its list of map elements.
//!
//! The result, [`Resolved`], is what the planner turns into kernel objects. Every check that needs
//! the host happens here, with an error naming the entry.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::net::{IpAddr, Ipv4Addr};

use ipnet::Ipv4Net;
use natkeeper_rtnl::{Family, Snapshot};

use crate::config::{
    ConfigError, Egress, Forward, HostProtection, Listen, Network, OneToOne, Policy, Proto, Public,
};

/// What resolution needs to know about the host, read from an rtnetlink snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HostFacts {
    /// Every interface with its IPv4 addresses.
    pub interfaces: BTreeMap<String, Vec<HostAddr>>,
    /// Bridges and their IPv4 subnets.
    pub bridges: BTreeMap<String, Vec<Ipv4Net>>,
    /// The default route's interface.
    pub uplink: Option<String>,
}

/// One IPv4 address of an interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostAddr {
    /// Address with prefix.
    pub net: Ipv4Net,
    /// Label (`eth0:0`), when the address has one.
    pub label: Option<String>,
    /// Secondary address (`ip addr` shows `secondary`).
    pub secondary: bool,
}

impl HostFacts {
    /// Reads the facts out of an rtnetlink snapshot.
    pub fn from_snapshot(snap: &Snapshot) -> HostFacts {
        let mut facts = HostFacts::default();
        for link in &snap.links {
            let addrs = snap
                .addresses_on(link.index)
                .filter_map(|a| match a.addr() {
                    IpAddr::V4(v4) => Some(HostAddr {
                        net: Ipv4Net::new(v4, a.net.prefix_len()).unwrap_or_else(|_| Ipv4Net::from(v4)),
                        label: a.label.clone(),
                        secondary: a.is_secondary(),
                    }),
                    IpAddr::V6(_) => None,
                })
                .collect();
            facts.interfaces.insert(link.name.clone(), addrs);
            if link.is_bridge() {
                let subnets = snap.bridge_subnets(&link.name).map(|s| s.ipv4).unwrap_or_default();
                facts.bridges.insert(link.name.clone(), subnets);
            }
        }
        facts.uplink = snap.uplink(Family::Ipv4).map(|l| l.name.clone());
        facts
    }

    /// The address labelled `label`.
    fn label(&self, label: &str) -> Option<Ipv4Addr> {
        self.interfaces.values().flatten().find(|a| a.label.as_deref() == Some(label)).map(|a| a.net.addr())
    }

    fn labels(&self) -> Vec<String> {
        let set: BTreeSet<String> =
            self.interfaces.values().flatten().filter_map(|a| a.label.clone()).collect();
        set.into_iter().collect()
    }

    /// True when some interface has `addr`.
    pub fn has_addr(&self, addr: Ipv4Addr) -> bool {
        self.interfaces.values().flatten().any(|a| a.net.addr() == addr)
    }
}

/// A guests' network, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedNetwork {
    /// Name.
    pub name: String,
    /// Bridge.
    pub bridge: String,
    /// Guests' subnet.
    pub subnet: Ipv4Net,
    /// Uplink interface, when there is one.
    pub uplink: Option<String>,
    /// The uplink's primary IPv4 address (the `snat` egress source).
    pub uplink_addr: Option<Ipv4Addr>,
    /// Egress NAT.
    pub egress: Egress,
}

/// One element of the forwards map: `public . proto . port : guest . guest_port`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ForwardElem {
    /// Public address.
    pub public: Ipv4Addr,
    /// Protocol.
    pub proto: Proto,
    /// Public port.
    pub port: u16,
    /// Guest address.
    pub guest: Ipv4Addr,
    /// Guest port.
    pub guest_port: u16,
}

impl fmt::Display for ForwardElem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}:{} -> {}:{}", self.proto, self.public, self.port, self.guest, self.guest_port)
    }
}

/// One 1:1 NAT: `public <-> guest`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NatPair {
    /// Public address.
    pub public: Ipv4Addr,
    /// Guest address.
    pub guest: Ipv4Addr,
}

impl fmt::Display for NatPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} <-> {}", self.public, self.guest)
    }
}

/// A policy with every name resolved, ready to plan.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Resolved {
    /// Networks.
    pub networks: Vec<ResolvedNetwork>,
    /// Forwards map elements, sorted, unique.
    pub forwards: Vec<ForwardElem>,
    /// 1:1 NATs, sorted.
    pub nats: Vec<NatPair>,
    /// Host protection.
    pub host: Option<HostProtection>,
    /// Things that work but look wrong (e.g. a public address the host does not have).
    pub warnings: Vec<String>,
}

impl Resolved {
    /// True when some forward or 1:1 NAT needs the host to route (`ip_forward`).
    pub fn needs_forwarding(&self) -> bool {
        !self.forwards.is_empty() || !self.nats.is_empty()
    }
}

/// How strictly [`resolve`] treats what the host lacks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// Entries that cannot be resolved are errors; a public address the host lacks is a warning.
    #[default]
    Normal,
    /// A public address the host lacks is an error too.
    Strict,
    /// Entries that cannot be resolved (a bridge or an address label that is gone) are skipped with a
    /// warning, so the rest keeps working — what `watch` needs while libvirt recreates a bridge or an
    /// address is briefly missing.
    Lenient,
}

/// Resolves `policy` against `facts` in `mode`.
pub fn resolve(policy: &Policy, facts: &HostFacts, mode: Mode) -> Result<Resolved, ConfigError> {
    let mut out = Resolved { host: policy.host.clone(), ..Resolved::default() };
    let mut warnings = Vec::new();
    let skip = |e: ConfigError, warnings: &mut Vec<String>| -> Result<(), ConfigError> {
        if mode == Mode::Lenient {
            warnings.push(format!("skipped: {e}"));
            Ok(())
        } else {
            Err(e)
        }
    };

    // Networks: declared, or every bridge with an IPv4 subnet.
    let declared: Vec<Network> = if policy.networks.is_empty() {
        facts
            .bridges
            .iter()
            .filter(|(_, s)| !s.is_empty())
            .map(|(b, _)| Network {
                name: b.clone(),
                bridge: b.clone(),
                subnet: None,
                uplink: None,
                egress: Egress::Libvirt,
            })
            .collect()
    } else {
        policy.networks.clone()
    };
    for n in declared {
        match network(n, facts) {
            Ok(n) => out.networks.push(n),
            Err(e) => skip(e, &mut warnings)?,
        }
    }

    // 1:1 NATs first: their public addresses are kept out of forwards' default addresses.
    let mut nat_publics: BTreeMap<Ipv4Addr, String> = BTreeMap::new();
    let mut nat_guests: BTreeMap<Ipv4Addr, String> = BTreeMap::new();
    for n in &policy.nats {
        let r = one_to_one(n, facts, &out.networks, mode, &mut warnings).and_then(|pair| {
            let entry = n.label();
            if let Some(prev) = nat_publics.get(&pair.public) {
                return Err(entry_err(
                    entry,
                    format!("public address {} is already used by {prev}", pair.public),
                ));
            }
            if let Some(prev) = nat_guests.get(&pair.guest) {
                return Err(entry_err(entry, format!("guest {} already has a 1:1 NAT ({prev})", pair.guest)));
            }
            nat_publics.insert(pair.public, entry.clone());
            nat_guests.insert(pair.guest, entry);
            Ok(pair)
        });
        match r {
            Ok(pair) => out.nats.push(pair),
            Err(e) => skip(e, &mut warnings)?,
        }
    }

    // Which forward claimed each (address, protocol, port); labels are built only for errors.
    let mut claimed: HashMap<(Ipv4Addr, Proto, u16), usize> = HashMap::new();
    for (i, f) in policy.forwards.iter().enumerate() {
        let r = forward(f, facts, &out.networks, &nat_publics, mode, &mut warnings).and_then(|elems| {
            for e in &elems {
                if let Some(&prev) = claimed.get(&(e.public, e.proto, e.port)) {
                    if prev != i {
                        return Err(entry_err(
                            f.label(),
                            format!(
                                "{} {}:{} is already forwarded by {}",
                                e.proto,
                                e.public,
                                e.port,
                                policy.forwards[prev].label()
                            ),
                        ));
                    }
                }
            }
            for e in &elems {
                claimed.insert((e.public, e.proto, e.port), i);
            }
            Ok(elems)
        });
        match r {
            Ok(elems) => out.forwards.extend(elems),
            Err(e) => skip(e, &mut warnings)?,
        }
    }
    out.forwards.sort();
    out.forwards.dedup();
    out.nats.sort();
    out.warnings = warnings;
    Ok(out)
}

fn entry_err(entry: String, reason: String) -> ConfigError {
    ConfigError::Entry { entry, reason }
}

fn network(n: Network, facts: &HostFacts) -> Result<ResolvedNetwork, ConfigError> {
    let Network { name, bridge, subnet, uplink, egress } = n;
    let entry = format!("network `{name}`");
    let subnet = match subnet {
        Some(s) => s,
        None => {
            let Some(subnets) = facts.bridges.get(&bridge) else {
                let existing: Vec<&str> = facts.bridges.keys().map(String::as_str).collect();
                return Err(entry_err(
                    entry,
                    format!("no bridge named `{bridge}` (bridges: {})", list_or_none(&existing)),
                ));
            };
            match subnets.as_slice() {
                [s] => *s,
                [] => {
                    return Err(entry_err(
                        entry,
                        format!("bridge {bridge} has no IPv4 address; set `subnet` in the configuration"),
                    ));
                }
                many => {
                    let all: Vec<String> = many.iter().map(ToString::to_string).collect();
                    return Err(entry_err(
                        entry,
                        format!("bridge {bridge} has several subnets ({}); set `subnet`", all.join(", ")),
                    ));
                }
            }
        }
    };
    let uplink = uplink.or_else(|| facts.uplink.clone());
    if let Some(u) = &uplink {
        if !facts.interfaces.contains_key(u) {
            let existing: Vec<&str> = facts.interfaces.keys().map(String::as_str).collect();
            return Err(entry_err(
                entry,
                format!("no interface named `{u}` (interfaces: {})", existing.join(", ")),
            ));
        }
    }
    let uplink_addr = uplink
        .as_ref()
        .and_then(|u| facts.interfaces.get(u))
        .and_then(|addrs| addrs.iter().find(|a| !a.secondary).or(addrs.first()))
        .map(|a| a.net.addr());
    if matches!(egress, Egress::Masquerade | Egress::Snat) && uplink.is_none() {
        return Err(entry_err(
            entry,
            "egress NAT needs an uplink: there is no default route; set `uplink`".into(),
        ));
    }
    if egress == Egress::Snat && uplink_addr.is_none() {
        return Err(entry_err(
            entry,
            format!(
                "egress = \"snat\" needs an IPv4 address on {}",
                uplink.as_deref().unwrap_or("the uplink")
            ),
        ));
    }
    Ok(ResolvedNetwork { name, bridge, subnet, uplink, uplink_addr, egress })
}

fn network_of<'a>(
    nets: &'a [ResolvedNetwork],
    guest: Ipv4Addr,
    entry: &dyn Fn() -> String,
) -> Result<&'a ResolvedNetwork, ConfigError> {
    nets.iter().find(|n| n.subnet.contains(&guest)).ok_or_else(|| {
        let all: Vec<String> = nets.iter().map(|n| format!("{} {}", n.bridge, n.subnet)).collect();
        entry_err(
            entry(),
            format!("guest {guest} is outside every network's subnet ({})", list_or_none(&all)),
        )
    })
}

/// A public address must be the host's; without it the entry works only if the address comes later.
fn check_public(
    addr: Ipv4Addr,
    entry: &dyn Fn() -> String,
    facts: &HostFacts,
    mode: Mode,
    warnings: &mut Vec<String>,
) -> Result<(), ConfigError> {
    if facts.has_addr(addr) {
        return Ok(());
    }
    if mode == Mode::Strict {
        return Err(entry_err(entry(), format!("the host has no address {addr}")));
    }
    warnings.push(format!("{}: the host has no address {addr}", entry()));
    Ok(())
}

fn label(facts: &HostFacts, l: &str, entry: &dyn Fn() -> String) -> Result<Ipv4Addr, ConfigError> {
    facts.label(l).ok_or_else(|| {
        entry_err(entry(), format!("no address labelled `{l}` (labels: {})", list_or_none(&facts.labels())))
    })
}

fn one_to_one(
    n: &OneToOne,
    facts: &HostFacts,
    nets: &[ResolvedNetwork],
    mode: Mode,
    warnings: &mut Vec<String>,
) -> Result<NatPair, ConfigError> {
    let entry = || n.label();
    let public = match &n.public {
        Public::Addr(a) => *a,
        Public::Label(l) => label(facts, l, &entry)?,
    };
    check_public(public, &entry, facts, mode, warnings)?;
    network_of(nets, n.guest, &entry)?;
    Ok(NatPair { public, guest: n.guest })
}

fn forward(
    f: &Forward,
    facts: &HostFacts,
    nets: &[ResolvedNetwork],
    nat_publics: &BTreeMap<Ipv4Addr, String>,
    mode: Mode,
    warnings: &mut Vec<String>,
) -> Result<Vec<ForwardElem>, ConfigError> {
    // The entry's label, built only when there is something to report.
    let entry = || f.label();
    let net = network_of(nets, f.to, &entry)?;
    let publics: Vec<Ipv4Addr> = if f.on.is_empty() {
        let Some(uplink) = &net.uplink else {
            return Err(entry_err(entry(), "no default route to find the public addresses; set `on`".into()));
        };
        facts
            .interfaces
            .get(uplink)
            .into_iter()
            .flatten()
            .map(|a| a.net.addr())
            .filter(|a| !nat_publics.contains_key(a))
            .collect()
    } else {
        let mut v = Vec::new();
        for l in &f.on {
            match l {
                Listen::Addr(a) => {
                    check_public(*a, &entry, facts, mode, warnings)?;
                    v.push(*a);
                }
                Listen::Label(lb) => v.push(label(facts, lb, &entry)?),
                Listen::Interface(i) => {
                    let addrs = facts.interfaces.get(i).ok_or_else(|| {
                        let existing: Vec<&str> = facts.interfaces.keys().map(String::as_str).collect();
                        entry_err(
                            entry(),
                            format!("no interface named `{i}` (interfaces: {})", existing.join(", ")),
                        )
                    })?;
                    v.extend(addrs.iter().map(|a| a.net.addr()));
                }
            }
        }
        if let Some((a, n)) = v.iter().find_map(|a| nat_publics.get(a).map(|n| (a, n))) {
            return Err(entry_err(
                entry(),
                format!("{a} is the public address of {n} (1:1 NAT takes every port)"),
            ));
        }
        v
    };
    if publics.is_empty() {
        return Err(entry_err(entry(), "no public address to listen on".into()));
    }
    Ok(publics
        .into_iter()
        .flat_map(|public| {
            f.mappings().map(move |(proto, port, guest_port)| ForwardElem {
                public,
                proto,
                port,
                guest: f.to,
                guest_port,
            })
        })
        .collect())
}

fn list_or_none<S: AsRef<str>>(items: &[S]) -> String {
    if items.is_empty() {
        "none".into()
    } else {
        items.iter().map(AsRef::as_ref).collect::<Vec<_>>().join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The article's host: virbr0 192.168.122.1/24; eth0 .201 + .211 (eth0:0) + .212 (eth0:1).
    pub(crate) fn article_host() -> HostFacts {
        let addr = |a: &str, label: &str, secondary| HostAddr {
            net: a.parse().unwrap(),
            label: Some(label.to_string()),
            secondary,
        };
        let mut f = HostFacts::default();
        f.interfaces.insert(
            "eth0".into(),
            vec![
                addr("192.168.1.201/24", "eth0", false),
                addr("192.168.1.211/24", "eth0:0", true),
                addr("192.168.1.212/24", "eth0:1", true),
            ],
        );
        f.interfaces.insert("virbr0".into(), vec![addr("192.168.122.1/24", "virbr0", false)]);
        f.interfaces.insert("lo".into(), vec![addr("127.0.0.1/8", "lo", false)]);
        f.bridges.insert("virbr0".into(), vec!["192.168.122.0/24".parse().unwrap()]);
        f.uplink = Some("eth0".into());
        f
    }

    fn resolve_text(text: &str) -> Result<Resolved, ConfigError> {
        resolve(&Policy::parse(text).unwrap(), &article_host(), Mode::Normal)
    }

    #[test]
    fn forwards_default_to_the_uplinks_addresses_except_1to1_ones() {
        let r = resolve_text(
            "[[forward]]\nport = 8080\nto = \"192.168.122.42:80\"\n[[nat]]\npublic = \"eth0:0\"\nguest = \"192.168.122.41\"\n",
        )
        .unwrap();
        let publics: Vec<String> = r.forwards.iter().map(|f| f.public.to_string()).collect();
        assert_eq!(publics, ["192.168.1.201", "192.168.1.212"]);
        assert_eq!(
            r.nats,
            vec![NatPair {
                public: "192.168.1.211".parse().unwrap(),
                guest: "192.168.122.41".parse().unwrap()
            }]
        );
        assert_eq!(r.networks[0].subnet.to_string(), "192.168.122.0/24");
        assert_eq!(r.networks[0].uplink_addr, Some("192.168.1.201".parse().unwrap()));
    }

    #[test]
    fn host_dependent_errors_name_the_entry() {
        let e = resolve_text("[[forward]]\nport = 80\nto = \"10.1.1.1\"\n").unwrap_err().to_string();
        assert!(
            e.contains("forward #1") && e.contains("outside every network") && e.contains("192.168.122.0/24"),
            "{e}"
        );
        let e = resolve_text("[[nat]]\npublic = \"eth0:7\"\nguest = \"192.168.122.41\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("eth0:7") && e.contains("eth0:0, eth0:1"), "{e}");
        let e = resolve_text("[[network]]\nbridge = \"virbr9\"\n").unwrap_err().to_string();
        assert!(e.contains("virbr9") && e.contains("bridges: virbr0"), "{e}");
        let e = resolve_text(
            "[[forward]]\nport = 80\nto = \"192.168.122.41\"\n[[forward]]\nport = [79, 80]\nto = \"192.168.122.42\"\n",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("forward #2") && e.contains("already forwarded by forward #1"), "{e}");
        let e = resolve_text(
            "[[nat]]\npublic = \"192.168.1.211\"\nguest = \"192.168.122.41\"\n[[forward]]\nport = 80\nto = \"192.168.122.42\"\non = \"eth0:0\"\n",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("1:1 NAT"), "{e}");
    }

    #[test]
    fn a_public_address_the_host_lacks_warns_or_fails_when_strict() {
        let text = "[[forward]]\nport = 80\nto = \"192.168.122.41\"\non = \"192.168.1.99\"\n";
        let r = resolve_text(text).unwrap();
        assert_eq!(r.warnings.len(), 1);
        assert!(r.warnings[0].contains("192.168.1.99"));
        let e = resolve(&Policy::parse(text).unwrap(), &article_host(), Mode::Strict).unwrap_err();
        assert!(e.to_string().contains("no address 192.168.1.99"));
    }

    #[test]
    fn lenient_mode_skips_what_the_host_lacks_and_keeps_the_rest() {
        let text = "[[nat]]\npublic = \"eth0:7\"\nguest = \"192.168.122.41\"\n[[nat]]\npublic = \"eth0:1\"\nguest = \"192.168.122.42\"\n";
        let r = resolve(&Policy::parse(text).unwrap(), &article_host(), Mode::Lenient).unwrap();
        assert_eq!(r.nats.len(), 1);
        assert!(r.warnings[0].contains("eth0:7"), "{:?}", r.warnings);
    }
}

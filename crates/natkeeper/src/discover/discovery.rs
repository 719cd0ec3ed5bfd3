//! [`Discovery`]: the whole snapshot — bridges, uplink, interfaces, sysctls, firewall — and the
//! lookups a configuration's names go through.

use natkeeper_nft::{Family, Ruleset, Socket};
use natkeeper_rtnl::{Rtnl, Snapshot};
use serde::Serialize;

use super::error::DiscoverError;
use super::landscape::Landscape;
use super::legacy::LegacyTables;
use super::libvirt::{self, LibvirtNetwork};
use super::network::{self, Bridge, HostAddress, Interface, Uplink};
use super::sysctls::Sysctls;

/// What natkeeper knows about the host before it plans anything.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Discovery {
    /// Every bridge, with its subnets and ports.
    pub bridges: Vec<Bridge>,
    /// The IPv4 default route's interface and its addresses; `None` without a default route.
    pub uplink: Option<Uplink>,
    /// Every interface with its addresses.
    pub interfaces: Vec<Interface>,
    /// `ip_forward`, `bridge-nf-call-iptables`, the uplink's `route_localnet`.
    pub sysctls: Sysctls,
    /// Who else writes firewall rules, and what stops a DNAT'ed connection.
    pub firewall: Landscape,
}

impl Discovery {
    /// Reads everything in the calling thread's network namespace: links, addresses and routes over
    /// rtnetlink, the ruleset of all families over nf_tables, the sysctls, libvirt's network files
    /// ([`LibvirtNetwork::read`]) and the iptables-legacy tables in use.
    pub fn read() -> Result<Discovery, DiscoverError> {
        let snapshot = Rtnl::open()?.snapshot()?;
        let ruleset = Ruleset::read(&mut Socket::open()?, Family::Unspec)?;
        let uplink = snapshot.uplink(natkeeper_rtnl::Family::Ipv4).map(|l| l.name.clone());
        let sysctls = Sysctls::read(uplink.as_deref())?;
        let networks = LibvirtNetwork::read()?;
        let legacy = LegacyTables::read()?;
        Ok(Discovery::from_parts(&snapshot, &ruleset, sysctls, &networks, legacy))
    }

    /// Builds the discovery from what was read (no kernel, no file): for tests and for callers that
    /// already hold a snapshot and a ruleset.
    pub fn from_parts(
        snapshot: &Snapshot,
        ruleset: &Ruleset,
        sysctls: Sysctls,
        libvirt_networks: &[LibvirtNetwork],
        legacy: LegacyTables,
    ) -> Discovery {
        let rule_bridges = libvirt::bridges_in_rules(ruleset, snapshot);
        Discovery {
            bridges: network::bridges(snapshot, |b| libvirt::evidence(b, libvirt_networks, &rule_bridges)),
            uplink: network::uplink(snapshot),
            interfaces: network::interfaces(snapshot),
            sysctls,
            firewall: Landscape::from_ruleset(ruleset, legacy),
        }
    }

    /// The bridge named `name`. Errors: [`DiscoverError::NotABridge`] when the interface is something
    /// else, [`DiscoverError::NoSuchBridge`] (listing bridges and interfaces) when it does not exist.
    pub fn bridge(&self, name: &str) -> Result<&Bridge, DiscoverError> {
        if let Some(b) = self.bridges.iter().find(|b| b.name == name) {
            return Ok(b);
        }
        match self.interfaces.iter().find(|i| i.name == name) {
            Some(i) => Err(DiscoverError::NotABridge {
                name: name.to_string(),
                kind: i.kind.as_ref().map_or_else(|| "device".to_string(), |k| k.to_string()),
                bridges: self.bridge_names(),
            }),
            None => Err(DiscoverError::NoSuchBridge {
                name: name.to_string(),
                bridges: self.bridge_names(),
                interfaces: self.interface_names(),
            }),
        }
    }

    /// The IPv4 address labelled `label` (`eth0:0` → 192.168.1.211/24). An interface's name labels its
    /// unlabelled addresses; where several share a label, the primary one is returned.
    /// [`DiscoverError::NoSuchLabel`] lists the labels that exist.
    pub fn resolve_label(&self, label: &str) -> Result<&HostAddress, DiscoverError> {
        let labelled = || {
            self.interfaces
                .iter()
                .flat_map(|i| i.addresses.iter())
                .filter(|a| a.address.addr().is_ipv4() && a.label.as_deref() == Some(label))
        };
        labelled().find(|a| !a.secondary).or_else(|| labelled().next()).ok_or_else(|| {
            let mut labels: Vec<String> = self
                .interfaces
                .iter()
                .flat_map(|i| i.addresses.iter())
                .filter_map(|a| a.label.clone())
                .collect();
            labels.sort();
            labels.dedup();
            DiscoverError::NoSuchLabel { label: label.to_string(), labels }
        })
    }

    /// The interface named `name`; [`DiscoverError::NoSuchInterface`] lists those that exist.
    pub fn interface(&self, name: &str) -> Result<&Interface, DiscoverError> {
        self.interfaces.iter().find(|i| i.name == name).ok_or_else(|| DiscoverError::NoSuchInterface {
            name: name.to_string(),
            interfaces: self.interface_names(),
        })
    }

    /// The addresses on interface `name` (IPv4 first, primary before secondary);
    /// [`DiscoverError::NoSuchInterface`] lists the interfaces that exist.
    pub fn interface_addresses(&self, name: &str) -> Result<&[HostAddress], DiscoverError> {
        Ok(&self.interface(name)?.addresses)
    }

    fn bridge_names(&self) -> Vec<String> {
        sorted(self.bridges.iter().map(|b| b.name.clone()))
    }

    fn interface_names(&self) -> Vec<String> {
        sorted(self.interfaces.iter().map(|i| i.name.clone()))
    }
}

fn sorted(names: impl Iterator<Item = String>) -> Vec<String> {
    let mut v: Vec<String> = names.collect();
    v.sort();
    v
}

#[cfg(test)]
mod tests {
    use natkeeper_rtnl::{HwAddr, LinkKind, Scope};

    use super::super::fixture;
    use super::super::libvirt::LibvirtEvidence;
    use super::super::network::Port;
    use super::super::walk::HolePlace;
    use super::*;

    fn lab(networks: &[LibvirtNetwork]) -> Discovery {
        Discovery::from_parts(
            &fixture::lab(),
            &fixture::libvirt_iptables(),
            fixture::sysctls(),
            networks,
            LegacyTables::default(),
        )
    }

    fn host(net: &str, label: Option<&str>, secondary: bool) -> HostAddress {
        HostAddress {
            address: net.parse().unwrap(),
            label: label.map(str::to_string),
            secondary,
            scope: if net.starts_with("fe80") { Scope::Link } else { Scope::Universe },
        }
    }

    #[test]
    fn the_lab_with_libvirts_iptables_rules() {
        let d = lab(&[]);
        let port = |name: &str, last: u8| Port {
            name: name.into(),
            kind: Some(LinkKind::Tap),
            mac: Some(HwAddr(vec![0xfe, 0x54, 0, 0, 0, last])),
            up: true,
        };
        assert_eq!(
            d.bridges,
            [Bridge {
                name: "virbr0".into(),
                index: 2,
                mac: Some(HwAddr(fixture::VIRBR0_MAC.to_vec())),
                up: true,
                ipv4: vec!["192.168.122.0/24".parse().unwrap()],
                ipv6: vec![],
                addresses: vec![host("192.168.122.1/24", Some("virbr0"), false)],
                ports: vec![port("vnet0", 0x41), port("vnet1", 0x42)],
                libvirt: true,
                libvirt_evidence: vec![LibvirtEvidence::FirewallRules],
            }]
        );
        assert_eq!(
            d.uplink,
            Some(Uplink {
                name: "eth0".into(),
                index: 3,
                gateway: Some("192.168.1.1".parse().unwrap()),
                addresses: vec![
                    host("192.168.1.201/24", Some("eth0"), false),
                    host("192.168.1.211/24", Some("eth0:0"), true),
                    host("192.168.1.212/24", Some("eth0:1"), true),
                    host("fe80::3/64", None, false),
                ],
            })
        );
        assert_eq!(
            d.uplink.as_ref().and_then(Uplink::primary_ipv4).map(|a| a.addr().to_string()).as_deref(),
            Some("192.168.1.201")
        );
        let names: Vec<&str> = d.interfaces.iter().map(|i| i.name.as_str()).collect();
        assert_eq!(names, ["lo", "virbr0", "eth0", "vnet0", "vnet1"]);
        assert_eq!(d.interface("vnet1").unwrap().bridge.as_deref(), Some("virbr0"));
        let hole = d.firewall.hole(HolePlace::IptablesForward).unwrap();
        assert_eq!(hole.before.map(|r| (r.position, r.handle)), Some((2, Some(11))));
    }

    #[test]
    fn libvirt_network_files_count_only_with_the_bridges_mac() {
        let net = |mac: Option<&str>, active| LibvirtNetwork {
            name: "default".into(),
            bridge: "virbr0".into(),
            mac: mac.map(str::to_string),
            active,
        };
        let snap = fixture::lab();
        let no_rules = fixture::no_rules();
        let evidence = |nets: &[LibvirtNetwork]| {
            let d =
                Discovery::from_parts(&snap, &no_rules, fixture::sysctls(), nets, LegacyTables::default());
            (d.bridges[0].libvirt, d.bridges[0].libvirt_evidence.clone())
        };
        assert_eq!(evidence(&[]), (false, vec![]));
        assert_eq!(
            evidence(&[net(Some("52:54:00:3E:08:2C"), true), net(None, false)]),
            (
                true,
                vec![
                    LibvirtEvidence::ActiveNetwork { network: "default".into() },
                    LibvirtEvidence::DefinedNetwork { network: "default".into() }
                ]
            )
        );
        // Another namespace's virbr0 (another MAC) is not this one.
        assert_eq!(evidence(&[net(Some("52:54:00:00:00:01"), true)]), (false, vec![]));
    }

    #[test]
    fn names_resolve_or_the_error_lists_what_exists() {
        let d = lab(&[]);
        assert_eq!(d.resolve_label("eth0:0").unwrap().addr().to_string(), "192.168.1.211");
        assert_eq!(d.resolve_label("eth0:1").unwrap().addr().to_string(), "192.168.1.212");
        assert_eq!(d.resolve_label("eth0").unwrap().addr().to_string(), "192.168.1.201");
        assert_eq!(d.bridge("virbr0").unwrap().index, 2);
        assert_eq!(d.interface_addresses("eth0").unwrap().len(), 4);

        let err = d.resolve_label("eth0:7").unwrap_err();
        assert!(matches!(&err, DiscoverError::NoSuchLabel { label, .. } if label == "eth0:7"));
        assert_eq!(
            err.to_string(),
            r#"no address labelled "eth0:7"; labels: eth0, eth0:0, eth0:1, lo, virbr0"#
        );
        let err = d.bridge("virbr9").unwrap_err();
        assert_eq!(
            err.to_string(),
            r#"no bridge named "virbr9"; bridges: virbr0; interfaces: eth0, lo, virbr0, vnet0, vnet1"#
        );
        let err = d.bridge("eth0").unwrap_err();
        assert_eq!(err.to_string(), r#""eth0" is not a bridge (it is a veth interface); bridges: virbr0"#);
        let err = d.bridge("lo").unwrap_err();
        assert_eq!(err.to_string(), r#""lo" is not a bridge (it is a device interface); bridges: virbr0"#);
        let err = d.interface_addresses("eth9").unwrap_err();
        assert_eq!(
            err.to_string(),
            r#"no interface named "eth9"; interfaces: eth0, lo, virbr0, vnet0, vnet1"#
        );
    }

    #[test]
    fn json_is_the_typed_snapshot_in_nft_and_ip_spelling() {
        let d = lab(&[]);
        let v = serde_json::to_value(&d).unwrap();
        assert_eq!(
            v["bridges"][0],
            serde_json::json!({
                "name": "virbr0", "index": 2, "mac": "52:54:00:3e:08:2c", "up": true,
                "ipv4": ["192.168.122.0/24"], "ipv6": [],
                "addresses": [{"address": "192.168.122.1/24", "label": "virbr0", "secondary": false, "scope": "global"}],
                "ports": [
                    {"name": "vnet0", "kind": "tap", "mac": "fe:54:00:00:00:41", "up": true},
                    {"name": "vnet1", "kind": "tap", "mac": "fe:54:00:00:00:42", "up": true}
                ],
                "libvirt": true, "libvirt_evidence": ["firewall_rules"]
            })
        );
        assert_eq!(v["uplink"]["gateway"], "192.168.1.1");
        assert_eq!(
            v["uplink"]["addresses"][1],
            serde_json::json!({"address": "192.168.1.211/24", "label": "eth0:0", "secondary": true, "scope": "global"})
        );
        assert_eq!(
            v["sysctls"],
            serde_json::json!({
                "ip_forward": 1, "bridge_nf_call_iptables": 1,
                "route_localnet": {"interface": "eth0", "value": 0}
            })
        );
        assert_eq!(v["firewall"]["libvirt"], "iptables");
        assert_eq!(
            v["firewall"]["forward"][0],
            serde_json::json!({
                "family": "ip", "table": "filter", "chain": "FORWARD", "hook": "forward", "priority": 0, "policy": "accept",
                "blocker": [
                    {"chain": "FORWARD", "position": 2, "handle": 11, "map": null, "action": {"jump": "LIBVIRT_FWI"}},
                    {"chain": "LIBVIRT_FWI", "position": 2, "handle": 15, "map": null, "action": {"target": "REJECT"}}
                ],
                "accepted": null, "policy_drops": false
            })
        );
        assert_eq!(
            v["firewall"]["holes"],
            serde_json::json!([{
                "place": "iptables_forward",
                "chain": {"family": "ip", "table": "filter", "chain": "FORWARD"},
                "before": {"position": 2, "handle": 11},
                "blocked_by": {"family": "ip", "table": "filter", "chain": "FORWARD"},
                "present": [], "below": []
            }])
        );
        let mut absent = fixture::sysctls();
        absent.bridge_nf_call_iptables = natkeeper_rtnl::SysctlValue::Absent;
        let v = serde_json::to_value(&absent).unwrap();
        assert_eq!(v["bridge_nf_call_iptables"], serde_json::Value::Null);
    }
}

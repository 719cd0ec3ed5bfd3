//! The human view of a [`Discovery`] (`natkeeper discover`): one section per concern, names as `ip`
//! and `nft` print them.

use std::fmt;

use natkeeper_rtnl::{Sysctl, SysctlValue};

use super::discovery::Discovery;
use super::landscape::{Landscape, LibvirtBackend};
use super::libvirt::LibvirtEvidence;
use super::network::HostAddress;
use super::walk::{ForwardChain, HoleNeeded, HolePlace};

impl fmt::Display for Discovery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "bridges")?;
        if self.bridges.is_empty() {
            writeln!(f, "  none")?;
        }
        for b in &self.bridges {
            let mut subnets: Vec<String> = b.ipv4.iter().map(|n| n.to_string()).collect();
            subnets.extend(b.ipv6.iter().map(|n| n.to_string()));
            let subnets = if subnets.is_empty() { "no subnet".to_string() } else { subnets.join(" ") };
            write!(f, "  {}  {}  {}", b.name, if b.up { "up" } else { "down" }, subnets)?;
            if b.libvirt {
                let why: Vec<String> = b.libvirt_evidence.iter().map(evidence).collect();
                write!(f, "  libvirt ({})", why.join(", "))?;
            }
            writeln!(f)?;
            let ports: Vec<String> = b
                .ports
                .iter()
                .map(|p| {
                    let kind = p.kind.as_ref().map_or_else(|| "device".to_string(), |k| k.to_string());
                    format!("{} ({kind}{})", p.name, if p.up { "" } else { ", down" })
                })
                .collect();
            writeln!(
                f,
                "    ports: {}",
                if ports.is_empty() { "none".to_string() } else { ports.join(", ") }
            )?;
        }

        match &self.uplink {
            Some(u) => {
                write!(f, "uplink {}", u.name)?;
                if let Some(gw) = u.gateway {
                    write!(f, " via {gw}")?;
                }
                writeln!(f)?;
                addresses(f, &u.addresses)?;
            }
            None => writeln!(f, "uplink: none (no IPv4 default route)")?,
        }
        let names: Vec<&str> = self.interfaces.iter().map(|i| i.name.as_str()).collect();
        writeln!(f, "interfaces: {}", names.join(", "))?;

        writeln!(f, "sysctls")?;
        sysctl(f, &Sysctl::IpForward, self.sysctls.ip_forward)?;
        sysctl(f, &Sysctl::BridgeNfCallIptables, self.sysctls.bridge_nf_call_iptables)?;
        if let Some(r) = &self.sysctls.route_localnet {
            sysctl(f, &Sysctl::RouteLocalnet(r.interface.clone()), r.value)?;
        }
        write!(f, "{}", self.firewall)
    }
}

impl fmt::Display for Landscape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "firewall (nf_tables generation {})", self.generation)?;
        writeln!(f, "  tables: {}", list(self.tables.iter()))?;
        let libvirt = match self.libvirt {
            LibvirtBackend::None => "none",
            LibvirtBackend::Iptables => "iptables backend (LIBVIRT_* chains in ip filter)",
            LibvirtBackend::Nftables => "nftables backend (table ip libvirt_network)",
            LibvirtBackend::Both => "both backends (LIBVIRT_* chains and table libvirt_network)",
        };
        writeln!(f, "  libvirt: {libvirt}")?;
        match &self.docker {
            None => writeln!(f, "  docker: none")?,
            Some(d) => {
                let mut what: Vec<String> = d.chains.iter().map(|c| c.to_string()).collect();
                what.extend(d.tables.iter().map(|t| format!("table {t}")));
                let policy = if d.forward_policy_drop { "; FORWARD policy drop" } else { "" };
                writeln!(f, "  docker: {}{policy}", what.join(", "))?;
            }
        }
        writeln!(f, "  firewalld: {}", if self.firewalld { "yes (table firewalld)" } else { "no" })?;
        let mut legacy: Vec<String> = self.legacy.ipv4.iter().map(|t| format!("ip {t}")).collect();
        legacy.extend(self.legacy.ipv6.iter().map(|t| format!("ip6 {t}")));
        writeln!(
            f,
            "  iptables-legacy: {}",
            if legacy.is_empty() {
                "none".to_string()
            } else {
                format!("{} (invisible to netlink)", legacy.join(", "))
            }
        )?;
        writeln!(f, "  natkeeper table: {}", if self.natkeeper { "present" } else { "absent" })?;
        writeln!(f, "  drop policies: {}", list(self.drop_policies.iter()))?;
        writeln!(f, "  forward hook, for a DNAT'ed connection to a guest:")?;
        if self.forward.is_empty() {
            writeln!(f, "    no forward base chain: passes")?;
        }
        for fc in &self.forward {
            forward_chain(f, fc)?;
        }
        writeln!(f, "  holes needed:")?;
        if self.holes.is_empty() {
            writeln!(f, "    none")?;
        }
        for h in &self.holes {
            hole(f, h)?;
        }
        Ok(())
    }
}

fn evidence(e: &LibvirtEvidence) -> String {
    match e {
        LibvirtEvidence::ActiveNetwork { network } => format!("active network {network:?}"),
        LibvirtEvidence::DefinedNetwork { network } => format!("defined network {network:?}"),
        LibvirtEvidence::FirewallRules => "its firewall rules".to_string(),
    }
}

fn addresses(f: &mut fmt::Formatter<'_>, addrs: &[HostAddress]) -> fmt::Result {
    for a in addrs {
        let label = a.label.as_deref().unwrap_or("-");
        let rank = match (a.address.addr().is_ipv4(), a.secondary) {
            (true, false) => "primary",
            (true, true) => "secondary",
            (false, _) => "",
        };
        writeln!(f, "  {:<20} {:<10} {:<9} scope {}", a.address.to_string(), label, rank, a.scope)?;
    }
    Ok(())
}

fn sysctl(f: &mut fmt::Formatter<'_>, key: &Sysctl, value: SysctlValue) -> fmt::Result {
    writeln!(f, "  {key} = {value}")
}

fn forward_chain(f: &mut fmt::Formatter<'_>, fc: &ForwardChain) -> fmt::Result {
    write!(f, "    {}: ", fc.base)?;
    match (&fc.blocker, &fc.accepted, fc.policy_drops) {
        (Some(t), _, _) => write!(f, "BLOCKS at {t}")?,
        (None, _, true) => write!(f, "BLOCKS by policy drop")?,
        (None, Some(t), false) => write!(f, "accepts at {t}")?,
        (None, None, false) => write!(f, "passes")?,
    }
    if fc.blocker.is_some() && fc.policy_drops {
        write!(f, "; then policy drop")?;
    }
    writeln!(f)
}

fn hole(f: &mut fmt::Formatter<'_>, h: &HoleNeeded) -> fmt::Result {
    let place = match h.place {
        HolePlace::IptablesForward => "iptables-nft",
        HolePlace::LibvirtGuestInput => "libvirt nftables backend",
        HolePlace::Foreign => "foreign chain: natkeeper places no hole here",
    };
    write!(f, "    {} ", h.chain)?;
    match h.before {
        Some(r) => write!(f, "before {r}")?,
        None => write!(f, "anywhere (policy drop)")?,
    }
    write!(f, " [{place}]")?;
    if h.place != HolePlace::Foreign {
        if h.present.is_empty() {
            write!(f, "; natkeeper's hole: absent")?;
        } else {
            write!(f, "; natkeeper's hole: at {}", list(h.present.iter()))?;
        }
    }
    writeln!(f)
}

fn list<T: fmt::Display>(items: impl Iterator<Item = T>) -> String {
    let items: Vec<String> = items.map(|i| i.to_string()).collect();
    if items.is_empty() { "none".to_string() } else { items.join(", ") }
}

#[cfg(test)]
mod tests {
    use super::super::fixture;
    use super::super::legacy::LegacyTables;
    use super::*;

    #[test]
    fn the_labs_view() {
        let d = Discovery::from_parts(
            &fixture::lab(),
            &fixture::libvirt_iptables(),
            fixture::sysctls(),
            &[],
            LegacyTables { ipv4: vec!["filter".into()], ipv6: vec![] },
        );
        let expected = "\
bridges
  virbr0  up  192.168.122.0/24  libvirt (its firewall rules)
    ports: vnet0 (tap), vnet1 (tap)
uplink eth0 via 192.168.1.1
  192.168.1.201/24     eth0       primary   scope global
  192.168.1.211/24     eth0:0     secondary scope global
  192.168.1.212/24     eth0:1     secondary scope global
  fe80::3/64           -                    scope link
interfaces: lo, virbr0, eth0, vnet0, vnet1
sysctls
  net.ipv4.ip_forward = 1
  net.bridge.bridge-nf-call-iptables = 1
  net.ipv4.conf.eth0.route_localnet = 0
firewall (nf_tables generation 7)
  tables: ip filter
  libvirt: iptables backend (LIBVIRT_* chains in ip filter)
  docker: none
  firewalld: no
  iptables-legacy: ip filter (invisible to netlink)
  natkeeper table: absent
  drop policies: none
  forward hook, for a DNAT'ed connection to a guest:
    ip filter FORWARD (hook forward, priority 0, policy accept): BLOCKS at FORWARD #2 (handle 11): jump LIBVIRT_FWI → LIBVIRT_FWI #2 (handle 15): -j REJECT
  holes needed:
    ip filter FORWARD before #2 (handle 11) [iptables-nft]; natkeeper's hole: absent
";
        assert_eq!(d.to_string(), expected);
    }
}

//! `natkeeper doctor`: what in a [`Discovery`] would stop forwarded connections to the guests, or
//! undo natkeeper's work later — each finding with what, why, and how to fix it.

use std::fmt;

use natkeeper_rtnl::SysctlValue;
use serde::Serialize;

use super::discovery::Discovery;
use super::landscape::LibvirtBackend;
use super::walk::{ForwardChain, HoleNeeded, HolePlace};

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Forwarded connections will fail, and `natkeeper apply` cannot fix it.
    Error,
    /// Forwarded connections fail (or will break later) until natkeeper or the administrator acts.
    Warning,
    /// Worth knowing; nothing is broken by it.
    Info,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        })
    }
}

/// What a finding is about (stable names an agent can match on).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FindingKind {
    /// `net.ipv4.ip_forward` is not 1.
    IpForwardOff,
    /// No IPv4 default route.
    NoDefaultRoute,
    /// No bridge at all.
    NoBridge,
    /// A bridge without an IPv4 address.
    BridgeWithoutIpv4,
    /// A chain natkeeper puts holes in drops by policy, with no hole of natkeeper's ahead.
    ForwardPolicyDrop,
    /// A chain natkeeper puts holes in rejects or drops, with no hole of natkeeper's ahead.
    ForwardRejected,
    /// natkeeper's hole is below a rule that rejects (someone inserted rules above it).
    HoleBelowBlocker,
    /// A chain natkeeper does not put holes in rejects or drops DNAT'ed connections.
    ForeignBlock,
    /// iptables-legacy tables are in use.
    LegacyIptables,
    /// `net.bridge.bridge-nf-call-iptables` is 1.
    BridgeNfCallIptables,
    /// firewalld's table exists.
    Firewalld,
    /// libvirt uses its nftables backend.
    LibvirtNftables,
    /// Docker's rules are present.
    Docker,
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// How bad.
    pub severity: Severity,
    /// About what.
    pub kind: FindingKind,
    /// What was found.
    pub what: String,
    /// Why it matters.
    pub why: String,
    /// How to fix it.
    pub fix: String,
}

impl fmt::Display for Finding {
    /// `warning: …` then indented `why:` and `fix:` lines.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}: {}", self.severity, self.what)?;
        writeln!(f, "  why: {}", self.why)?;
        write!(f, "  fix: {}", self.fix)
    }
}

impl Finding {
    fn new(severity: Severity, kind: FindingKind, what: String, why: &str, fix: &str) -> Finding {
        Finding { severity, kind, what, why: why.to_string(), fix: fix.to_string() }
    }
}

/// The findings for `d`, errors first, then warnings, then information.
pub fn doctor(d: &Discovery) -> Vec<Finding> {
    use FindingKind as K;
    use Severity::{Info, Warning};
    let mut out = Vec::new();
    let fw = &d.firewall;

    if d.sysctls.ip_forward != SysctlValue::Int(1) {
        out.push(Finding::new(
            Warning,
            K::IpForwardOff,
            format!("net.ipv4.ip_forward is {}", d.sysctls.ip_forward),
            "the host does not route between interfaces, so no forwarded or NAT'ed connection reaches a guest",
            "`natkeeper apply` turns it on when a forward or 1:1 NAT needs it; to keep it across reboots, \
             put net.ipv4.ip_forward = 1 in /etc/sysctl.d/",
        ));
    }
    if d.uplink.is_none() {
        out.push(Finding::new(
            Warning,
            K::NoDefaultRoute,
            "no IPv4 default route".to_string(),
            "natkeeper takes the uplink from the default route: egress SNAT and forwards without `on` have \
             no public address to use",
            "add a default route, or name the interface with `uplink = \"eth0\"` in [[network]]",
        ));
    }
    if d.bridges.is_empty() {
        out.push(Finding::new(
            Warning,
            K::NoBridge,
            "no bridge on this host".to_string(),
            "guests sit on a bridge (libvirt's virbr0); without one there is nothing to forward to",
            "start the libvirt network (`virsh net-start default`)",
        ));
    }
    for b in d.bridges.iter().filter(|b| b.ipv4.is_empty()) {
        out.push(Finding::new(
            Warning,
            K::BridgeWithoutIpv4,
            format!("bridge {} has no IPv4 address", b.name),
            "natkeeper discovers a network's subnet from its bridge's address, and guests need it as their gateway",
            "start the libvirt network, or set `subnet = \"…\"` in its [[network]]",
        ));
    }

    for h in &fw.holes {
        let chain = fw.forward.iter().find(|fc| fc.base.chain == h.blocked_by);
        out.extend(hole_finding(h, chain));
    }

    if fw.legacy.any() {
        let mut tables: Vec<String> = fw.legacy.ipv4.iter().map(|t| format!("ip {t}")).collect();
        tables.extend(fw.legacy.ipv6.iter().map(|t| format!("ip6 {t}")));
        out.push(Finding::new(
            Warning,
            K::LegacyIptables,
            format!("iptables-legacy tables in use: {}", tables.join(", ")),
            "rules made with iptables-legacy live in x_tables, which nf_tables netlink cannot see: natkeeper can \
             neither check them nor put holes in them, and a REJECT or DROP there still stops forwarded connections",
            "move the rules to iptables-nft (`iptables-legacy-save | iptables-nft-restore`, then flush the legacy \
             tables), or check by hand with `iptables-legacy -S` that nothing there drops the forwarded traffic",
        ));
    }
    if d.sysctls.bridge_nf_call_iptables.is_on() {
        // A policy drop (Docker's) cuts guest-to-guest traffic; libvirt's own rejects do not (its
        // bridge-internal accept comes first).
        let policy_drop = fw.forward.iter().any(|fc| fc.policy_drops);
        out.push(Finding::new(
            if policy_drop { Warning } else { Info },
            K::BridgeNfCallIptables,
            "net.bridge.bridge-nf-call-iptables is 1".to_string(),
            "traffic between guests on the same bridge then passes the forward hook (iptables' FORWARD \
             included): a forward policy drop or reject also cuts guest-to-guest traffic",
            "libvirt's rules accept bridge-internal traffic (LIBVIRT_FWX, guest_cross); with other drops, accept \
             `-i virbr0 -o virbr0` or set net.bridge.bridge-nf-call-iptables = 0",
        ));
    }
    if fw.firewalld {
        out.push(Finding::new(
            Warning,
            K::Firewalld,
            "firewalld is active (table firewalld)".to_string(),
            "firewalld rewrites the ruleset on every reload, and libvirt then re-adds its rules at the head of its \
             chains, above natkeeper's holes",
            "run `natkeeper watch` so the holes are put back after each reload; forwarded ports also need \
             firewalld to let DNAT'ed traffic through (it does by default: `ct status dnat accept`)",
        ));
    }
    if matches!(fw.libvirt, LibvirtBackend::Nftables | LibvirtBackend::Both) {
        out.push(Finding::new(
            Info,
            K::LibvirtNftables,
            "libvirt uses its nftables backend (table ip libvirt_network)".to_string(),
            "its guest_input chain rejects every new connection towards the guests, and no accept in another \
             table can override a reject; libvirt re-inserts its rules at the chain's head on every daemon restart \
             and net-start, burying a hole below its reject",
            "natkeeper puts its hole at the head of guest_input; run `natkeeper watch` to put it back after libvirt \
             restarts",
        ));
    }
    if let Some(docker) = &fw.docker {
        let what: Vec<String> = docker
            .chains
            .iter()
            .map(|c| c.chain.clone())
            .chain(docker.tables.iter().map(|t| format!("table {t}")))
            .collect();
        out.push(Finding::new(
            Info,
            K::Docker,
            format!("Docker's rules are present: {}", what.join(", ")),
            "Docker sets FORWARD's policy to drop and rewrites its chains when it restarts",
            "natkeeper's holes accept its connections in both directions ahead of Docker's rules; run \
             `natkeeper watch` so they are put back after Docker restarts",
        ));
    }
    out.sort_by_key(|f| f.severity);
    out
}

/// The finding for a chain that needs a hole: none when natkeeper's hole is there and ahead of the
/// blocking rule.
fn hole_finding(h: &HoleNeeded, chain: Option<&ForwardChain>) -> Option<Finding> {
    use FindingKind as K;
    let blocker = chain.and_then(|c| c.blocker.as_ref());
    let policy_drops = chain.is_some_and(|c| c.policy_drops);
    let mut what = match (blocker, policy_drops) {
        (Some(t), true) => {
            format!("{} rejects DNAT'ed connections ({t}), and its policy is drop", h.blocked_by)
        }
        (Some(t), false) => format!("{} rejects DNAT'ed connections ({t})", h.blocked_by),
        (None, _) => format!("{} drops DNAT'ed connections by policy", h.blocked_by),
    };
    if h.place == HolePlace::Foreign {
        return Some(Finding::new(
            Severity::Error,
            K::ForeignBlock,
            what,
            "an accept anywhere else cannot override a drop or reject, and natkeeper puts holes only in iptables' \
             ip filter FORWARD and libvirt's ip libvirt_network guest_input",
            "accept the forwarded connections in that chain ahead of its drop (e.g. `ct status dnat accept`; with \
             firewalld, a forward-port or a policy for the libvirt zone), or remove the drop",
        ));
    }
    if !h.present.is_empty() {
        return None;
    }
    let kind = if policy_drops { K::ForwardPolicyDrop } else { K::ForwardRejected };
    if !h.below.is_empty() {
        what.push_str(&format!(
            "; natkeeper's hole is in {} but below that rule (at {})",
            h.chain,
            h.below.iter().map(|r| r.to_string()).collect::<Vec<_>>().join(", ")
        ));
        return Some(Finding::new(
            Severity::Warning,
            K::HoleBelowBlocker,
            what,
            "someone (libvirt on restart, Docker, firewalld) inserted rules above natkeeper's hole, so forwarded \
             connections are rejected again",
            "`natkeeper apply` moves the hole back to the head; `natkeeper watch` does it as soon as it happens",
        ));
    }
    Some(Finding::new(
        Severity::Warning,
        kind,
        what,
        "an accept in natkeeper's own table cannot get a connection past a drop or reject in another base chain: \
         forwarded connections to the guests are refused until a hole accepts them in that chain",
        &format!(
            "`natkeeper apply` puts a hole at the head of {} (and `natkeeper watch` keeps it there)",
            h.chain
        ),
    ))
}

#[cfg(test)]
mod tests {
    use natkeeper_nft::expr::{Counter, Xt};
    use natkeeper_nft::{Chain, Expr, Family, HookNum, Policy, Rule, Table, Verdict};
    use natkeeper_rtnl::SysctlValue;

    use super::super::fixture;
    use super::super::legacy::LegacyTables;
    use super::super::sysctls::Sysctls;
    use super::*;

    fn kinds(findings: &[Finding]) -> Vec<(Severity, FindingKind)> {
        findings.iter().map(|f| (f.severity, f.kind)).collect()
    }

    #[test]
    fn libvirts_iptables_rules_need_a_hole_until_one_is_ahead() {
        let mut rs = fixture::libvirt_iptables();
        let d = Discovery::from_parts(&fixture::lab(), &rs, fixture::sysctls(), &[], LegacyTables::default());
        let findings = doctor(&d);
        assert_eq!(
            kinds(&findings),
            [
                (Severity::Warning, FindingKind::ForwardRejected),
                (Severity::Info, FindingKind::BridgeNfCallIptables)
            ]
        );
        assert_eq!(
            findings[0].to_string(),
            "warning: ip filter FORWARD rejects DNAT'ed connections (FORWARD #2 (handle 11): jump LIBVIRT_FWI → \
             LIBVIRT_FWI #2 (handle 15): -j REJECT)\n  why: an accept in natkeeper's own table cannot get a \
             connection past a drop or reject in another base chain: forwarded connections to the guests are \
             refused until a hole accepts them in that chain\n  fix: `natkeeper apply` puts a hole at the head \
             of ip filter FORWARD (and `natkeeper watch` keeps it there)"
        );

        // natkeeper's hole at the head (as iptables-nft writes `-m comment`): nothing to report.
        let mut info = b"natkeeper: virbr0 in".to_vec();
        info.resize(256, 0);
        let mut hole = Rule::new(Family::Ip, "filter", "FORWARD")
            .with(Expr::Match(Xt::new("comment", 0, info)))
            .with(Counter::default())
            .with(Expr::verdict(Verdict::Accept));
        hole.handle = Some(30);
        rs.rules.insert(0, hole.clone());
        let d = Discovery::from_parts(&fixture::lab(), &rs, fixture::sysctls(), &[], LegacyTables::default());
        assert_eq!(kinds(&doctor(&d)), [(Severity::Info, FindingKind::BridgeNfCallIptables)]);

        // The same hole pushed below libvirt's jumps (libvirt re-inserted them): reported as buried.
        rs.rules.remove(0);
        let at = rs.rules.iter().position(|r| r.chain == "LIBVIRT_FWI").unwrap();
        rs.rules.insert(at, hole);
        let d = Discovery::from_parts(&fixture::lab(), &rs, fixture::sysctls(), &[], LegacyTables::default());
        let findings = doctor(&d);
        assert_eq!(kinds(&findings)[0], (Severity::Warning, FindingKind::HoleBelowBlocker));
        assert!(
            findings[0].what.ends_with(
                "natkeeper's hole is in ip filter FORWARD but below that rule (at #4 (handle 30))"
            ),
            "{}",
            findings[0].what
        );
    }

    #[test]
    fn a_bare_host_gets_the_basics() {
        let mut snap = fixture::lab();
        snap.routes.clear();
        snap.addresses.retain(|a| a.index != 2); // virbr0 loses its address
        let sysctls = Sysctls {
            ip_forward: SysctlValue::Int(0),
            bridge_nf_call_iptables: SysctlValue::Absent,
            route_localnet: None,
        };
        let legacy = LegacyTables { ipv4: vec!["filter".into(), "nat".into()], ipv6: vec!["filter".into()] };
        let d = Discovery::from_parts(&snap, &fixture::no_rules(), sysctls, &[], legacy);
        let findings = doctor(&d);
        assert_eq!(
            kinds(&findings),
            [
                (Severity::Warning, FindingKind::IpForwardOff),
                (Severity::Warning, FindingKind::NoDefaultRoute),
                (Severity::Warning, FindingKind::BridgeWithoutIpv4),
                (Severity::Warning, FindingKind::LegacyIptables),
            ]
        );
        assert_eq!(findings[0].what, "net.ipv4.ip_forward is 0");
        assert_eq!(findings[2].what, "bridge virbr0 has no IPv4 address");
        assert_eq!(findings[3].what, "iptables-legacy tables in use: ip filter, ip nat, ip6 filter");

        snap.links.retain(|l| l.name != "virbr0");
        let d = Discovery::from_parts(
            &snap,
            &fixture::no_rules(),
            fixture::sysctls(),
            &[],
            LegacyTables::default(),
        );
        assert_eq!(
            kinds(&doctor(&d)),
            [
                (Severity::Warning, FindingKind::NoDefaultRoute),
                (Severity::Warning, FindingKind::NoBridge),
                (Severity::Info, FindingKind::BridgeNfCallIptables),
            ]
        );
    }

    #[test]
    fn a_foreign_reject_is_an_error_and_comes_first() {
        let mut rs = fixture::no_rules();
        rs.tables.push(Table::new(Family::Inet, "firewalld"));
        rs.chains.push(Chain::base(
            Family::Inet,
            "firewalld",
            "filter_FORWARD",
            "filter",
            HookNum::Forward,
            10,
            Policy::Accept,
        ));
        let mut reject = Rule::new(Family::Inet, "firewalld", "filter_FORWARD")
            .with(Expr::Reject(natkeeper_nft::expr::Reject { kind: 2, icmp_code: Some(3) }));
        reject.handle = Some(4);
        rs.rules.push(reject);
        let d = Discovery::from_parts(&fixture::lab(), &rs, fixture::sysctls(), &[], LegacyTables::default());
        let findings = doctor(&d);
        assert_eq!(
            kinds(&findings),
            [
                (Severity::Error, FindingKind::ForeignBlock),
                (Severity::Warning, FindingKind::Firewalld),
                (Severity::Info, FindingKind::BridgeNfCallIptables),
            ]
        );
        assert_eq!(
            findings[0].what,
            "inet firewalld filter_FORWARD rejects DNAT'ed connections (filter_FORWARD #1 (handle 4): reject)"
        );
        let v = serde_json::to_value(&findings[0]).unwrap();
        assert_eq!(v["severity"], "error");
        assert_eq!(v["kind"], "foreign-block");
    }
}

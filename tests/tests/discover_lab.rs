//! Discovery against the kernel, each landscape in fresh namespaces: the article's lab alone, with
//! libvirt's iptables rules, with libvirt's nftables rules, with a Docker-style FORWARD policy drop,
//! with firewalld's table, with iptables-legacy rules; names that do not exist; doctor's findings.
//! Oracles: `ip -o link`, `nft -a list chain` (rule handles), `/proc/sys`.

use std::net::IpAddr;

use natkeeper::discover::{
    Action, BaseChain, Bridge, ChainRef, DiscoverError, Discovery, Docker, FindingKind, ForwardChain,
    HoleNeeded, HolePlace, HostAddress, Landscape, LegacyTables, LibvirtBackend, LibvirtEvidence,
    LibvirtNetwork, Port, RuleRef, Severity, Step, Sysctls, TableRef, Trace, Uplink, doctor,
};
use natkeeper_nft::{Family, HookNum, Policy, Ruleset, Socket};
use natkeeper_rtnl::{HwAddr, LinkKind, Rtnl, Scope, SysctlValue};
use natkeeper_tests::Netns;
use natkeeper_tests::lab::Lab;

/// libvirt 9.0's rules right after `net-start default` (reference/libvirt-in-a-netns.md).
const LIBVIRT_IPTABLES: &str = "*mangle
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:LIBVIRT_PRT - [0:0]
-A POSTROUTING -j LIBVIRT_PRT
-A LIBVIRT_PRT -o virbr0 -p udp -m udp --dport 68 -j CHECKSUM --checksum-fill
COMMIT
*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:LIBVIRT_FWI - [0:0]
:LIBVIRT_FWO - [0:0]
:LIBVIRT_FWX - [0:0]
:LIBVIRT_INP - [0:0]
:LIBVIRT_OUT - [0:0]
-A INPUT -j LIBVIRT_INP
-A FORWARD -j LIBVIRT_FWX
-A FORWARD -j LIBVIRT_FWI
-A FORWARD -j LIBVIRT_FWO
-A OUTPUT -j LIBVIRT_OUT
-A LIBVIRT_FWI -d 192.168.122.0/24 -o virbr0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A LIBVIRT_FWI -o virbr0 -j REJECT --reject-with icmp-port-unreachable
-A LIBVIRT_FWO -s 192.168.122.0/24 -i virbr0 -j ACCEPT
-A LIBVIRT_FWO -i virbr0 -j REJECT --reject-with icmp-port-unreachable
-A LIBVIRT_FWX -i virbr0 -o virbr0 -j ACCEPT
-A LIBVIRT_INP -i virbr0 -p udp -m udp --dport 53 -j ACCEPT
-A LIBVIRT_INP -i virbr0 -p tcp -m tcp --dport 53 -j ACCEPT
-A LIBVIRT_INP -i virbr0 -p udp -m udp --dport 67 -j ACCEPT
-A LIBVIRT_INP -i virbr0 -p tcp -m tcp --dport 67 -j ACCEPT
-A LIBVIRT_OUT -o virbr0 -p udp -m udp --dport 53 -j ACCEPT
-A LIBVIRT_OUT -o virbr0 -p tcp -m tcp --dport 53 -j ACCEPT
-A LIBVIRT_OUT -o virbr0 -p udp -m udp --dport 68 -j ACCEPT
-A LIBVIRT_OUT -o virbr0 -p tcp -m tcp --dport 68 -j ACCEPT
COMMIT
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:LIBVIRT_PRT - [0:0]
-A POSTROUTING -j LIBVIRT_PRT
-A LIBVIRT_PRT -s 192.168.122.0/24 -d 224.0.0.0/24 -j RETURN
-A LIBVIRT_PRT -s 192.168.122.0/24 -d 255.255.255.255/32 -j RETURN
-A LIBVIRT_PRT -s 192.168.122.0/24 ! -d 192.168.122.0/24 -p tcp -j MASQUERADE --to-ports 1024-65535
-A LIBVIRT_PRT -s 192.168.122.0/24 ! -d 192.168.122.0/24 -p udp -j MASQUERADE --to-ports 1024-65535
-A LIBVIRT_PRT -s 192.168.122.0/24 ! -d 192.168.122.0/24 -j MASQUERADE
COMMIT
";

/// libvirt 11.3's nftables backend after `net-start default` (reference/libvirt-in-a-netns.md), as
/// `nft -f` input (the chains jumped to are declared first).
const LIBVIRT_NFTABLES: &str = r#"table ip libvirt_network {
	chain guest_output {
		ip saddr 192.168.122.0/24 iif "virbr0" counter accept
		iif "virbr0" counter reject
	}
	chain guest_input {
		oif "virbr0" ip daddr 192.168.122.0/24 ct state established,related counter accept
		oif "virbr0" counter reject
	}
	chain guest_cross {
		iif "virbr0" oif "virbr0" counter accept
	}
	chain forward {
		type filter hook forward priority filter; policy accept;
		counter jump guest_cross
		counter jump guest_input
		counter jump guest_output
	}
	chain guest_nat {
		type nat hook postrouting priority srcnat; policy accept;
		ip saddr 192.168.122.0/24 ip daddr 224.0.0.0/24 counter return
		ip saddr 192.168.122.0/24 ip daddr 255.255.255.255 counter return
		meta l4proto tcp ip saddr 192.168.122.0/24 ip daddr != 192.168.122.0/24 counter masquerade to :1024-65535
		meta l4proto udp ip saddr 192.168.122.0/24 ip daddr != 192.168.122.0/24 counter masquerade to :1024-65535
		ip saddr 192.168.122.0/24 ip daddr != 192.168.122.0/24 counter masquerade
	}
}
table ip6 libvirt_network {
	chain guest_output {
	}
	chain guest_input {
	}
	chain guest_cross {
	}
	chain forward {
		type filter hook forward priority filter; policy accept;
		counter jump guest_cross
		counter jump guest_input
		counter jump guest_output
	}
}"#;

/// Docker 20+'s iptables rules with its `docker0` bridge: FORWARD policy drop.
const DOCKER_IPTABLES: &str = "*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:DOCKER - [0:0]
:DOCKER-ISOLATION-STAGE-1 - [0:0]
:DOCKER-ISOLATION-STAGE-2 - [0:0]
:DOCKER-USER - [0:0]
-A FORWARD -j DOCKER-USER
-A FORWARD -j DOCKER-ISOLATION-STAGE-1
-A FORWARD -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A FORWARD -o docker0 -j DOCKER
-A FORWARD -i docker0 ! -o docker0 -j ACCEPT
-A FORWARD -i docker0 -o docker0 -j ACCEPT
-A DOCKER-ISOLATION-STAGE-1 -i docker0 ! -o docker0 -j DOCKER-ISOLATION-STAGE-2
-A DOCKER-ISOLATION-STAGE-1 -j RETURN
-A DOCKER-ISOLATION-STAGE-2 -o docker0 -j DROP
-A DOCKER-ISOLATION-STAGE-2 -j RETURN
-A DOCKER-USER -j RETURN
COMMIT
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:DOCKER - [0:0]
-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER
-A OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER
-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE
-A DOCKER -i docker0 -j RETURN
COMMIT
";

/// firewalld's forward chain (nftables backend), trimmed: DNAT'ed connections are accepted before
/// its reject unless `strict` (firewalld's `StrictForwardPorts=yes`) leaves that rule out.
fn firewalld(strict: bool) -> String {
    let dnat = if strict { "" } else { "\t\tct status dnat accept\n" };
    format!(
        "table inet firewalld {{
	chain filter_FORWARD_POLICIES {{
	}}
	chain filter_FORWARD {{
		type filter hook forward priority filter + 10; policy accept;
		ct state {{ established, related }} accept
{dnat}		iifname \"lo\" accept
		ct state invalid drop
		jump filter_FORWARD_POLICIES
		reject with icmpx admin-prohibited
	}}
}}"
    )
}

/// The article's lab, with IPv6 off in the host so that no link-local address appears later.
fn lab() -> Lab {
    let lab = Lab::article();
    lab.host.sysctl("net.ipv6.conf.all.disable_ipv6", "1");
    lab
}

fn discover(ns: &Netns) -> Discovery {
    ns.run(|| Discovery::read().expect("discovery inside the namespace"))
}

/// The handles of a chain's rules, in order, from `nft -a list chain`.
fn handles(ns: &Netns, family: &str, table: &str, chain: &str) -> Vec<u64> {
    ns.exec_ok("nft", &["-a", "list", "chain", family, table, chain])
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with("chain ") && !l.starts_with("table ") && !l.starts_with("type "))
        .filter_map(|l| l.rsplit_once("# handle ").map(|(_, h)| h.trim().parse().expect("handle")))
        .collect()
}

/// Rule `position` (1-based) of a chain, with its handle from the oracle.
fn at(ns: &Netns, family: &str, table: &str, chain: &str, position: usize) -> RuleRef {
    let h = handles(ns, family, table, chain);
    RuleRef { position, handle: Some(h[position - 1]) }
}

fn step(ns: &Netns, family: &str, table: &str, chain: &str, position: usize, action: Action) -> Step {
    Step { chain: chain.into(), rule: at(ns, family, table, chain, position), map: None, action }
}

/// `ip -o link show NAME`: index and MAC.
fn link(ns: &Netns, name: &str) -> (u32, HwAddr) {
    let out = ns.ip(&["-o", "link", "show", name]);
    let words: Vec<&str> = out.split_whitespace().collect();
    let index = words[0].trim_end_matches(':').parse().unwrap();
    let mac = words[words.iter().position(|w| *w == "link/ether").unwrap() + 1];
    (index, HwAddr(mac.split(':').map(|b| u8::from_str_radix(b, 16).unwrap()).collect()))
}

fn v4(net: &str, label: &str, secondary: bool) -> HostAddress {
    HostAddress {
        address: net.parse().unwrap(),
        label: Some(label.into()),
        secondary,
        scope: Scope::Universe,
    }
}

fn chain(family: Family, table: &str, name: &str) -> ChainRef {
    ChainRef::new(family, table, name)
}

fn table(family: Family, name: &str) -> TableRef {
    TableRef { family, name: name.into() }
}

fn base(family: Family, t: &str, name: &str, priority: i32, policy: Policy) -> BaseChain {
    BaseChain { chain: chain(family, t, name), hook: HookNum::Forward, priority, policy: Some(policy) }
}

fn passes(b: BaseChain) -> ForwardChain {
    ForwardChain { base: b, blocker: None, accepted: None, policy_drops: false }
}

/// What the lab's host looks like, from `ip` as the oracle.
fn lab_bridge(lab: &Lab, libvirt_evidence: Vec<LibvirtEvidence>) -> Bridge {
    let ns = &lab.host;
    let (index, mac) = link(ns, "virbr0");
    let port = |name: &str| Port {
        name: name.into(),
        kind: Some(LinkKind::Veth),
        mac: Some(link(ns, name).1),
        up: true,
    };
    Bridge {
        name: "virbr0".into(),
        index,
        mac: Some(mac),
        up: true,
        ipv4: vec!["192.168.122.0/24".parse().unwrap()],
        ipv6: vec![],
        addresses: vec![v4("192.168.122.1/24", "virbr0", false)],
        ports: vec![port("vnet0"), port("vnet1")],
        libvirt: !libvirt_evidence.is_empty(),
        libvirt_evidence,
    }
}

fn kinds(d: &Discovery) -> Vec<(Severity, FindingKind)> {
    doctor(d).iter().map(|f| (f.severity, f.kind)).collect()
}

fn empty_landscape(generation: u32) -> Landscape {
    Landscape {
        generation,
        tables: vec![],
        natkeeper: false,
        libvirt: LibvirtBackend::None,
        docker: None,
        firewalld: false,
        legacy: LegacyTables::default(),
        drop_policies: vec![],
        forward: vec![],
        holes: vec![],
    }
}

#[test]
fn the_lab_alone() {
    if !natkeeper_tests::can_run() {
        return;
    }
    let lab = lab();
    let d = discover(&lab.host);
    assert_eq!(d.bridges, [lab_bridge(&lab, vec![])]);
    assert_eq!(
        d.uplink,
        Some(Uplink {
            name: "eth0".into(),
            index: link(&lab.host, "eth0").0,
            gateway: Some(IpAddr::from([192, 168, 1, 1])),
            addresses: vec![
                v4("192.168.1.201/24", "eth0", false),
                v4("192.168.1.211/24", "eth0:0", true),
                v4("192.168.1.212/24", "eth0:1", true),
            ],
        })
    );
    let mut names: Vec<&str> = d.interfaces.iter().map(|i| i.name.as_str()).collect();
    names.sort();
    assert_eq!(names, ["eth0", "lo", "virbr0", "vnet0", "vnet1"]);
    let lo = d.interface("lo").unwrap();
    assert_eq!(
        lo.addresses,
        [HostAddress {
            address: "127.0.0.1/8".parse().unwrap(),
            label: Some("lo".into()),
            secondary: false,
            scope: Scope::Host
        }]
    );
    assert_eq!(d.interface("vnet0").unwrap().bridge.as_deref(), Some("virbr0"));
    assert_eq!(d.resolve_label("eth0:0").unwrap().addr(), IpAddr::from([192, 168, 1, 211]));

    // Sysctls, against /proc/sys in the namespace (a fresh namespace has bridge-nf-call-iptables=1).
    let proc = |key: &str| -> i64 { lab.host.sh(&format!("cat /proc/sys/{key}")).trim().parse().unwrap() };
    assert_eq!(proc("net/bridge/bridge-nf-call-iptables"), 1);
    assert_eq!(
        d.sysctls,
        Sysctls {
            ip_forward: SysctlValue::Int(1),
            bridge_nf_call_iptables: SysctlValue::Int(1),
            route_localnet: Some(natkeeper::discover::RouteLocalnet {
                interface: "eth0".into(),
                value: SysctlValue::Int(0)
            }),
        }
    );
    assert_eq!(d.firewall, empty_landscape(d.firewall.generation));
    assert_eq!(kinds(&d), [(Severity::Info, FindingKind::BridgeNfCallIptables)]);

    // Sysctls follow the namespace.
    lab.host.sysctl("net.ipv4.ip_forward", "0");
    lab.host.sysctl("net.bridge.bridge-nf-call-iptables", "0");
    lab.host.sysctl("net.ipv4.conf.eth0.route_localnet", "1");
    let d = discover(&lab.host);
    assert_eq!(d.sysctls.ip_forward, SysctlValue::Int(0));
    assert_eq!(d.sysctls.bridge_nf_call_iptables, SysctlValue::Int(0));
    assert_eq!(d.sysctls.route_localnet.as_ref().map(|r| r.value), Some(SysctlValue::Int(1)));
    assert_eq!(kinds(&d), [(Severity::Warning, FindingKind::IpForwardOff)]);
}

#[test]
fn the_lab_with_libvirts_iptables_rules() {
    if !natkeeper_tests::can_run() {
        return;
    }
    let lab = lab();
    let ns = &lab.host;
    ns.iptables_restore(&[], LIBVIRT_IPTABLES);
    let d = discover(ns);
    assert_eq!(d.bridges, [lab_bridge(&lab, vec![LibvirtEvidence::FirewallRules])]);
    let forward = chain(Family::Ip, "filter", "FORWARD");
    let blocker = Trace(vec![
        step(ns, "ip", "filter", "FORWARD", 2, Action::Jump("LIBVIRT_FWI".into())),
        step(ns, "ip", "filter", "LIBVIRT_FWI", 2, Action::Target("REJECT".into())),
    ]);
    let expected = Landscape {
        tables: vec![table(Family::Ip, "filter"), table(Family::Ip, "mangle"), table(Family::Ip, "nat")],
        libvirt: LibvirtBackend::Iptables,
        forward: vec![
            passes(base(Family::Ip, "mangle", "FORWARD", -150, Policy::Accept)),
            ForwardChain {
                base: base(Family::Ip, "filter", "FORWARD", 0, Policy::Accept),
                blocker: Some(blocker),
                accepted: None,
                policy_drops: false,
            },
        ],
        holes: vec![HoleNeeded {
            place: HolePlace::IptablesForward,
            chain: forward.clone(),
            before: Some(at(ns, "ip", "filter", "FORWARD", 2)),
            blocked_by: forward.clone(),
            present: vec![],
            below: vec![],
        }],
        ..empty_landscape(d.firewall.generation)
    };
    assert_eq!(d.firewall, expected);
    assert_eq!(
        kinds(&d),
        [
            (Severity::Warning, FindingKind::ForwardRejected),
            (Severity::Info, FindingKind::BridgeNfCallIptables)
        ]
    );

    // natkeeper's hole at the head of FORWARD (tagged with iptables' comment match): seen as present,
    // skipped by the walk, and doctor no longer complains.
    let hole = ["-o", "virbr0", "-m", "comment", "--comment", "natkeeper: virbr0 in", "-j", "ACCEPT"];
    ns.exec_ok("iptables", &[&["-I", "FORWARD", "1"], &hole[..]].concat());
    let d = discover(ns);
    let h = d.firewall.hole(HolePlace::IptablesForward).unwrap();
    assert_eq!(h.present, [at(ns, "ip", "filter", "FORWARD", 1)]);
    assert_eq!(h.before, Some(at(ns, "ip", "filter", "FORWARD", 3)));
    assert!(h.below.is_empty());
    assert_eq!(kinds(&d), [(Severity::Info, FindingKind::BridgeNfCallIptables)]);

    // The hole at the end instead, as after a firewall reload re-inserted libvirt's jumps: buried.
    ns.exec_ok("iptables", &["-D", "FORWARD", "1"]);
    ns.exec_ok("iptables", &[&["-A", "FORWARD"], &hole[..]].concat());
    let d = discover(ns);
    let h = d.firewall.hole(HolePlace::IptablesForward).unwrap();
    assert!(h.present.is_empty());
    assert_eq!(h.below, [at(ns, "ip", "filter", "FORWARD", 4)]);
    assert_eq!(kinds(&d)[0], (Severity::Warning, FindingKind::HoleBelowBlocker));
}

#[test]
fn the_lab_with_libvirts_nftables_rules() {
    if !natkeeper_tests::can_run() {
        return;
    }
    let lab = lab();
    let ns = &lab.host;
    ns.nft_load(LIBVIRT_NFTABLES);
    let d = discover(ns);
    // libvirt's rules match `oif "virbr0"` by index: that is found too.
    assert_eq!(d.bridges, [lab_bridge(&lab, vec![LibvirtEvidence::FirewallRules])]);
    let t = "libvirt_network";
    let expected = Landscape {
        tables: vec![table(Family::Ip, t), table(Family::Ip6, t)],
        libvirt: LibvirtBackend::Nftables,
        forward: vec![ForwardChain {
            base: base(Family::Ip, t, "forward", 0, Policy::Accept),
            blocker: Some(Trace(vec![
                step(ns, "ip", t, "forward", 2, Action::Jump("guest_input".into())),
                step(ns, "ip", t, "guest_input", 2, Action::Reject),
            ])),
            accepted: None,
            policy_drops: false,
        }],
        holes: vec![HoleNeeded {
            place: HolePlace::LibvirtGuestInput,
            chain: chain(Family::Ip, t, "guest_input"),
            before: Some(at(ns, "ip", t, "guest_input", 2)),
            blocked_by: chain(Family::Ip, t, "forward"),
            present: vec![],
            below: vec![],
        }],
        ..empty_landscape(d.firewall.generation)
    };
    assert_eq!(d.firewall, expected);
    assert_eq!(
        kinds(&d),
        [
            (Severity::Warning, FindingKind::ForwardRejected),
            (Severity::Info, FindingKind::BridgeNfCallIptables),
            (Severity::Info, FindingKind::LibvirtNftables),
        ]
    );

    // natkeeper's native hole at the head of guest_input (comment in userdata).
    ns.exec_ok(
        "nft",
        &[
            "insert",
            "rule",
            "ip",
            t,
            "guest_input",
            "oifname",
            "virbr0",
            "ct",
            "mark",
            "and",
            "0xffff0000",
            "==",
            "0x4e4b0000",
            "counter",
            "accept",
            "comment",
            "\"natkeeper: virbr0 in\"",
        ],
    );
    let d = discover(ns);
    let h = d.firewall.hole(HolePlace::LibvirtGuestInput).unwrap();
    assert_eq!(h.present, [at(ns, "ip", t, "guest_input", 1)]);
    assert_eq!(h.before, Some(at(ns, "ip", t, "guest_input", 3)));
    assert_eq!(
        kinds(&d),
        [(Severity::Info, FindingKind::BridgeNfCallIptables), (Severity::Info, FindingKind::LibvirtNftables)]
    );
}

#[test]
fn the_lab_with_a_docker_style_forward_policy_drop() {
    if !natkeeper_tests::can_run() {
        return;
    }
    let lab = lab();
    let ns = &lab.host;
    ns.iptables_restore(&[], DOCKER_IPTABLES);
    let d = discover(ns);
    assert_eq!(d.bridges, [lab_bridge(&lab, vec![])]);
    let filter_forward = base(Family::Ip, "filter", "FORWARD", 0, Policy::Drop);
    let forward = chain(Family::Ip, "filter", "FORWARD");
    let expected = Landscape {
        tables: vec![table(Family::Ip, "filter"), table(Family::Ip, "nat")],
        docker: Some(Docker {
            chains: vec![
                chain(Family::Ip, "filter", "DOCKER"),
                chain(Family::Ip, "filter", "DOCKER-ISOLATION-STAGE-1"),
                chain(Family::Ip, "filter", "DOCKER-ISOLATION-STAGE-2"),
                chain(Family::Ip, "filter", "DOCKER-USER"),
                chain(Family::Ip, "nat", "DOCKER"),
            ],
            tables: vec![],
            forward_policy_drop: true,
        }),
        drop_policies: vec![filter_forward.clone()],
        forward: vec![ForwardChain {
            base: filter_forward,
            // DOCKER-USER returns at once; the isolation chains drop what leaves docker0.
            blocker: Some(Trace(vec![
                step(ns, "ip", "filter", "FORWARD", 2, Action::Jump("DOCKER-ISOLATION-STAGE-1".into())),
                step(
                    ns,
                    "ip",
                    "filter",
                    "DOCKER-ISOLATION-STAGE-1",
                    1,
                    Action::Jump("DOCKER-ISOLATION-STAGE-2".into()),
                ),
                step(ns, "ip", "filter", "DOCKER-ISOLATION-STAGE-2", 1, Action::Drop),
            ])),
            accepted: None,
            policy_drops: true,
        }],
        holes: vec![HoleNeeded {
            place: HolePlace::IptablesForward,
            chain: forward.clone(),
            before: Some(at(ns, "ip", "filter", "FORWARD", 2)),
            blocked_by: forward,
            present: vec![],
            below: vec![],
        }],
        ..empty_landscape(d.firewall.generation)
    };
    assert_eq!(d.firewall, expected);
    assert_eq!(
        kinds(&d),
        [
            (Severity::Warning, FindingKind::ForwardPolicyDrop),
            (Severity::Warning, FindingKind::BridgeNfCallIptables),
            (Severity::Info, FindingKind::Docker),
        ]
    );

    // The bare minimum: `iptables -P FORWARD DROP` and Docker's two chains, no rule.
    let ns = Netns::new("dockerp");
    ns.exec_ok("iptables", &["-P", "FORWARD", "DROP"]);
    ns.exec_ok("iptables", &["-N", "DOCKER"]);
    ns.exec_ok("iptables", &["-N", "DOCKER-USER"]);
    let d = discover(&ns);
    let fw = &d.firewall;
    assert_eq!(fw.docker.as_ref().map(|d| (d.chains.len(), d.forward_policy_drop)), Some((2, true)));
    assert_eq!(
        fw.blocking().cloned().collect::<Vec<_>>(),
        [ForwardChain {
            base: base(Family::Ip, "filter", "FORWARD", 0, Policy::Drop),
            blocker: None,
            accepted: None,
            policy_drops: true,
        }]
    );
    assert_eq!(fw.hole(HolePlace::IptablesForward).map(|h| h.before), Some(None));
    assert!(doctor(&d).iter().any(|f| f.kind == FindingKind::ForwardPolicyDrop
        && f.what == "ip filter FORWARD drops DNAT'ed connections by policy"));
}

#[test]
fn firewalld_accepts_dnated_connections_unless_strict() {
    if !natkeeper_tests::can_run() {
        return;
    }
    let fwd = || base(Family::Inet, "firewalld", "filter_FORWARD", 10, Policy::Accept);

    let lab1 = lab();
    let ns = &lab1.host;
    ns.nft_load(&firewalld(false));
    let d = discover(ns);
    assert!(d.firewall.firewalld);
    assert_eq!(d.firewall.tables, [table(Family::Inet, "firewalld")]);
    assert_eq!(
        d.firewall.forward,
        [ForwardChain {
            base: fwd(),
            blocker: None,
            accepted: Some(Trace(vec![step(ns, "inet", "firewalld", "filter_FORWARD", 2, Action::Accept)])),
            policy_drops: false,
        }]
    );
    assert!(d.firewall.holes.is_empty());
    assert_eq!(
        kinds(&d),
        [(Severity::Warning, FindingKind::Firewalld), (Severity::Info, FindingKind::BridgeNfCallIptables)]
    );

    // StrictForwardPorts: the first drop is `ct state invalid drop`; natkeeper puts no hole there.
    let lab2 = lab();
    let ns = &lab2.host;
    ns.nft_load(&firewalld(true));
    let d = discover(ns);
    let c = chain(Family::Inet, "firewalld", "filter_FORWARD");
    assert_eq!(
        d.firewall.forward,
        [ForwardChain {
            base: fwd(),
            blocker: Some(Trace(vec![step(ns, "inet", "firewalld", "filter_FORWARD", 3, Action::Drop)])),
            accepted: None,
            policy_drops: false,
        }]
    );
    assert_eq!(
        d.firewall.holes,
        [HoleNeeded {
            place: HolePlace::Foreign,
            chain: c.clone(),
            before: Some(at(ns, "inet", "firewalld", "filter_FORWARD", 3)),
            blocked_by: c,
            present: vec![],
            below: vec![],
        }]
    );
    assert_eq!(
        kinds(&d),
        [
            (Severity::Error, FindingKind::ForeignBlock),
            (Severity::Warning, FindingKind::Firewalld),
            (Severity::Info, FindingKind::BridgeNfCallIptables),
        ]
    );
}

#[test]
fn iptables_legacy_rules_are_reported_though_netlink_cannot_see_them() {
    if !natkeeper_tests::can_run() {
        return;
    }
    let ns = Netns::new("legacy");
    let d = discover(&ns);
    assert_eq!(d.firewall.legacy, LegacyTables::default());
    if ns.exec("iptables-legacy", &["-A", "FORWARD", "-o", "virbr0", "-j", "REJECT"]).status.success() {
        let d = discover(&ns);
        assert_eq!(d.firewall.legacy, LegacyTables { ipv4: vec!["filter".into()], ipv6: vec![] });
        assert!(d.firewall.tables.is_empty(), "the legacy table is not an nf_tables table");
        assert!(kinds(&d).contains(&(Severity::Warning, FindingKind::LegacyIptables)));
    } else {
        eprintln!("iptables-legacy unusable on this kernel; legacy check skipped");
    }
    // The lists are per namespace: another fresh one has none.
    assert_eq!(discover(&Netns::new("legacy2")).firewall.legacy, LegacyTables::default());
}

#[test]
fn names_that_do_not_exist_are_errors_listing_what_exists() {
    if !natkeeper_tests::can_run() {
        return;
    }
    let lab = lab();
    let d = discover(&lab.host);
    assert_eq!(d.resolve_label("eth0:1").unwrap().addr(), IpAddr::from([192, 168, 1, 212]));
    assert_eq!(d.bridge("virbr0").unwrap().ports.len(), 2);

    let err = d.bridge("virbr1").unwrap_err();
    assert!(matches!(&err, DiscoverError::NoSuchBridge { name, .. } if name == "virbr1"));
    assert_eq!(
        err.to_string(),
        r#"no bridge named "virbr1"; bridges: virbr0; interfaces: eth0, lo, virbr0, vnet0, vnet1"#
    );
    let err = d.bridge("vnet0").unwrap_err();
    assert_eq!(err.to_string(), r#""vnet0" is not a bridge (it is a veth interface); bridges: virbr0"#);
    let err = d.resolve_label("eth0:2").unwrap_err();
    assert_eq!(err.to_string(), r#"no address labelled "eth0:2"; labels: eth0, eth0:0, eth0:1, lo, virbr0"#);
    let err = d.interface_addresses("eth1").unwrap_err();
    assert!(matches!(&err, DiscoverError::NoSuchInterface { interfaces, .. } if interfaces.len() == 5));
    assert_eq!(err.to_string(), r#"no interface named "eth1"; interfaces: eth0, lo, virbr0, vnet0, vnet1"#);
}

#[test]
fn libvirts_network_files_mark_the_bridge_with_their_mac() {
    if !natkeeper_tests::can_run() {
        return;
    }
    let lab = lab();
    lab.host.ip(&["link", "set", "virbr0", "address", "52:54:00:3e:08:2c"]);
    let dir = std::env::temp_dir().join(format!("natkeeper-disc-{}", std::process::id()));
    let (status, config) = (dir.join("status"), dir.join("config"));
    std::fs::create_dir_all(&status).unwrap();
    std::fs::create_dir_all(&config).unwrap();
    let xml = |mac: &str| {
        format!(
            "<networkstatus><network><name>default</name><forward mode='nat'/>\
             <bridge name='virbr0' stp='on' delay='0'/><mac address='{mac}'/>\
             <ip address='192.168.122.1' netmask='255.255.255.0'/></network></networkstatus>"
        )
    };
    std::fs::write(status.join("default.xml"), xml("52:54:00:3e:08:2c")).unwrap();
    std::fs::write(config.join("other.xml"), xml("52:54:00:99:99:99").replace("default", "other")).unwrap();
    let networks = LibvirtNetwork::read_from(&status, &config).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(networks.len(), 2);

    let (snapshot, ruleset, sysctls, legacy) = lab.host.run(|| {
        let snapshot = Rtnl::open().unwrap().snapshot().unwrap();
        let ruleset = Ruleset::read(&mut Socket::open().unwrap(), Family::Unspec).unwrap();
        (snapshot, ruleset, Sysctls::read(Some("eth0")).unwrap(), LegacyTables::read().unwrap())
    });
    let d = Discovery::from_parts(&snapshot, &ruleset, sysctls, &networks, legacy);
    let b = d.bridge("virbr0").unwrap();
    assert!(b.libvirt);
    assert_eq!(b.libvirt_evidence, [LibvirtEvidence::ActiveNetwork { network: "default".into() }]);
    assert_eq!(b.mac.as_ref().map(|m| m.to_string()).as_deref(), Some("52:54:00:3e:08:2c"));
}

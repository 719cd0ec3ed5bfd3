//! Test fixtures: the article's host as an rtnetlink snapshot and libvirt's iptables rules as an
//! nf_tables ruleset, built by hand (the namespace tests in `tests/` read the real ones).

use ipnet::IpNet;
use natkeeper_nft::expr::{Cmp, Counter, Meta, MetaKey, Xt};
use natkeeper_nft::{Chain, Expr, Family, HookNum, Policy, Rule, Ruleset, Table, Verdict};
use natkeeper_rtnl::{
    Address, AddressFlags, HwAddr, Link, LinkKind, OperState, RT_TABLE_MAIN, Route, RouteKind, Scope,
    Snapshot, SysctlValue,
};

use super::sysctls::{RouteLocalnet, Sysctls};

pub(super) const VIRBR0_MAC: [u8; 6] = [0x52, 0x54, 0x00, 0x3e, 0x08, 0x2c];

fn link(index: u32, name: &str, kind: Option<LinkKind>, mac: [u8; 6], controller: Option<u32>) -> Link {
    Link {
        index,
        name: name.into(),
        kind,
        admin_up: true,
        lower_up: true,
        oper_state: OperState::Up,
        mac: Some(HwAddr(mac.to_vec())),
        mtu: Some(1500),
        controller,
    }
}

fn addr(index: u32, net: &str, label: Option<&str>, secondary: bool, scope: Scope) -> Address {
    Address {
        index,
        net: net.parse::<IpNet>().unwrap(),
        peer: None,
        label: label.map(str::to_string),
        scope,
        flags: if secondary { AddressFlags::SECONDARY } else { AddressFlags::default() },
    }
}

/// lo, virbr0 (192.168.122.1/24, ports vnet0 and vnet1), eth0 (.201, .211 `eth0:0`, .212 `eth0:1`,
/// and a link-local IPv6 address), default route via 192.168.1.1.
pub(super) fn lab() -> Snapshot {
    Snapshot {
        links: vec![
            link(1, "lo", None, [0; 6], None),
            link(2, "virbr0", Some(LinkKind::Bridge), VIRBR0_MAC, None),
            link(3, "eth0", Some(LinkKind::Veth), [0x02, 0, 0, 0, 0, 0x03], None),
            link(4, "vnet0", Some(LinkKind::Tap), [0xfe, 0x54, 0, 0, 0, 0x41], Some(2)),
            link(5, "vnet1", Some(LinkKind::Tap), [0xfe, 0x54, 0, 0, 0, 0x42], Some(2)),
        ],
        addresses: vec![
            addr(1, "127.0.0.1/8", Some("lo"), false, Scope::Host),
            addr(2, "192.168.122.1/24", Some("virbr0"), false, Scope::Universe),
            addr(3, "192.168.1.201/24", Some("eth0"), false, Scope::Universe),
            addr(3, "192.168.1.211/24", Some("eth0:0"), true, Scope::Universe),
            addr(3, "192.168.1.212/24", Some("eth0:1"), true, Scope::Universe),
            addr(3, "fe80::3/64", None, false, Scope::Link),
        ],
        routes: vec![Route {
            family: natkeeper_rtnl::Family::Ipv4,
            destination: "0.0.0.0/0".parse().unwrap(),
            table: RT_TABLE_MAIN,
            kind: RouteKind::Unicast,
            protocol: 3,
            scope: Scope::Universe,
            oif: Some(3),
            gateway: Some("192.168.1.1".parse().unwrap()),
            metric: None,
            prefsrc: None,
            nexthops: Vec::new(),
            nexthop_id: None,
        }],
    }
}

/// ip_forward on, br_netfilter's switch on, route_localnet of eth0 off.
pub(super) fn sysctls() -> Sysctls {
    Sysctls {
        ip_forward: SysctlValue::Int(1),
        bridge_nf_call_iptables: SysctlValue::Int(1),
        route_localnet: Some(RouteLocalnet { interface: "eth0".into(), value: SysctlValue::Int(0) }),
    }
}

fn rule(chain: &str, handle: u64, exprs: Vec<Expr>) -> Rule {
    let mut r = Rule::new(Family::Ip, "filter", chain);
    r.exprs = exprs;
    r.handle = Some(handle);
    r
}

fn ifname(key: MetaKey, name: &str) -> [Expr; 2] {
    let mut data = name.as_bytes().to_vec();
    data.push(0);
    [Meta::load(key).into(), Cmp::eq(data).into()]
}

/// libvirt's filter rules for virbr0 as iptables-nft encodes them (the conntrack and address matches
/// of the accepts left out: the walk does not read them).
pub(super) fn libvirt_iptables() -> Ruleset {
    let base = |name: &str, hook| Chain::base(Family::Ip, "filter", name, "filter", hook, 0, Policy::Accept);
    let jump = |c: &str| vec![Counter::default().into(), Expr::verdict(Verdict::Jump(c.into()))];
    let accept = |key, name| {
        let mut e = ifname(key, name).to_vec();
        e.extend([Counter::default().into(), Expr::verdict(Verdict::Accept)]);
        e
    };
    let reject = |key, name| {
        let mut e = ifname(key, name).to_vec();
        e.extend([Counter::default().into(), Expr::Target(Xt::new("REJECT", 0, vec![0; 8]))]);
        e
    };
    Ruleset {
        generation: 7,
        tables: vec![Table::new(Family::Ip, "filter")],
        chains: vec![
            base("INPUT", HookNum::Input),
            base("FORWARD", HookNum::Forward),
            base("OUTPUT", HookNum::Output),
            Chain::regular(Family::Ip, "filter", "LIBVIRT_FWI"),
            Chain::regular(Family::Ip, "filter", "LIBVIRT_FWO"),
            Chain::regular(Family::Ip, "filter", "LIBVIRT_FWX"),
        ],
        sets: Vec::new(),
        elems: Vec::new(),
        rules: vec![
            rule("FORWARD", 10, jump("LIBVIRT_FWX")),
            rule("FORWARD", 11, jump("LIBVIRT_FWI")),
            rule("FORWARD", 12, jump("LIBVIRT_FWO")),
            rule("LIBVIRT_FWI", 14, accept(MetaKey::OifName, "virbr0")),
            rule("LIBVIRT_FWI", 15, reject(MetaKey::OifName, "virbr0")),
            rule("LIBVIRT_FWO", 16, accept(MetaKey::IifName, "virbr0")),
            rule("LIBVIRT_FWO", 17, reject(MetaKey::IifName, "virbr0")),
            rule("LIBVIRT_FWX", 18, accept(MetaKey::OifName, "virbr0")),
        ],
    }
}

/// An empty ruleset.
pub(super) fn no_rules() -> Ruleset {
    Ruleset { generation: 1, tables: vec![], chains: vec![], sets: vec![], elems: vec![], rules: vec![] }
}

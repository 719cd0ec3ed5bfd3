//! natkeeper-rtnl against the article's lab: the snapshot an agent needs (bridge, ports, subnets, uplink,
//! labels, primary/secondary), checked exactly and against `ip` as an oracle; the typed errors for
//! names that do not exist; link kinds.

use std::net::{IpAddr, Ipv4Addr};

use natkeeper_rtnl::ipnet::{IpNet, Ipv4Net, Ipv6Net};
use natkeeper_rtnl::{Error, Family, LinkKind, OperState, Rtnl, Scope, Snapshot};
use natkeeper_tests::Netns;
use natkeeper_tests::lab::Lab;

fn snapshot(ns: &Netns) -> Snapshot {
    ns.run(|| Rtnl::open().and_then(|mut r| r.snapshot())).expect("snapshot inside the namespace")
}

fn net(s: &str) -> IpNet {
    s.parse().expect("prefix literal")
}

/// One line of `ip -o link show`: index, name (without `@peer`), mtu, link-layer address, master.
#[derive(Debug, PartialEq)]
struct IpLink {
    index: u32,
    name: String,
    mtu: u32,
    mac: String,
    master: Option<String>,
}

fn ip_links(ns: &Netns) -> Vec<IpLink> {
    ns.ip(&["-o", "link", "show"])
        .lines()
        .map(|line| {
            let words: Vec<&str> = line.split_whitespace().collect();
            let after = |key: &str| {
                words.iter().position(|w| *w == key).and_then(|i| words.get(i + 1)).map(|w| w.to_string())
            };
            let name = words[1].trim_end_matches(':');
            IpLink {
                index: words[0].trim_end_matches(':').parse().unwrap(),
                name: name.split('@').next().unwrap().to_string(),
                mtu: after("mtu").unwrap().parse().unwrap(),
                mac: words
                    .iter()
                    .position(|w| w.starts_with("link/"))
                    .map(|i| words[i + 1].to_string())
                    .unwrap(),
                master: after("master"),
            }
        })
        .collect()
}

/// `ip -o -4 addr show`: (ifindex, address/prefix, secondary, label); the label is the last word
/// before the lifetimes. (IPv6 link-local addresses appear asynchronously after a link comes up, so
/// they are not compared with a second, later reading.)
fn ip_addrs(ns: &Netns) -> Vec<(u32, IpNet, bool, Option<String>)> {
    ns.ip(&["-o", "-4", "addr", "show"])
        .lines()
        .map(|line| {
            let main = line.split('\\').next().unwrap();
            let words: Vec<&str> = main.split_whitespace().collect();
            let index = words[0].trim_end_matches(':').parse().unwrap();
            let addr: IpNet = words[3].parse().unwrap();
            let label = Some(words.last().unwrap().to_string());
            (index, addr, words.contains(&"secondary"), label)
        })
        .collect()
}

#[test]
fn lab_snapshot_is_the_articles_host() {
    if !natkeeper_tests::can_run() {
        return;
    }
    let lab = Lab::article();
    let snap = snapshot(&lab.host);

    // Links: exactly the lab's, with the kinds and controllers it was built with.
    let mut names: Vec<&str> = snap.links.iter().map(|l| l.name.as_str()).collect();
    names.sort();
    assert_eq!(names, ["eth0", "lo", "virbr0", "vnet0", "vnet1"]);
    let link = |n: &str| snap.link(n).expect("lab link");
    let virbr0 = link("virbr0");
    assert_eq!(virbr0.kind, Some(LinkKind::Bridge));
    assert!(virbr0.admin_up);
    assert_eq!(link("lo").kind, None);
    for port in ["vnet0", "vnet1"] {
        let l = link(port);
        assert_eq!(l.kind, Some(LinkKind::Veth), "{port}");
        assert_eq!(l.controller, Some(virbr0.index), "{port}");
        assert!(l.admin_up && l.lower_up, "{port}");
        assert_eq!(l.oper_state, OperState::Up, "{port}");
    }
    let eth0 = link("eth0");
    assert_eq!(eth0.kind, Some(LinkKind::Veth));
    assert_eq!(eth0.controller, None);
    assert_eq!(eth0.oper_state, OperState::Up);

    // Index, name, MTU, MAC and master agree with `ip -o link`.
    for il in ip_links(&lab.host) {
        let l = link(&il.name);
        assert_eq!(l.index, il.index, "{}", il.name);
        assert_eq!(l.mtu, Some(il.mtu), "{}", il.name);
        assert_eq!(l.mac.as_ref().map(|m| m.to_string()), Some(il.mac.clone()), "{}", il.name);
        let master = l.controller.and_then(|c| snap.link_by_index(c)).map(|m| m.name.clone());
        assert_eq!(master, il.master, "{}", il.name);
    }

    // The bridge: its ports and subnets.
    let ports: Vec<&str> = snap.ports("virbr0").unwrap().iter().map(|l| l.name.as_str()).collect();
    assert_eq!(ports, ["vnet0", "vnet1"]);
    let bridges: Vec<&str> = snap.bridges().map(|l| l.name.as_str()).collect();
    assert_eq!(bridges, ["virbr0"]);
    let subnets = snap.bridge_subnets("virbr0").unwrap();
    assert_eq!(subnets.ipv4, ["192.168.122.0/24".parse::<Ipv4Net>().unwrap()]);
    assert!(subnets.ipv6.is_empty(), "only link-local IPv6 on virbr0: {:?}", subnets.ipv6);

    // The uplink is the default route's interface; the route's gateway is the lab's.
    let default = snap.default_route(Family::Ipv4).expect("IPv4 default route");
    assert_eq!(default.oif, Some(eth0.index));
    assert_eq!(default.gateway, Some(IpAddr::V4(Ipv4Addr::new(192, 168, 1, 1))));
    assert_eq!(default.destination, net("0.0.0.0/0"));
    assert_eq!(snap.uplink(Family::Ipv4).map(|l| l.name.as_str()), Some("eth0"));
    assert_eq!(snap.default_route(Family::Ipv6), None);
    assert_eq!(snap.uplink(Family::Ipv6), None);

    // Every IPv4 address on the uplink, in order, with label and primary/secondary.
    let on_eth0: Vec<(IpNet, Option<&str>, bool, Scope)> = snap
        .addresses_on(eth0.index)
        .filter(|a| a.family() == Family::Ipv4)
        .map(|a| (a.net, a.label.as_deref(), a.is_secondary(), a.scope))
        .collect();
    assert_eq!(
        on_eth0,
        [
            (net("192.168.1.201/24"), Some("eth0"), false, Scope::Universe),
            (net("192.168.1.211/24"), Some("eth0:0"), true, Scope::Universe),
            (net("192.168.1.212/24"), Some("eth0:1"), true, Scope::Universe),
        ]
    );

    // Labels resolve; an interface name resolves to its primary address.
    assert_eq!(snap.resolve_label("eth0:0").unwrap().net, net("192.168.1.211/24"));
    assert_eq!(snap.resolve_label("eth0:1").unwrap().net, net("192.168.1.212/24"));
    assert_eq!(snap.resolve_label("eth0").unwrap().net, net("192.168.1.201/24"));
    assert_eq!(snap.resolve_label("virbr0").unwrap().net, net("192.168.122.1/24"));

    // Every IPv4 address agrees with `ip -o -4 addr`.
    let ours: Vec<(u32, IpNet, bool, Option<String>)> = snap
        .addresses
        .iter()
        .filter(|a| a.family() == Family::Ipv4)
        .map(|a| (a.index, a.net, a.is_secondary(), a.label.clone()))
        .collect();
    let mut theirs = ip_addrs(&lab.host);
    let mut ours = ours;
    ours.sort();
    theirs.sort();
    assert_eq!(ours, theirs);
}

#[test]
fn rtnl_convenience_queries_match_the_snapshot() {
    if !natkeeper_tests::can_run() {
        return;
    }
    let lab = Lab::article();
    // The socket belongs to the namespace it was opened in, whichever thread uses it later.
    let mut rtnl = lab.host.run(Rtnl::open).unwrap();
    let snap = rtnl.snapshot().unwrap();
    assert_eq!(rtnl.link("virbr0").unwrap(), *snap.link("virbr0").unwrap());
    let ports: Vec<String> = rtnl.bridge_ports("virbr0").unwrap().into_iter().map(|l| l.name).collect();
    assert_eq!(ports, ["vnet0", "vnet1"]);
    assert_eq!(rtnl.bridge_subnets("virbr0").unwrap(), snap.bridge_subnets("virbr0").unwrap());
    let eth00 = rtnl.resolve_label("eth0:0").unwrap();
    assert_eq!(eth00.net, net("192.168.1.211/24"));
    assert_eq!(eth00.subnet(), net("192.168.1.0/24"));
    assert!(eth00.is_secondary());
    assert_eq!(rtnl.default_route(Family::Ipv4).unwrap().as_ref(), snap.default_route(Family::Ipv4));
    assert_eq!(rtnl.default_route(Family::Ipv6).unwrap(), None);
    assert_eq!(snap.links.len(), 5);
}

#[test]
fn names_that_do_not_exist_are_typed_errors_listing_what_does() {
    if !natkeeper_tests::can_run() {
        return;
    }
    let lab = Lab::article();
    let snap = snapshot(&lab.host);

    let e = snap.link("virbr9").unwrap_err();
    match &e {
        Error::NoSuchInterface { name, existing } => {
            assert_eq!(name, "virbr9");
            assert_eq!(existing, &["eth0", "lo", "virbr0", "vnet0", "vnet1"]);
        }
        other => panic!("wrong error: {other:?}"),
    }
    assert_eq!(
        e.to_string(),
        "no interface named \"virbr9\"; existing interfaces: eth0, lo, virbr0, vnet0, vnet1"
    );

    assert!(matches!(snap.ports("virbr9"), Err(Error::NoSuchInterface { .. })));
    let e = snap.bridge_subnets("eth0").unwrap_err();
    match &e {
        Error::NotABridge { name, kind } => {
            assert_eq!(name, "eth0");
            assert_eq!(kind, &Some(LinkKind::Veth));
        }
        other => panic!("wrong error: {other:?}"),
    }
    assert_eq!(e.to_string(), "\"eth0\" is not a bridge (its kind is veth)");

    let e = snap.resolve_label("eth0:9").unwrap_err();
    match &e {
        Error::NoSuchLabel { label, existing } => {
            assert_eq!(label, "eth0:9");
            assert_eq!(existing, &["eth0", "eth0:0", "eth0:1", "lo", "virbr0"]);
        }
        other => panic!("wrong error: {other:?}"),
    }
    assert!(e.to_string().contains("eth0:9") && e.to_string().contains("eth0:0, eth0:1"));
    assert_eq!(e.errno(), None);

    let mut rtnl = lab.host.run(Rtnl::open).unwrap();
    assert!(matches!(rtnl.link("eth9"), Err(Error::NoSuchInterface { name, .. }) if name == "eth9"));
    assert!(matches!(rtnl.bridge_ports("lo"), Err(Error::NotABridge { kind: None, .. })));
}

#[test]
fn link_kinds_are_typed_and_unknown_ones_kept_by_name() {
    if !natkeeper_tests::can_run() {
        return;
    }
    let ns = Netns::new("kinds");
    ns.ip(&["link", "add", "br1", "type", "bridge"]);
    ns.ip(&["tuntap", "add", "tap1", "mode", "tap"]);
    ns.ip(&["tuntap", "add", "tun1", "mode", "tun"]);
    ns.ip(&["link", "add", "link", "br1", "name", "mv1", "type", "macvlan"]);
    ns.ip(&["link", "add", "vx1", "type", "vxlan", "id", "42", "dstport", "4789"]);
    ns.ip(&["link", "add", "ifb1", "type", "ifb"]);
    ns.ip(&["link", "add", "ve1", "type", "veth", "peer", "name", "ve2"]);
    ns.ip(&["link", "set", "tap1", "master", "br1"]);
    ns.ip(&["link", "set", "ve1", "master", "br1"]);
    ns.ip(&["link", "set", "ve1", "up"]);
    ns.ip(&["link", "set", "br1", "mtu", "1400"]);

    let snap = snapshot(&ns);
    let kind = |n: &str| snap.link(n).unwrap().kind.clone();
    assert_eq!(kind("br1"), Some(LinkKind::Bridge));
    assert_eq!(kind("tap1"), Some(LinkKind::Tap));
    assert_eq!(kind("tun1"), Some(LinkKind::Tun));
    assert_eq!(kind("mv1"), Some(LinkKind::Macvlan));
    assert_eq!(kind("vx1"), Some(LinkKind::Vxlan));
    assert_eq!(kind("ifb1"), Some(LinkKind::Other("ifb".into())));
    assert_eq!(kind("ve2"), Some(LinkKind::Veth));
    assert_eq!(kind("lo"), None);
    assert_eq!(LinkKind::Other("ifb".into()).to_string(), "ifb");
    assert_eq!(LinkKind::Tap.to_string(), "tap");

    let ports: Vec<&str> = snap.ports("br1").unwrap().iter().map(|l| l.name.as_str()).collect();
    assert_eq!(ports, ["tap1", "ve1"]);
    // A veth that is up with its peer down: admin up, carrier down.
    let ve1 = snap.link("ve1").unwrap();
    assert!(ve1.admin_up && !ve1.lower_up);
    assert_eq!(ve1.oper_state, OperState::LowerLayerDown);
    let ve2 = snap.link("ve2").unwrap();
    assert!(!ve2.admin_up);
    assert_eq!(ve2.oper_state, OperState::Down);
    assert_eq!(snap.link("br1").unwrap().mtu, Some(1400));
    // A TUN device has no hardware address.
    assert_eq!(snap.link("tun1").unwrap().mac, None);
    // A bridge without addresses has no subnets; no default route in a bare namespace.
    assert_eq!(snap.bridge_subnets("br1").unwrap(), Default::default());
    assert_eq!(snap.uplink(Family::Ipv4), None);
}

#[test]
fn ipv6_subnets_default_route_and_point_to_point_peers() {
    if !natkeeper_tests::can_run() {
        return;
    }
    let ns = Netns::new("v6");
    ns.ip(&["link", "add", "br6", "type", "bridge"]);
    ns.ip(&["link", "add", "up6", "type", "veth", "peer", "name", "up6p"]);
    ns.ip(&["addr", "add", "fd00:122::1/64", "dev", "br6", "nodad"]);
    ns.ip(&["addr", "add", "fd00:122::2/64", "dev", "br6", "nodad"]);
    ns.ip(&["addr", "add", "fd00:123::1/64", "dev", "br6", "nodad"]);
    ns.ip(&["addr", "add", "10.1.0.1/16", "dev", "br6"]);
    ns.ip(&["addr", "add", "10.9.0.1", "peer", "10.9.0.2/32", "dev", "up6"]);
    ns.ip(&["addr", "add", "2001:db8::10/64", "dev", "up6", "nodad"]);
    ns.ip(&["link", "set", "br6", "up"]);
    ns.ip(&["link", "set", "up6", "up"]);
    ns.ip(&["link", "set", "up6p", "up"]);
    ns.ip(&["-6", "route", "add", "default", "via", "2001:db8::1", "dev", "up6", "metric", "300"]);
    ns.ip(&["-6", "route", "add", "default", "via", "2001:db8::2", "dev", "up6", "metric", "200"]);

    let snap = snapshot(&ns);
    let subnets = snap.bridge_subnets("br6").unwrap();
    assert_eq!(subnets.ipv4, ["10.1.0.0/16".parse::<Ipv4Net>().unwrap()]);
    let want: Vec<Ipv6Net> = vec!["fd00:122::/64".parse().unwrap(), "fd00:123::/64".parse().unwrap()];
    assert_eq!(subnets.ipv6, want);
    // The kernel picks the lower metric.
    let default = snap.default_route(Family::Ipv6).unwrap();
    assert_eq!(default.gateway, Some("2001:db8::2".parse().unwrap()));
    assert_eq!(default.metric, Some(200));
    assert_eq!(snap.uplink(Family::Ipv6).unwrap().name, "up6");
    assert_eq!(snap.default_route(Family::Ipv4), None);

    let up6 = snap.link("up6").unwrap().index;
    let ptp = snap.addresses_on(up6).find(|a| a.family() == Family::Ipv4).unwrap();
    assert_eq!(ptp.net, net("10.9.0.1/32"));
    assert_eq!(ptp.peer, Some("10.9.0.2".parse().unwrap()));
    let v6 = snap.addresses_on(up6).find(|a| a.net == net("2001:db8::10/64")).unwrap();
    assert_eq!((v6.label.as_deref(), v6.is_secondary(), v6.scope), (None, false, Scope::Universe));
    assert_eq!(v6.peer, None);
}

#[test]
fn multipath_and_ipv4_via_ipv6_routes() {
    if !natkeeper_tests::can_run() {
        return;
    }
    let ns = Netns::new("mpath");
    for (dev, peer, addr) in [("up1", "up1p", "10.0.1.2/24"), ("up2", "up2p", "10.0.2.2/24")] {
        ns.ip(&["link", "add", dev, "type", "veth", "peer", "name", peer]);
        ns.ip(&["addr", "add", addr, "dev", dev]);
        ns.ip(&["link", "set", dev, "up"]);
        ns.ip(&["link", "set", peer, "up"]);
    }
    ns.ip(&["addr", "add", "2001:db8:5::2/64", "dev", "up2", "nodad"]);
    ns.ip(&[
        "route", "add", "default", "nexthop", "via", "10.0.1.1", "dev", "up1", "weight", "3", "nexthop",
        "via", "10.0.2.1", "dev", "up2",
    ]);
    ns.ip(&["route", "add", "10.9.0.0/16", "via", "inet6", "2001:db8:5::1", "dev", "up2"]);
    ns.ip(&["route", "add", "blackhole", "10.66.0.0/16", "table", "1000"]);

    let snap = snapshot(&ns);
    let up1 = snap.link("up1").unwrap().index;
    let up2 = snap.link("up2").unwrap().index;
    let default = snap.default_route(Family::Ipv4).unwrap();
    assert_eq!((default.oif, default.gateway), (None, None));
    let hops: Vec<(u32, Option<IpAddr>, u16)> =
        default.nexthops.iter().map(|h| (h.oif, h.gateway, h.weight)).collect();
    assert_eq!(
        hops,
        [(up1, Some("10.0.1.1".parse().unwrap()), 3), (up2, Some("10.0.2.1".parse().unwrap()), 1),]
    );
    assert_eq!(snap.uplink(Family::Ipv4).unwrap().name, "up1");

    let via = snap.routes.iter().find(|r| r.destination == net("10.9.0.0/16")).unwrap();
    assert_eq!(via.gateway, Some("2001:db8:5::1".parse().unwrap()));
    assert_eq!(via.oif, Some(up2));

    let blackhole = snap.routes.iter().find(|r| r.destination == net("10.66.0.0/16")).unwrap();
    assert_eq!(blackhole.table, 1000);
    assert_eq!(blackhole.kind, natkeeper_rtnl::RouteKind::Blackhole);
    // The local table's routes are there too: the host's own addresses.
    assert!(snap.routes.iter().any(|r| r.table == 255
        && r.kind == natkeeper_rtnl::RouteKind::Local
        && r.destination == net("10.0.1.2/32")));
}

#[test]
fn a_label_shared_by_several_addresses_resolves_to_the_primary() {
    use natkeeper_rtnl::{Address, AddressFlags};
    let addr = |n: &str, label: &str, secondary: bool| Address {
        index: 2,
        net: net(n),
        peer: None,
        label: Some(label.to_string()),
        scope: Scope::Universe,
        flags: if secondary { AddressFlags::SECONDARY } else { AddressFlags::PERMANENT },
    };
    let snap = Snapshot {
        addresses: vec![
            addr("10.0.0.2/24", "x", true),
            addr("10.1.0.1/24", "x", false),
            addr("10.2.0.2/24", "y", true),
            addr("10.2.0.3/24", "y", true),
        ],
        ..Snapshot::default()
    };
    assert_eq!(snap.resolve_label("x").unwrap().net, net("10.1.0.1/24"));
    // Only secondaries: the first of them.
    assert_eq!(snap.resolve_label("y").unwrap().net, net("10.2.0.2/24"));
    assert!(
        matches!(snap.resolve_label("z"), Err(Error::NoSuchLabel { existing, .. }) if existing == ["x", "y"])
    );
}

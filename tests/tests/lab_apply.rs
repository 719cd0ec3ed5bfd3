//! The article's two setups applied to its lab, with real traffic: port forwards and 1:1 NAT under
//! each firewall landscape natkeeper meets.

use std::net::{IpAddr, Ipv4Addr, SocketAddrV4};
use std::path::Path;
use std::time::Duration;

use natkeeper::{Host, Options, Policy};
use natkeeper_tests::http::{EchoServer, get};
use natkeeper_tests::lab::{self, Lab};
use natkeeper_tests::oracle;

const T: Duration = Duration::from_secs(2);

fn example(name: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples").join(name)).unwrap()
}

/// Applies the configuration `text` in the lab's host, then checks the forwards map against the
/// independent oracle.
fn apply(lab: &Lab, text: &str) -> natkeeper::Applied {
    let policy = Policy::parse(text).unwrap();
    let applied = lab.host.run(|| Host::open().unwrap().apply(&policy, &Options::default()).unwrap());
    oracle::assert_forwards_match(&lab.host, text);
    applied
}

/// Echo servers on every guest port the article uses.
fn serve(lab: &Lab) -> Vec<EchoServer> {
    lab.guests.iter().map(|g| EchoServer::start(&g.ns, &[80, 443, 25, 110, 143, 22])).collect()
}

fn reach(lab: &Lab, public: Ipv4Addr, port: u16) -> std::io::Result<natkeeper_tests::http::Echo> {
    get(&lab.outside, None, SocketAddrV4::new(public, port), T)
}

fn assert_forwarded(lab: &Lab, public: Ipv4Addr, port: u16, guest: u8, guest_port: u16) {
    let echo = reach(lab, public, port).unwrap_or_else(|e| panic!("{public}:{port} -> .{guest}: {e}"));
    assert_eq!(
        echo.server,
        SocketAddrV4::new(Ipv4Addr::new(192, 168, 122, guest), guest_port).into(),
        "{public}:{port}"
    );
    assert_eq!(echo.peer.ip(), IpAddr::V4(lab::CLIENT), "the guest must see the client's own address");
}

fn poor_mans_forwards_work(lab: &Lab) {
    for (port, guest, guest_port) in [
        (80, 41, 80),
        (443, 41, 443),
        (25, 42, 25),
        (110, 42, 110),
        (143, 42, 143),
        (8080, 42, 80),
        (8443, 42, 443),
    ] {
        assert_forwarded(lab, lab::HOST_PUBLIC, port, guest, guest_port);
    }
    let refused = reach(lab, lab::HOST_PUBLIC, 22);
    assert!(refused.is_err(), "port 22 is not forwarded: {refused:?}");
}

#[test]
fn poor_man_without_any_firewall() {
    if !natkeeper_tests::can_run() {
        return;
    }
    let lab = Lab::article();
    let _servers = serve(&lab);
    let applied = apply(&lab, &example("poor-man.toml"));
    assert!(!applied.plan.is_empty());
    // The oracle sees what the article asks for: 7 ports on each of the uplink's 3 addresses.
    let held = oracle::kernel_forwards(&lab.host);
    assert_eq!(held.len(), 21, "{held:#?}");
    assert!(held.iter().any(|e| e.to_string() == "tcp 192.168.1.211:8080 -> 192.168.122.42:80"), "{held:#?}");
    poor_mans_forwards_work(&lab);
    // Applying again changes nothing.
    let again = apply(&lab, &example("poor-man.toml"));
    assert!(again.plan.is_empty(), "second plan must be empty:\n{}", again.plan);
}

fn fixture(name: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(name)).unwrap()
}

/// Runs `f` on a lab that holds `landscape`'s firewall.
fn with_landscape(landscape: &str, guests: &[u8], f: impl FnOnce(&Lab)) {
    if !natkeeper_tests::can_run() {
        return;
    }
    let lab = Lab::with_guests(guests);
    match landscape {
        "libvirt-iptables" => lab.host.iptables_restore(&[], &fixture("libvirt9-iptables.rules")),
        "libvirt-nftables" => lab.host.nft_load(&fixture("libvirt11-nftables.nft")),
        "docker" => lab.host.iptables_restore(&[], &fixture("docker-forward-drop.rules")),
        "none" => {}
        other => panic!("unknown landscape {other}"),
    }
    f(&lab);
}

#[test]
fn poor_man_under_libvirts_iptables_rules() {
    with_landscape("libvirt-iptables", &[41, 42], |lab| {
        let _servers = serve(lab);
        let before = lab.host.iptables_save();
        apply(lab, &example("poor-man.toml"));
        poor_mans_forwards_work(lab);
        // iptables-save still reads the whole table; the holes are ordinary iptables rules at the head.
        let save = lab.host.iptables_save();
        let forward: Vec<&str> = save.lines().filter(|l| l.starts_with("-A FORWARD")).collect();
        assert_eq!(
            forward[..2],
            [
                "-A FORWARD -i virbr0 -m connmark --mark 0x4e4b0000/0xffff0000 -m comment --comment \"natkeeper: virbr0 out\" -j ACCEPT",
                "-A FORWARD -o virbr0 -m connmark --mark 0x4e4b0000/0xffff0000 -m comment --comment \"natkeeper: virbr0 in\" -j ACCEPT",
            ]
        );
        lab.host.exec_ok("iptables", &["-L", "-n"]);
        lab.host.exec_ok("iptables", &["--list-rules"]);
        // Without the holes libvirt's REJECT refuses the forwards: the holes are what makes them work.
        lab.host.exec_ok("iptables", &["-D", "FORWARD", "1"]);
        lab.host.exec_ok("iptables", &["-D", "FORWARD", "1"]);
        let refused = reach(lab, lab::HOST_PUBLIC, 8080);
        assert!(
            matches!(&refused, Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused),
            "libvirt's REJECT must refuse: {refused:?}"
        );
        let again = apply(lab, &example("poor-man.toml"));
        assert_eq!(again.plan.changes.len(), 2, "only the two holes come back:\n{}", again.plan);
        assert_forwarded(lab, lab::HOST_PUBLIC, 8080, 42, 80);
        // delete removes ours only: the ruleset is byte-identical to before.
        lab.host.run(|| Host::open().unwrap().delete().unwrap());
        assert_eq!(strip_counters(&lab.host.iptables_save()), strip_counters(&before));
        assert!(!lab.host.nft_list().contains("natkeeper"));
    });
}

fn strip_counters(save: &str) -> String {
    save.lines()
        .map(|l| match l.split_once(" [") {
            Some((head, _)) if l.starts_with(':') => head.to_string(),
            _ => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn poor_man_under_libvirts_nftables_rules() {
    with_landscape("libvirt-nftables", &[41, 42], |lab| {
        let _servers = serve(lab);
        apply(lab, &example("poor-man.toml"));
        poor_mans_forwards_work(lab);
        let list = lab.host.nft_list();
        let guest_input = list.split("chain guest_input").nth(1).unwrap();
        let first_rule = guest_input.lines().nth(1).unwrap().trim();
        assert!(
            first_rule.starts_with("oifname \"virbr0\" ct mark 0x4e4b0000/16 counter")
                && first_rule.ends_with("accept comment \"natkeeper: virbr0 in\""),
            "the hole must head guest_input: {first_rule}"
        );
        assert!(apply(lab, &example("poor-man.toml")).plan.is_empty());
    });
}

#[test]
fn poor_man_under_a_docker_style_forward_drop() {
    with_landscape("docker", &[41, 42], |lab| {
        let _servers = serve(lab);
        apply(lab, &example("poor-man.toml"));
        poor_mans_forwards_work(lab);
    });
}

/// Rich man's setup: .211 and .212 map whole onto .41 and .42, both directions; guest .43 has no
/// public address of its own and leaves through libvirt's masquerade.
fn rich_man_works(lab: &Lab) {
    let _servers = serve(lab);
    for port in [22, 80, 443] {
        assert_forwarded(lab, lab::EXTRA_0, port, 41, port);
        assert_forwarded(lab, lab::EXTRA_1, port, 42, port);
    }
    let _outside = EchoServer::start(&lab.outside, &[80]);
    for (guest, seen_as) in [(41, lab::EXTRA_0), (42, lab::EXTRA_1), (43, lab::HOST_PUBLIC)] {
        let echo = get(&lab.guest(guest).ns, None, SocketAddrV4::new(lab::CLIENT, 80), T)
            .unwrap_or_else(|e| panic!("guest .{guest} -> outside: {e}"));
        assert_eq!(echo.peer.ip(), IpAddr::V4(seen_as), "guest .{guest} must be seen as {seen_as}");
    }
}

#[test]
fn rich_man_under_libvirts_iptables_rules() {
    with_landscape("libvirt-iptables", &[41, 42, 43], |lab| {
        apply(lab, &example("rich-man.toml"));
        rich_man_works(lab);
    });
}

#[test]
fn rich_man_under_libvirts_nftables_rules() {
    with_landscape("libvirt-nftables", &[41, 42, 43], |lab| {
        apply(lab, &example("rich-man.toml"));
        rich_man_works(lab);
    });
}

#[test]
fn hairpin_from_the_host_and_from_a_guest() {
    with_landscape("libvirt-iptables", &[41, 42], |lab| {
        let _servers = serve(lab);
        apply(lab, &example("poor-man.toml"));
        // From the host itself, to its own public address.
        let echo = get(&lab.host, None, SocketAddrV4::new(lab::HOST_PUBLIC, 8080), T)
            .expect("host -> own public :8080");
        assert_eq!(echo.server, SocketAddrV4::new(Ipv4Addr::new(192, 168, 122, 42), 80).into());
        // From guest .41 to the public address forwarded to .42.
        let echo = get(&lab.guest(41).ns, None, SocketAddrV4::new(lab::HOST_PUBLIC, 8080), T)
            .expect("guest -> public :8080");
        assert_eq!(echo.server, SocketAddrV4::new(Ipv4Addr::new(192, 168, 122, 42), 80).into());
    });
}

#[test]
fn changing_one_forward_changes_one_map_element() {
    if !natkeeper_tests::can_run() {
        return;
    }
    let lab = Lab::article();
    let _servers = serve(&lab);
    let text = example("poor-man.toml");
    apply(&lab, &text);
    let changed = text.replace("port = 8443", "port = 9443");
    assert_ne!(changed, text);
    let applied = apply(&lab, &changed);
    let lines: Vec<String> = applied.plan.to_string().lines().map(str::to_string).collect();
    // 8443 was forwarded on each of the uplink's three addresses: three elements out, three in.
    assert_eq!(lines.len(), 6, "{lines:#?}");
    assert!(lines.iter().filter(|l| l.starts_with("- forward tcp") && l.contains(":8443 ->")).count() == 3);
    assert!(lines.iter().filter(|l| l.starts_with("+ forward tcp") && l.contains(":9443 ->")).count() == 3);
    assert!(
        applied
            .plan
            .changes
            .iter()
            .all(|c| matches!(c, natkeeper::Change::AddElems { .. } | natkeeper::Change::DeleteElems { .. }))
    );
    assert_forwarded(&lab, lab::HOST_PUBLIC, 9443, 42, 443);
    assert!(reach(&lab, lab::HOST_PUBLIC, 8443).is_err());
}

#[test]
fn host_protection_limits_and_drops_icmp() {
    use natkeeper_tests::icmp::{ECHO_REPLY, ECHO_REQUEST, Probe, TIMESTAMP_REQUEST, send_and_count};
    if !natkeeper_tests::can_run() {
        return;
    }
    let lab = Lab::article();
    let ms = Duration::from_millis;
    let count = |payload: usize, n: u16, gap_ms: u64| {
        let probe = Probe {
            kind: ECHO_REQUEST,
            answer: ECHO_REPLY,
            payload,
            count: n,
            gap: ms(gap_ms),
            wait: ms(300),
        };
        send_and_count(&lab.outside, lab::HOST_PUBLIC, probe)
    };
    let timestamps = || {
        let probe =
            Probe { kind: TIMESTAMP_REQUEST, answer: 14, payload: 12, count: 3, gap: ms(10), wait: ms(300) };
        send_and_count(&lab.outside, lab::HOST_PUBLIC, probe)
    };
    // Without protection: every echo is answered, big ones too, and timestamp requests as well.
    assert_eq!(count(56, 20, 5), 20);
    assert_eq!(count(200, 3, 10), 3);
    assert_eq!(timestamps(), 3);

    apply(&lab, "[host]\nicmp_echo_rate = \"2/second\"\nicmp_echo_max_size = 84\ndrop_other_icmp = true\n");
    // 20 echo requests in 100 ms: the burst (5) and a few more at 2/s pass, the rest are dropped.
    let answered = count(56, 20, 5);
    assert!((5..=7).contains(&answered), "{answered} of 20 answered under a 2/second limit with burst 5");
    std::thread::sleep(Duration::from_secs(3)); // let the bucket refill
    // Larger than 84 bytes of IP (56 bytes of payload + 8 + 20 = 84 passes, 100 + 28 does not).
    assert_eq!(count(100, 2, 10), 0, "echo requests over 84 bytes are dropped");
    assert_eq!(count(56, 2, 10), 2, "84-byte echo requests are answered");
    assert_eq!(timestamps(), 0, "other ICMP is dropped");
}

#[test]
fn one_handle_applies_changes_without_rereading_and_notices_other_writers() {
    if !natkeeper_tests::can_run() {
        return;
    }
    let lab = Lab::article();
    let _servers = serve(&lab);
    let text = example("poor-man.toml");
    let changed_text = text.replace("port = 8443", "port = 9443");
    let changed = Policy::parse(&changed_text).unwrap();
    let original = Policy::parse(&text).unwrap();
    let mut host = lab.host.run(|| Host::open().unwrap());
    let mut apply_on_handle = |policy: &Policy, text: &str| {
        let applied = lab.host.run(|| host.apply(policy, &Options::default()).unwrap());
        oracle::assert_forwards_match(&lab.host, text);
        applied
    };
    apply_on_handle(&original, &text);
    // Nobody else wrote: the change is planned from what this handle committed.
    let applied = apply_on_handle(&changed, &changed_text);
    assert_eq!(applied.plan.line_count(), 6, "{}", applied.plan);
    assert!(apply_on_handle(&changed, &changed_text).plan.is_empty());
    // Someone deletes an element behind our back: the generation moved, the kernel is read again.
    lab.host.exec_ok(
        "nft",
        &["delete", "element", "ip", "natkeeper", "forwards", "{ 192.168.1.201 . tcp . 9443 }"],
    );
    let again = apply_on_handle(&changed, &changed_text);
    assert_eq!(again.plan.to_string().trim(), "+ forward tcp 192.168.1.201:9443 -> 192.168.122.42:443");
    // Someone adds a forward of their own to natkeeper's map: it is found and taken out again.
    lab.host.exec_ok(
        "nft",
        &[
            "add",
            "element",
            "ip",
            "natkeeper",
            "forwards",
            "{ 192.168.1.201 . tcp . 2222 : 192.168.122.41 . 22 }",
        ],
    );
    let again = apply_on_handle(&changed, &changed_text);
    assert_eq!(again.plan.to_string().trim(), "- forward tcp 192.168.1.201:2222 -> 192.168.122.41:22");
    // Someone flushes the map and refills it as it was: nothing to do, however it was written.
    let listing = lab.host.exec_ok("nft", &["list", "map", "ip", "natkeeper", "forwards"]);
    lab.host.exec_ok("nft", &["flush", "map", "ip", "natkeeper", "forwards"]);
    lab.host
        .nft_load(&listing.replace("table ip natkeeper {", "add table ip natkeeper\ntable ip natkeeper {"));
    assert!(apply_on_handle(&changed, &changed_text).plan.is_empty());
    assert_forwarded(&lab, lab::HOST_PUBLIC, 9443, 42, 443);
    assert!(reach(&lab, lab::HOST_PUBLIC, 8443).is_err());
}

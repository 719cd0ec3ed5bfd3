//! natkeeper-rtnl's change notifications inside test namespaces: addresses added and removed, links
//! deleted, per-namespace isolation, polling the descriptor, and an overrun reported as a resync.

use std::os::fd::AsFd;
use std::time::Duration;

use natkeeper_rtnl::ipnet::IpNet;
use natkeeper_rtnl::{Event, Events, Group, LinkKind};
use natkeeper_tests::Netns;
use natkeeper_tests::lab::Lab;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};

/// A safety net against a hung test, not a measurement: events arrive within microseconds.
const PATIENCE: Duration = Duration::from_secs(10);

/// Reads events until `want` matches one (at most 1000), returning it and those before it.
fn wait_for(ev: &mut Events, what: &str, want: impl Fn(&Event) -> bool) -> (Event, Vec<Event>) {
    let mut seen = Vec::new();
    for _ in 0..1000 {
        match ev.recv_timeout(PATIENCE).expect("event stream") {
            Some(e) if want(&e) => return (e, seen),
            Some(e) => seen.push(e),
            None => break,
        }
    }
    panic!("never saw {what}; saw {seen:#?}");
}

fn net(s: &str) -> IpNet {
    s.parse().unwrap()
}

#[test]
fn adding_an_address_and_deleting_a_link_are_seen() {
    if !natkeeper_tests::can_run() {
        return;
    }
    let lab = Lab::article();
    let mut ev = lab.host.run(Events::open).unwrap();
    let eth0 = lab.host.run(|| natkeeper_rtnl::Rtnl::open()?.link("eth0")).unwrap();

    lab.host.ip(&["addr", "add", "192.168.1.213/24", "dev", "eth0", "label", "eth0:2"]);
    let (e, _) = wait_for(
        &mut ev,
        "NewAddress 192.168.1.213",
        |e| matches!(e, Event::NewAddress(a) if a.net == net("192.168.1.213/24")),
    );
    let Event::NewAddress(a) = e else { unreachable!() };
    assert_eq!(a.index, eth0.index);
    assert_eq!(a.label.as_deref(), Some("eth0:2"));
    assert!(a.is_secondary());

    lab.host.ip(&["addr", "del", "192.168.1.213/24", "dev", "eth0"]);
    wait_for(
        &mut ev,
        "DelAddress 192.168.1.213",
        |e| matches!(e, Event::DelAddress(a) if a.net == net("192.168.1.213/24") && a.index == eth0.index),
    );

    let vnet1 = lab.host.run(|| natkeeper_rtnl::Rtnl::open()?.link("vnet1")).unwrap();
    lab.host.ip(&["link", "del", "vnet1"]);
    let (e, _) = wait_for(&mut ev, "DelLink vnet1", |e| matches!(e, Event::DelLink(l) if l.name == "vnet1"));
    let Event::DelLink(l) = e else { unreachable!() };
    assert_eq!(l.index, vnet1.index);

    // A new link is seen with its kind.
    lab.host.ip(&["link", "add", "virbr1", "type", "bridge"]);
    wait_for(
        &mut ev,
        "NewLink virbr1",
        |e| matches!(e, Event::NewLink(l) if l.name == "virbr1" && l.kind == Some(LinkKind::Bridge)),
    );
    // Nothing is left over that was not caused by us: no resync, no undecodable message.
    while let Some(e) = ev.try_recv().unwrap() {
        assert!(!matches!(e, Event::Resync | Event::Other { .. }), "{e:?}");
    }
}

#[test]
fn events_belong_to_the_namespace_the_subscription_was_opened_in() {
    if !natkeeper_tests::can_run() {
        return;
    }
    let a = Netns::new("ev-a");
    let b = Netns::new("ev-b");
    let mut ev = a.run(Events::open).unwrap();
    b.ip(&["link", "add", "br-b", "type", "bridge"]);
    b.ip(&["addr", "add", "10.2.0.1/24", "dev", "br-b"]);
    a.ip(&["link", "add", "br-a", "type", "bridge"]);
    let (_, before) =
        wait_for(&mut ev, "NewLink br-a", |e| matches!(e, Event::NewLink(l) if l.name == "br-a"));
    assert!(before.is_empty(), "events from elsewhere: {before:#?}");
    a.ip(&["addr", "add", "10.1.0.1/24", "dev", "br-a"]);
    let (_, before) = wait_for(
        &mut ev,
        "NewAddress 10.1.0.1",
        |e| matches!(e, Event::NewAddress(a) if a.net == net("10.1.0.1/24")),
    );
    assert!(
        !before.iter().any(|e| matches!(e, Event::NewAddress(a) if a.net == net("10.2.0.1/24"))),
        "{before:#?}"
    );
}

#[test]
fn the_descriptor_polls_with_other_sockets_and_groups_are_separate() {
    if !natkeeper_tests::can_run() {
        return;
    }
    let ns = Netns::new("ev-poll");
    let (mut links, mut addrs) = ns.run(|| {
        (Events::open_groups(&[Group::Link]).unwrap(), Events::open_groups(&[Group::Ipv4Address]).unwrap())
    });
    let readable = |links: &Events, addrs: &Events, timeout: PollTimeout| {
        let mut fds =
            [PollFd::new(links.as_fd(), PollFlags::POLLIN), PollFd::new(addrs.as_fd(), PollFlags::POLLIN)];
        poll(&mut fds, timeout).unwrap();
        fds.map(|f| f.revents().is_some_and(|r| r.contains(PollFlags::POLLIN)))
    };
    assert_eq!(readable(&links, &addrs, PollTimeout::ZERO), [false, false]);
    assert_eq!(links.try_recv().unwrap(), None);
    assert_eq!(addrs.recv_timeout(Duration::ZERO).unwrap(), None);

    // An address on lo: only the address subscription hears it.
    ns.ip(&["addr", "add", "10.7.0.1/32", "dev", "lo"]);
    let patience = PollTimeout::try_from(PATIENCE).unwrap();
    assert_eq!(readable(&links, &addrs, patience), [false, true]);
    // Readable, so the blocking calls return at once.
    match addrs.recv().unwrap() {
        Event::NewAddress(a) => assert_eq!(a.net, net("10.7.0.1/32")),
        other => panic!("{other:?}"),
    }
    assert_eq!(addrs.try_recv().unwrap(), None);

    // A link change: only the link subscription hears it.
    ns.ip(&["link", "add", "br-p", "type", "bridge"]);
    assert_eq!(readable(&links, &addrs, patience), [true, false]);
    let first = links.next().expect("never ends").unwrap();
    assert!(matches!(&first, Event::NewLink(l) if l.name == "br-p"), "{first:?}");
}

#[test]
fn an_overrun_is_a_resync_and_the_subscription_goes_on() {
    if !natkeeper_tests::can_run() {
        return;
    }
    let ns = Netns::new("ev-enobufs");
    let mut ev = ns.run(|| Events::open_groups(&[Group::Ipv4Address])).unwrap();
    // The smallest buffer the kernel allows: a few notifications fit, 250 do not.
    ev.set_receive_buffer(1).unwrap();
    let batch: String =
        (0..250).map(|i| format!("addr add 10.60.{}.{}/32 dev lo\n", i / 200, i % 200 + 1)).collect();
    let out = ns.exec_stdin("ip", &["-batch", "-"], batch.as_bytes());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let (_, before) = wait_for(&mut ev, "Resync", |e| *e == Event::Resync);
    assert!(before.len() < 250, "{} events before the resync", before.len());
    // What was still queued was stale and is gone; what happens next is seen.
    assert_eq!(ev.try_recv().unwrap(), None);
    ns.ip(&["addr", "add", "10.61.0.1/32", "dev", "lo"]);
    let (_, between) = wait_for(
        &mut ev,
        "NewAddress 10.61.0.1",
        |e| matches!(e, Event::NewAddress(a) if a.net == net("10.61.0.1/32")),
    );
    assert!(between.is_empty(), "{between:#?}");
    // A larger buffer holds a burst of 100.
    ev.set_receive_buffer(1 << 20).unwrap();
    let batch: String =
        (0..100).map(|i| format!("addr del 10.60.{}.{}/32 dev lo\n", i / 200, i % 200 + 1)).collect();
    let out = ns.exec_stdin("ip", &["-batch", "-"], batch.as_bytes());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let mut deleted = 0;
    while deleted < 100 {
        match ev.recv_timeout(PATIENCE).unwrap() {
            Some(Event::DelAddress(_)) => deleted += 1,
            other => panic!("after {deleted} deletions: {other:?}"),
        }
    }
    assert_eq!(ev.try_recv().unwrap(), None);
}

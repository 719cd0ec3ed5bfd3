//! `plan(apply(p))` is empty for generated policies: each generated policy is applied — over
//! whatever the previous one left, in one lab host that also holds libvirt's iptables rules (so
//! holes are planned too) — and planning it again must find nothing to do. The policies are small
//! and valid against the lab: networks with every egress, forwards with port lists and ranges mapped
//! onto single ports or ranges, listening addresses and labels, 1:1 NATs, host protection.

use std::path::Path;

use natkeeper::{Host, Options, Policy};
use natkeeper_tests::lab::Lab;
use proptest::collection::vec;
use proptest::option::of;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};

/// The number of policies applied (each is a real commit in the lab; about 20 ms each).
const CASES: u32 = 256;

#[derive(Debug, Clone)]
struct Forward {
    udp: bool,
    tcp: bool,
    /// Offset and length of the public ports inside this forward's own block of 1000.
    first: u16,
    len: u16,
    list: bool,
    guest: u8,
    to_port: Option<u16>,
    to_range: bool,
    on: Option<&'static str>,
}

fn forward() -> impl Strategy<Value = Forward> {
    (
        any::<(bool, bool)>(),
        0u16..900,
        1u16..40,
        any::<bool>(),
        2u8..=254,
        of(1u16..30_000),
        any::<bool>(),
        of(prop_oneof![Just("192.168.1.201"), Just("eth0:1"), Just("eth0")]),
    )
        .prop_map(|((udp, tcp), first, len, list, guest, to_port, to_range, on)| Forward {
            udp,
            tcp: tcp || !udp,
            first,
            len,
            list,
            guest,
            to_port,
            to_range,
            on,
        })
}

#[derive(Debug, Clone)]
struct Generated {
    egress: &'static str,
    forwards: Vec<Forward>,
    nats: Vec<(&'static str, u8)>,
    host: Option<(u8, Option<u16>, bool)>,
}

fn policy() -> impl Strategy<Value = Generated> {
    (
        prop_oneof![Just("libvirt"), Just("masquerade"), Just("snat"), Just("none")],
        vec(forward(), 0..5),
        proptest::sample::subsequence(vec![("eth0:0", 41u8), ("192.168.1.213", 43u8)], 0..=2),
        of((1u8..100, of(28u16..1500), any::<bool>())),
    )
        .prop_map(|(egress, forwards, nats, host)| Generated { egress, forwards, nats, host })
}

fn toml(p: &Generated) -> String {
    let mut t = format!("[[network]]\nname = \"default\"\nbridge = \"virbr0\"\negress = \"{}\"\n", p.egress);
    for (i, f) in p.forwards.iter().enumerate() {
        // Forward i owns public ports 10000 + 1000 i ..: forwards never overlap.
        let base = 10_000 + 1000 * i as u16 + f.first;
        let protos: Vec<&str> =
            [(f.tcp, "\"tcp\""), (f.udp, "\"udp\"")].iter().filter(|p| p.0).map(|p| p.1).collect();
        t.push_str(&format!("\n[[forward]]\nproto = [{}]\n", protos.join(", ")));
        let count = if f.list {
            let ports: Vec<String> = (0..f.len.min(5)).map(|k| (base + 7 * k).to_string()).collect();
            t.push_str(&format!("port = [{}]\n", ports.join(", ")));
            f.len.min(5)
        } else {
            t.push_str(&format!("port = \"{}-{}\"\n", base, base + f.len - 1));
            f.len
        };
        let guest = format!("192.168.122.{}", f.guest);
        match f.to_port {
            // One public range maps onto a guest range as long; a single port onto a port; a list
            // of ports keeps its ports.
            Some(p) if !f.list && (count > 1 || f.to_range) => {
                t.push_str(&format!("to = \"{guest}:{p}-{}\"\n", p + count - 1))
            }
            Some(p) if count == 1 => t.push_str(&format!("to = \"{guest}:{p}\"\n")),
            _ => t.push_str(&format!("to = \"{guest}\"\n")),
        }
        // eth0:0 belongs to a 1:1 NAT when there is one (which takes every port of it).
        let nat_on_eth0_0 = p.nats.iter().any(|(public, _)| *public == "eth0:0");
        match f.on {
            Some("eth0") | None if nat_on_eth0_0 => t.push_str("on = \"192.168.1.201\"\n"),
            Some(on) => t.push_str(&format!("on = \"{on}\"\n")),
            None => {}
        }
    }
    for (public, guest) in &p.nats {
        t.push_str(&format!("\n[[nat]]\npublic = \"{public}\"\nguest = \"192.168.122.{guest}\"\n"));
    }
    if let Some((rate, size, drop)) = p.host {
        t.push_str(&format!("\n[host]\nicmp_echo_rate = \"{rate}/second\"\ndrop_other_icmp = {drop}\n"));
        if let Some(s) = size {
            t.push_str(&format!("icmp_echo_max_size = {s}\n"));
        }
    }
    t
}

#[test]
fn planning_right_after_apply_finds_nothing_to_do() {
    if !natkeeper_tests::can_run() {
        return;
    }
    let lab = Lab::with_guests(&[]);
    let libvirt = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/libvirt9-iptables.rules"),
    )
    .unwrap();
    lab.host.iptables_restore(&[], &libvirt);
    let applied = std::cell::Cell::new(0u32);
    let refused = std::cell::RefCell::new(Vec::<String>::new());
    let mut runner = TestRunner::new(Config { cases: CASES, failure_persistence: None, ..Config::default() });
    let result = runner.run(&policy(), |generated| {
        let text = toml(&generated);
        let policy = match Policy::parse(&text) {
            Ok(p) => p,
            Err(e) => {
                refused.borrow_mut().push(e.to_string());
                return Ok(());
            }
        };
        let outcome = lab.host.run(|| {
            let mut host = Host::open().unwrap();
            let applied = host.apply(&policy, &Options::default())?;
            let (again, _) = host.plan(&policy, &Options::default())?;
            Ok::<_, natkeeper::Error>((applied, again))
        });
        match outcome {
            Ok((_, again)) if again.is_empty() => {
                applied.set(applied.get() + 1);
                Ok(())
            }
            Ok((_, again)) => {
                Err(TestCaseError::fail(format!("plan after apply is not empty:\n{again}\npolicy:\n{text}")))
            }
            Err(natkeeper::Error::Config(e)) => {
                refused.borrow_mut().push(e.to_string());
                Ok(())
            }
            Err(e) => Err(TestCaseError::fail(format!("apply failed: {e}\npolicy:\n{text}"))),
        }
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    let (applied, refused) = (applied.get(), refused.into_inner());
    eprintln!("{applied} policies applied and re-planned empty; {} refused as invalid", refused.len());
    // The generator must mostly produce valid policies, or this test would test little.
    assert!(
        applied * 4 >= CASES * 3,
        "only {applied} of {CASES} generated policies were valid: {refused:#?}"
    );
}

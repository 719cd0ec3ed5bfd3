//! `plan(apply(p))` is empty for generated policies, and the kernel holds exactly the forwards
//! they promise. Each case is a sequence of up to four generated policies applied one after another
//! on one `Host` handle — each over what the previous one left, as an agent does — in a lab host that
//! also holds libvirt's iptables rules (so holes are planned too). After every apply, planning again
//! on the same handle and on a fresh one must find nothing to do, and the forwards map read back with
//! `nft` must equal the independent expansion of `natkeeper_tests::oracle`. The lab is shared
//! between cases but reset before each (natkeeper's table and holes deleted, checked gone), so a
//! case — and a persisted failing seed — replays the same on its own.
//!
//! The policies are small and valid against the lab: networks with every egress, forwards with port
//! lists and ranges mapped onto single ports or ranges, listening addresses and labels, 1:1 NATs,
//! host protection. `PROPTEST_CASES` overrides the number of cases.

use std::path::Path;

use natkeeper::{Host, Options, Policy};
use natkeeper_tests::lab::Lab;
use natkeeper_tests::oracle;
use proptest::collection::vec;
use proptest::option::of;
use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence, TestCaseError, TestRunner};

/// The number of cases (sequences of 1 to 4 policies, each a real commit in the lab of about 20 ms).
const CASES: u32 = 128;

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

/// What one case did: policies applied, and policies refused as invalid (with why).
#[derive(Default)]
struct Tally {
    applied: u32,
    refused: Vec<String>,
}

/// Applies `texts` in order on one handle in `lab`'s host; after each, the plan on the same handle
/// and on a fresh one must be empty and the forwards map must match the oracle.
fn run_sequence(lab: &Lab, texts: &[String], tally: &mut Tally) -> Result<(), TestCaseError> {
    let mut host = lab.host.run(|| Host::open().unwrap());
    for (step, text) in texts.iter().enumerate() {
        let context = || format!("policy {} of {}:\n{text}", step + 1, texts.len());
        let policy = match Policy::parse(text) {
            Ok(p) => p,
            Err(e) => {
                tally.refused.push(e.to_string());
                continue;
            }
        };
        let outcome = lab.host.run(|| {
            host.apply(&policy, &Options::default())?;
            let (again, _) = host.plan(&policy, &Options::default())?;
            let (fresh, _) = Host::open()?.plan(&policy, &Options::default())?;
            Ok::<_, natkeeper::Error>((again, fresh))
        });
        match outcome {
            Ok((again, fresh)) => {
                if !again.is_empty() {
                    return Err(TestCaseError::fail(format!(
                        "plan on the same handle after apply is not empty:\n{again}\n{}",
                        context()
                    )));
                }
                if !fresh.is_empty() {
                    return Err(TestCaseError::fail(format!(
                        "plan on a fresh handle after apply is not empty:\n{fresh}\n{}",
                        context()
                    )));
                }
                oracle::check_forwards(&lab.host, text)
                    .map_err(|e| TestCaseError::fail(format!("{e}\n{}", context())))?;
                tally.applied += 1;
            }
            Err(natkeeper::Error::Config(e)) => tally.refused.push(e.to_string()),
            Err(e) => return Err(TestCaseError::fail(format!("apply failed: {e}\n{}", context()))),
        }
    }
    Ok(())
}

/// Deletes natkeeper's table and holes, and checks they are gone.
fn reset(lab: &Lab) {
    lab.host.run(|| Host::open().unwrap().delete().unwrap());
    let listing = lab.host.nft_list();
    assert!(!listing.contains("table ip natkeeper") && !listing.contains("natkeeper:"), "{listing}");
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
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(CASES);
    let tally = std::cell::RefCell::new(Tally::default());
    // A failing case is saved beside this file (prop_policy.proptest-regressions, committed) and
    // replayed first on every later run.
    let config = Config {
        cases,
        source_file: Some(file!()),
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource("proptest-regressions"))),
        ..Config::default()
    };
    let mut runner = TestRunner::new(config);
    let result = runner.run(&vec(policy(), 1..=4), |generated| {
        reset(&lab);
        let texts: Vec<String> = generated.iter().map(toml).collect();
        run_sequence(&lab, &texts, &mut tally.borrow_mut())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    let Tally { applied, refused } = tally.into_inner();
    eprintln!("{applied} policies applied and re-planned empty; {} refused as invalid", refused.len());
    // The generator must mostly produce valid policies, or this test would test little.
    assert!(
        applied as usize >= 3 * refused.len(),
        "only {applied} generated policies were valid, {} refused: {refused:#?}",
        refused.len()
    );
}

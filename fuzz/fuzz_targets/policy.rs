//! The TOML policy loader (`natkeeper::Policy::parse`), then resolving and planning it against fixed
//! host facts (the article's host: `eth0` with `eth0:0`/`eth0:1`, bridge `virbr0`) and two fixed
//! kernels: an empty one, and the ruleset `capture.sh` dumped from a namespace holding libvirt's
//! iptables and nftables rules, Docker's FORWARD DROP and natkeeper's own table
//! (`fixtures/ruleset.bin`). Seeds: `corpus/policy/`, the examples and hand-written edge cases.
//!
//! Checks: nothing panics; every plan's transaction is bytes that decode again.

#![no_main]

use std::collections::BTreeMap;
use std::sync::OnceLock;

use ipnet::Ipv4Net;
use libfuzzer_sys::fuzz_target;
use natkeeper::resolve::{HostAddr, HostFacts, Mode, resolve};
use natkeeper::{Policy, host::plan_for};
use natkeeper_nft::{Event, Ruleset, parse_notifications};

fn facts() -> HostFacts {
    let addr = |net: &str, label: Option<&str>, secondary: bool| HostAddr {
        net: net.parse().unwrap(),
        label: label.map(str::to_string),
        secondary,
    };
    let mut interfaces = BTreeMap::new();
    interfaces.insert("lo".to_string(), vec![addr("127.0.0.1/8", None, false)]);
    interfaces.insert(
        "eth0".to_string(),
        vec![
            addr("192.168.1.201/24", None, false),
            addr("192.168.1.211/24", Some("eth0:0"), true),
            addr("192.168.1.212/24", Some("eth0:1"), true),
        ],
    );
    interfaces.insert("virbr0".to_string(), vec![addr("192.168.122.1/24", None, false)]);
    interfaces.insert("vnet0".to_string(), vec![]);
    let mut bridges = BTreeMap::new();
    bridges.insert("virbr0".to_string(), vec!["192.168.122.0/24".parse::<Ipv4Net>().unwrap()]);
    HostFacts { interfaces, bridges, uplink: Some("eth0".to_string()) }
}

fn landscape() -> Ruleset {
    let mut r = Ruleset {
        generation: 1,
        tables: Vec::new(),
        chains: Vec::new(),
        sets: Vec::new(),
        elems: Vec::new(),
        rules: Vec::new(),
    };
    let mut lists = Vec::new();
    for n in parse_notifications(include_bytes!("../fixtures/ruleset.bin")).unwrap() {
        match n.event {
            Event::NewTable(t) => r.tables.push(t),
            Event::NewChain(c) => r.chains.push(c),
            Event::NewSet(s) => r.sets.push(s),
            Event::NewElems(e) => lists.push(e),
            Event::NewRule(x) => r.rules.push(x),
            _ => {}
        }
    }
    for s in &r.sets {
        let mut list = natkeeper_nft::ElemList {
            family: s.family,
            table: s.table.clone(),
            set: s.name.clone(),
            elems: Vec::new(),
        };
        for l in lists.iter().filter(|l| l.family == s.family && l.table == s.table && l.set == s.name) {
            list.elems.extend(l.elems.iter().cloned());
        }
        r.elems.push(list);
    }
    r
}

/// Resolved policies with more forwards than this are parsed and resolved, but not planned.
const MAX_PLANNED_ELEMENTS: usize = 2048;

static FIXED: OnceLock<(HostFacts, [Ruleset; 2])> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(policy) = Policy::parse(text) else { return };
    let (facts, kernels) = FIXED.get_or_init(|| {
        let empty = Ruleset {
            generation: 0,
            tables: Vec::new(),
            chains: Vec::new(),
            sets: Vec::new(),
            elems: Vec::new(),
            rules: Vec::new(),
        };
        (facts(), [empty, landscape()])
    });
    for mode in [Mode::Normal, Mode::Strict, Mode::Lenient] {
        let Ok(resolved) = resolve(&policy, facts, mode) else { continue };
        // One port range can mean 65,535 elements per address; planning that six times under the
        // sanitizer takes seconds and says nothing new (the lab tests plan 100,000 forwards).
        if resolved.forwards.len() > MAX_PLANNED_ELEMENTS {
            continue;
        }
        for kernel in kernels {
            // Resolved bridge names are ones the host has: every hole can be written.
            let plan = plan_for(&resolved, kernel).expect("a resolved policy must plan");
            let _ = plan.to_string();
            let txn = plan.transaction();
            parse_notifications(txn.wire()).expect("a plan's transaction must decode");
        }
    }
});

//! Regression: a plan right after an apply on the same handle wanted to add forwards that were in
//! the kernel (issue 20). The policy below is the one the property test shrank to; it failed when
//! applied right after a policy with many more forwards, because the commit shrank the forwards map,
//! the kernel rehashed it in the background, and the element dump of the next plan came in two
//! orders: some elements twice, as many not at all. Here that sequence — a large policy, then the
//! shrunk one — is applied over and over on one handle in one lab; after every apply the same
//! handle must plan nothing and the map must hold exactly what the configuration promises.
//! Without the fix (`Socket::elems` reading again a dump with a repeated element) it failed in
//! about one round in ten.

use std::collections::BTreeSet;
use std::path::Path;

use natkeeper::{Host, Options, Policy};
use natkeeper_tests::lab::Lab;
use natkeeper_tests::oracle;

/// The policy of issue 20, as the property test shrank it.
const SHRUNK: &str = r#"[[network]]
name = "default"
bridge = "virbr0"
egress = "libvirt"

[[forward]]
proto = ["tcp", "udp"]
port = [10680, 10687, 10694, 10701, 10708]
to = "192.168.122.204"
on = "192.168.1.201"

[[forward]]
proto = ["tcp", "udp"]
port = "11635-11664"
to = "192.168.122.45:478-507"
on = "eth0"

[[forward]]
proto = ["tcp", "udp"]
port = "12441-12467"
to = "192.168.122.126:8498-8524"

[[forward]]
proto = ["tcp", "udp"]
port = "13542-13550"
to = "192.168.122.36:13603-13611"
on = "eth0"

[[nat]]
public = "192.168.1.213"
guest = "192.168.122.43"
"#;

/// A policy whose forwards map is about four times larger (1,500 elements on the uplink's three
/// addresses), so that going from it to [`SHRUNK`] and back resizes the kernel's hash table.
fn large(round: u16) -> String {
    let first = 20_000 + round % 7;
    format!(
        "[[network]]\nname = \"default\"\nbridge = \"virbr0\"\negress = \"libvirt\"\n\n\
         [[forward]]\nproto = [\"tcp\", \"udp\"]\nport = \"{first}-{}\"\nto = \"192.168.122.77\"\n",
        first + 249
    )
}

/// Rounds of large → shrunk. Without the fix, 400 rounds gave 6 to 11 wrong reads in each of 3 runs.
const ROUNDS: u16 = 300;

#[test]
fn the_shrunk_policy_of_issue_20_plans_empty_after_every_apply_of_the_sequence() {
    if !natkeeper_tests::can_run() {
        return;
    }
    let lab = Lab::with_guests(&[]);
    let libvirt = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/libvirt9-iptables.rules"),
    )
    .unwrap();
    lab.host.iptables_restore(&[], &libvirt);
    let addrs = oracle::Addresses::read(&lab.host);
    let mut host = lab.host.run(|| Host::open().unwrap());
    let mut wrong = Vec::new();
    for round in 0..ROUNDS {
        for text in [large(round), SHRUNK.to_string()] {
            let policy = Policy::parse(&text).unwrap();
            let want: BTreeSet<String> =
                oracle::expected_forwards(&text, &addrs).iter().map(ToString::to_string).collect();
            // Right after the commit, back to back: the plan of issue 20 between reads of the
            // status, so that a rehash finishing at any moment of the next milliseconds falls into
            // one of the reads.
            let (statuses, again) = lab.host.run(|| {
                host.apply(&policy, &Options::default()).unwrap();
                let first = host.status().unwrap();
                let again = host.plan(&policy, &Options::default()).unwrap().0;
                (vec![first, host.status().unwrap(), host.status().unwrap()], again)
            });
            if !again.is_empty() {
                wrong.push(format!(
                    "round {round}: {} changes planned after apply:\n{again}",
                    again.line_count()
                ));
            }
            for status in statuses {
                let shown: BTreeSet<String> = status
                    .forwards
                    .iter()
                    .map(|f| format!("{} {}:{} -> {}:{}", f.proto, f.public, f.port, f.guest, f.guest_port))
                    .collect();
                if shown != want || status.forwards.len() != want.len() {
                    wrong.push(format!(
                        "round {round}: status shows {} forwards ({} distinct), the configuration has {}",
                        status.forwards.len(),
                        shown.len(),
                        want.len()
                    ));
                }
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} wrong reads after {} applies:\n{}",
        wrong.len(),
        2 * ROUNDS,
        wrong.join("\n")
    );
}

//! An event socket that overruns (`ENOBUFS`) during a storm of commits reports
//! `Event::Overrun`; a watcher that then re-reads everything and goes on applying events ends with
//! exactly what the kernel holds. (This tests the library behaviour the `watch` command relies on.)

use std::collections::BTreeSet;
use std::time::Duration;

use natkeeper_nft::{Event, Events, Family, SetElem, Socket, Transaction};
use natkeeper_tests::Netns;

const SET: &str = "s";

fn key(i: u32) -> Vec<u8> {
    vec![10, (i >> 16) as u8, (i >> 8) as u8, i as u8]
}

/// Commits one change per transaction: adds element `i`; every third `i` also deletes `i - 1`.
fn storm(sock: &mut Socket, range: std::ops::Range<u32>) {
    for i in range {
        let mut txn = Transaction::new(None);
        txn.add_elems(Family::Ip, "storm", SET, &[SetElem::key(key(i))]);
        if i % 3 == 0 && i > 0 {
            txn.delete_elems(Family::Ip, "storm", SET, &[SetElem::key(key(i - 1))]);
        }
        sock.commit(txn).unwrap();
    }
}

/// The set's keys as the kernel holds them now.
fn kernel(sock: &mut Socket) -> BTreeSet<Vec<u8>> {
    sock.elems(Family::Ip, "storm", SET).unwrap().into_iter().map(|e| e.key).collect()
}

/// A watcher's view of the set: follows events; on an overrun, re-reads everything.
struct Watcher {
    keys: BTreeSet<Vec<u8>>,
    overruns: usize,
    events: usize,
}

impl Watcher {
    fn handle(&mut self, event: Event, sock: &mut Socket) {
        self.events += 1;
        match event {
            Event::NewElems(l) if l.set == SET => self.keys.extend(l.elems.into_iter().map(|e| e.key)),
            Event::DelElems(l) if l.set == SET => {
                for e in l.elems {
                    self.keys.remove(&e.key);
                }
            }
            Event::Overrun => {
                self.overruns += 1;
                self.keys = kernel(sock);
            }
            _ => {}
        }
    }
}

#[test]
fn after_an_overrun_a_full_reread_plus_later_events_match_the_kernel() {
    if !natkeeper_tests::can_run() {
        return;
    }
    let ns = Netns::new("storm");
    ns.nft_load("table ip storm {\n set s {\n type ipv4_addr\n }\n}");
    // A small receive buffer (the kernel doubles it): a storm overruns it.
    let mut events = ns.run(|| Events::subscribe_with_buffer(4096).unwrap());
    let mut reader = ns.run(|| Socket::open().unwrap());
    let mut watcher = Watcher { keys: kernel(&mut reader), overruns: 0, events: 0 };

    // A storm nobody reads during: the buffer overruns.
    let mut writer = ns.run(|| Socket::open().unwrap());
    storm(&mut writer, 0..1500);
    // Then a storm read while it happens, from another thread.
    let storming = std::thread::spawn(move || {
        storm(&mut writer, 1500..3000);
        writer
    });
    loop {
        match events.next_timeout(Duration::from_millis(300)).unwrap() {
            Some(n) => watcher.handle(n.event, &mut reader),
            None if storming.is_finished() => break,
            None => {}
        }
    }
    let _writer = storming.join().unwrap();
    while let Some(n) = events.next_timeout(Duration::from_millis(300)).unwrap() {
        watcher.handle(n.event, &mut reader);
    }

    assert!(
        watcher.overruns >= 1,
        "3000 commits through a 4 KiB buffer must overrun ({} events)",
        watcher.events
    );
    let truth = kernel(&mut reader);
    // 3000 adds, 999 deletes.
    assert_eq!(truth.len(), 3000 - 999);
    let extra: Vec<_> = watcher.keys.difference(&truth).take(5).collect();
    let missing: Vec<_> = truth.difference(&watcher.keys).take(5).collect();
    assert!(
        extra.is_empty() && missing.is_empty(),
        "after {} overruns the watcher's view must match the kernel: {} elements vs {}; \
         not in the kernel: {extra:?}...; missing: {missing:?}...",
        watcher.overruns,
        watcher.keys.len(),
        truth.len()
    );
    // And the oracle agrees with both.
    let listed = ns.exec_ok("nft", &["list", "set", "ip", "storm", "s"]);
    assert_eq!(listed.matches("10.0.").count(), truth.iter().filter(|k| k[1] == 0).count());
    eprintln!("{} events, {} overruns, {} elements", watcher.events, watcher.overruns, truth.len());
}

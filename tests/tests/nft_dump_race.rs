//! Element dumps right after a commit are exact, without natkeeper's planner in the way.
//!
//! A map without a size is the kernel's resizable hash (`rhash`). A commit that grows or shrinks it
//! starts a resize in the background; an element dump spans several netlink messages, and each
//! message walks the hash again from the start and skips what was already sent. When the table is
//! rehashed between two messages the walk order changes, so some elements come twice and as many
//! never come (issue 20). This test commits batches that grow a map to about 3,000 elements and
//! shrink it to about 20 again, dumps right after every commit on the same socket, and requires every
//! read — [`Socket::elems`] and [`Ruleset::read`] — to be exactly what was committed.

use std::collections::BTreeSet;

use natkeeper_nft::expr::Counter;
use natkeeper_nft::{Data, Expr, Family, Ruleset, Set, SetElem, Socket, Table, Transaction, datatype};
use natkeeper_tests::Netns;

/// Commit-then-dump rounds.
const ROUNDS: u32 = 1000;

/// A map shaped like natkeeper's `forwards`: `ipv4_addr . inet_proto . inet_service :
/// ipv4_addr . inet_service`, a counter per element, no size (so the kernel picks `rhash`).
fn forwards_like() -> Set {
    let key = datatype::concat(&[datatype::IPV4_ADDR, datatype::INET_PROTO, datatype::INET_SERVICE]);
    let data = datatype::concat(&[datatype::IPV4_ADDR, datatype::INET_SERVICE]);
    let mut s = Set::new(Family::Ip, "race", "forwards", key, 12).map_to(data, 8);
    s.exprs = vec![Expr::Counter(Counter::default())];
    s
}

fn key(n: u32) -> Vec<u8> {
    let port = 1024 + (n % 60_000) as u16;
    let mut k = vec![192, 168, 1, 200 + (n / 60_000) as u8, 6, 0, 0, 0];
    k.extend_from_slice(&port.to_be_bytes());
    k.extend_from_slice(&[0, 0]);
    k
}

fn elem(n: u32) -> SetElem {
    let mut v = vec![192, 168, 122, (n % 250) as u8 + 2];
    v.extend_from_slice(&80u16.to_be_bytes());
    v.extend_from_slice(&[0, 0]);
    SetElem::mapping(key(n), Data::Value(v))
}

/// A deterministic sequence of sizes that alternately grows the map past 2,000 and shrinks it
/// below 50, with smaller steps in between (a linear congruential generator: same run every time).
fn sizes() -> impl Iterator<Item = u32> {
    let mut state = 0x4e4b_u64;
    (0..ROUNDS).map(move |round| {
        state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        let r = (state >> 33) as u32;
        match round % 4 {
            0 => 2000 + r % 1200,
            1 => r % 50,
            2 => r % 3200,
            _ => r % 400,
        }
    })
}

#[test]
fn element_dumps_right_after_commits_that_resize_the_map_are_exact() {
    if !natkeeper_tests::can_run() {
        return;
    }
    let ns = Netns::new("dumprace");
    let wrong: Vec<String> = ns.run(|| {
        let mut sock = Socket::open().unwrap();
        let mut txn = Transaction::new(None);
        txn.add_table(&Table::new(Family::Ip, "race"));
        txn.add_set(&forwards_like());
        sock.commit(txn).unwrap();

        let mut held: BTreeSet<u32> = BTreeSet::new();
        let mut wrong = Vec::new();
        for (round, size) in sizes().enumerate() {
            let want: BTreeSet<u32> = (0..size).map(|i| (i * 7 + round as u32) % 4000).collect();
            let add: Vec<SetElem> = want.difference(&held).map(|&n| elem(n)).collect();
            let del: Vec<SetElem> = held.difference(&want).map(|&n| elem(n)).collect();
            let mut txn = Transaction::new(Some(sock.generation().unwrap()));
            if !del.is_empty() {
                txn.delete_elems(Family::Ip, "race", "forwards", &del);
            }
            if !add.is_empty() {
                txn.add_elems(Family::Ip, "race", "forwards", &add);
            }
            sock.commit(txn).unwrap();
            held = want;
            let expected: Vec<Vec<u8>> =
                held.iter().map(|&n| key(n)).collect::<BTreeSet<_>>().into_iter().collect();

            // Right after the commit, back to back: the elements of the map alone, a whole
            // snapshot, and the elements again.
            let reads = [
                ("elems", sock.elems(Family::Ip, "race", "forwards").unwrap()),
                ("snapshot", Ruleset::read(&mut sock, Family::Ip).unwrap().elems.swap_remove(0).elems),
                ("elems", sock.elems(Family::Ip, "race", "forwards").unwrap()),
            ];
            for (what, read) in reads {
                let mut got: Vec<Vec<u8>> = read.into_iter().map(|e| e.key).collect();
                got.sort();
                if got != expected {
                    let distinct = got.iter().collect::<BTreeSet<_>>().len();
                    wrong.push(format!(
                        "round {round}: {what} gave {} elements ({distinct} distinct) for {} committed",
                        got.len(),
                        expected.len()
                    ));
                }
            }
        }
        wrong
    });
    assert!(
        wrong.is_empty(),
        "{} wrong reads in {ROUNDS} rounds of commit and three reads:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

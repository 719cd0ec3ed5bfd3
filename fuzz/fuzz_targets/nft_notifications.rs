//! nf_tables notification and dump decoding (`natkeeper_nft::parse_notifications`), on bytes as an
//! event or dump socket receives them. Seeds: `corpus/nft_notifications/`, real kernel datagrams
//! captured by `capture.sh`.
//!
//! Checks: decoding never panics; and what decodes is lossless — a decoded rule or element list,
//! encoded again by `Transaction` and decoded, is the same value.

#![no_main]

use libfuzzer_sys::fuzz_target;
use natkeeper_nft::{Event, Position, Transaction, parse_notifications};

fuzz_target!(|data: &[u8]| {
    let Ok(notifications) = parse_notifications(data) else { return };
    for n in notifications {
        match n.event {
            Event::NewRule(mut rule) | Event::DelRule(mut rule) => {
                // Handle and position are the kernel's; a NEWRULE to append carries neither.
                rule.handle = None;
                rule.position = None;
                let mut txn = Transaction::new(None);
                txn.add_rule(&rule, Position::Append);
                let again = parse_notifications(txn.wire()).expect("a rule we encoded must decode");
                assert_eq!(again.len(), 1);
                assert_eq!(again[0].event, Event::NewRule(rule), "rule changed in a round trip");
            }
            Event::NewElems(list) | Event::DelElems(list) if !list.elems.is_empty() => {
                let mut txn = Transaction::new(None);
                txn.add_elems(list.family, &list.table, &list.set, &list.elems);
                let mut elems = Vec::new();
                for m in parse_notifications(txn.wire()).expect("elements we encoded must decode") {
                    let Event::NewElems(part) = m.event else { panic!("not elements: {m:?}") };
                    assert_eq!((part.family, &part.table, &part.set), (list.family, &list.table, &list.set));
                    elems.extend(part.elems);
                }
                assert_eq!(elems, list.elems, "elements changed in a round trip");
            }
            _ => {}
        }
    }
});

//! natkeeper-nft's guarantees, checked against the kernel in fresh namespaces: atomic batches that
//! name the object the kernel refused, the generation guard, events with the writer's name, and
//! decoding that never panics.

use std::time::Duration;

use natkeeper_nft::expr::{Cmp, Counter, Meta, MetaKey, Payload};
use natkeeper_nft::{
    Chain, Errno, Error, Event, Expr, Family, HookNum, Policy, Position, Rule, Ruleset, Socket, Table,
    Transaction, Verdict, parse_notifications,
};
use natkeeper_tests::Netns;
use proptest::prelude::*;

fn snapshot(ns: &Netns) -> Ruleset {
    ns.run(|| Ruleset::read(&mut Socket::open().unwrap(), Family::Unspec).unwrap())
}

fn accept_ssh(table: &str, chain: &str) -> Rule {
    Rule::new(Family::Ip, table, chain)
        .with(Meta::load(MetaKey::L4Proto))
        .with(Cmp::eq([6u8]))
        .with(Payload::th_dport())
        .with(Cmp::eq(22u16.to_be_bytes()))
        .with(Counter::default())
        .with(Expr::verdict(Verdict::Accept))
}

#[test]
fn a_batch_with_one_bad_message_changes_nothing_and_names_it() {
    if !natkeeper_tests::can_run() {
        return;
    }
    let ns = Netns::new("atomic");
    ns.nft_load("table ip keep {\n chain input {\n type filter hook input priority 0; policy accept;\n tcp dport 80 accept\n }\n}");
    let before = snapshot(&ns);
    let nft_before = ns.nft_list();

    let err = ns.run(|| {
        let mut txn = Transaction::new(None);
        txn.add_table(&Table::new(Family::Ip, "fresh"));
        txn.add_chain(&Chain::base(Family::Ip, "fresh", "input", "filter", HookNum::Input, 0, Policy::Drop));
        txn.add_rule(&accept_ssh("fresh", "input"), Position::Append);
        txn.delete_rule(Family::Ip, "keep", "input", before.rules[0].handle.unwrap());
        // The last message is invalid: its chain does not exist.
        txn.add_rule(&accept_ssh("fresh", "no-such-chain"), Position::Append);
        Socket::open().unwrap().commit(txn).unwrap_err()
    });
    match &err {
        Error::Kernel { object, errno, .. } => {
            assert_eq!(*errno, Errno::ENOENT);
            assert_eq!(object.table, "fresh");
            assert_eq!(object.name.as_deref(), Some("no-such-chain"));
            assert_eq!(object.action, "append rule");
        }
        other => panic!("expected a kernel error naming the rule, got {other:?}"),
    }
    assert!(err.to_string().contains("no-such-chain"), "{err}");
    assert_eq!(snapshot(&ns).rules, before.rules);
    assert_eq!(ns.nft_list(), nft_before, "nothing of the batch may be applied");
}

#[test]
fn a_stale_generation_is_refused_as_restart_and_a_retry_succeeds() {
    if !natkeeper_tests::can_run() {
        return;
    }
    let ns = Netns::new("genid");
    let mut sock = ns.run(|| Socket::open().unwrap());
    let stale = sock.generation().unwrap();
    ns.nft_load("table ip other { }");
    let build = |genid| {
        let mut txn = Transaction::new(Some(genid));
        txn.add_table(&Table::new(Family::Ip, "mine"));
        txn
    };
    let err = sock.commit(build(stale)).unwrap_err();
    assert!(err.is_restart(), "expected Restart, got {err:?}");
    assert_eq!(err.errno(), Some(Errno::ERESTART));
    assert!(!ns.nft_list().contains("table ip mine"));

    let fresh = sock.generation().unwrap();
    assert!(fresh > stale);
    sock.commit(build(fresh)).unwrap();
    assert!(ns.nft_list().contains("table ip mine"));
}

#[test]
fn events_name_the_writer() {
    if !natkeeper_tests::can_run() {
        return;
    }
    let ns = Netns::new("events");
    let mut events = ns.run(|| natkeeper_nft::Events::subscribe().unwrap());
    ns.nft_load("table ip t {\n chain c {\n }\n}");
    ns.exec_ok("nft", &["add", "rule", "ip", "t", "c", "tcp", "dport", "22", "accept"]);
    ns.exec_ok("iptables", &["-A", "INPUT", "-s", "10.0.0.1", "-j", "ACCEPT"]);

    let mut seen = Vec::new();
    while let Some(n) = events.next_timeout(Duration::from_millis(500)).unwrap() {
        seen.push(n.event);
    }
    let rule_then_gen = |table: &str, process: &str| {
        seen.windows(2).any(|w| match (&w[0], &w[1]) {
            (Event::NewRule(r), Event::NewGen(g)) => {
                r.table == table && g.process.as_deref() == Some(process)
            }
            _ => false,
        })
    };
    assert!(rule_then_gen("t", "nft"), "no NewRule+NewGen(nft) in {seen:#?}");
    assert!(rule_then_gen("filter", "iptables"), "no NewRule+NewGen(iptables) in {seen:#?}");
    let ipt_rule = seen.iter().find_map(|e| match e {
        Event::NewRule(r) if r.table == "filter" => Some(r),
        _ => None,
    });
    assert!(ipt_rule.unwrap().exprs.iter().any(|e| matches!(e, Expr::Payload(_))));
}

#[test]
fn an_overrun_is_an_event_and_the_stream_goes_on() {
    if !natkeeper_tests::can_run() {
        return;
    }
    let ns = Netns::new("overrun");
    let mut events = ns.run(|| natkeeper_nft::Events::subscribe_with_buffer(4096).unwrap());
    let mut script = String::from("table ip t { chain c {\n");
    for i in 0..2000 {
        script.push_str(&format!("tcp dport {} accept\n", 1000 + i));
    }
    script.push_str("}\n}\n");
    ns.nft_load(&script);
    let mut overrun = false;
    while let Some(n) = events.next_timeout(Duration::from_millis(200)).unwrap() {
        overrun |= n.event == Event::Overrun;
    }
    assert!(overrun, "2000 rule events through a 4 KiB buffer must overrun");
    ns.nft_load("table ip after { }");
    let mut later = false;
    while let Some(n) = events.next_timeout(Duration::from_millis(300)).unwrap() {
        later |= matches!(n.event, Event::NewTable(ref t) if t.name == "after");
    }
    assert!(later, "events keep coming after an overrun");
}

/// `nft --debug=mnl` prints every message it sends; rebuild the bytes from that hexdump.
fn nft_sent_messages(ns: &Netns, script: &str) -> Vec<Vec<u8>> {
    let out = ns.exec_stdin("nft", &["--debug=mnl", "-f", "-"], script.as_bytes());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let raw = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    // Drop the ANSI colour codes nft puts around attribute headers.
    let mut text = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            for d in chars.by_ref() {
                if d == 'm' {
                    break;
                }
            }
        } else {
            text.push(c);
        }
    }
    let mut msgs: Vec<Vec<u8>> = Vec::new();
    let mut cur: Option<Vec<u8>> = None;
    for line in text.lines() {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        if line.contains("| message length |") {
            if let Some(m) = cur.take() {
                msgs.push(m);
            }
            let len: u32 = cells[1].parse().unwrap();
            cur = Some(len.to_ne_bytes().to_vec());
        } else if line.contains("|  type | flags  |") {
            let ty: u16 = cells[1].parse().unwrap();
            let fl = cells[2];
            let mut flags = 0u16;
            for (c, bit) in [('R', 1u16), ('M', 2), ('A', 4), ('E', 8)] {
                if fl.contains(c) {
                    flags |= bit;
                }
            }
            let m = cur.as_mut().unwrap();
            m.extend_from_slice(&ty.to_ne_bytes());
            m.extend_from_slice(&flags.to_ne_bytes());
        } else if line.contains("| sequence number|") || line.contains("|     port ID    |") {
            cur.as_mut().unwrap().extend_from_slice(&[0; 4]);
        } else if line.contains("|len |flags| type|") {
            let strip = |s: &str| s.chars().filter(char::is_ascii_digit).collect::<String>();
            let len: u16 = strip(cells[1]).parse().unwrap();
            let mut ty: u16 = strip(cells[3]).parse().unwrap();
            if cells[2].contains('N') {
                ty |= 0x8000;
            }
            if cells[2].contains('B') {
                ty |= 0x4000;
            }
            let m = cur.as_mut().unwrap();
            m.extend_from_slice(&len.to_ne_bytes());
            m.extend_from_slice(&ty.to_ne_bytes());
        } else if line.contains("|      data      |") || line.contains("|  extra header  |") {
            let m = cur.as_mut().unwrap();
            for b in cells[1].split_whitespace() {
                m.push(u8::from_str_radix(b, 16).unwrap());
            }
        }
    }
    msgs.extend(cur);
    msgs
}

/// Splits encoded messages and blanks what legitimately differs (seq, port, flags beyond CREATE).
fn split(bytes: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut rest = bytes;
    while rest.len() >= 16 {
        let len = u32::from_ne_bytes(rest[..4].try_into().unwrap()) as usize;
        out.push(rest[..len].to_vec());
        rest = &rest[len.div_ceil(4) * 4..];
    }
    out
}

fn body(m: &[u8]) -> (u16, &[u8]) {
    (u16::from_ne_bytes([m[4], m[5]]), &m[16..])
}

#[test]
fn rule_messages_are_byte_identical_to_what_nft_sends() {
    if !natkeeper_tests::can_run() {
        return;
    }
    use natkeeper_nft::expr::{
        Ct, CtKey, Fib, Immediate, Limit, Log, Lookup, Masq, Nat, NatType, PayloadBase, RTN_LOCAL, Register,
        Reject,
    };
    let ns = Netns::new("golden");
    ns.nft_load(
        "table ip t {\n map m { type ipv4_addr . inet_service : ipv4_addr . inet_service; }\n \
         chain c { }\n chain n { type nat hook prerouting priority -110; }\n \
         chain p { type nat hook postrouting priority 90; }\n}",
    );
    // Each line and the rule natkeeper-nft builds for it. (`counter` is left out: nft sends it
    // without attributes, iptables-nft with zeroes; the kernel state is the same.)
    let f = Family::Ip;
    let cases: Vec<(&str, Rule)> = vec![
        (
            "add rule ip t c meta l4proto tcp th dport 22 accept",
            Rule::new(f, "t", "c")
                .with(Meta::load(MetaKey::L4Proto))
                .with(Cmp::eq([6u8]))
                .with(Payload::th_dport())
                .with(Cmp::eq(22u16.to_be_bytes()))
                .with(Expr::verdict(Verdict::Accept)),
        ),
        (
            "add rule ip t c ct mark set 0x4e4b",
            Rule::new(f, "t", "c")
                .with(Immediate::value(Register::R1, 0x4e4bu32.to_ne_bytes()))
                .with(Ct::store(CtKey::Mark)),
        ),
        (
            "add rule ip t c ct mark 0x4e4b oifname \"virbr0\" accept comment \"natkeeper\"",
            Rule::new(f, "t", "c")
                .with(Ct::load(CtKey::Mark))
                .with(Cmp::eq(0x4e4bu32.to_ne_bytes()))
                .with(Meta::load(MetaKey::OifName))
                .with(Cmp::eq(*b"virbr0\0\0\0\0\0\0\0\0\0\0"))
                .with(Expr::verdict(Verdict::Accept))
                .with_comment("natkeeper"),
        ),
        (
            "add rule ip t c limit rate 1/second burst 5 packets accept",
            Rule::new(f, "t", "c").with(Limit::packets(1, 1, 5)).with(Expr::verdict(Verdict::Accept)),
        ),
        (
            "add rule ip t c log prefix \"nk: \" reject",
            Rule::new(f, "t", "c")
                .with(Log { prefix: Some("nk: ".into()), ..Log::default() })
                .with(Reject { kind: 0, icmp_code: Some(3) }),
        ),
        (
            "add rule ip t n fib daddr type local meta l4proto tcp dnat ip to ip daddr . th dport map @m",
            Rule::new(f, "t", "n")
                .with(Fib::daddr_type())
                .with(Cmp::eq(RTN_LOCAL.to_ne_bytes()))
                .with(Meta::load(MetaKey::L4Proto))
                .with(Cmp::eq([6u8]))
                .with(Payload::ip_daddr())
                .with(Payload::load(PayloadBase::Transport, 2, 2, Register::reg32(1)))
                // nft names the set by id too; the kernel dumps the max registers and flags it
                // fills in itself.
                .with(Lookup { set_id: Some(1), ..Lookup::map("m", Register::R1, Register::R1) })
                .with(Nat {
                    nat_type: NatType::Dnat,
                    family: Family::Ip,
                    addr_min: Some(Register::R1),
                    addr_max: None,
                    proto_min: Some(Register::reg32(1)),
                    proto_max: None,
                    flags: None,
                }),
        ),
        (
            "add rule ip t p ip saddr 192.168.122.0/24 masquerade",
            Rule::new(f, "t", "p")
                .with(Payload::load(PayloadBase::Network, 12, 3, Register::R1))
                .with(Cmp::eq([192, 168, 122]))
                .with(Masq::default()),
        ),
    ];
    for (line, rule) in cases {
        let theirs = nft_sent_messages(&ns, &format!("{line}\n"));
        let their_rule =
            theirs.iter().map(|m| body(m)).find(|(ty, _)| *ty == (10 << 8 | 6)).map(|(_, b)| b).unwrap();
        let mut txn = Transaction::new(None);
        txn.add_rule(&rule, Position::Append);
        let ours = split(txn.wire());
        assert_eq!(hex(body(&ours[1]).1), hex(their_rule), "{line}");
    }
}

fn hex(b: &[u8]) -> String {
    b.chunks(4)
        .map(|c| c.iter().map(|x| format!("{x:02x}")).collect::<String>())
        .collect::<Vec<_>>()
        .join(" ")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn decoding_garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = parse_notifications(&bytes);
    }

    #[test]
    fn decoding_a_damaged_rule_message_never_panics(cut in 0usize..400, flip in 0usize..400, bit in 0u8..8) {
        let mut txn = Transaction::new(None);
        txn.add_rule(&accept_ssh("t", "c").with_comment("x"), Position::Head);
        let mut msg = split(txn.wire()).remove(1);
        if !msg.is_empty() {
            let i = flip % msg.len();
            msg[i] ^= 1 << bit;
        }
        msg.truncate(cut.max(16).min(msg.len()));
        let _ = parse_notifications(&msg);
    }
}

#[test]
fn an_undamaged_message_decodes_to_what_was_encoded() {
    let rule = accept_ssh("t", "c").with_comment("natkeeper");
    let mut txn = Transaction::new(None);
    txn.add_rule(&rule, Position::Append);
    let msg = split(txn.wire()).remove(1);
    let decoded = parse_notifications(&msg).unwrap();
    assert_eq!(decoded.len(), 1);
    assert_eq!(decoded[0].event, Event::NewRule(rule));
}

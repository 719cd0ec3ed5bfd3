//! `--noflush` restores that edit existing tables, against the real iptables-restore: the same
//! base ruleset is loaded in namespaces A and B (by iptables-restore, with counters), then the
//! same edit script is applied by `iptables-restore --noflush` in A and by natkeeper's library in
//! B. The kernel rulesets and iptables-save outputs must be identical: `-D RULE` found among rules
//! iptables-nft wrote, `-D N`, `-I N`, `-R N`, `-F`, `-X`, `-N`, `-P`, `-Z`, `-C`, and `:CHAIN`
//! lines (which flush user chains and set builtin policies).
//!
//! Also: a stale generation is refused and a fresh restore succeeds; an error anywhere leaves the
//! kernel as it was; table replacement (without `--noflush`) deletes what iptables-restore deletes.

mod iptables_support;

use iptables_support::{RuleSet, first_difference, iptables_restore, iptables_save, kernel_state};
use natkeeper_iptables::{ParseOptions, RestoreError, RestoreOptions, parse_restore_lines, plan, restore};
use natkeeper_nft::{Family, Ruleset, Socket};
use natkeeper_tests::Netns;

const BASE: &str = "\
*filter
:INPUT ACCEPT [10:1000]
:FORWARD DROP [20:2000]
:OUTPUT ACCEPT [30:3000]
:LIBVIRT_FWI - [0:0]
:LIBVIRT_FWO - [0:0]
:MINE - [0:0]
:SPARE - [0:0]
[1:100] -A INPUT -i virbr0 -p udp -m udp --dport 53 -j ACCEPT
[2:200] -A INPUT -i virbr0 -p tcp -m tcp --dport 53 -j ACCEPT
[3:300] -A INPUT -p icmp -m icmp --icmp-type 8 -m limit --limit 1/sec -j ACCEPT
-A FORWARD -j LIBVIRT_FWI
-A FORWARD -j LIBVIRT_FWO
[4:400] -A LIBVIRT_FWI -d 192.168.122.0/24 -o virbr0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A LIBVIRT_FWI -o virbr0 -j REJECT --reject-with icmp-port-unreachable
-A LIBVIRT_FWO -s 192.168.122.0/24 -i virbr0 -j ACCEPT
-A LIBVIRT_FWO -i virbr0 -j REJECT --reject-with icmp-port-unreachable
-A MINE -m comment --comment \"keep me\" -j RETURN
COMMIT
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A PREROUTING -i eth0 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 192.168.122.42:80
-A POSTROUTING -s 192.168.122.0/24 ! -d 192.168.122.0/24 -j MASQUERADE
COMMIT
";

/// Edit scripts, each applied with `--noflush` on top of [`BASE`].
const EDITS: &[(&str, &str)] = &[
    (
        "delete by spec, insert, replace, delete by number",
        "*filter
-D LIBVIRT_FWI -o virbr0 -j REJECT --reject-with icmp-port-unreachable
-I LIBVIRT_FWI 1 -d 192.168.122.41/32 -o virbr0 -p tcp -m tcp --dport 80 -j ACCEPT
-I LIBVIRT_FWI 2 -d 192.168.122.42/32 -o virbr0 -p tcp -m multiport --dports 25,110,143 -j ACCEPT
-A LIBVIRT_FWI -o virbr0 -j REJECT --reject-with icmp-port-unreachable
-R INPUT 2 -i virbr0 -p tcp -m tcp --dport 5353 -j ACCEPT
-D INPUT 1
-I INPUT 3 -j LOG --log-prefix \"in: \"
-C MINE -m comment --comment \"keep me\" -j RETURN
COMMIT
*nat
-I PREROUTING 1 -d 192.168.1.211/32 -i eth0 -p tcp -j DNAT --to-destination 192.168.122.41
-D POSTROUTING -s 192.168.122.0/24 ! -d 192.168.122.0/24 -j MASQUERADE
-A POSTROUTING -s 192.168.122.0/24 ! -d 192.168.122.0/24 -o eth0 -j MASQUERADE
COMMIT
",
    ),
    (
        "chain lines, policies, flush, new and deleted chains",
        "*filter
:FORWARD ACCEPT [0:0]
:MINE - [0:0]
-F LIBVIRT_FWO
-X SPARE
-N NEWCHAIN
-A NEWCHAIN -m state --state NEW -j ACCEPT
-A MINE -j NEWCHAIN
-P OUTPUT DROP
COMMIT
",
    ),
    (
        "zero counters, flush all, delete all chains",
        "*filter
-Z INPUT
-Z LIBVIRT_FWI 1
COMMIT
*nat
-F
-X
COMMIT
",
    ),
    (
        "builtin chains created on demand in a new table",
        "*mangle
-A POSTROUTING -o virbr0 -p udp -m udp --dport 68 -j CHECKSUM --checksum-fill
-I PREROUTING -j MARK --set-xmark 0x1/0xffffffff
COMMIT
*raw
:PREROUTING ACCEPT [0:0]
-A PREROUTING -j CT --notrack
COMMIT
",
    ),
];

fn lib_restore(ns: &Netns, text: &str, opts: RestoreOptions) -> Result<(), RestoreError> {
    ns.run(|| {
        let (file, _) =
            parse_restore_lines(text, &ParseOptions::default().with_counters(false)).expect("parse");
        restore(&mut Socket::open().expect("socket"), &file, &opts).map(|_| ())
    })
}

fn base(name: &str) -> Netns {
    let ns = Netns::new(name);
    ns.iptables_restore(&["-c"], BASE);
    ns
}

#[test]
fn noflush_edits_change_the_kernel_as_iptables_restore_does() {
    if !natkeeper_tests::can_run() {
        return;
    }
    let mut failures = Vec::new();
    for (name, edit) in EDITS {
        let a = base("nfA");
        let b = base("nfB");
        assert_eq!(kernel_state(&a), kernel_state(&b), "base states differ");
        iptables_restore(&a, &RuleSet { name: (*name).to_owned(), text: (*edit).to_owned(), noflush: true });
        if let Err(e) = lib_restore(&b, edit, RestoreOptions { noflush: true, ..RestoreOptions::default() }) {
            failures.push(format!("{name}: {e}"));
            continue;
        }
        let (ka, kb) = (kernel_state(&a), kernel_state(&b));
        if ka != kb {
            failures.push(format!("{name}: kernel differs: {}", first_difference(&ka, &kb)));
        }
        let (sa, sb) = (iptables_save(&a, &["-c"]), iptables_save(&b, &["-c"]));
        if sa != sb {
            failures.push(format!("{name}: iptables-save -c differs:\n--- A\n{sa}--- B\n{sb}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn restoring_a_table_replaces_it_and_leaves_the_others() {
    if !natkeeper_tests::can_run() {
        return;
    }
    // Native content in `ip filter` and a foreign table: iptables-restore deletes the first with
    // the table and never touches the second.
    let extra =
        "table ip filter {\n chain native { tcp dport 9 drop\n }\n}\ntable ip mytool {\n chain c { }\n}";
    let text = "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -j ACCEPT\nCOMMIT\n*nat\nCOMMIT\n";
    let a = base("rpA");
    let b = base("rpB");
    a.nft_load(extra);
    b.nft_load(extra);
    iptables_restore(&a, &RuleSet { name: "replace".into(), text: text.into(), noflush: false });
    lib_restore(&b, text, RestoreOptions::default()).expect("restore");
    let (ka, kb) = (kernel_state(&a), kernel_state(&b));
    assert_eq!(ka, kb, "{}", first_difference(&ka, &kb));
    assert!(ka.iter().any(|l| l.contains("table mytool")), "{ka:?}");
    assert!(!ka.iter().any(|l| l.contains("table nat")), "an empty *nat block deletes the table: {ka:?}");
}

#[test]
fn a_stale_plan_is_refused_and_restore_plans_again() {
    if !natkeeper_tests::can_run() {
        return;
    }
    let ns = base("stale");
    let text = "*filter\n-A INPUT -s 10.0.0.1/32 -j DROP\nCOMMIT\n";
    let (file, _) = parse_restore_lines(text, &ParseOptions::default()).expect("parse");
    let opts = RestoreOptions { noflush: true, ..RestoreOptions::default() };
    let mut sock = ns.run(|| Socket::open().expect("socket"));
    let before = Ruleset::read(&mut sock, Family::Ip).expect("read");
    let stale = plan(&before, &file, &opts).expect("plan");
    // Another writer commits in between.
    ns.exec_ok("iptables", &["-A", "INPUT", "-s", "10.0.0.2", "-j", "DROP"]);
    let err = sock.commit(stale.transaction(Some(before.generation))).expect_err("stale generation");
    assert!(err.is_restart(), "{err:?}");
    let applied = restore(&mut sock, &file, &opts).expect("restore");
    assert_eq!(applied.attempts, 1);
    let save = ns.iptables_save();
    assert!(save.contains("-A INPUT -s 10.0.0.2/32 -j DROP\n-A INPUT -s 10.0.0.1/32 -j DROP\n"), "{save}");
}

#[test]
fn a_failing_restore_changes_nothing() {
    if !natkeeper_tests::can_run() {
        return;
    }
    let ns = base("fail");
    let before = kernel_state(&ns);
    // Parses and encodes, but line 6 names a chain that does not exist: the lines before it,
    // in two tables, must not be applied either.
    let text = "*nat\n-F\nCOMMIT\n*filter\n-A INPUT -j DROP\n-A NOSUCH -j ACCEPT\nCOMMIT\n";
    let err = lib_restore(&ns, text, RestoreOptions { noflush: true, ..RestoreOptions::default() })
        .expect_err("must fail");
    assert_eq!(err.location().map(|l| (l.block, l.entry)), Some((1, 1)), "{err}");
    assert_eq!(kernel_state(&ns), before);
    // The same without --noflush (the tables would be replaced): nothing changes either.
    lib_restore(&ns, text, RestoreOptions::default()).expect_err("must fail");
    assert_eq!(kernel_state(&ns), before);
}

#[test]
fn test_mode_reads_and_changes_nothing() {
    if !natkeeper_tests::can_run() {
        return;
    }
    let ns = base("test");
    let before = kernel_state(&ns);
    let opts = RestoreOptions { test: true, ..RestoreOptions::default() };
    lib_restore(&ns, "*filter\n-A INPUT -j DROP\nCOMMIT\n", opts).expect("test mode");
    assert_eq!(kernel_state(&ns), before);
}

#[test]
fn concurrent_writers_make_restore_plan_again_not_fail() {
    if !natkeeper_tests::can_run() {
        return;
    }
    use natkeeper_nft::expr::Counter;
    use natkeeper_nft::{Chain, Position, Rule, Table, Transaction};
    use std::sync::atomic::{AtomicBool, Ordering};
    let ns = base("race");
    let stop = AtomicBool::new(false);
    // Each restore reads the tables, plans (an insert, and the delete of what the previous one
    // inserted, found by comparing rules) and commits: a writer committing in between makes the
    // kernel refuse the batch, and the restore must read and plan again.
    let edit = "*filter\n-D INPUT -s 10.9.9.9/32 -j DROP\n-I INPUT 2 -s 10.9.9.9/32 -j DROP\nCOMMIT\n";
    let (file, _) = parse_restore_lines(edit, &ParseOptions::default()).expect("parse");
    let opts = RestoreOptions { noflush: true, ..RestoreOptions::default() };
    ns.iptables_restore(&["--noflush"], "*filter\n-I INPUT 2 -s 10.9.9.9/32 -j DROP\nCOMMIT\n");
    let before = iptables_save(&ns, &["-c"]);
    let results = std::thread::scope(|s| {
        // Another writer, in its own table, committing about every millisecond.
        s.spawn(|| {
            ns.run(|| {
                let mut sock = Socket::open().expect("socket");
                let mut t = Transaction::new(None);
                t.add_table(&Table::new(Family::Ip, "other"));
                t.add_chain(&Chain::regular(Family::Ip, "other", "c"));
                sock.commit(t).expect("other table");
                let mut n = 0u32;
                while !stop.load(Ordering::Relaxed) {
                    let mut t = Transaction::new(None);
                    if n % 2 == 0 {
                        t.add_rule(
                            &Rule::new(Family::Ip, "other", "c").with(Counter::default()),
                            Position::Append,
                        );
                    } else {
                        t.flush_chain(Family::Ip, "other", "c");
                    }
                    sock.commit(t).expect("other writer");
                    n += 1;
                    std::thread::sleep(std::time::Duration::from_millis(1));
                }
            })
        });
        let results: Vec<Result<u32, String>> = ns.run(|| {
            let mut sock = Socket::open().expect("socket");
            (0..300)
                .map(|_| restore(&mut sock, &file, &opts).map(|a| a.attempts).map_err(|e| e.to_string()))
                .collect()
        });
        stop.store(true, Ordering::Relaxed);
        results
    });
    let failed: Vec<&String> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    assert!(failed.is_empty(), "restores failed under a concurrent writer: {failed:?}");
    let retried = results.iter().filter(|r| matches!(r, Ok(a) if *a > 1)).count();
    println!("300 restores under a concurrent writer: {retried} had to plan again");
    // About one in fifteen meets the writer (measured); none at all would mean this test no
    // longer tests what it is for.
    assert!(retried > 0, "no restore met the other writer");
    assert_eq!(iptables_save(&ns, &["-c"]), before, "each restore must leave the table as it found it");
}

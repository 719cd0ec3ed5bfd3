//! `natkeeper iptables-restore` / `iptables-save` as command-line tools, in fresh namespaces:
//! malformed input is refused with one line naming the line number and changes nothing; counters
//! (`-c`) go in and come out as with the iptables tools; `--test`, `-T TABLE`, `-t TABLE`,
//! `-f FILE` and the option syntax of the iptables tools.

#[path = "../../../tests/tests/iptables_support/mod.rs"]
mod iptables_support;

use iptables_support::{first_difference, iptables_save, kernel_state};
use natkeeper_tests::Netns;
use natkeeper_tests::netns::strip_comments;

const BIN: &str = env!("CARGO_BIN_EXE_natkeeper");

/// A ruleset already in place before each bad input.
const BASE: &str = "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\n:USER - [0:0]\n\
-A INPUT -i virbr0 -p udp -m udp --dport 53 -j ACCEPT\n-A FORWARD -j USER\nCOMMIT\n\
*nat\n:POSTROUTING ACCEPT [0:0]\n-A POSTROUTING -s 192.168.122.0/24 ! -d 192.168.122.0/24 -j MASQUERADE\nCOMMIT\n";

/// Malformed inputs: (what, restore arguments, input, line the error must name).
const BAD: &[(&str, &[&str], &str, usize)] = &[
    ("unknown option", &[], "*filter\n-A INPUT --bogus\nCOMMIT\n", 2),
    ("bad address", &[], "*filter\n-A INPUT -s 1.2.3.400 -j DROP\nCOMMIT\n", 2),
    ("port 70000", &[], "*filter\n-A INPUT -p tcp --dport 70000 -j ACCEPT\nCOMMIT\n", 2),
    ("missing COMMIT", &[], "*filter\n-A INPUT -j ACCEPT\n", 3),
    ("unknown table", &[], "*nosuch\nCOMMIT\n", 1),
    ("-t inside the input", &[], "*filter\n-t nat -A POSTROUTING -j MASQUERADE\nCOMMIT\n", 2),
    ("target of another table", &[], "*filter\n-A INPUT -j DNAT --to-destination 1.2.3.4\nCOMMIT\n", 2),
    ("rule outside a table", &[], "-A INPUT -j ACCEPT\n*filter\nCOMMIT\n", 1),
    ("missing chain", &[], "*filter\n:INPUT ACCEPT [0:0]\n-A NOSUCH -j ACCEPT\nCOMMIT\n", 3),
    ("jump to a missing chain", &[], "*filter\n-A INPUT -j NOSUCH\nCOMMIT\n", 2),
    ("bad policy", &[], "*filter\n:INPUT MAYBE [0:0]\nCOMMIT\n", 2),
    ("unsupported match", &[], "*filter\n-A INPUT -m recent --set\nCOMMIT\n", 2),
    ("bad counters", &["-c"], "*filter\n[1:x] -A INPUT -j ACCEPT\nCOMMIT\n", 2),
    ("no such rule to delete", &["--noflush"], "*filter\n-A INPUT -j DROP\n-D INPUT -j REJECT\nCOMMIT\n", 3),
    ("rule number past the end", &["--noflush"], "*filter\n-I INPUT 5 -j DROP\nCOMMIT\n", 2),
    ("deleting a chain in use", &["--noflush"], "*filter\n-F USER\n-X USER\nCOMMIT\n", 3),
    (
        "error after good lines in two tables",
        &["--noflush"],
        "*nat\n-F\nCOMMIT\n*filter\n-F\n-A INPUT -m nosuch\nCOMMIT\n",
        6,
    ),
    // Parses and plans, but the kernel refuses it (SNAT reached from PREROUTING): the line is
    // found by probing the batch.
    (
        "kernel refusal",
        &[],
        "*nat\n:X - [0:0]\n-A POSTROUTING -j ACCEPT\n-A X -j SNAT --to-source 1.2.3.4\n-A PREROUTING -j X\nCOMMIT\n",
        5,
    ),
];

fn restore(ns: &Netns, args: &[&str], input: &str) -> std::process::Output {
    ns.exec_stdin(BIN, &[&["iptables-restore"], args].concat(), input.as_bytes())
}

#[test]
fn malformed_input_is_one_line_naming_the_line_and_changes_nothing() {
    if !natkeeper_tests::can_run() {
        return;
    }
    let ns = Netns::new("bad");
    ns.iptables_restore(&[], BASE);
    let before = kernel_state(&ns);
    let mut failures = Vec::new();
    for (what, args, input, line) in BAD {
        let out = restore(&ns, args, input);
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        if out.status.success() {
            failures.push(format!("{what}: accepted"));
        }
        if stderr.lines().count() != 1 {
            failures.push(format!("{what}: not one line: {stderr:?}"));
        }
        if !stderr.contains(&format!("line {line}")) {
            failures.push(format!("{what}: does not name line {line}: {stderr:?}"));
        }
        let after = kernel_state(&ns);
        if after != before {
            failures.push(format!("{what}: the kernel changed: {}", first_difference(&before, &after)));
        }
        println!("{what}: {}", stderr.trim_end());
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn counters_go_in_and_come_out_as_with_the_iptables_tools() {
    if !natkeeper_tests::can_run() {
        return;
    }
    // Chain counters, `[p:b]` prefixes (kept only with -c) and `-c P B` in a rule (kept always).
    let text = "*filter\n:INPUT DROP [5:500]\n:OUTPUT ACCEPT [6:600]\n:X - [7:700]\n\
                [1:100] -A INPUT -p tcp -m tcp --dport 22 -j ACCEPT\n-A INPUT -c 2 200 -j X\n\
                [3:300] -A X -j RETURN\nCOMMIT\n";
    for args in [&["-c"][..], &[][..]] {
        let a = Netns::new("ctrA");
        let b = Netns::new("ctrB");
        a.iptables_restore(args, text);
        let out = restore(&b, args, text);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let (ka, kb) = (kernel_state(&a), kernel_state(&b));
        assert_eq!(ka, kb, "{args:?}: {}", first_difference(&ka, &kb));
        let saved = iptables_save(&a, &["-c"]);
        for ns in [&a, &b] {
            let ours = ns.exec_ok(BIN, &["iptables-save", "-c"]);
            assert_eq!(strip_comments(&ours), saved, "{args:?}");
        }
        if args.is_empty() {
            assert!(saved.contains("[2:200] -A INPUT -j X"), "{saved}");
            assert!(saved.contains("[0:0] -A X -j RETURN"), "{saved}");
        } else {
            assert!(
                saved.contains(":INPUT DROP [5:500]") && saved.contains("[3:300] -A X -j RETURN"),
                "{saved}"
            );
        }
    }
}

#[test]
fn test_mode_and_table_selection() {
    if !natkeeper_tests::can_run() {
        return;
    }
    let ns = Netns::new("opts");
    ns.iptables_restore(&[], BASE);
    let before = kernel_state(&ns);
    let text = "*filter\n-A INPUT -j DROP\nCOMMIT\n*nat\n-A POSTROUTING -o eth0 -j MASQUERADE\nCOMMIT\n";
    for args in [&["--test"][..], &["-t", "--noflush"][..]] {
        let out = restore(&ns, args, text);
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(kernel_state(&ns), before, "{args:?} changed the kernel");
    }
    assert!(!restore(&ns, &["--test"], "*filter\n-A INPUT --bogus\nCOMMIT\n").status.success());

    // -T nat: only the nat block is read (the filter block may even be broken).
    let a = Netns::new("tabA");
    a.iptables_restore(&[], BASE);
    let text = "*filter\n-A INPUT --bogus\nCOMMIT\n*nat\n-A POSTROUTING -o eth0 -j MASQUERADE\nCOMMIT\n";
    a.iptables_restore(&["-T", "nat"], text);
    let out = restore(&ns, &["--table=nat"], text);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(kernel_state(&ns), kernel_state(&a));

    // A file argument, and options after it.
    let file = std::env::temp_dir().join(format!("natkeeper-restore-{}.rules", std::process::id()));
    std::fs::write(&file, "*filter\n-A INPUT -s 10.9.9.9/32 -j DROP\nCOMMIT\n").expect("write");
    let path = file.to_string_lossy().into_owned();
    ns.exec_ok(BIN, &["iptables-restore", &path, "-n", "-w", "5"]);
    a.exec_ok("iptables-restore", &[&path, "-n", "-w", "5"]);
    let _ = std::fs::remove_file(&file);
    assert_eq!(kernel_state(&ns), kernel_state(&a));
}

#[test]
fn save_options_are_those_of_iptables_save() {
    if !natkeeper_tests::can_run() {
        return;
    }
    let ns = Netns::new("save");
    ns.iptables_restore(&[], BASE);
    for args in [&["-t", "nat"][..], &["--table=filter", "-c"][..], &["-t", "raw"][..], &["-d"][..]] {
        let theirs = iptables_save(&ns, args);
        let ours = ns.exec_ok(BIN, &[&["iptables-save"], args].concat());
        assert_eq!(strip_comments(&ours), theirs, "{args:?}");
        assert!(ours.starts_with("# Generated by natkeeper iptables-save"), "{ours}");
    }
    let file = std::env::temp_dir().join(format!("natkeeper-save-{}.txt", std::process::id()));
    let path = file.to_string_lossy().into_owned();
    let out = ns.exec_ok(BIN, &["iptables-save", "-f", &path]);
    assert!(out.is_empty());
    let written = std::fs::read_to_string(&file).expect("read -f output");
    let _ = std::fs::remove_file(&file);
    assert_eq!(strip_comments(&written), iptables_save(&ns, &[]));
    for bad in [&["-t", "bogus"][..], &["--bogus"][..], &["extra"][..]] {
        let out = ns.exec(BIN, &[&["iptables-save"], bad].concat());
        assert!(!out.status.success(), "{bad:?} accepted");
        assert_eq!(String::from_utf8_lossy(&out.stderr).lines().count(), 1, "{bad:?}");
    }
}

#[test]
fn a_table_iptables_cannot_read_is_saved_as_iptables_save_saves_it() {
    if !natkeeper_tests::can_run() {
        return;
    }
    let ns = Netns::new("incompat");
    ns.iptables_restore(&[], BASE);
    // A native rule iptables does not accept makes the whole filter table "incompatible"; a
    // foreign base chain in nat "taints" it. Both print as comments, exactly as iptables-save.
    ns.nft_load("add rule ip filter USER ct state new accept");
    ns.nft_load("add chain ip nat foreign { type nat hook postrouting priority 50; }");
    let theirs = ns.exec_ok("iptables-save", &[]);
    assert!(theirs.contains("# Table `filter' is incompatible"), "{theirs}");
    assert!(theirs.contains("# Table `nat' contains incompatible base-chains"), "{theirs}");
    let ours = ns.exec_ok(BIN, &["iptables-save"]);
    assert_eq!(strip_comments_but_notes(&ours), strip_comments_but_notes(&theirs));
}

/// The output without the timestamp lines, keeping the `# Table ...` notes.
fn strip_comments_but_notes(text: &str) -> String {
    text.lines()
        .filter(|l| !l.starts_with("# Generated by") && !l.starts_with("# Completed on"))
        .map(|l| format!("{l}\n"))
        .collect()
}

//! Mixed use: after natkeeper writes iptables' tables (`restore --noflush` through the library),
//! iptables-nft itself keeps working on them — `-A`, `-C` and `-D` find natkeeper's rules, `-L`
//! and `-S` list them, and libvirt's way of reading rules (`iptables --list-rules`, one command
//! per line) reads every line back. And natkeeper's save shows what iptables added.

mod iptables_support;

use iptables_support::{fixtures, iptables_save};
use natkeeper_iptables::{
    ParseOptions, RestoreOptions, SaveOptions, parse_command, parse_restore_lines, restore, save,
};
use natkeeper_nft::Socket;
use natkeeper_tests::Netns;

fn iptables(ns: &Netns, args: &[&str]) -> (bool, String) {
    let out = ns.exec("iptables", args);
    (
        out.status.success(),
        format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)),
    )
}

#[test]
fn iptables_works_on_tables_natkeeper_wrote() {
    if !natkeeper_tests::can_run() {
        return;
    }
    let ns = Netns::new("mixed");
    let text = std::fs::read_to_string(fixtures().join("libvirt/after-net-start.rules")).expect("fixture");
    let poorman = "*nat\n-A PREROUTING -i eth0 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 192.168.122.42:80\nCOMMIT\n\
                   *filter\n-I FORWARD 1 -d 192.168.122.42/32 -o virbr0 -p tcp -m tcp --dport 80 -m state --state NEW -j ACCEPT\nCOMMIT\n";
    ns.run(|| {
        let mut sock = Socket::open().expect("socket");
        for t in [text.as_str(), poorman] {
            let (file, _) =
                parse_restore_lines(t, &ParseOptions::default().with_counters(false)).expect("parse");
            let opts = RestoreOptions { noflush: true, ..RestoreOptions::default() };
            restore(&mut sock, &file, &opts).expect("restore");
        }
    });

    // -C and -D find natkeeper's rules; -A and -I add next to them.
    let ours = [
        "FORWARD",
        "-d",
        "192.168.122.42/32",
        "-o",
        "virbr0",
        "-p",
        "tcp",
        "-m",
        "tcp",
        "--dport",
        "80",
        "-m",
        "state",
        "--state",
        "NEW",
        "-j",
        "ACCEPT",
    ];
    let (ok, out) = iptables(&ns, &[&["-C"], &ours[..]].concat());
    assert!(ok, "iptables -C of natkeeper's rule: {out}");
    let (ok, out) = iptables(
        &ns,
        &[
            "-t",
            "nat",
            "-C",
            "PREROUTING",
            "-i",
            "eth0",
            "-p",
            "tcp",
            "--dport",
            "8080",
            "-j",
            "DNAT",
            "--to-destination",
            "192.168.122.42:80",
        ],
    );
    assert!(ok, "iptables -t nat -C: {out}");
    let (ok, out) =
        iptables(&ns, &["-A", "LIBVIRT_INP", "-i", "virbr0", "-p", "tcp", "--dport", "22", "-j", "ACCEPT"]);
    assert!(ok, "iptables -A: {out}");
    let (ok, out) = iptables(&ns, &["-I", "FORWARD", "2", "-s", "10.1.1.1", "-j", "DROP"]);
    assert!(ok, "iptables -I: {out}");
    let (ok, out) = iptables(&ns, &[&["-D"], &ours[..]].concat());
    assert!(ok, "iptables -D of natkeeper's rule: {out}");
    let (ok, _) = iptables(&ns, &[&["-C"], &ours[..]].concat());
    assert!(!ok, "the rule is still there after iptables -D");

    // -L and -S list everything; libvirt's parse of --list-rules reads every line.
    for table in ["filter", "nat", "mangle"] {
        let (ok, out) = iptables(&ns, &["-t", table, "-L", "-n", "-v"]);
        assert!(ok && !out.contains("incompatible"), "iptables -t {table} -L: {out}");
        let (ok, out) = iptables(&ns, &["-w", "--table", table, "--list-rules"]);
        assert!(ok && !out.contains("incompatible"), "iptables --list-rules: {out}");
        for line in out.lines() {
            let words: Vec<&str> = ["-t", table].into_iter().chain(line.split_whitespace()).collect();
            if let Err(e) = parse_command(&words) {
                panic!("`{line}` from `iptables -t {table} -S` does not parse: {e}");
            }
        }
    }

    // natkeeper's save sees iptables' changes exactly as iptables-save does.
    let ours_saved = ns.run(|| {
        save(&mut Socket::open().expect("socket"), &SaveOptions::default()).expect("save").to_string()
    });
    let theirs = iptables_save(&ns, &[]);
    assert_eq!(ours_saved, theirs);
    assert!(theirs.contains("-A FORWARD -s 10.1.1.1/32 -j DROP"), "{theirs}");
    assert!(theirs.contains("-A LIBVIRT_INP -i virbr0 -p tcp -m tcp --dport 22 -j ACCEPT"), "{theirs}");
}

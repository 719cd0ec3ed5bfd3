//! Rules iptables-nft did not write, in iptables' tables (loaded with `nft -f`): natkeeper's save
//! reads them exactly as iptables-save 1.8.9 does — the native encodings it understands print
//! the same; a table with an expression it does not accept is the same "incompatible" comment;
//! where iptables-save itself fails, natkeeper fails with the same reason; where iptables-save
//! would print a broader rule than the kernel applies (sets, a second address test), natkeeper
//! refuses with a typed error instead.

mod iptables_support;

use natkeeper_iptables::{DecodeErrorKind, SaveError, SaveOptions, SavedTable, save};
use natkeeper_nft::Socket;
use natkeeper_tests::Netns;

/// Native nf_tables spellings of iptables tests (written for this test).
const NATIVE: &str = r#"table ip filter {
	chain INPUT {
		type filter hook input priority filter; policy drop;
		iifname "eth0" ip saddr 10.0.0.0/8 tcp dport 22 accept
		ip saddr 192.168.1.0/24 ip daddr 10.1.2.3 udp sport 53 udp dport 1024-65535 counter accept
		oifname != "virbr*" icmp type echo-request limit rate 5/second accept
		tcp flags syn / syn,ack tcp dport != 80 drop
		tcp sport 1-1023 tcp dport 2000-3000 drop
		tcp dport 443 tcp flags syn comment "a comment in userdata"
		ip ttl < 10 counter drop
		ip ttl != 64 drop
		meta mark 0x10 accept
		meta mark & 0xff == 0x2 drop
		meta pkttype multicast drop
		meta pkttype != host drop
		ip protocol udp udp dport 5353 accept comment "mdns"
		iif "lo" accept
		ip saddr & 255.0.255.0 == 10.0.1.0 drop
		icmp type destination-unreachable icmp code port-unreachable accept
		tcp dport 22 meta l4proto tcp accept
		jump natkeeper_chain
	}
	chain natkeeper_chain {
		ip frag-off & 0x1fff != 0 drop
		limit rate 3/minute burst 7 packets log group 2 prefix "x" snaplen 100 queue-threshold 3
		return
	}
}
table ip nat {
	chain POSTROUTING {
		type nat hook postrouting priority srcnat; policy accept;
		oifname "eth0" ip saddr 192.168.122.0/24 counter
	}
}
"#;

fn ours(ns: &Netns) -> Result<natkeeper_iptables::Saved, SaveError> {
    ns.run(|| save(&mut Socket::open().expect("socket"), &SaveOptions::default()))
}

/// A filter table with one native rule.
fn with_rule(tag: &str, rule: &str) -> Netns {
    let ns = Netns::new(tag);
    ns.nft_load(&format!(
        "table ip filter {{\n chain INPUT {{\n type filter hook input priority 0;\n {rule}\n }}\n}}"
    ));
    ns
}

#[test]
fn native_encodings_print_as_iptables_save_prints_them() {
    if !natkeeper_tests::can_run() {
        return;
    }
    let ns = Netns::new("native");
    ns.nft_load(NATIVE);
    let theirs = iptables_support::iptables_save(&ns, &[]);
    assert!(theirs.contains("-A INPUT -i lo -j ACCEPT"), "{theirs}");
    let saved = ours(&ns).expect("save");
    assert_eq!(saved.to_string(), theirs);
}

#[test]
fn what_iptables_cannot_read_is_refused_as_iptables_refuses_it() {
    if !natkeeper_tests::can_run() {
        return;
    }
    // iptables-save fails on these with "Error: <reason>" (exit 3): same reason here.
    for (rule, reason) in [
        ("ip id 5 accept", "unknown payload offset"),
        ("meta skuid 0 accept", "unknown ipv4 meta key"),
        ("th dport 22 accept", "unsupported layer 4 protocol value"),
    ] {
        let ns = with_rule("unread", rule);
        let out = ns.exec("iptables-save", &[]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && stderr.contains(&format!("Error: {reason}")), "{rule}: {stderr}");
        match ours(&ns) {
            Err(SaveError::Rule(e)) => assert_eq!(e.kind, DecodeErrorKind::Unreadable { reason }, "{rule}"),
            other => panic!("{rule}: {other:?}"),
        }
    }
    // A whole table iptables does not accept: the same comment, the other tables listed.
    for rule in ["ct state new accept", "log prefix \"x\"", "reject"] {
        let ns = with_rule("incompat", rule);
        ns.nft_load("table ip nat {\n chain POSTROUTING {\n type nat hook postrouting priority 100;\n }\n}");
        let theirs = ns.exec_ok("iptables-save", &[]);
        let saved = ours(&ns).expect("save");
        assert!(saved.tables.iter().any(|t| matches!(t, SavedTable::Incompatible(_))), "{rule}");
        let strip = |s: &str| -> String {
            s.lines()
                .filter(|l| !l.starts_with("# Generated") && !l.starts_with("# Completed"))
                .map(|l| format!("{l}\n"))
                .collect()
        };
        assert_eq!(saved.to_string(), strip(&theirs), "{rule}");
    }
    // iptables-save prints these broader than the kernel applies them: refused here.
    for (rule, printed) in [
        ("tcp dport { 22, 80 } accept", "-A INPUT -p tcp -j ACCEPT"),
        ("ip saddr 1.2.3.4 ip saddr 1.2.3.5 accept", "-A INPUT -s 1.2.3.5/32 -j ACCEPT"),
        ("icmp type != echo-request accept", "-A INPUT -p icmp -m icmp --icmp-type 8 -j ACCEPT"),
    ] {
        let ns = with_rule("broader", rule);
        let theirs = iptables_support::iptables_save(&ns, &[]);
        assert!(theirs.contains(printed), "{rule}: iptables-save printed\n{theirs}");
        match ours(&ns) {
            Err(SaveError::Rule(e)) => {
                assert!(matches!(e.kind, DecodeErrorKind::WouldDiffer { .. }), "{rule}: {e}")
            }
            other => panic!("{rule}: {other:?}"),
        }
    }
}

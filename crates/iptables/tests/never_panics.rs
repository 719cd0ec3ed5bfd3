//! Property tests: the parsers never panic on arbitrary input, a printed rule parses back to
//! the same rule, and xt blobs decode losslessly.

use natkeeper_iptables::xt::{XtMatch, XtTarget};
use natkeeper_iptables::{Command, ParseOptions, parse_command, parse_command_with, parse_restore};
use proptest::prelude::*;

/// Words that reach deep into the parser: options of every extension, values, oddities.
const VOCAB: &[&str] = &[
    "-A",
    "-I",
    "-D",
    "-R",
    "-C",
    "-N",
    "-X",
    "-F",
    "-Z",
    "-L",
    "-S",
    "-P",
    "-E",
    "-t",
    "nat",
    "filter",
    "mangle",
    "raw",
    "security",
    "INPUT",
    "FORWARD",
    "OUTPUT",
    "PREROUTING",
    "POSTROUTING",
    "MYCHAIN",
    "1",
    "2",
    "-s",
    "-d",
    "-i",
    "-o",
    "-p",
    "-f",
    "-j",
    "-g",
    "-m",
    "-c",
    "-v",
    "-n",
    "-x",
    "-w",
    "!",
    "!",
    "tcp",
    "udp",
    "icmp",
    "all",
    "6",
    "eth0",
    "virbr+",
    "+",
    "10.0.0.0/8",
    "1.2.3.4",
    "0/0",
    "255.255.0.255",
    "22",
    "1024:",
    ":",
    "5:3",
    "0x10",
    "ssh",
    "--dport",
    "--sport",
    "--syn",
    "--tcp-flags",
    "SYN,ACK",
    "SYN",
    "--tcp-option",
    "--icmp-type",
    "echo-request",
    "3/4",
    "any",
    "multiport",
    "--dports",
    "--ports",
    "22,80,1000:2000",
    "conntrack",
    "--ctstate",
    "NEW,ESTABLISHED",
    "--ctstatus",
    "--ctproto",
    "--ctorigsrc",
    "--ctexpire",
    "--ctdir",
    "REPLY",
    "--ctorigdstport",
    "state",
    "--state",
    "limit",
    "--limit",
    "1/s",
    "--limit-burst",
    "length",
    "--length",
    "85:",
    "comment",
    "--comment",
    "a b",
    "mark",
    "--mark",
    "0x1/0xff",
    "connmark",
    "physdev",
    "--physdev-in",
    "--physdev-is-bridged",
    "addrtype",
    "--src-type",
    "LOCAL",
    "--limit-iface-in",
    "pkttype",
    "--pkt-type",
    "broadcast",
    "ttl",
    "--ttl-eq",
    "64",
    "iprange",
    "--src-range",
    "1.1.1.1-1.1.1.9",
    "ACCEPT",
    "DROP",
    "RETURN",
    "DNAT",
    "--to-destination",
    "1.2.3.4:80",
    "1.1.1.1-1.1.1.2:1000-2000/3000",
    "SNAT",
    "--to-source",
    "MASQUERADE",
    "--to-ports",
    "1024-65535",
    "--random",
    "--random-fully",
    "--persistent",
    "REDIRECT",
    "REJECT",
    "--reject-with",
    "tcp-reset",
    "LOG",
    "--log-prefix",
    "--log-level",
    "NFLOG",
    "--nflog-group",
    "--nflog-prefix",
    "--nflog-size",
    "MARK",
    "--set-xmark",
    "--or-mark",
    "CONNMARK",
    "--save-mark",
    "--mask",
    "--ctmask",
    "CHECKSUM",
    "--checksum-fill",
    "CT",
    "--notrack",
    "--zone",
    "--ctevents",
    "new",
    "NOTRACK",
    "--to",
    "--dest",
    "--",
    "-",
    "",
    "-vn",
    "-AINPUT",
    "--jump=ACCEPT",
    "--dport=22",
];

fn words() -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec(
        prop_oneof![
            4 => prop::sample::select(VOCAB).prop_map(str::to_owned),
            1 => "\\PC{0,12}",
        ],
        0..24,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    #[test]
    fn command_words_never_panic(w in words()) {
        let _ = parse_command(&w);
        let _ = parse_command_with(&w, &ParseOptions::legacy());
    }

    #[test]
    fn any_text_never_panics(s in "\\PC{0,200}") {
        let _ = s.parse::<Command>();
        let _ = parse_restore(&s);
    }

    #[test]
    fn restore_text_never_panics(lines in prop::collection::vec(
        prop_oneof![
            Just("*filter".to_owned()), Just("*nat".to_owned()), Just("COMMIT".to_owned()),
            Just(":INPUT DROP [1:2]".to_owned()), Just(":X - [0:0]".to_owned()), Just("#c".to_owned()),
            Just(String::new()), words().prop_map(|w| w.join(" ")),
            words().prop_map(|w| format!("[3:4] {}", w.join(" "))),
        ], 0..12)) {
        if let Ok(file) = parse_restore(&lines.join("\n")) {
            let _ = file.to_saved(false);
            let _ = file.to_saved(true);
            // Printing and parsing again gives the same file.
            prop_assert_eq!(parse_restore(&file.to_string()), Ok(file));
        }
    }

    /// Whatever parses prints to something that parses to the same command.
    #[test]
    fn printed_commands_parse_back(w in words()) {
        if let Ok(cmd) = parse_command(&w) {
            let printed = cmd.to_string();
            let again = printed.parse::<Command>();
            // Printing shows the rule as iptables reads it back (`-i +` gone, native tcp merged).
            match again {
                Ok(again) => {
                    prop_assert_eq!(read_back_form(again.clone()), read_back_form(cmd), "printed: {}", printed);
                    prop_assert_eq!(again.to_string(), printed);
                }
                Err(e) => prop_assert!(false, "printed `{}` does not parse: {}", printed, e),
            }
        }
    }

    /// A blob of the right size decodes, and encodes back to the same bytes.
    #[test]
    fn xt_blobs_decode_losslessly(
        which in 0usize..24,
        bytes in prop::collection::vec(any::<u8>(), 0..300),
    ) {
        const MATCHES: [(&str, u32); 15] = [
            ("addrtype", 1), ("comment", 0), ("connmark", 1), ("conntrack", 3), ("icmp", 0),
            ("iprange", 1), ("length", 0), ("mark", 1), ("multiport", 1), ("physdev", 0),
            ("pkttype", 0), ("state", 0), ("tcp", 0), ("ttl", 0), ("udp", 0),
        ];
        const TARGETS: [(&str, u32); 9] = [
            ("CHECKSUM", 0), ("CONNMARK", 2), ("CT", 2), ("LOG", 0), ("MARK", 2), ("SNAT", 0),
            ("MASQUERADE", 0), ("DNAT", 2), ("REJECT", 0),
        ];
        if which < MATCHES.len() {
            let (name, rev) = MATCHES[which];
            if let Ok(m) = XtMatch::decode(name, rev, &bytes) {
                prop_assert_eq!(m.encode(), bytes);
                prop_assert_eq!((m.name(), m.rev()), (name, rev));
            }
        } else {
            let (name, rev) = TARGETS[which - MATCHES.len()];
            if let Ok(t) = XtTarget::decode(name, rev, &bytes) {
                prop_assert_eq!(t.encode(), bytes);
                prop_assert_eq!((t.name(), t.rev()), (name, rev));
            }
        }
    }
}

/// The command with its rule as iptables reads it back (`Rule::read_back`): what printing keeps.
fn read_back_form(mut cmd: Command) -> Command {
    let rule = match &mut cmd {
        Command::Append(r) | Command::Delete(r) | Command::Check(r) => r,
        Command::Insert { rule, .. } | Command::Replace { rule, .. } => rule,
        _ => return cmd,
    };
    *rule = rule.read_back();
    cmd
}

/// Every registered struct decodes a blob of its exact size (so the lossless property above is
/// not vacuous): sizes as iptables-nft 1.8.9 sends them.
#[test]
fn registry_sizes() {
    for (name, rev, size) in [
        ("addrtype", 1, 8),
        ("comment", 0, 256),
        ("connmark", 1, 16),
        ("conntrack", 3, 168),
        ("icmp", 0, 8),
        ("iprange", 1, 72),
        ("length", 0, 8),
        ("mark", 1, 16),
        ("multiport", 1, 48),
        ("physdev", 0, 72),
        ("pkttype", 0, 8),
        ("state", 0, 8),
        ("tcp", 0, 16),
        ("ttl", 0, 8),
        ("udp", 0, 16),
    ] {
        let blob: Vec<u8> = (0..size).map(|i| i as u8 ^ 0xa5).collect();
        let m = XtMatch::decode(name, rev, &blob).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(!matches!(m, XtMatch::Unknown { .. }), "{name}");
        assert_eq!(m.encode(), blob, "{name}");
        assert!(XtMatch::decode(name, rev, &blob[..size - 1]).is_err(), "{name}");
    }
    for (name, rev, size) in [
        ("CHECKSUM", 0, 8),
        ("CONNMARK", 2, 16),
        ("CT", 2, 72),
        ("LOG", 0, 32),
        ("MARK", 2, 8),
        ("SNAT", 0, 24),
        ("MASQUERADE", 0, 24),
        ("REDIRECT", 0, 24),
        ("DNAT", 0, 24),
        ("DNAT", 2, 48),
        ("REJECT", 0, 8),
    ] {
        let blob: Vec<u8> = (0..size).map(|i| i as u8 ^ 0x5a).collect();
        let t = XtTarget::decode(name, rev, &blob).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(!matches!(t, XtTarget::Unknown { .. }), "{name}");
        assert_eq!(t.encode(), blob, "{name}");
        assert!(XtTarget::decode(name, rev, &blob[1..]).is_err(), "{name}");
    }
}

/// Pieces of valid rules, combined at random.
const SNIPPETS: &[&str] = &[
    "-s 10.0.0.0/8",
    "! -s 192.168.1.7",
    "-d 10.1.0.1/255.255.0.255",
    "! -d 0.0.0.0/1",
    "-i eth0",
    "! -i virbr+",
    "-o eth1",
    "! -o +",
    "-p tcp",
    "-p udp",
    "-p icmp",
    "! -p 47",
    "-f",
    "! -f",
    "--dport 22",
    "! --sport 1024:",
    "--syn",
    "! --tcp-flags ALL SYN,ACK",
    "--tcp-option 8",
    "-m tcp",
    "-m udp",
    "--icmp-type 3/4",
    "-m multiport --dports 22,80:90",
    "-m multiport ! --sports 53",
    "-m conntrack --ctstate NEW,RELATED ! --ctproto 6",
    "-m conntrack --ctorigsrc 10.0.0.1/24 --ctreplsrcport 80:90 --ctexpire 5: --ctdir ORIGINAL",
    "-m conntrack ! --ctstatus SEEN_REPLY --ctorigdst 1.2.3.4",
    "-m state ! --state INVALID",
    "-m limit --limit 7/hour --limit-burst 3",
    "-m limit",
    "-m length ! --length :100",
    "-m comment --comment \"x y\\\"z\"",
    "-m mark ! --mark 0x10/0xf0",
    "-m connmark --mark 1",
    "-m physdev ! --physdev-in eth+ --physdev-is-bridged",
    "-m addrtype ! --src-type LOCAL,BROADCAST",
    "-m pkttype --pkt-type mcast",
    "-m ttl --ttl-gt 3",
    "-m ttl ! --ttl 9",
    "-m iprange ! --dst-range 10.0.0.9-10.0.0.1",
    "-c 1 2",
];

const TARGETS: &[&str] = &[
    "",
    "-j ACCEPT",
    "-j DROP",
    "-j RETURN",
    "-j MYCHAIN",
    "-g MYCHAIN",
    "-j REJECT",
    "-j REJECT --reject-with tcp-reset",
    "-j LOG --log-prefix \"a b\" --log-level 1 --log-uid",
    "-j NFLOG --nflog-group 3 --nflog-size 0 --nflog-threshold 2 --nflog-prefix p",
    "-j DNAT --to-destination 10.0.0.1-10.0.0.2:80-90/100 --random --persistent",
    "-j DNAT --to-destination :8080",
    "-j SNAT --to-source 1.2.3.4:1-2 --random-fully",
    "-j MASQUERADE --to-ports 1024-2000 --random",
    "-j REDIRECT --to-ports 8080",
    "-j MARK --set-mark 0x10/0x30",
    "-j CONNMARK --restore-mark --mask 0xff",
    "-j CONNMARK --set-xmark 1/2 --left-shift-mark 4",
    "-j CHECKSUM --checksum-fill",
    "-j CT --zone-orig 4 --ctevents new,reply --helper ftp",
    "-j NOTRACK",
];

const PLACES: &[&str] = &[
    "-A INPUT",
    "-t nat -A PREROUTING",
    "-t nat -A POSTROUTING",
    "-t nat -I OUTPUT 2",
    "-t mangle -A FORWARD",
    "-t raw -A PREROUTING",
    "-D FORWARD",
    "-C MYCHAIN",
    "-R INPUT 3",
    "-t security -A OUTPUT",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(6000))]

    /// Plausible rules: when one parses, its printed form parses to the same command.
    #[test]
    fn structured_rules_roundtrip(
        place in prop::sample::select(PLACES),
        parts in prop::collection::vec(prop::sample::select(SNIPPETS), 0..6),
        target in prop::sample::select(TARGETS),
    ) {
        let line = format!("{place} {} {target}", parts.join(" "));
        if let Ok(cmd) = line.parse::<Command>() {
            let printed = cmd.to_string();
            let again = printed.parse::<Command>();
            prop_assert_eq!(again.as_ref(), Ok(&cmd), "input: {} printed: {}", line, printed);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    /// Every rule that parses is written (`encode`) and read back (`decode`) as iptables-nft
    /// 1.8.9 reads it: the same rule (as read back), the same line.
    #[test]
    fn structured_rules_encode_and_read_back(
        place in prop::sample::select(PLACES),
        parts in prop::collection::vec(prop::sample::select(SNIPPETS), 0..6),
        target in prop::sample::select(TARGETS),
    ) {
        let line = format!("{place} {} {target}", parts.join(" "));
        if let Some(rule) = line.parse::<Command>().ok().and_then(|c| c.rule().cloned()) {
            let written = natkeeper_iptables::encode(&rule);
            prop_assert!(written.is_ok(), "{}: {:?}", line, written);
            let read = written.as_ref().map(natkeeper_iptables::decode);
            let mut expected = rule.read_back();
            expected.counters = Some(rule.counters.unwrap_or_default());
            match read {
                Ok(Ok(r)) => {
                    prop_assert_eq!(r.to_string(), rule.to_string());
                    prop_assert_eq!(r, expected);
                }
                other => prop_assert!(false, "{}: {:?}", line, other),
            }
        }
    }
}

/// The structured generator is not vacuous: a good share of its rules are valid.
#[test]
fn structured_rules_mostly_parse() {
    let mut ok = 0;
    let mut total = 0;
    for place in PLACES {
        for snippet in SNIPPETS {
            for target in TARGETS {
                total += 1;
                if format!("{place} -p tcp {snippet} {target}").parse::<Command>().is_ok()
                    || format!("{place} {snippet} {target}").parse::<Command>().is_ok()
                {
                    ok += 1;
                }
            }
        }
    }
    println!("{ok}/{total} combinations parse");
    assert!(ok * 4 > total, "{ok}/{total}");
}

mod decoding {
    //! The reader never panics on rules it did not write.

    use natkeeper_iptables::nft::expr::{
        Bitwise, BitwiseOp, Cmp, CmpOp, Counter, Immediate, Limit, Log, Meta, MetaKey, Payload, PayloadBase,
        PayloadOp, Range, Register, Xt,
    };
    use natkeeper_iptables::nft::{Data, Expr, Family, Rule, Verdict};
    use proptest::prelude::*;

    const XT_NAMES: &[&str] = &[
        "tcp",
        "udp",
        "icmp",
        "conntrack",
        "state",
        "multiport",
        "physdev",
        "comment",
        "length",
        "mark",
        "LOG",
        "REJECT",
        "DNAT",
        "SNAT",
        "MASQUERADE",
        "CT",
        "MARK",
        "CONNMARK",
        "CHECKSUM",
        "recent",
    ];

    fn reg() -> impl Strategy<Value = Register> {
        prop_oneof![Just(Register(0)), Just(Register(1)), Just(Register(2)), (0u32..30).prop_map(Register)]
    }

    fn bytes() -> impl Strategy<Value = Vec<u8>> {
        prop::collection::vec(any::<u8>(), 0..20)
    }

    fn expr() -> impl Strategy<Value = Expr> {
        prop_oneof![
            (0u32..25, reg()).prop_map(|(k, dreg)| Expr::Meta(Meta::Load { key: MetaKey::from(k), dreg })),
            (0u32..25, reg()).prop_map(|(k, sreg)| Expr::Meta(Meta::Store { key: MetaKey::from(k), sreg })),
            (0u32..4, 0u32..20, 0u32..6, reg()).prop_map(|(b, o, l, dreg)| Expr::Payload(Payload {
                base: PayloadBase::from(b),
                offset: o,
                len: l,
                op: PayloadOp::Load { dreg },
            })),
            (reg(), 0u32..7, bytes()).prop_map(|(sreg, op, data)| Expr::Cmp(Cmp {
                sreg,
                op: CmpOp::from(op),
                data
            })),
            (reg(), reg(), bytes(), bytes()).prop_map(|(sreg, dreg, mask, xor)| Expr::Bitwise(Bitwise {
                sreg,
                dreg,
                len: mask.len() as u32,
                op: BitwiseOp::Bool { mask, xor },
            })),
            (reg(), 0u32..3, bytes(), bytes()).prop_map(|(sreg, op, from, to)| Expr::Range(Range {
                sreg,
                op: CmpOp::from(op),
                from,
                to,
            })),
            any::<(u64, u64)>().prop_map(|(b, p)| Expr::Counter(Counter { bytes: b, packets: p })),
            (reg(), bytes()).prop_map(|(dreg, v)| Expr::Immediate(Immediate { dreg, data: Data::Value(v) })),
            prop_oneof![
                Just(Verdict::Accept),
                Just(Verdict::Drop),
                Just(Verdict::Return),
                Just(Verdict::Queue),
                Just(Verdict::Jump("X".into())),
                Just(Verdict::Goto("Y".into())),
            ]
            .prop_map(Expr::verdict),
            (any::<u64>(), 0u64..100_000, any::<u32>(), 0u32..2, 0u32..2).prop_map(
                |(rate, unit, burst, kind, flags)| Expr::Limit(Limit { rate, unit, burst, kind, flags })
            ),
            (any::<Option<u16>>(), any::<Option<u32>>(), any::<Option<u16>>()).prop_map(
                |(group, snaplen, qthreshold)| Expr::Log(Log {
                    group,
                    snaplen,
                    qthreshold,
                    ..Log::default()
                })
            ),
            (
                prop::sample::select(XT_NAMES),
                0u32..4,
                prop::collection::vec(any::<u8>(), 0..300),
                any::<bool>()
            )
                .prop_map(|(n, rev, info, m)| {
                    let x = Xt::new(n, rev, info);
                    if m { Expr::Match(x) } else { Expr::Target(x) }
                }),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4000))]

        #[test]
        fn decode_never_panics(
            exprs in prop::collection::vec(expr(), 0..10),
            udata in prop::option::of(prop::collection::vec(any::<u8>(), 0..40)),
            table in prop::sample::select(&["filter", "nat", "raw", "other"][..]),
        ) {
            let mut r = Rule::new(Family::Ip, table, "INPUT");
            r.exprs = exprs;
            r.userdata = udata;
            if let Ok(rule) = natkeeper_iptables::decode(&r) {
                // What reads back prints, and writes again.
                let _ = rule.to_string();
                let _ = natkeeper_iptables::encode(&rule);
            }
        }
    }
}

//! Byte for byte: the `NFT_MSG_NEWRULE` natkeeper sends for a rule is the one iptables-nft 1.8.9
//! sends. For every OK line of the conformance `.t` files (first chain of each line), and every
//! rule of the fixture rule sets, `iptables -vvv -A ...` is run in a namespace and the hexdump it
//! prints of each message it sends (libmnl's `mnl_nlmsg_fprintf`) is read back into bytes; the
//! attributes of its NEWRULE must equal those of natkeeper's (table, chain, expressions with
//! every attribute in libnftnl's order, xt info, `NFTA_RULE_COMPAT`).

mod iptables_support;

use iptables_support::{conformance_dir, corpus, shell_words, t_file, t_files};
use natkeeper_iptables::{Command, encode};
use natkeeper_nft::{Position, Transaction};
use natkeeper_tests::Netns;

/// `(NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWRULE`.
const NEWRULE: u16 = (10 << 8) | 6;
/// `(NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWCHAIN`.
const NEWCHAIN: u16 = (10 << 8) | 3;
/// `sizeof(struct nlmsghdr) + sizeof(struct nfgenmsg)`.
const HEADERS: usize = 20;

/// The messages in libmnl's hexdump: (type, attribute bytes).
fn parse_hexdump(text: &str) -> Vec<(u16, Vec<u8>)> {
    let mut out = Vec::new();
    let mut lines = text.lines().map(strip_ansi).peekable();
    while let Some(line) = lines.next() {
        if !line.contains("| message length |") {
            continue;
        }
        let kind = lines
            .next()
            .and_then(|l| l.trim_start_matches('|').split('|').next().map(|t| t.trim().to_owned()))
            .and_then(|t| t.parse::<u16>().ok());
        // sequence number, port ID, separator, extra header
        for _ in 0..4 {
            lines.next();
        }
        let mut body = Vec::new();
        while let Some(l) = lines.peek() {
            if !l.starts_with('|') {
                break;
            }
            let l = lines.next().unwrap_or_default();
            let fields: Vec<&str> = l.split('|').collect();
            if l.contains("|len |flags| type|") {
                // |00011|N-|00001|
                let len = fields.get(1).and_then(|f| f.trim().parse::<u16>().ok()).unwrap_or(0);
                let flags = fields.get(2).map(|f| f.trim()).unwrap_or("");
                let mut kind = fields.get(3).and_then(|f| f.trim().parse::<u16>().ok()).unwrap_or(0);
                if flags.starts_with('N') {
                    kind |= 0x8000;
                }
                if flags.ends_with('B') {
                    kind |= 0x4000;
                }
                body.extend(len.to_le_bytes());
                body.extend(kind.to_le_bytes());
            } else if l.contains("data") {
                for h in fields.get(1).map(|f| f.split_whitespace()).into_iter().flatten() {
                    body.push(u8::from_str_radix(h, 16).unwrap_or(0xee));
                }
            }
        }
        if let Some(k) = kind {
            out.push((k, body));
        }
    }
    out
}

fn strip_ansi(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for d in chars.by_ref() {
                if d == 'm' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The attribute bytes of the NEWRULE natkeeper sends for `rule`.
fn ours(rule: &natkeeper_iptables::Rule) -> Result<Vec<u8>, String> {
    let r = encode(rule).map_err(|e| e.to_string())?;
    let mut t = Transaction::new(None);
    t.add_rule(&r, Position::Append);
    message(&t, NEWRULE)
}

/// The attribute bytes of the first message of type `kind` in a transaction.
fn message(t: &Transaction, kind_wanted: u16) -> Result<Vec<u8>, String> {
    let wire = t.wire();
    let mut at = 0;
    while at + 16 <= wire.len() {
        let len = u32::from_le_bytes([wire[at], wire[at + 1], wire[at + 2], wire[at + 3]]) as usize;
        let kind = u16::from_le_bytes([wire[at + 4], wire[at + 5]]);
        if kind == kind_wanted {
            return Ok(wire[at + HEADERS..at + len].to_vec());
        }
        at += len.max(16).div_ceil(4) * 4;
    }
    Err("no such message in the transaction".into())
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[test]
fn newrule_messages_are_those_iptables_nft_sends() {
    if !natkeeper_tests::can_run() {
        return;
    }
    // (description, table, chain, rule words after `-A CHAIN`)
    let mut cases: Vec<(String, String, String, Vec<String>)> = Vec::new();
    if let Some(dir) = conformance_dir() {
        for path in t_files(&dir) {
            let file = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_owned();
            let mut seen = std::collections::BTreeSet::new();
            for c in t_file(&path).into_iter().filter(|c| c.ok()) {
                if seen.insert(c.line) {
                    cases.push((format!("{file}:{}", c.line), c.table, c.chain, shell_words(&c.rule)));
                }
            }
        }
    }
    for set in corpus() {
        let mut table = "filter".to_owned();
        for line in set.text.lines() {
            if let Some(t) = line.strip_prefix('*') {
                table = t.trim().to_owned();
            }
            if line.starts_with('#') {
                continue;
            }
            // `[p:b] -A ...`: the rule without its counters prefix.
            let line = line.trim_start_matches(|c| c != '-').trim_end();
            let words = shell_words(line);
            if words.first().map(String::as_str) == Some("-A") && words.len() >= 2 {
                cases.push((
                    format!("{}: {line}", set.name),
                    table.clone(),
                    words[1].clone(),
                    words[2..].to_vec(),
                ));
            }
        }
    }
    let ns = Netns::new("wire");
    let mut failures = Vec::new();
    let mut compared = 0;
    let mut chains = 0;
    for (what, table, chain, rule) in &cases {
        let mut args: Vec<&str> = vec!["-vvv", "-t", table, "-A", chain];
        args.extend(rule.iter().map(String::as_str));
        let cmd_line = args[1..]
            .iter()
            .map(|w| if w.contains(' ') { format!("\"{w}\"") } else { (*w).to_owned() })
            .collect::<Vec<_>>()
            .join(" ");
        let Ok(cmd) = cmd_line.parse::<Command>() else {
            failures.push(format!("{what}: natkeeper does not parse `{cmd_line}`"));
            continue;
        };
        let Some(rule_model) = cmd.rule() else { continue };
        // Jump targets must exist for iptables: create them first (quietly).
        if let Some(natkeeper_iptables::Target::Jump(t) | natkeeper_iptables::Target::Goto(t)) =
            &rule_model.target
        {
            let _ = ns.exec("iptables", &["-t", table, "-N", t]);
        }
        if natkeeper_iptables::BuiltinChain::find(rule_model.table, chain).is_none() {
            let _ = ns.exec("iptables", &["-t", table, "-N", chain]);
        }
        let out = ns.exec("iptables", &args);
        if !out.status.success() {
            failures.push(format!("{what}: iptables refused it: {}", String::from_utf8_lossy(&out.stderr)));
            continue;
        }
        let sent = parse_hexdump(&String::from_utf8_lossy(&out.stdout));
        // A builtin chain iptables had to create first: natkeeper's is the same message.
        if let Some((_, chain_msg)) = sent.iter().find(|(k, _)| *k == NEWCHAIN) {
            let mut t = Transaction::new(None);
            let b = natkeeper_iptables::builtin_chain(
                rule_model.table,
                chain,
                Some(natkeeper_iptables::Policy::Accept),
            );
            if let Some(c) = b {
                t.add_chain(&c);
                chains += 1;
                if message(&t, NEWCHAIN).as_ref() != Ok(chain_msg) {
                    failures.push(format!(
                        "{what}: NEWCHAIN differs:\n  iptables : {}\n  natkeeper: {:?}",
                        hex(chain_msg),
                        message(&t, NEWCHAIN).map(|m| hex(&m))
                    ));
                }
            }
        }
        let theirs: Vec<Vec<u8>> = sent.into_iter().filter(|(k, _)| *k == NEWRULE).map(|(_, b)| b).collect();
        match (ours(rule_model), theirs.as_slice()) {
            (Ok(o), [t]) if o == *t => compared += 1,
            (Ok(o), [t]) => {
                failures.push(format!("{what}:\n  iptables : {}\n  natkeeper: {}", hex(t), hex(&o)))
            }
            (Err(e), _) => failures.push(format!("{what}: natkeeper cannot encode it: {e}")),
            (_, other) => failures.push(format!("{what}: iptables sent {} NEWRULE messages", other.len())),
        }
    }
    println!(
        "{compared}/{} NEWRULE messages byte-identical to iptables-nft 1.8.9's ({chains} NEWCHAIN too)",
        cases.len()
    );
    assert!(chains >= 9, "only {chains} builtin chains compared");
    assert!(compared >= 150, "only {compared} compared");
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn builtin_chain_messages_are_those_iptables_nft_sends() {
    if !natkeeper_tests::can_run() {
        return;
    }
    // `-P CHAIN DROP` (ACCEPT in nat) on a fresh table: iptables creates the builtin chain (policy ACCEPT, no
    // counters), then sets the policy with zero counters. Every builtin chain of every table.
    let ns = Netns::new("wirechains");
    let mut compared = 0;
    for table in natkeeper_iptables::Table::ALL {
        for b in natkeeper_iptables::BuiltinChain::all(table) {
            // nat chains cannot have policy DROP (iptables inhibits it): ACCEPT there.
            let policy = if table == natkeeper_iptables::Table::Nat { "ACCEPT" } else { "DROP" };
            let out = ns.exec("iptables", &["-vvv", "-t", table.name(), "-P", b.name(), policy]);
            assert!(out.status.success(), "{table} {}: {}", b.name(), String::from_utf8_lossy(&out.stderr));
            let sent: Vec<Vec<u8>> = parse_hexdump(&String::from_utf8_lossy(&out.stdout))
                .into_iter()
                .filter(|(k, _)| *k == NEWCHAIN)
                .map(|(_, m)| m)
                .collect();
            let create = b.to_chain(Some(natkeeper_iptables::Policy::Accept), None);
            let p = natkeeper_iptables::Policy::parse(policy);
            let update = b.to_chain(p, Some(natkeeper_nft::ChainCounters::default()));
            let ours: Vec<Vec<u8>> = [create, update]
                .iter()
                .map(|c| {
                    let mut t = Transaction::new(None);
                    t.add_chain(c);
                    message(&t, NEWCHAIN).expect("NEWCHAIN")
                })
                .collect();
            assert_eq!(sent, ours, "{table} {}: NEWCHAIN differs from what iptables-nft sends", b.name());
            compared += 1;
        }
    }
    assert_eq!(compared, 17);
}

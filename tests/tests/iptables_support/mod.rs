//! Shared by the iptables namespace tests (`tests/tests/iptables_*.rs`) and the CLI tests
//! (`crates/cli/tests/iptables_*.rs`, which include this file by path): the rule sets to load,
//! and the comparison of two namespaces' kernel state.
//!
//! Rule sets: the article's iptables-save listings and command lists, libvirt's, the reference's
//! Appendix A cases and the accepted edge cases (all from `crates/iptables/tests/fixtures`), and
//! the OK lines of the iptables 1.8.9 conformance `.t` files (`../shared/conformance`).

#![allow(dead_code, unreachable_pub)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use natkeeper_nft::{Family, Ruleset, Socket};
use natkeeper_tests::Netns;

/// One input for iptables-restore (and natkeeper's).
#[derive(Debug, Clone)]
pub struct RuleSet {
    /// A name for messages.
    pub name: String,
    /// The restore input.
    pub text: String,
    /// Load with `--noflush` (command lists).
    pub noflush: bool,
}

/// The iptables crate's fixtures.
pub fn fixtures() -> PathBuf {
    natkeeper_tests::conformance::iptables_fixtures()
}

/// `../shared/conformance/iptables-1.8.9-extensions`, or `None` (said, and a failure under `CI=true`).
pub fn conformance_dir() -> Option<PathBuf> {
    natkeeper_tests::conformance::shared_subdir("conformance/iptables-1.8.9-extensions")
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[allow(unused_imports)] // each including test uses a part
pub use natkeeper_tests::conformance::{shell_words, t_files};

/// A word as iptables-restore reads it back (`add_param_to_argv`): double quotes around words
/// with blanks or quotes.
fn restore_word(w: &str) -> String {
    if !w.is_empty() && !w.contains([' ', '\t', '"', '\'', '\\']) {
        return w.to_owned();
    }
    let mut s = String::from("\"");
    for c in w.chars() {
        if c == '"' || c == '\\' {
            s.push('\\');
        }
        s.push(c);
    }
    s.push('"');
    s
}

/// An iptables command (words, without the program) as a restore line and its table; `None`
/// for listing commands, which restore input does not run.
pub fn restore_line(words: &[String]) -> Option<(String, String)> {
    let mut table = "filter".to_owned();
    let mut out = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let w = words[i].as_str();
        match w {
            "-t" | "--table" => {
                table = words.get(i + 1)?.clone();
                i += 2;
                continue;
            }
            "-w" | "--wait" => {
                i += 1;
                continue;
            }
            "-L" | "--list" | "-S" | "--list-rules" => return None,
            _ if w.starts_with("--table=") => table = w["--table=".len()..].to_owned(),
            _ => out.push(restore_word(w)),
        }
        i += 1;
    }
    Some((table, out.join(" ")))
}

/// Commands (each as words) as one `--noflush` restore input, a block per run of one table.
pub fn commands_to_restore(commands: &[Vec<String>]) -> String {
    let mut text = String::new();
    let mut open: Option<String> = None;
    for c in commands {
        let Some((table, line)) = restore_line(c) else { continue };
        if open.as_deref() != Some(table.as_str()) {
            if open.is_some() {
                text.push_str("COMMIT\n");
            }
            text.push_str(&format!("*{table}\n"));
            open = Some(table);
        }
        text.push_str(&line);
        text.push('\n');
    }
    if open.is_some() {
        text.push_str("COMMIT\n");
    }
    text
}

/// `-x ! V` rewritten as `! -x V`: the pre-2010 negation, as iptables 1.8.9 accepts it.
pub fn modern_negation(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        if !line.starts_with('-') {
            out.push_str(line);
            out.push('\n');
            continue;
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        let mut fixed: Vec<&str> = Vec::new();
        let mut i = 0;
        while i < words.len() {
            if words[i].starts_with('-') && words.get(i + 1) == Some(&"!") && i + 2 < words.len() {
                fixed.extend(["!", words[i], words[i + 2]]);
                i += 3;
            } else {
                fixed.push(words[i]);
                i += 1;
            }
        }
        out.push_str(&fixed.join(" "));
        out.push('\n');
    }
    out
}

/// Every rule set of the fixtures: the article's listings (the three with `-d !` normalised),
/// its command lists, libvirt's listing and commands, Appendix A of the reference case by case,
/// and the edge cases iptables accepted (one set each).
pub fn corpus() -> Vec<RuleSet> {
    let f = fixtures();
    let mut sets = Vec::new();
    for dir in ["article", "libvirt"] {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(f.join(dir))
            .expect("fixture dir")
            .filter_map(Result::ok)
            .map(|e| e.path())
            .collect();
        paths.sort();
        for p in paths {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_owned();
            if name.ends_with(".rules") {
                let text = read(&p);
                let legacy = p.with_extension("legacy.save").exists();
                let text = if legacy { modern_negation(&text) } else { text };
                sets.push(RuleSet { name: format!("{dir}/{name}"), text, noflush: false });
            } else if name.ends_with(".cmds") {
                let expected = read(&p.with_extension("expected"));
                let results = expected.split("---\n").next().unwrap_or_default();
                let accepted: Vec<Vec<String>> = results
                    .lines()
                    .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
                    .filter_map(|l| l.split_once(' '))
                    .filter(|(rc, _)| *rc == "0")
                    .map(|(_, cmd)| shell_words(cmd))
                    .collect();
                sets.push(RuleSet {
                    name: format!("{dir}/{name}"),
                    text: commands_to_restore(&accepted),
                    noflush: true,
                });
            }
        }
    }
    let cases = read(&f.join("reference/appendix-a.cases"));
    let mut current: Option<(String, Vec<Vec<String>>)> = None;
    let flush = |c: Option<(String, Vec<Vec<String>>)>, sets: &mut Vec<RuleSet>| {
        if let Some((name, cmds)) = c {
            sets.push(RuleSet {
                name: format!("appendix-a/{name}"),
                text: commands_to_restore(&cmds),
                noflush: true,
            });
        }
    };
    for line in cases.lines() {
        if let Some(name) = line.strip_prefix("## ") {
            flush(current.take(), &mut sets);
            current = Some((name.to_owned(), Vec::new()));
        } else if let (Some(cmd), Some((_, cmds))) = (line.strip_prefix("$ "), current.as_mut()) {
            cmds.push(shell_words(cmd));
        }
    }
    flush(current.take(), &mut sets);
    sets
}

/// The edge cases iptables 1.8.9 accepted (`rc=0`), each its own set.
pub fn edge_cases() -> Vec<RuleSet> {
    let expected = read(&fixtures().join("edge/cases.expected"));
    let mut sets = Vec::new();
    let mut cmd: Option<String> = None;
    for line in expected.lines() {
        if let Some(c) = line.strip_prefix("$ ") {
            cmd = Some(c.to_owned());
        } else if line == "rc=0" {
            if let Some(c) = cmd.take() {
                let words = shell_words(&c);
                sets.push(RuleSet {
                    name: format!("edge: {c}"),
                    text: commands_to_restore(std::slice::from_ref(&words)),
                    noflush: true,
                });
            }
        }
    }
    sets
}

/// One test run of a `.t` file line in one chain.
pub use natkeeper_tests::conformance::TestCase as TCase;

/// The runs of a `.t` file (format: iptables-test.py `run_test_file`, v1.8.9), judged as the `NFT`
/// backend.
pub fn t_file(path: &Path) -> Vec<TCase> {
    natkeeper_tests::conformance::read_t_file(path)
}

/// The OK runs of a `.t` file as one restore input per table (iptables-test.py's fast mode).
pub fn t_restore(cases: &[TCase]) -> Vec<(String, String)> {
    let mut by_table: BTreeMap<String, String> = BTreeMap::new();
    for c in cases.iter().filter(|c| c.ok()) {
        by_table.entry(c.table.clone()).or_default().push_str(&format!("-A {} {}\n", c.chain, c.rule));
    }
    by_table.into_iter().map(|(t, body)| (t.clone(), format!("*{t}\n{body}COMMIT\n"))).collect()
}

/// The kernel's family `ip` ruleset as comparable lines: tables, chains (sorted; hook,
/// priority, type, policy, counters), and each chain's rules in order (expressions with xt info
/// bytes, userdata), without handles.
pub fn kernel_state(ns: &Netns) -> Vec<String> {
    let rs =
        ns.run(|| Ruleset::read(&mut Socket::open().expect("socket"), Family::Ip).expect("read ruleset"));
    state_lines(&rs)
}

/// [`kernel_state`] of a ruleset.
pub fn state_lines(rs: &Ruleset) -> Vec<String> {
    let mut out = Vec::new();
    let mut tables: Vec<String> =
        rs.tables.iter().map(|t| format!("table {} flags {}", t.name, t.flags)).collect();
    tables.sort();
    out.extend(tables);
    let mut chains: Vec<_> = rs.chains.iter().collect();
    chains.sort_by(|a, b| (&a.table, &a.name).cmp(&(&b.table, &b.name)));
    for c in chains {
        out.push(format!(
            "chain {} {} hook={:?} type={:?} policy={:?} counters={:?} flags={:?} userdata={:?}",
            c.table, c.name, c.hook, c.chain_type, c.policy, c.counters, c.flags, c.userdata
        ));
        for r in rs.rules.iter().filter(|r| r.table == c.table && r.chain == c.name) {
            out.push(format!("  rule {:?} userdata={:?} other={:?}", r.exprs, r.userdata, r.other));
        }
    }
    out
}

/// `iptables-save` in the namespace without its `#` lines; panics on failure.
pub fn iptables_save(ns: &Netns, args: &[&str]) -> String {
    natkeeper_tests::netns::strip_comments(&ns.exec_ok("iptables-save", args))
}

/// `nft flush ruleset` in the namespace.
pub fn flush(ns: &Netns) {
    ns.exec_ok("nft", &["flush", "ruleset"]);
}

/// Loads `set` with the real iptables-restore; panics on failure.
pub fn iptables_restore(ns: &Netns, set: &RuleSet) {
    let args: &[&str] = if set.noflush { &["--noflush"] } else { &[] };
    let out = ns.exec_stdin("iptables-restore", args, set.text.as_bytes());
    assert!(
        out.status.success(),
        "{}: iptables-restore failed: {}\n{}",
        set.name,
        String::from_utf8_lossy(&out.stderr),
        set.text
    );
}

/// The first difference of two line lists, for an assertion message.
pub fn first_difference(a: &[String], b: &[String]) -> String {
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        if x != y {
            return format!("line {i}:\n  iptables : {x}\n  natkeeper: {y}");
        }
    }
    format!("lengths differ: iptables {} lines, natkeeper {} lines", a.len(), b.len())
}

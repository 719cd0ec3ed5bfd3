//! The article's and libvirt's rule sets against what iptables 1.8.9 prints for them (outputs
//! captured by `tests/fixtures/capture.py`, see `tests/fixtures/README.md`).

mod support;

use std::collections::BTreeMap;
use std::path::Path;

use natkeeper_iptables::{
    Command, Entry, ErrorKind, ParseOptions, RestoreFile, Table, TableBlock, parse_command,
    parse_command_with, parse_restore, parse_restore_with,
};

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn saved(file: &RestoreFile) -> String {
    file.to_saved(false).unwrap_or_else(|e| panic!("to_saved: {e}")).to_string()
}

/// Every `*.rules` fixture: the `iptables-save` output after `iptables-restore`, or a refusal.
#[test]
fn restore_files_print_as_iptables_save() {
    let mut checked = 0;
    for dir in ["article", "libvirt"] {
        let mut paths: Vec<_> = std::fs::read_dir(support::fixtures().join(dir))
            .expect("fixture dir")
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.to_string_lossy().ends_with(".rules"))
            .collect();
        paths.sort();
        for rules in paths {
            let input = read(&rules);
            let base = rules.with_extension("");
            let save = base.with_extension("save");
            let error = base.with_extension("error");
            let legacy = base.with_extension("legacy.save");
            if save.exists() {
                let file = parse_restore(&input).unwrap_or_else(|e| panic!("{}: {e}", rules.display()));
                assert_eq!(saved(&file), read(&save), "{}", rules.display());
                // The printed restore file parses back to the same file.
                assert_eq!(parse_restore(&file.to_string()).as_ref(), Ok(&file), "{}", rules.display());
            } else {
                assert!(error.exists(), "{}: no .save or .error", rules.display());
                let err = parse_restore(&input).expect_err(&rules.display().to_string());
                println!("{}: refused as iptables 1.8.9 refuses it: {err}", rules.display());
                assert!(err.line.is_some());
                if legacy.exists() {
                    assert!(matches!(err.kind, ErrorKind::IntrapositionedNegation { .. }), "{err}");
                    let file = parse_restore_with(&input, &ParseOptions::legacy())
                        .unwrap_or_else(|e| panic!("{} (legacy): {e}", rules.display()));
                    assert_eq!(saved(&file), read(&legacy), "{} (legacy)", rules.display());
                }
            }
            checked += 1;
        }
    }
    assert!(checked >= 8, "only {checked} fixtures");
}

/// Applies commands the way iptables does one after the other, table by table.
fn apply(commands: Vec<Command>) -> RestoreFile {
    let mut blocks: BTreeMap<Table, Vec<Entry>> = BTreeMap::new();
    let mut order = Vec::new();
    for c in commands {
        if matches!(c, Command::List { .. } | Command::ListRules { .. }) {
            continue;
        }
        let t = c.table();
        if !blocks.contains_key(&t) {
            order.push(t);
        }
        blocks.entry(t).or_default().push(Entry::Command(c));
    }
    RestoreFile {
        tables: order
            .into_iter()
            .map(|t| TableBlock { table: t, entries: blocks.remove(&t).unwrap_or_default() })
            .collect(),
    }
}

/// Every `*.cmds` fixture (but the edge cases): each command accepted or refused as iptables
/// 1.8.9 did, and the final `iptables-save` equal.
#[test]
fn command_lists_end_as_iptables_save() {
    for rel in ["article/08-poorman-commands", "article/09-life-saver", "libvirt/netstart"] {
        let base = support::fixtures().join(rel);
        let expected = read(&base.with_extension("expected"));
        let (results, save) = expected.split_once("---\n").expect("--- separator");
        let mut accepted = Vec::new();
        for line in support::command_lines(results) {
            let (rc, cmd) = line.split_once(' ').expect("rc and command");
            let words = support::shell_words(cmd);
            match (rc, parse_command(&words)) {
                ("0", Ok(c)) => accepted.push(c),
                ("0", Err(e)) => panic!("{rel}: `{cmd}` refused: {e}"),
                (_, Ok(c)) => panic!("{rel}: `{cmd}` accepted (iptables: rc {rc}): {c}"),
                (_, Err(e)) => println!("{rel}: `{cmd}` refused as by iptables: {e}"),
            }
        }
        assert_eq!(saved(&apply(accepted)), save, "{rel}");
    }
}

/// The life-saver script's `-d !` line with the legacy setting reads as `! -d`.
#[test]
fn legacy_negation_of_the_article() {
    let words = support::shell_words(
        "-t nat -A POSTROUTING -s 192.168.122.0/255.255.255.0 -d ! 192.168.122.0/255.255.255.0 -j MASQUERADE",
    );
    let err = parse_command(&words).unwrap_err();
    assert_eq!(err.word, Some(7));
    assert!(matches!(err.kind, ErrorKind::IntrapositionedNegation { .. }), "{err}");
    let cmd = parse_command_with(&words, &ParseOptions::legacy()).unwrap();
    assert_eq!(
        cmd.to_string(),
        "-t nat -A POSTROUTING -s 192.168.122.0/24 ! -d 192.168.122.0/24 -j MASQUERADE"
    );
    // Both negations at once are refused.
    let words = support::shell_words("-A INPUT ! -d ! 10.0.0.0/8");
    assert!(parse_command_with(&words, &ParseOptions::legacy()).is_err());
}

/// Appendix A of the reference: every case's commands, and the rule and chain lines
/// iptables-save 1.8.9 printed for them.
#[test]
fn reference_appendix_a() {
    let text = read(&support::fixtures().join("reference/appendix-a.cases"));
    let mut cases: Vec<(String, Vec<String>, Vec<String>)> = Vec::new();
    for line in text.lines().filter(|l| !l.starts_with("# ")) {
        if let Some(name) = line.strip_prefix("## ") {
            cases.push((name.to_owned(), Vec::new(), Vec::new()));
        } else if let (Some(cmd), Some(c)) = (line.strip_prefix("$ "), cases.last_mut()) {
            c.1.push(cmd.to_owned());
        } else if let (Some(out), Some(c)) = (line.strip_prefix("> "), cases.last_mut()) {
            c.2.push(out.to_owned());
        }
    }
    assert_eq!(cases.len(), 43);
    for (name, cmds, expected) in cases {
        let parsed: Vec<Command> = cmds
            .iter()
            .map(|c| parse_command(&support::shell_words(c)).unwrap_or_else(|e| panic!("{name}: {c}: {e}")))
            .collect();
        let printed = saved(&apply(parsed));
        let shown: Vec<&str> = printed
            .lines()
            .filter(|l| l.starts_with("-A ") || (l.starts_with(':') && !l.ends_with(" ACCEPT [0:0]")))
            .collect();
        assert_eq!(shown, expected, "{name}");
    }
}

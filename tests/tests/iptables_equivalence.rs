//! natkeeper's iptables-restore (the library) against the real one: each rule set is loaded with
//! `iptables-restore` in namespace A and with `natkeeper_iptables::restore` in namespace B, and
//!
//! * the kernel's rulesets are identical (tables, chains, every rule's expressions and xt info
//!   bytes; handles aside),
//! * `iptables-save` prints the same in both,
//! * `natkeeper_iptables::save` prints what `iptables-save` prints, in A (rules iptables-nft wrote
//!   itself) and in B.
//!
//! Rule sets: the article's listings and command lists, libvirt's, the reference's Appendix A,
//! the accepted edge cases, and the OK lines of the iptables 1.8.9 conformance `.t` files (one
//! restore per file and table); their FAIL lines must be refused.

mod iptables_support;

use iptables_support::{
    RuleSet, conformance_dir, corpus, edge_cases, first_difference, flush, iptables_restore, iptables_save,
    kernel_state, t_file, t_files, t_restore,
};
use natkeeper_iptables::{
    Command, ParseOptions, RestoreOptions, SaveOptions, encode, parse_restore_lines, restore, save,
};
use natkeeper_nft::Socket;
use natkeeper_tests::Netns;

/// Loads `set` with natkeeper's library in `ns`.
fn natkeeper_restore(ns: &Netns, set: &RuleSet) -> Result<(), String> {
    ns.run(|| {
        let options = ParseOptions::default().with_counters(false);
        let (file, _) = parse_restore_lines(&set.text, &options).map_err(|e| format!("parse: {e}"))?;
        let mut sock = Socket::open().map_err(|e| e.to_string())?;
        let opts = RestoreOptions { noflush: set.noflush, ..RestoreOptions::default() };
        restore(&mut sock, &file, &opts).map(|_| ()).map_err(|e| format!("restore: {e}"))
    })
}

/// `natkeeper_iptables::save` in `ns`.
fn natkeeper_save(ns: &Netns) -> Result<String, String> {
    ns.run(|| {
        let mut sock = Socket::open().map_err(|e| e.to_string())?;
        save(&mut sock, &SaveOptions::default()).map(|s| s.to_string()).map_err(|e| e.to_string())
    })
}

/// Kernel state, iptables-save in both, natkeeper's save in both.
fn compare(a: &Netns, b: &Netns) -> Result<(), String> {
    let (ka, kb) = (kernel_state(a), kernel_state(b));
    if ka != kb {
        return Err(format!("kernel rulesets differ: {}", first_difference(&ka, &kb)));
    }
    let sa = iptables_save(a, &[]);
    let sb = iptables_save(b, &[]);
    if sa != sb {
        return Err(format!("iptables-save differs:\n--- A (iptables-restore)\n{sa}--- B (natkeeper)\n{sb}"));
    }
    for (ns, which) in [(a, "A"), (b, "B")] {
        let ours = natkeeper_save(ns)?;
        if ours != sa {
            return Err(format!(
                "natkeeper save in {which} differs from iptables-save:\n--- iptables-save\n{sa}--- natkeeper\n{ours}"
            ));
        }
    }
    Ok(())
}

#[test]
fn fixture_rule_sets_load_exactly_as_with_iptables_restore() {
    if !natkeeper_tests::can_run() {
        return;
    }
    let a = Netns::new("iptA");
    let b = Netns::new("iptB");
    let mut failures = Vec::new();
    let mut passed = 0;
    let sets = corpus();
    assert!(sets.len() >= 50, "only {} rule sets", sets.len());
    for set in &sets {
        flush(&a);
        flush(&b);
        iptables_restore(&a, set);
        let r = natkeeper_restore(&b, set).and_then(|()| compare(&a, &b));
        match r {
            Ok(()) => passed += 1,
            Err(e) => failures.push(format!("{}: {e}", set.name)),
        }
    }
    println!("fixture rule sets: {passed}/{} identical", sets.len());
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n\n"));
}

#[test]
fn accepted_edge_cases_load_exactly_as_with_iptables_restore() {
    if !natkeeper_tests::can_run() {
        return;
    }
    let a = Netns::new("edgeA");
    let b = Netns::new("edgeB");
    let mut failures = Vec::new();
    let (mut passed, mut refused) = (0, Vec::new());
    let sets = edge_cases();
    for set in &sets {
        flush(&a);
        flush(&b);
        iptables_restore(&a, set);
        match natkeeper_restore(&b, set) {
            // natkeeper refuses on purpose what iptables would install differently from what
            // it prints (address lists, host names, ...): the parser's own tests cover those.
            Err(e) if e.starts_with("parse:") => refused.push(format!("{}: {e}", set.name)),
            Err(e) => failures.push(format!("{}: {e}", set.name)),
            Ok(()) => match compare(&a, &b) {
                Ok(()) => passed += 1,
                Err(e) => failures.push(format!("{}: {e}", set.name)),
            },
        }
    }
    println!(
        "edge cases accepted by iptables: {passed}/{} identical, {} refused by natkeeper's parser:",
        sets.len(),
        refused.len()
    );
    for r in &refused {
        println!("  {r}");
    }
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n\n"));
}

#[test]
fn conformance_lines_load_exactly_as_with_iptables_restore() {
    if !natkeeper_tests::can_run() {
        return;
    }
    let Some(dir) = conformance_dir() else { return };
    let a = Netns::new("confA");
    let b = Netns::new("confB");
    let mut failures = Vec::new();
    let mut report = Vec::new();
    for path in t_files(&dir) {
        let file = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_owned();
        let cases = t_file(&path);
        // FAIL lines: natkeeper must refuse them too (parse or encode), in every chain.
        let fail_lines: std::collections::BTreeSet<usize> =
            cases.iter().filter(|c| !c.ok()).map(|c| c.line).collect();
        let mut accepted_lines = std::collections::BTreeSet::new();
        for c in cases.iter().filter(|c| !c.ok()) {
            let line = format!("-t {} -A {} {}", c.table, c.chain, c.rule);
            let accepted = line
                .parse::<Command>()
                .ok()
                .and_then(|cmd| cmd.rule().map(encode))
                .is_some_and(|r| r.is_ok());
            if accepted {
                accepted_lines.insert(c.line);
                failures.push(format!(
                    "{file}:{} [{} {}] `{}`: accepted, iptables refuses it",
                    c.line, c.table, c.chain, c.rule
                ));
            }
        }
        let (fail_total, fail_refused) = (fail_lines.len(), fail_lines.len() - accepted_lines.len());
        // OK lines: one restore per table, then compared rule by rule and as a whole.
        let ok_lines: std::collections::BTreeSet<usize> =
            cases.iter().filter(|c| c.ok()).map(|c| c.line).collect();
        let mut bad_lines = std::collections::BTreeSet::new();
        for (table, text) in t_restore(&cases) {
            let set = RuleSet { name: format!("{file} *{table}"), text, noflush: false };
            flush(&a);
            flush(&b);
            iptables_restore(&a, &set);
            let table_lines: Vec<usize> =
                cases.iter().filter(|c| c.ok() && c.table == table).map(|c| c.line).collect();
            if let Err(e) = natkeeper_restore(&b, &set) {
                failures.push(format!("{}: {e}", set.name));
                bad_lines.extend(table_lines);
                continue;
            }
            // Rule by rule: the n-th OK run of a chain is the n-th rule of that chain.
            let (ka, kb) = (kernel_state(&a), kernel_state(&b));
            let rules = |k: &[String]| -> Vec<(String, String)> {
                let mut chain = String::new();
                let mut out = Vec::new();
                for l in k {
                    if l.starts_with("chain ") {
                        chain = l.split_whitespace().take(3).collect::<Vec<_>>().join(" ");
                    } else {
                        out.push((chain.clone(), l.clone()));
                    }
                }
                out
            };
            let (ra, rb) = (rules(&ka), rules(&kb));
            let mut per_chain: std::collections::BTreeMap<String, usize> = Default::default();
            for c in cases.iter().filter(|c| c.ok() && c.table == table) {
                let key = format!("chain {} {}", table, c.chain);
                let n = per_chain.entry(key.clone()).or_default();
                let pick = |r: &[(String, String)]| {
                    r.iter().filter(|(k, _)| *k == key).nth(*n).map(|(_, l)| l.clone())
                };
                if pick(&ra).is_none() || pick(&ra) != pick(&rb) {
                    bad_lines.insert(c.line);
                    failures.push(format!(
                        "{file}:{} [{table} {}] `{}`: kernel rules differ\n  iptables : {:?}\n  natkeeper: {:?}",
                        c.line,
                        c.chain,
                        c.rule,
                        pick(&ra),
                        pick(&rb)
                    ));
                }
                *n += 1;
            }
            if let Err(e) = compare(&a, &b) {
                failures.push(format!("{}: {e}", set.name));
                bad_lines.extend(table_lines);
            }
        }
        let ok_pass = ok_lines.len() - bad_lines.len();
        report.push(format!(
            "{file:24} OK lines {ok_pass}/{} identical (kernel, iptables-save, natkeeper save); FAIL lines {fail_refused}/{fail_total} refused",
            ok_lines.len()
        ));
    }
    for r in &report {
        println!("{r}");
    }
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n\n"));
}

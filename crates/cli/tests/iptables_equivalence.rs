//! `natkeeper iptables-restore` (the binary) against the real `iptables-restore`, and
//! `natkeeper iptables-save` against the real `iptables-save`: each rule set is loaded with
//! iptables-restore in namespace A and with the binary in namespace B; the kernel rulesets are
//! identical, iptables-save prints the same in both, and `natkeeper iptables-save` prints what
//! iptables-save prints, in both (in A the rules were written by iptables-nft itself).
//! Rule sets: the fixtures (article, libvirt, Appendix A) and the OK lines of the conformance
//! `.t` files.

#[path = "../../../tests/tests/iptables_support/mod.rs"]
mod iptables_support;

use iptables_support::{
    RuleSet, conformance_dir, corpus, first_difference, flush, iptables_restore, iptables_save, kernel_state,
    t_file, t_files, t_restore,
};
use natkeeper_tests::Netns;
use natkeeper_tests::netns::strip_comments;

const BIN: &str = env!("CARGO_BIN_EXE_natkeeper");

fn natkeeper_restore(ns: &Netns, set: &RuleSet) -> Result<(), String> {
    let args: &[&str] = if set.noflush { &["iptables-restore", "--noflush"] } else { &["iptables-restore"] };
    let out = ns.exec_stdin(BIN, args, set.text.as_bytes());
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "natkeeper iptables-restore failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

fn natkeeper_save(ns: &Netns, args: &[&str]) -> Result<String, String> {
    let out = ns.exec(BIN, &[&["iptables-save"], args].concat());
    if !out.status.success() {
        return Err(format!("natkeeper iptables-save failed: {}", String::from_utf8_lossy(&out.stderr)));
    }
    Ok(strip_comments(&String::from_utf8_lossy(&out.stdout)))
}

fn compare(a: &Netns, b: &Netns) -> Result<(), String> {
    let (ka, kb) = (kernel_state(a), kernel_state(b));
    if ka != kb {
        return Err(format!("kernel rulesets differ: {}", first_difference(&ka, &kb)));
    }
    let sa = iptables_save(a, &[]);
    let sb = iptables_save(b, &[]);
    if sa != sb {
        return Err(format!("iptables-save differs:\n--- A\n{sa}--- B\n{sb}"));
    }
    for (ns, which) in [(a, "A"), (b, "B")] {
        let ours = natkeeper_save(ns, &[])?;
        if ours != sa {
            return Err(format!(
                "`natkeeper iptables-save` in {which}:\n--- iptables-save\n{sa}--- natkeeper\n{ours}"
            ));
        }
    }
    Ok(())
}

#[test]
fn the_binary_loads_and_saves_every_rule_set_as_the_iptables_tools() {
    if !natkeeper_tests::can_run() {
        return;
    }
    let a = Netns::new("cliA");
    let b = Netns::new("cliB");
    let mut sets = corpus();
    if let Some(dir) = conformance_dir() {
        for path in t_files(&dir) {
            let file = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_owned();
            for (table, text) in t_restore(&t_file(&path)) {
                sets.push(RuleSet { name: format!("{file} *{table}"), text, noflush: false });
            }
        }
    }
    let mut failures = Vec::new();
    for set in &sets {
        flush(&a);
        flush(&b);
        iptables_restore(&a, set);
        if let Err(e) = natkeeper_restore(&b, set).and_then(|()| compare(&a, &b)) {
            failures.push(format!("{}: {e}", set.name));
        }
    }
    println!("{}/{} rule sets identical through the binary", sets.len() - failures.len(), sets.len());
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n\n"));
}

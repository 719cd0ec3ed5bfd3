//! Every test line of the iptables 1.8.9 extension `.t` files: OK lines must parse and print
//! exactly the iptables-save line the file expects; FAIL lines must be refused.

mod support;

use natkeeper_iptables::Command;
use support::{Expect, TestCase};

/// `.t` OK lines whose EXPECTED column is only a prefix of what iptables-save 1.8.9 prints
/// (iptables-test.py checks for a substring). The full line was captured from iptables-save
/// 1.8.9 on Debian 12 (`iptables -A INPUT -j NFLOG --nflog-prefix <65 x>` in `unshare -n`): the
/// 65-character prefix is kept whole (iptables-nft stores up to 127 characters).
const PREFIX_ONLY: &[(&str, usize)] = &[("libxt_NFLOG.t", 18)];

fn run_case(file: &str, case: &TestCase) -> Result<(), String> {
    let line = format!("-t {} -A {} {}", case.table, case.chain, case.rule);
    let parsed = line.parse::<Command>();
    match (case.expect, parsed) {
        (Expect::Fail, Ok(cmd)) => Err(format!(
            "accepted a FAIL line, printed `{}`",
            cmd.rule().map(ToString::to_string).unwrap_or_default()
        )),
        (Expect::Fail, Err(_)) => Ok(()),
        (_, Err(e)) => Err(format!("refused: {e}")),
        (Expect::Ok, Ok(cmd)) => {
            let printed = cmd.rule().map(ToString::to_string).unwrap_or_default();
            // Written as iptables-nft writes it, it reads back as the same line.
            let rule = cmd.rule().ok_or("not a rule")?;
            let written = natkeeper_iptables::encode(rule).map_err(|e| format!("encode: {e}"))?;
            let read = natkeeper_iptables::decode(&written).map_err(|e| format!("decode: {e}"))?;
            if read.to_string() != printed {
                return Err(format!("reads back as `{read}`, printed `{printed}`"));
            }
            if printed == case.expected {
                return Ok(());
            }
            let prefix_ok = PREFIX_ONLY.contains(&(file, case.line)) && printed.starts_with(&case.expected);
            if prefix_ok { Ok(()) } else { Err(format!("printed `{printed}`, expected `{}`", case.expected)) }
        }
        (Expect::NoMatch, Ok(cmd)) => {
            let printed = cmd.rule().map(ToString::to_string).unwrap_or_default();
            if printed.contains(&case.expected) {
                Err(format!("NOMATCH line printed the expected text `{printed}`"))
            } else {
                Ok(())
            }
        }
    }
}

#[test]
fn iptables_1_8_9_extension_files() {
    let Some(dir) = support::shared_subdir("conformance/iptables-1.8.9-extensions") else {
        return;
    };
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("read conformance dir")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "t"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no .t files in {}", dir.display());
    let mut failures = Vec::new();
    let (mut total_ok, mut total_fail) = ((0, 0), (0, 0));
    for path in &files {
        let file = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_owned();
        let cases = support::read_t_file(path);
        let (mut ok, mut ok_pass, mut fail, mut fail_pass) = (0, 0, 0, 0);
        for case in &cases {
            let is_fail = case.expect == Expect::Fail;
            if is_fail {
                fail += 1
            } else {
                ok += 1
            }
            match run_case(&file, case) {
                Ok(()) => {
                    if is_fail {
                        fail_pass += 1
                    } else {
                        ok_pass += 1
                    }
                }
                Err(why) => failures.push(format!(
                    "{file}:{} [{} {}] {}: {why}",
                    case.line, case.table, case.chain, case.rule
                )),
            }
        }
        println!("{file:24} OK/NOMATCH {ok_pass}/{ok} printed as expected, FAIL {fail_pass}/{fail} refused");
        total_ok = (total_ok.0 + ok_pass, total_ok.1 + ok);
        total_fail = (total_fail.0 + fail_pass, total_fail.1 + fail);
    }
    println!("TOTAL: OK/NOMATCH {}/{}, FAIL {}/{}", total_ok.0, total_ok.1, total_fail.0, total_fail.1);
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
}

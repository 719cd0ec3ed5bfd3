//! The iptables conformance data shared by the iptables tests of several packages: the upstream
//! iptables 1.8.9 test lines (`../shared/conformance/*.t`) and the fixture command files.

use std::path::{Path, PathBuf};

/// The shared data folder: `../shared` relative to the repository root.
pub fn shared_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared")
}

/// A shared data folder, or `None` (after saying so) when it is absent. Under `CI=true` an
/// absent folder is a failure.
pub fn shared_subdir(rel: &str) -> Option<PathBuf> {
    let dir = shared_dir().join(rel);
    if dir.is_dir() {
        return Some(dir);
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("{} is missing (required under CI=true)", dir.display());
    }
    eprintln!("SKIP: {} is absent", dir.display());
    None
}

/// What a `.t` line expects from the nft backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// Loads, and iptables-save prints the expected line.
    Ok,
    /// iptables refuses it.
    Fail,
    /// Loads, but prints differently from the expected line.
    NoMatch,
}

/// One run of one `.t` test line in one chain.
#[derive(Debug, Clone)]
pub struct TestCase {
    /// 1-based line in the file.
    pub line: usize,
    /// Table (`*table`, default filter).
    pub table: String,
    /// Chain.
    pub chain: String,
    /// The rule text after `-A CHAIN`.
    pub rule: String,
    /// The full expected iptables-save line (`-A CHAIN ...`); empty for FAIL lines.
    pub expected: String,
    /// Expected outcome for the nft backend.
    pub expect: Expect,
}

impl TestCase {
    /// iptables (nft backend) accepts the rule (`OK` or `NOMATCH`).
    pub fn ok(&self) -> bool {
        self.expect != Expect::Fail
    }
}

/// Reads an iptables-test.py `.t` file (format: iptables/iptables-test.py `run_test_file`,
/// v1.8.9): `:CHAINS`, `*table`, `@cmd`/`%cmd` (external commands, ignored), comments, and
/// `RULE;EXPECTED;RESULT[;VARIANT[;ALT]]` lines, expanded once per chain.
pub fn read_t_file(path: &Path) -> Vec<TestCase> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut out = Vec::new();
    let mut chains: Vec<String> = Vec::new();
    let mut table = "filter".to_owned();
    for (i, line) in text.lines().enumerate() {
        let line_no = i + 1;
        if line.is_empty() || line.starts_with('#') || line.starts_with('@') || line.starts_with('%') {
            continue;
        }
        if let Some(c) = line.strip_prefix(':') {
            chains = c.split(',').map(str::to_owned).collect();
            continue;
        }
        if let Some(t) = line.strip_prefix('*') {
            table = t.to_owned();
            continue;
        }
        let fields: Vec<&str> = line.split(';').collect();
        assert!(fields.len() >= 3, "{}:{line_no}: bad test line", path.display());
        let result = fields[2];
        let expect = match (fields.get(3).copied(), fields.get(4).copied()) {
            (None | Some("NFT"), _) => parse_result(result),
            (Some("LEGACY"), Some(alt)) => parse_result(alt),
            (Some("LEGACY"), None) => match parse_result(result) {
                Expect::Ok => Expect::Fail,
                Expect::Fail | Expect::NoMatch => Expect::Ok,
            },
            (Some(v), _) => panic!("{}:{line_no}: unknown variant {v}", path.display()),
        };
        for chain in &chains {
            let expected = match fields[1] {
                "=" => format!("-A {chain} {}", fields[0]),
                "" => String::new(),
                e => format!("-A {chain} {e}"),
            };
            out.push(TestCase {
                line: line_no,
                table: table.clone(),
                chain: chain.clone(),
                rule: fields[0].to_owned(),
                expected,
                expect,
            });
        }
    }
    out
}

fn parse_result(s: &str) -> Expect {
    match s {
        "OK" => Expect::Ok,
        "FAIL" => Expect::Fail,
        "NOMATCH" => Expect::NoMatch,
        other => panic!("unknown result {other}"),
    }
}

/// Splits a line into words like a POSIX shell does for simple commands: `'...'`, `"..."` (with
/// `\"`, `\\`, `\$`, `` \` `` escapes) and `\x` outside quotes. Enough for the fixtures.
pub fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                for d in chars.by_ref() {
                    if d == '\'' {
                        break;
                    }
                    cur.push(d);
                }
            }
            '"' => {
                in_word = true;
                while let Some(d) = chars.next() {
                    match d {
                        '"' => break,
                        '\\' if matches!(chars.peek(), Some('"' | '\\' | '$' | '`')) => {
                            cur.extend(chars.next());
                        }
                        _ => cur.push(d),
                    }
                }
            }
            '\\' => {
                in_word = true;
                cur.extend(chars.next());
            }
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    words
}

/// The lines of a fixture command file (`#` comments and blank lines dropped).
pub fn command_lines(text: &str) -> Vec<&str> {
    text.lines().filter(|l| !l.trim().is_empty() && !l.starts_with('#')).collect()
}

/// The `.t` files in `dir`, sorted.
pub fn t_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "t"))
        .collect();
    files.sort();
    files
}

/// The iptables crate's fixtures (`crates/iptables/tests/fixtures`).
pub fn iptables_fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../crates/iptables/tests/fixtures")
}

//! The configurations already in the repository: the example and VM-scenario files, the fuzzer's
//! seeds, and every string literal in the Rust code of natkeeper, its CLI, the workspace's tests
//! and the fuzz targets — the configurations the tests use, and the pieces and format strings
//! they build others from.

use std::path::{Path, PathBuf};

/// The workspace's root.
fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Files directly in `dir` whose name ends with `suffix`, sorted.
fn files_in(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file() && p.to_string_lossy().ends_with(suffix))
        .collect();
    files.sort();
    files
}

/// Rust files under `dir`, recursively, sorted (but not this test's own: its inputs are tested
/// for what they are).
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display())) {
            let p = e.unwrap().path();
            if p.is_dir() && !p.ends_with("config_differential") {
                dirs.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// `(name, text)` of every configuration file in the repository.
pub(crate) fn files() -> Vec<(String, String)> {
    let root = repository();
    let mut paths = files_in(&root.join("examples"), ".toml");
    paths.extend(files_in(&root.join("vm-tests/scenarios"), ".toml"));
    paths.extend(files_in(&root.join("fuzz/corpus/policy"), ""));
    paths
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            (p.strip_prefix(&root).unwrap_or(&p).display().to_string(), text)
        })
        .collect()
}

/// `(file:line, text)` of every string literal in the Rust code that holds or builds
/// configurations.
pub(crate) fn literals() -> Vec<(String, String)> {
    let root = repository();
    let mut out = Vec::new();
    for dir in [
        "crates/natkeeper/src",
        "crates/natkeeper/tests",
        "crates/cli/src",
        "crates/cli/tests",
        "tests",
        "fuzz/fuzz_targets",
    ] {
        for p in rust_files(&root.join(dir)) {
            let src = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            let name = p.strip_prefix(&root).unwrap_or(&p).display().to_string();
            for (line, text) in string_literals(&src) {
                out.push((format!("{name}:{line}"), text));
            }
        }
    }
    out
}

/// The string literals of Rust source `src` (`"…"`, `r#"…"#`, `b"…"`), unescaped, with the line
/// each starts on. Comments and character literals are skipped; byte escapes above 0x7f become
/// the character of that code point (any text will do as input).
pub(crate) fn string_literals(src: &str) -> Vec<(usize, String)> {
    let s: Vec<char> = src.chars().collect();
    let at = |i: usize| s.get(i).copied().unwrap_or('\0');
    let mut out = Vec::new();
    let (mut i, mut line) = (0, 1);
    let mut after_ident = false;
    while i < s.len() {
        let c = s[i];
        let ident = c.is_alphanumeric() || c == '_';
        match c {
            '\n' => {
                line += 1;
                i += 1;
            }
            '/' if at(i + 1) == '/' => {
                while i < s.len() && s[i] != '\n' {
                    i += 1;
                }
            }
            '/' if at(i + 1) == '*' => {
                i += 2;
                while i < s.len() && !(s[i] == '*' && at(i + 1) == '/') {
                    line += usize::from(s[i] == '\n');
                    i += 1;
                }
                i += 2;
            }
            '\'' => {
                // A character literal ('x', '\n', '\u{7f}'), or a lifetime ('a).
                if at(i + 1) == '\\' {
                    i += 2;
                    while i < s.len() && s[i] != '\'' {
                        i += 1;
                    }
                    i += 1;
                } else if at(i + 2) == '\'' {
                    i += 3;
                } else {
                    i += 1;
                }
            }
            'r' | 'b'
                if !after_ident
                    && (at(i + 1) == '"' || at(i + 1) == '#' || (c == 'b' && at(i + 1) == 'r')) =>
            {
                let raw = c == 'r' || at(i + 1) == 'r';
                i += if c == 'b' && raw { 2 } else { 1 };
                if !raw {
                    continue; // b"…": the quote is read next.
                }
                let hashes = s[i..].iter().take_while(|&&h| h == '#').count();
                if at(i + hashes) != '"' {
                    i += hashes;
                    continue; // r#ident
                }
                i += hashes + 1;
                let start_line = line;
                let mut text = String::new();
                while i < s.len() {
                    if s[i] == '"' && (1..=hashes).all(|k| at(i + k) == '#') {
                        break;
                    }
                    line += usize::from(s[i] == '\n');
                    text.push(s[i]);
                    i += 1;
                }
                i += hashes + 1;
                out.push((start_line, text));
            }
            '"' => {
                let start_line = line;
                let mut text = String::new();
                i += 1;
                while i < s.len() && s[i] != '"' {
                    if s[i] == '\\' {
                        i += 1;
                        match at(i) {
                            'n' => text.push('\n'),
                            'r' => text.push('\r'),
                            't' => text.push('\t'),
                            '0' => text.push('\0'),
                            'x' => {
                                let hex: String = s[i + 1..i + 3].iter().collect();
                                text.push(char::from_u32(u32::from_str_radix(&hex, 16).unwrap()).unwrap());
                                i += 2;
                            }
                            'u' => {
                                let end = i + s[i..].iter().position(|&h| h == '}').unwrap();
                                let hex: String = s[i + 2..end].iter().collect();
                                text.push(char::from_u32(u32::from_str_radix(&hex, 16).unwrap()).unwrap());
                                i = end;
                            }
                            '\n' => {
                                // A line continuation: the newline and the next line's indentation go.
                                line += 1;
                                while at(i + 1).is_whitespace() {
                                    line += usize::from(at(i + 1) == '\n');
                                    i += 1;
                                }
                            }
                            other => text.push(other),
                        }
                    } else {
                        line += usize::from(s[i] == '\n');
                        text.push(s[i]);
                    }
                    i += 1;
                }
                i += 1;
                out.push((start_line, text));
            }
            _ => i += 1,
        }
        after_ident = ident;
    }
    out
}

#[test]
fn string_literals_are_found_and_unescaped() {
    let src = "// \"not this\"\nlet a = \"x = 1\\n\"; let c = '\"'; let l: &'a str = r#\"[host]\n\"#;\n\
               /* \"nor this\" */ let b = b\"\\x41\"; fn r() {} let d = \"a\\\n    b\\u{e9}\";";
    let found = string_literals(src);
    assert_eq!(
        found,
        vec![
            (2, "x = 1\n".to_string()),
            (2, "[host]\n".to_string()),
            (4, "A".to_string()),
            (4, "abé".to_string()),
        ]
    );
}

//! `Policy::parse` (natkeeper's own TOML parser) against the loader it replaced — `toml` 0.8 and
//! serde, kept as the oracle in `oracle.rs` — on the repository's configurations, on generated
//! ones with random formatting, and on broken ones (mutations of generated ones, and token soup).
//!
//! The two agree when they give the same `Policy`, the same entry error, or both a syntax error
//! (`ConfigError::Syntax`: TOML or schema; their wording differs). On generated and repository
//! configurations nothing else is allowed. On broken ones natkeeper may also refuse, on purpose,
//! what the schema never uses but TOML or serde took: inline tables, dotted keys and sub-tables,
//! tables written as positional arrays (`host = ["1/second", 84, true]`), and arrays of more
//! than 65,535 values; its error then says they "are not supported".

mod corpus;
mod generate;
mod oracle;

use natkeeper::config::{ConfigError, Policy};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::{Index, select};
use proptest::test_runner::{Config, FileFailurePersistence, TestCaseError, TestRunner};

/// How both parsers took a text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// The same policy.
    Accepted,
    /// The same entry error.
    EntryError,
    /// Both a syntax error.
    SyntaxError,
    /// Refused by natkeeper on purpose (only allowed for broken inputs).
    Unsupported,
}

/// Parses `text` both ways; `Err` says how they disagree.
fn compare(text: &str, allow_unsupported: bool) -> Result<Outcome, String> {
    let old = oracle::parse(text);
    let new = Policy::parse(text);
    match (&old, &new) {
        (Ok(a), Ok(b)) if a == b => return Ok(Outcome::Accepted),
        (Err(a @ ConfigError::Entry { .. }), Err(b @ ConfigError::Entry { .. })) if a == b => {
            return Ok(Outcome::EntryError);
        }
        (Err(ConfigError::Syntax(_)), Err(ConfigError::Syntax(_))) => return Ok(Outcome::SyntaxError),
        (Ok(_) | Err(ConfigError::Entry { .. }), Err(ConfigError::Syntax(e)))
            if allow_unsupported && e.contains("are not supported") =>
        {
            return Ok(Outcome::Unsupported);
        }
        _ => {}
    }
    Err(format!("they disagree on {text:?}:\n  toml + serde: {old:?}\n  natkeeper:    {new:?}"))
}

/// How many cases ended each way.
#[derive(Debug, Default)]
struct Tally([usize; 4]);

impl Tally {
    fn add(&mut self, o: Outcome) {
        self.0[o as usize] += 1;
    }
    fn of(&self, o: Outcome) -> usize {
        self.0[o as usize]
    }
    fn total(&self) -> usize {
        self.0.iter().sum()
    }
}

#[test]
fn the_repositorys_configurations_parse_as_before() {
    let files = corpus::files();
    assert!(files.len() >= 10, "{} configuration files", files.len());
    for (name, text) in &files {
        let outcome = compare(text, false).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(outcome, Outcome::Accepted, "{name} is a valid configuration");
    }
    let literals = corpus::literals();
    let mut tally = Tally::default();
    for (place, text) in &literals {
        // The parser's own tests hold what it refuses on purpose.
        let allow_unsupported = place.starts_with("crates/natkeeper/src/config/");
        tally.add(compare(text, allow_unsupported).unwrap_or_else(|e| panic!("the literal at {place}: {e}")));
    }
    eprintln!(
        "{} string literals: {tally:?} (accepted, entry error, syntax error, unsupported)",
        literals.len()
    );
    // The tests' configurations are there: many accepted, and many refused either way.
    assert!(tally.of(Outcome::Accepted) >= 50, "{tally:?}");
    assert!(tally.of(Outcome::EntryError) >= 10, "{tally:?}");
    assert!(tally.of(Outcome::SyntaxError) >= 20, "{tally:?}");
}

/// Runs `cases` cases of `strategy`, turning each into a text with `text` and comparing; returns
/// the tally.
fn run<S: Strategy>(
    cases: u32,
    strategy: S,
    allow_unsupported: bool,
    text: impl Fn(&S::Value) -> String,
) -> Tally {
    let tally = std::cell::RefCell::new(Tally::default());
    // A failing case is saved beside this file (main.proptest-regressions) and replayed first later.
    let mut runner = TestRunner::new(Config {
        cases,
        source_file: Some(file!()),
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource("proptest-regressions"))),
        ..Config::default()
    });
    let result = runner.run(&strategy, |value| {
        let text = text(&value);
        let outcome = compare(&text, allow_unsupported).map_err(TestCaseError::fail)?;
        tally.borrow_mut().add(outcome);
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    tally.into_inner()
}

#[test]
fn generated_configurations_parse_as_before() {
    let tally = run(5000, generate::config(), false, |(tables, seed)| generate::render(tables, *seed));
    eprintln!("generated: {tally:?}");
    // Proptest's shrinking runs count too; the fractions still show the generator's reach.
    let total = tally.total();
    assert!(tally.of(Outcome::Accepted) * 5 >= total, "{tally:?}");
    assert!(tally.of(Outcome::EntryError) * 10 >= total, "{tally:?}");
    assert!(tally.of(Outcome::SyntaxError) * 10 >= total, "{tally:?}");
}

/// Characters the mutations insert or replace with: TOML's punctuation, blanks, newlines, and
/// characters TOML refuses.
const MUTATIONS: &[&str] = &[
    "[", "]", "\"", "'", "=", "#", ",", "\n", "\r", "\r\n", " ", "\t", "\\", "{", "}", ".", "0", "1", "9",
    "_", "+", "-", "x", "e", ":", "é", "\u{0}", "\u{7f}", "\u{feff}", "\"\"\"", "'''", "\\u00", "0x", "true",
];

#[test]
fn mutated_configurations_are_taken_or_refused_as_before() {
    let edit = (any::<Index>(), 0u8..3, select(MUTATIONS));
    let strategy = (generate::config(), vec(edit, 1..4));
    let tally = run(5000, strategy, true, |((tables, seed), edits)| {
        let mut text = generate::render(tables, *seed);
        for (at, op, with) in edits {
            let boundaries: Vec<usize> = (0..=text.len()).filter(|&i| text.is_char_boundary(i)).collect();
            let i = boundaries[at.index(boundaries.len())];
            let next = boundaries.iter().copied().find(|&j| j > i).unwrap_or(i);
            match op {
                0 => text.insert_str(i, with),
                1 => text.replace_range(i..next, ""),
                _ => text.replace_range(i..next, with),
            }
        }
        text
    });
    eprintln!("mutated: {tally:?}");
    assert!(tally.of(Outcome::SyntaxError) * 4 >= tally.total(), "{tally:?}");
}

/// Pieces of TOML, and of things that are not.
const TOKENS: &[&str] = &[
    "[[forward]]",
    "[[network]]",
    "[[nat]]",
    "[host]",
    "[",
    "]",
    "[[",
    "]]",
    "port",
    "to",
    "proto",
    "on",
    "bridge",
    "name",
    "egress",
    "public",
    "guest",
    "drop_other_icmp",
    "icmp_echo_max_size",
    "icmp_echo_rate",
    "x",
    "=",
    " =",
    " = ",
    " ",
    "\t",
    "\n",
    "\n",
    "\n",
    "\r\n",
    "\r",
    "#",
    "# c",
    ",",
    "80",
    "8080",
    "0x50",
    "0o17",
    "0b1",
    "+8",
    "-1",
    "1_000",
    "_",
    "00",
    "0",
    "1e5",
    "1.5",
    "true",
    "false",
    "\"tcp\"",
    "'udp'",
    "\"192.168.122.4\"",
    "\"192.168.122.4:80\"",
    "'8000-8009'",
    "\"virbr0\"",
    "\"eth0:0\"",
    "\"1/second\"",
    "\"",
    "'",
    "\"\"\"",
    "'''",
    "\\",
    "\\u0041",
    "\\n",
    "é",
    "\u{0}",
    "\u{7f}",
    "\u{feff}",
    "{",
    "}",
    ".",
    ":",
    "-",
    "1979-05-27",
];

/// Keys, tables and values for lines of soup.
const LINE_STARTS: &[&str] = &[
    "[[forward]]",
    "[[network]]",
    "[[nat]]",
    "[host]",
    "[ host ]",
    "[[ \"nat\" ]]",
    "[host.x]",
    "[[forward]",
    "port",
    "to",
    "proto",
    "on",
    "bridge",
    "name",
    "egress",
    "subnet",
    "uplink",
    "public",
    "guest",
    "icmp_echo_rate",
    "icmp_echo_max_size",
    "drop_other_icmp",
    "'port'",
    "\"to\"",
    "\"p\\u006frt\"",
    "forward",
    "host",
    "network",
    "a.b",
    "# comment",
    "",
];
const SEPARATORS: &[&str] = &[" = ", "=", "\t=", " ", " = ", " = ", " = "];
const VALUES: &[&str] = &[
    "80",
    "443",
    "0x1F90",
    "0o17",
    "0b1",
    "+8",
    "-1",
    "70000",
    "1_000",
    "true",
    "false",
    "\"tcp\"",
    "\"udp\"",
    "'tcp'",
    "\"192.168.122.4\"",
    "\"192.168.122.4:80\"",
    "'192.168.122.5:8000-8001'",
    "\"8000-8001\"",
    "\"virbr0\"",
    "\"eth0:0\"",
    "\"192.168.1.213\"",
    "\"1/second\"",
    "\"none\"",
    "\"snat\"",
    "[",
    "]",
    ",",
    " ",
    "\n",
    "# c\n",
    "[]",
    "{}",
    "\"\"\"",
    "'''",
    "\"\"\"\nx\"\"\"",
    "\"\\u00e9\"",
    "1.5",
    "\"",
    "'",
];
const LINE_ENDS: &[&str] = &["\n", "\n", "\n", "\r\n", " # c\n", "", "\r"];

#[test]
fn token_soup_is_taken_or_refused_as_before() {
    let tally = run(5000, vec(select(TOKENS), 0..40), true, |tokens| tokens.concat());
    eprintln!("token soup: {tally:?}");
    assert!(tally.of(Outcome::SyntaxError) * 2 >= tally.total(), "{tally:?}");
    // Soup in lines: closer to configurations, so more of it gets past the syntax.
    let line = (select(LINE_STARTS), select(SEPARATORS), vec(select(VALUES), 0..4), select(LINE_ENDS));
    let tally = run(5000, vec(line, 0..12), true, |lines| {
        let mut text = String::new();
        for (start, sep, values, end) in lines {
            text.push_str(start);
            if !start.starts_with(['[', '#']) && !start.is_empty() {
                text.push_str(sep);
                text.push_str(&values.concat());
            }
            text.push_str(end);
        }
        text
    });
    eprintln!("line soup: {tally:?}");
    assert!(tally.of(Outcome::Accepted) * 20 >= tally.total(), "{tally:?}");
}

/// Texts that show where TOML's grammar has corners, each taken or refused as before.
const CORNERS: &[&str] = &[
    // Strings.
    "[[network]]\nbridge = \"\\u0076irbr0\"\nname = \"a\\tb\\n\\\\ \\\" \\b\\f\\r \\U0001F600\"\n",
    "[[network]]\nbridge = \"virbr0\"\nname = \"\"\"\nx\r\ny\"\"\"\n",
    "[[network]]\nbridge = \"virbr0\"\nname = \"\"\"\"a\"\"\"\"\"\n",
    "[[network]]\nbridge = \"virbr0\"\nname = \"\"\"a\"\"\"\"\"\"\n",
    "[[network]]\nbridge = \"virbr0\"\nname = '''''a'''''\n",
    "[[network]]\nbridge = \"virbr0\"\nname = '''\r\nx\\\ny'''\n",
    "[[network]]\nbridge = \"virbr0\"\nname = \"\"\"x \\\n   \\\n  y\"\"\"\n",
    "[[network]]\nbridge = \"virbr0\"\nname = \"\"\"x \\  \t\r\n  y\"\"\"\n",
    "[[network]]\nbridge = \"virbr0\"\nname = \"\"\"x \\  y\"\"\"\n",
    "[[network]]\nbridge = \"virbr0\"\nname = \"\"\"a\\\"\"\"b\"\"\"\n",
    "[[network]]\nbridge = \"virbr0\"\nname = \"\\e\"\n",
    "[[network]]\nbridge = \"virbr0\"\nname = \"\\x41\"\n",
    "[[network]]\nbridge = \"virbr0\"\nname = \"\\ud800\"\n",
    "[[network]]\nbridge = \"virbr0\"\nname = \"\\U00110000\"\n",
    "[[network]]\nbridge = \"virbr0\"\nname = \"\\u00e\"\n",
    "[[network]]\nbridge = \"virbr0\"\nname = \"a\u{7f}\"\n",
    "[[network]]\nbridge = \"virbr0\"\nname = 'a\u{1}'\n",
    "[[network]]\nbridge = \"virbr0\"\nname = \"a\tb\"\n",
    "[[network]]\nbridge = \"virbr0\"\nname = 'x\n",
    "[[network]]\nbridge = \"virbr0\"\nname = \"x\ny\"\n",
    "[[network]]\nbridge = \"virbr0\"\nname = \"\"\"x\n",
    "[[network]]\nbridge = \"virbr0\"\nname = \"\"\"x\ry\"\"\"\n",
    // Integers.
    "[host]\nicmp_echo_max_size = 0x7fffffffffffffff\n",
    "[host]\nicmp_echo_max_size = 0x8000000000000000\n",
    "[host]\nicmp_echo_max_size = -9223372036854775808\n",
    "[host]\nicmp_echo_max_size = 9223372036854775808\n",
    "[host]\nicmp_echo_max_size = 0_0\n",
    "[host]\nicmp_echo_max_size = 00\n",
    "[host]\nicmp_echo_max_size = +0x10\n",
    "[host]\nicmp_echo_max_size = 1__2\n",
    "[host]\nicmp_echo_max_size = 1_\n",
    "[host]\nicmp_echo_max_size = 0x_1\n",
    "[host]\nicmp_echo_max_size = 0O7\n",
    "[host]\nicmp_echo_max_size = 0o777\n",
    "[host]\nicmp_echo_max_size = 0b1010100\n",
    "[host]\nicmp_echo_max_size = 0xDEAD\n",
    "[host]\nicmp_echo_max_size = +84\n",
    "[host]\nicmp_echo_max_size = -0\n",
    "[host]\nicmp_echo_max_size = 84.0\n",
    "[host]\nicmp_echo_max_size = 1e2\n",
    "[host]\nicmp_echo_max_size = inf\n",
    "[host]\nicmp_echo_max_size = 1979-05-27\n",
    "[host]\nicmp_echo_max_size = 07:32:00\n",
    "[host]\nicmp_echo_max_size = 0x\n",
    "[host]\nicmp_echo_max_size = 0b2\n",
    "[host]\nicmp_echo_max_size = 84abc\n",
    "[host]\ndrop_other_icmp = truex\n",
    "[host]\ndrop_other_icmp = True\n",
    // Lines, keys, tables.
    "\u{feff}[host]\n",
    "[host]\u{feff}\n",
    "# del \u{7f}\n[host]\n",
    "# nul \u{0}\n[host]\n",
    "[host]\r\ndrop_other_icmp = true\r\n",
    "[host]\rdrop_other_icmp = true\n",
    "[host]\ndrop_other_icmp = true\r",
    "  [ host ]  # c\n\tdrop_other_icmp\t=\ttrue#c\n",
    "[ [forward]]\nport = 1\nto = \"192.168.122.2\"\n",
    "[[forward] ]\nport = 1\nto = \"192.168.122.2\"\n",
    "[[ \"forward\" ]]\n'port' = 1\n\"t\\u006f\" = \"192.168.122.2\"\n",
    "[host]\n[host]\n",
    "[[host]]\n",
    "[forward]\n",
    "forward = []\n[[forward]]\nport = 1\nto = \"192.168.122.2\"\n",
    "forward = []\nforward = []\n",
    "network = []\nnat = []\n",
    "[[forward]]\nport = 1\nto = \"192.168.122.2\"\n[forward]\n",
    "[host]\nx = 1\nx = 2\n",
    "[host]\ndrop_other_icmp = true\n\"drop_other_icmp\" = false\n",
    "[host] x\n",
    "[host]\n= 1\n",
    "[host]\ndrop_other_icmp =\n",
    "[host]\ndrop_other_icmp = # c\n",
    "[host]\ndrop_other_icmp = true false\n",
    "[[forward]]\nport = [\n  80, # c\n  443,\n]\nto = \"192.168.122.2\"\n",
    "[[forward]]\nport = [80\n,443]\nto = \"192.168.122.2\"\n",
    "[[forward]]\nport = [,]\nto = \"192.168.122.2\"\n",
    "[[forward]]\nport = [80,,]\nto = \"192.168.122.2\"\n",
    "[[forward]]\nport = []\nto = \"192.168.122.2\"\n",
    "[[forward]]\nport = [ ]\nto = \"192.168.122.2\"\n",
    "[[forward]]\nport = [80, \"81-82\"]\nto = \"192.168.122.2\"\n",
    "[[forward]]\nport = [80, true]\nto = \"192.168.122.2\"\n",
    "[[forward]]\nport = [[80]]\nto = \"192.168.122.2\"\n",
    "[[forward]]\nport = 80\nto = \"192.168.122.2\"\nproto = []\n",
    "[[forward]]\nport = 80\nto = \"192.168.122.2\"\non = []\n",
    "[[forward]]\nport = 80\nto = 1\n",
    "[[forward]]\nport = 80\n",
    "[[forward]]\n",
    "[[network]]\n",
    "[[nat]]\npublic = \"eth0:0\"\n",
    "[hosts]\n",
    "x = 1\n",
    "\"\" = 1\n",
    "[[forward]]\n\"\" = 1\n",
    "[[forward]]\nport = 80\nto = \"192.168.122.2\"\n\"a\\nb\" = 1\n",
];

#[test]
fn the_corners_of_toml_are_taken_or_refused_as_before() {
    let mut tally = Tally::default();
    for text in CORNERS {
        tally.add(compare(text, false).unwrap_or_else(|e| panic!("{e}")));
    }
    eprintln!("corners: {tally:?}");
    assert!(tally.of(Outcome::Accepted) >= 20, "{tally:?}");
}

/// What natkeeper refuses on purpose: the schema never uses it, though TOML (or serde) took it.
const REFUSED_ON_PURPOSE: &[&str] = &[
    "host = {}\n",
    "host = { drop_other_icmp = true }\n",
    "forward = [{ port = 80, to = \"192.168.122.2\" }]\n",
    "host.drop_other_icmp = true\n",
    "host = [\"1/second\", 84, true]\n",
    "nat = [[\"eth0:0\", \"192.168.122.4\"]]\n",
];

#[test]
fn what_the_schema_never_uses_is_refused_by_name() {
    for text in REFUSED_ON_PURPOSE {
        assert!(oracle::parse(text).is_ok(), "toml + serde took {text:?}");
        let e = Policy::parse(text).unwrap_err().to_string();
        assert!(
            e.starts_with("TOML parse error at line 1, column ") && e.contains("are not supported"),
            "{e}"
        );
        assert_eq!(compare(text, true), Ok(Outcome::Unsupported));
    }
    // An array longer than any key has a use for (there are 65,535 ports).
    let text =
        format!("[[forward]]\nport = 80\nto = \"192.168.122.2\"\non = [{}]\n", "\"eth0\",".repeat(65_536));
    assert!(oracle::parse(&text).is_ok());
    let e = Policy::parse(&text).unwrap_err().to_string();
    assert!(e.contains("column 458752: arrays of more than 65,535 values are not supported"), "{e}");
    // And the line is named.
    let e = Policy::parse("[host]\n\n[host.sub]\n").unwrap_err().to_string();
    assert!(e.starts_with("TOML parse error at line 3, column 6: sub-tables"), "{e}");
    let e = Policy::parse("[[forward]]\nport.x = 1\n").unwrap_err().to_string();
    assert!(e.starts_with("TOML parse error at line 2, column 5: dotted keys"), "{e}");
}

//! Generated configurations: random content for the schema (mostly valid; sometimes a bad value,
//! a missing, unknown or duplicate key, a wrong type, a redefined table), written out with random
//! formatting — spacing, indentation, comments, blank lines, CRLF, a byte order mark, quoted keys
//! with escapes, all four kinds of string, integers in every base and with underscores, and arrays
//! on one line or many, with trailing commas and comments.
//!
//! Content comes from proptest (so failures shrink); formatting from a seeded generator, so one
//! case is one text.

use proptest::collection::vec;
use proptest::prelude::*;

/// A value as the schema sees it.
#[derive(Debug, Clone)]
pub(crate) enum Val {
    Str(String),
    Int(i64),
    Bool(bool),
    Arr(Vec<Val>),
}

/// One table: its header (`None`: keys of the root, before any header) and its keys.
#[derive(Debug, Clone)]
pub(crate) struct Table {
    header: Option<(&'static str, bool)>,
    keys: Vec<(String, Val)>,
}

fn s(x: &str) -> Val {
    Val::Str(x.to_string())
}

/// Mostly-valid strings for a key, with a few bad ones.
fn string_from(good: &'static [&'static str], bad: &'static [&'static str]) -> BoxedStrategy<Val> {
    prop_oneof![
        40 => proptest::sample::select(good).prop_map(s),
        1 => proptest::sample::select(bad).prop_map(s),
    ]
    .boxed()
}

/// One or many (the many may repeat, and now and then be none).
fn one_or_many(item: BoxedStrategy<Val>) -> BoxedStrategy<Val> {
    prop_oneof![12 => item.clone(), 6 => vec(item, 1..4).prop_map(Val::Arr), 1 => Just(Val::Arr(vec![]))]
        .boxed()
}

/// A value of the wrong type for any key.
fn wrong() -> BoxedStrategy<Val> {
    prop_oneof![
        Just(Val::Bool(true)),
        Just(Val::Int(7)),
        Just(s("x")),
        Just(Val::Arr(vec![Val::Bool(false)]))
    ]
    .boxed()
}

/// Keys of a table in random order: required ones present, optional ones or not; in one table
/// out of twenty, a fault: a required key missing, an unknown key, a duplicate key, or a value of
/// the wrong type.
fn keys(fields: Vec<(&'static str, bool, BoxedStrategy<Val>)>) -> impl Strategy<Value = Vec<(String, Val)>> {
    let n = fields.len();
    let present: Vec<BoxedStrategy<Option<(String, Val)>>> = fields
        .into_iter()
        .map(|(name, required, value)| {
            let value = value.prop_map(move |v| Some((name.to_string(), v)));
            if required { value.boxed() } else { prop_oneof![Just(None), value].boxed() }
        })
        .collect();
    (present, vec(any::<prop::sample::Index>(), n), 0u8..80, any::<prop::sample::Index>(), wrong()).prop_map(
        |(present, order, fault, which, wrong)| {
            let mut keys: Vec<(String, Val)> = present.into_iter().flatten().collect();
            // Shuffle by the generated indices.
            for (i, ix) in order.iter().enumerate().take(keys.len()) {
                let j = ix.index(keys.len());
                keys.swap(i, j);
            }
            if !keys.is_empty() {
                let k = which.index(keys.len());
                match fault {
                    0 => drop(keys.remove(k)),
                    1 => keys.insert(k, ("colour".to_string(), s("red"))),
                    2 => keys.push(keys[k].clone()),
                    3 => keys[k].1 = wrong,
                    _ => {}
                }
            }
            keys
        },
    )
}

fn network() -> impl Strategy<Value = Table> {
    keys(vec![
        (
            "name",
            false,
            string_from(
                &["default", "isolated", "lan", "dé'fault", "tab\there", "quo\"te\\d", "日本"],
                &["", "default"],
            ),
        ),
        (
            "bridge",
            true,
            string_from(&["virbr0", "virbr1", "br-lan"], &["vir br0", "", "a/b", "sixteen-chars-xx"]),
        ),
        ("subnet", false, string_from(&["192.168.122.0/24", "10.10.0.7/16"], &["10.0.0.0/33", "nope"])),
        ("uplink", false, string_from(&["eth0", "wan"], &["eth0"])),
        ("egress", false, string_from(&["libvirt", "masquerade", "snat", "none"], &["nat", "Libvirt"])),
    ])
    .prop_map(|keys| Table { header: Some(("network", true)), keys })
}

fn port() -> BoxedStrategy<Val> {
    prop_oneof![
        30 => (1i64..=65535).prop_map(Val::Int),
        1 => prop_oneof![Just(0i64), Just(-1), Just(65536), Just(i64::MIN), Just(i64::MAX)].prop_map(Val::Int),
        15 => (1u16..60000, 0u16..20).prop_map(|(a, n)| Val::Str(format!("{a}-{}", a + n))),
        1 => prop_oneof![Just("80"), Just(" 81 "), Just("90-80"), Just("x"), Just("0-5"), Just("")].prop_map(s),
    ]
    .boxed()
}

fn to() -> BoxedStrategy<Val> {
    prop_oneof![
        16 => (2u8..=254).prop_map(|g| Val::Str(format!("192.168.122.{g}"))),
        12 => (2u8..=254, 1u16..60000).prop_map(|(g, p)| Val::Str(format!("192.168.122.{g}:{p}"))),
        8 => (2u8..=254, 1u16..60000, 0u16..20)
            .prop_map(|(g, p, n)| Val::Str(format!("192.168.122.{g}:{p}-{}", p + n))),
        1 => prop_oneof![Just("10.0.0.300"), Just("192.168.122.5:0"), Just("host:80"), Just(":80")].prop_map(s),
    ]
    .boxed()
}

fn forward() -> impl Strategy<Value = Table> {
    keys(vec![
        ("proto", false, one_or_many(string_from(&["tcp", "udp"], &["icmp", "TCP"]))),
        ("port", true, one_or_many(port())),
        ("to", true, to()),
        (
            "on",
            false,
            one_or_many(string_from(&["192.168.1.201", "eth0:1", "eth0", "203.0.113.10"], &["", "a b"])),
        ),
    ])
    .prop_map(|keys| Table { header: Some(("forward", true)), keys })
}

fn nat() -> impl Strategy<Value = Table> {
    keys(vec![
        ("public", true, string_from(&["eth0:0", "192.168.1.213", "eth0:1"], &["what", ":0", "1.2.3"])),
        ("guest", true, string_from(&["192.168.122.41", "192.168.122.43"], &["192.168.122.256", "guest"])),
    ])
    .prop_map(|keys| Table { header: Some(("nat", true)), keys })
}

fn host() -> impl Strategy<Value = Table> {
    keys(vec![
        ("icmp_echo_rate", false, string_from(&["1/second", "5/minute", "10/h", "3 / day"], &["0/s", "1/fortnight", "x"])),
        (
            "icmp_echo_max_size",
            false,
            prop_oneof![30 => (28i64..=65535).prop_map(Val::Int), 1 => prop_oneof![Just(27i64), Just(65536), Just(-84)].prop_map(Val::Int)].boxed(),
        ),
        ("drop_other_icmp", false, any::<bool>().prop_map(Val::Bool).boxed()),
    ])
    .prop_map(|keys| Table { header: Some(("host", false)), keys })
}

/// Root keys (before any header): `forward = []` and its like, or a wrong one.
fn root() -> impl Strategy<Value = Table> {
    prop_oneof![
        30 => Just(vec![]),
        6 => proptest::sample::select(&["network", "forward", "nat"][..]).prop_map(|k| vec![(k.to_string(), Val::Arr(vec![]))]),
        1 => Just(vec![("forward".to_string(), Val::Arr(vec![Val::Int(1)]))]),
        1 => Just(vec![("host".to_string(), Val::Bool(true))]),
        1 => Just(vec![("colour".to_string(), s("red"))]),
    ]
    .prop_map(|keys| Table { header: None, keys })
}

/// A whole configuration: root keys, then tables in random order (`[host]` at most once in most
/// cases; sometimes a table of the wrong kind).
pub(crate) fn document() -> impl Strategy<Value = Vec<Table>> {
    let table = prop_oneof![
        12 => network().boxed(),
        32 => forward().boxed(),
        8 => nat().boxed(),
        4 => host().boxed(),
        1 => prop_oneof![
            Just(Table { header: Some(("forward", false)), keys: vec![] }),
            Just(Table { header: Some(("host", true)), keys: vec![] }),
            Just(Table { header: Some(("hosts", false)), keys: vec![] }),
        ]
        .boxed(),
    ];
    (root(), vec(table, 0..8)).prop_map(|(root, tables)| {
        let mut hosts = 0;
        let mut out = vec![root];
        for t in tables {
            if t.header == Some(("host", false)) {
                hosts += 1;
                // A second [host] now and then (a redefined table); more would only repeat that.
                if hosts > 2 {
                    continue;
                }
            }
            out.push(t);
        }
        out
    })
}

/// A configuration and the seed of its formatting.
pub(crate) fn config() -> impl Strategy<Value = (Vec<Table>, u64)> {
    (document(), any::<u64>())
}

/// splitmix64: the formatting's random choices.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number below `n`.
    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// True one time in `n`.
    pub(crate) fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == 0
    }

    pub(crate) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Writes `tables` out as TOML, formatted by `seed`.
pub(crate) fn render(tables: &[Table], seed: u64) -> String {
    let mut r = Rng::new(seed);
    let mut w = Writer { out: String::new(), crlf: r.one_in(4), mixed: r.one_in(8), rng: r };
    if w.rng.one_in(20) {
        w.out.push('\u{feff}');
    }
    for t in tables {
        w.filler();
        if let Some((name, array)) = t.header {
            w.indent();
            let key = w.key(name);
            let (open, close) = if array { ("[[", "]]") } else { ("[", "]") };
            let (a, b) = (w.blanks(), w.blanks());
            w.out.push_str(&format!("{open}{a}{key}{b}{close}"));
            w.end_line();
        }
        for (k, v) in &t.keys {
            w.filler();
            w.indent();
            let key = w.key(k);
            let eq = w.rng.pick(&["=", " = ", " =", "= ", "\t=\t", "  =   "]).to_string();
            w.out.push_str(&key);
            w.out.push_str(&eq);
            w.value(v);
            w.end_line();
        }
    }
    if w.rng.one_in(5) && w.out.ends_with('\n') {
        // No newline at the end of the file.
        let trimmed = w.out.trim_end_matches(['\r', '\n']).len();
        w.out.truncate(trimmed);
    }
    w.out
}

struct Writer {
    out: String,
    crlf: bool,
    mixed: bool,
    rng: Rng,
}

/// Comment texts: anything but control characters (tab is fine).
const COMMENTS: &[&str] =
    &["", " a comment", "#", " port = 80", " \"quoted\" 'x' [[forward]]", "\tcafé ✓ 日本", " \\ \\u0000"];

impl Writer {
    fn newline(&mut self) {
        let crlf = if self.mixed { self.rng.one_in(2) } else { self.crlf };
        self.out.push_str(if crlf { "\r\n" } else { "\n" });
    }

    fn blanks(&mut self) -> &'static str {
        const BLANKS: [&str; 6] = ["", "", "", " ", "\t", "  "];
        BLANKS[self.rng.below(BLANKS.len())]
    }

    fn indent(&mut self) {
        let b = self.blanks();
        self.out.push_str(b);
    }

    /// Blank lines and comment lines, now and then.
    fn filler(&mut self) {
        while self.rng.one_in(4) {
            if self.rng.one_in(2) {
                self.indent();
                let c = *self.rng.pick(COMMENTS);
                self.out.push('#');
                self.out.push_str(c);
            } else if self.rng.one_in(3) {
                let b = self.blanks();
                self.out.push_str(b);
            }
            self.newline();
        }
    }

    /// Optional blanks and comment, then the end of the line.
    fn end_line(&mut self) {
        let b = self.blanks();
        self.out.push_str(b);
        if self.rng.one_in(4) {
            let c = *self.rng.pick(COMMENTS);
            self.out.push('#');
            self.out.push_str(c);
        }
        self.newline();
    }

    /// A key: bare, or quoted in either style (sometimes with an escape).
    fn key(&mut self, k: &str) -> String {
        match self.rng.below(8) {
            0 => format!("\"{k}\""),
            1 => format!("'{k}'"),
            2 => {
                let mut out = String::from("\"");
                for c in k.chars() {
                    if self.rng.one_in(3) {
                        out.push_str(&format!("\\u{:04x}", u32::from(c)))
                    } else {
                        out.push(c)
                    }
                }
                out.push('"');
                out
            }
            _ => k.to_string(),
        }
    }

    fn value(&mut self, v: &Val) {
        match v {
            Val::Str(s) => {
                let s = self.string(s);
                self.out.push_str(&s);
            }
            Val::Int(n) => {
                let n = self.integer(*n);
                self.out.push_str(&n);
            }
            Val::Bool(b) => self.out.push_str(if *b { "true" } else { "false" }),
            Val::Arr(items) => self.array(items),
        }
    }

    fn array(&mut self, items: &[Val]) {
        let multi_line = self.rng.one_in(3);
        self.out.push('[');
        for (i, item) in items.iter().enumerate() {
            if multi_line {
                if self.rng.one_in(3) {
                    let c = *self.rng.pick(COMMENTS);
                    self.out.push_str(&format!(" #{c}"));
                }
                self.newline();
                self.out.push_str("    ");
            } else {
                let b = self.blanks();
                self.out.push_str(b);
            }
            self.value(item);
            let b = self.blanks();
            self.out.push_str(b);
            if i + 1 < items.len() || self.rng.one_in(2) {
                self.out.push(',');
            }
        }
        if multi_line {
            self.newline();
        } else {
            let b = self.blanks();
            self.out.push_str(b);
        }
        self.out.push(']');
    }

    fn integer(&mut self, n: i64) -> String {
        match self.rng.below(10) {
            0 if n >= 0 => format!("0x{n:x}"),
            1 if n >= 0 => format!("0o{n:o}"),
            2 if n >= 0 => format!("0b{n:b}"),
            3 if n >= 0 => format!("0x{n:06X}"),
            4 if n >= 0 => format!("+{n}"),
            5 => {
                // Underscores between digits.
                let digits = n.unsigned_abs().to_string();
                let mut out = String::from(if n < 0 { "-" } else { "" });
                for (i, d) in digits.chars().enumerate() {
                    if i > 0 && self.rng.one_in(2) {
                        out.push('_');
                    }
                    out.push(d);
                }
                out
            }
            _ => n.to_string(),
        }
    }

    /// `s` as one of TOML's four strings (the literal ones only where they can hold it).
    fn string(&mut self, s: &str) -> String {
        let literal_ok = !s.contains('\'') && !s.chars().any(|c| c.is_control() && c != '\t');
        match self.rng.below(8) {
            0 | 1 if literal_ok => format!("'{s}'"),
            2 if literal_ok && !s.ends_with('\'') => {
                let nl = if self.rng.one_in(2) { "\n" } else { "" };
                format!("'''{nl}{s}'''")
            }
            3 => {
                // Multi-line basic: a leading newline, and line-ending backslashes between
                // characters (they swallow the newline and the next line's indentation).
                let mut out = String::from("\"\"\"");
                if self.rng.one_in(2) {
                    out.push_str(if self.crlf { "\r\n" } else { "\n" });
                }
                for c in s.chars() {
                    if !c.is_whitespace() && self.rng.one_in(4) {
                        out.push_str("\\   \n  \\\n\t ");
                    }
                    out.push_str(&self.escaped(c));
                }
                out.push_str("\"\"\"");
                out
            }
            _ => {
                let mut out = String::from("\"");
                for c in s.chars() {
                    out.push_str(&self.escaped(c));
                }
                out.push('"');
                out
            }
        }
    }

    /// One character in a basic string: escaped when it must be, and now and then when not.
    fn escaped(&mut self, c: char) -> String {
        match c {
            '"' => "\\\"".to_string(),
            '\\' => "\\\\".to_string(),
            '\t' if self.rng.one_in(2) => "\\t".to_string(),
            c if c.is_control() => format!("\\u{:04X}", u32::from(c)),
            c if self.rng.one_in(8) => format!("\\u{:04x}", u32::from(c)),
            c if self.rng.one_in(16) => format!("\\U{:08X}", u32::from(c)),
            c => c.to_string(),
        }
    }
}

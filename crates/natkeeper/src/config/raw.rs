//! The configuration file as written: each table of the file becomes a `Raw*` entry that borrows
//! its strings from the text, handed over as soon as the table ends. The rules serde and the
//! `toml` crate enforced are checked here, with their words: unknown keys (`unknown field`),
//! duplicate keys and redefined tables (`duplicate key`), wrong types (`invalid type`) and missing
//! keys (`missing field`). Each of these errors, and every syntax error of [`tomlish`], is a
//! [`ConfigError::Syntax`] that starts with `TOML parse error at line L, column C`.

use std::borrow::Cow;
use std::fmt;

use super::ConfigError;
use super::tomlish::{Event, Parser, Scalar, Shown, Value, line_column};

/// One table of the file, complete.
pub(super) enum Entry<'a> {
    /// A `[[network]]`.
    Network(RawNetwork<'a>),
    /// A `[[forward]]`.
    Forward(RawForward<'a>),
    /// A `[[nat]]`.
    Nat(RawNat<'a>),
    /// The `[host]`.
    Host(RawHost<'a>),
}

/// A `[[network]]` as written.
pub(super) struct RawNetwork<'a> {
    pub(super) name: Option<Cow<'a, str>>,
    pub(super) bridge: Cow<'a, str>,
    pub(super) subnet: Option<Cow<'a, str>>,
    pub(super) uplink: Option<Cow<'a, str>>,
    pub(super) egress: Option<Cow<'a, str>>,
}

/// A `[[forward]]` as written.
pub(super) struct RawForward<'a> {
    pub(super) proto: Option<OneOrMany<Cow<'a, str>>>,
    pub(super) port: OneOrMany<RawPort<'a>>,
    pub(super) to: Cow<'a, str>,
    pub(super) on: Option<OneOrMany<Cow<'a, str>>>,
}

/// A `[[nat]]` as written.
pub(super) struct RawNat<'a> {
    pub(super) public: Cow<'a, str>,
    pub(super) guest: Cow<'a, str>,
}

/// The `[host]` as written.
pub(super) struct RawHost<'a> {
    pub(super) icmp_echo_rate: Option<Cow<'a, str>>,
    pub(super) icmp_echo_max_size: Option<i64>,
    pub(super) drop_other_icmp: Option<bool>,
}

/// A value that is one item or an array of items (`port = 80`, `port = [80, 443]`).
pub(super) enum OneOrMany<T> {
    /// One.
    One(T),
    /// An array (possibly empty).
    Many(Vec<T>),
}

impl<T> OneOrMany<T> {
    /// The number of items.
    pub(super) fn len(&self) -> usize {
        match self {
            OneOrMany::One(_) => 1,
            OneOrMany::Many(v) => v.len(),
        }
    }

    /// The items, in order.
    pub(super) fn iter(&self) -> std::slice::Iter<'_, T> {
        match self {
            OneOrMany::One(t) => std::slice::from_ref(t).iter(),
            OneOrMany::Many(v) => v.iter(),
        }
    }
}

/// One item of `port`: a number, or a string (`"8000-8099"`).
pub(super) enum RawPort<'a> {
    /// `8080`.
    Number(i64),
    /// `"8080"`, `"8000-8099"`.
    Text(Cow<'a, str>),
}

/// Reads `text`, handing each table to `each` when it ends. Stops at the first syntax or schema
/// error; entries are not checked here.
pub(super) fn read<'a>(text: &'a str, mut each: impl FnMut(Entry<'a>)) -> Result<(), ConfigError> {
    let mut parser = Parser::new(text);
    let mut open = Open::Root;
    let mut root = Root::default();
    while let Some(event) = parser.next().map_err(|e| syntax(text, e.at, e.kind))? {
        match event {
            Event::Table { name, array, at } => {
                open.close(text, &mut each)?;
                open = root.table(text, &name, array, at)?;
            }
            Event::Key { name, at } => match &mut open {
                Open::Root => root.key(text, &mut parser, &name, at)?,
                Open::Network(t) => t.key(text, &mut parser, &name, at)?,
                Open::Forward(t) => t.key(text, &mut parser, &name, at)?,
                Open::Nat(t) => t.key(text, &mut parser, &name, at)?,
                Open::Host(t) => t.key(text, &mut parser, &name, at)?,
            },
        }
    }
    open.close(text, &mut each)
}

/// A syntax or schema error at byte `at` of `text`.
fn syntax(text: &str, at: usize, what: impl fmt::Display) -> ConfigError {
    let (line, column) = line_column(text, at);
    ConfigError::Syntax(format!("TOML parse error at line {line}, column {column}: {what}"))
}

/// The keys of the document root, which are the file's tables.
const ROOT_KEYS: &[&str] = &["network", "forward", "nat", "host"];

/// How an array of tables is defined.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Defined {
    /// By `[[name]]` headers.
    Headers,
    /// By a key of the root: `forward = []`.
    Key,
}

/// What the document root holds so far.
#[derive(Default)]
struct Root {
    /// `[host]` was read.
    host: bool,
    network: Option<Defined>,
    forward: Option<Defined>,
    nat: Option<Defined>,
}

impl Root {
    /// How the array of tables `name` is defined, if `name` is one.
    fn array(&mut self, name: &str) -> Option<&mut Option<Defined>> {
        match name {
            "network" => Some(&mut self.network),
            "forward" => Some(&mut self.forward),
            "nat" => Some(&mut self.nat),
            _ => None,
        }
    }

    /// A table header: the table it opens.
    fn table<'a>(&mut self, text: &str, name: &str, array: bool, at: usize) -> Result<Open<'a>, ConfigError> {
        let duplicate = || syntax(text, at, format_args!("duplicate key `{name}` in document root"));
        if name == "host" {
            if self.host {
                return Err(duplicate());
            }
            if array {
                return Err(syntax(
                    text,
                    at,
                    "invalid type: [[host]] is an array of tables, expected the table [host]",
                ));
            }
            self.host = true;
            return Ok(Open::Host(Table::new(at)));
        }
        let Some(defined) = self.array(name) else {
            return Err(syntax(text, at, Unknown { key: name, expected: ROOT_KEYS }));
        };
        match (*defined, array) {
            (Some(Defined::Key), _) | (Some(Defined::Headers), false) => return Err(duplicate()),
            (None, false) => {
                return Err(syntax(
                    text,
                    at,
                    format_args!(
                        "invalid type: [{name}] is a table, expected an array of tables ([[{name}]])"
                    ),
                ));
            }
            (_, true) => *defined = Some(Defined::Headers),
        }
        Ok(match name {
            "network" => Open::Network(Table::new(at)),
            "forward" => Open::Forward(Table::new(at)),
            _ => Open::Nat(Table::new(at)),
        })
    }

    /// A key of the document root (before any table header). Tables written as values (inline
    /// tables, and the positional arrays serde took for them) are not supported, so the only valid
    /// one is an empty array of tables: `forward = []`.
    fn key(&mut self, text: &str, parser: &mut Parser<'_>, name: &str, at: usize) -> Result<(), ConfigError> {
        let (defined, brackets) = if name == "host" {
            (std::mem::replace(&mut self.host, true), ("[", "]"))
        } else if let Some(defined) = self.array(name) {
            (defined.replace(Defined::Key).is_some(), ("[[", "]]"))
        } else {
            return Err(syntax(text, at, Unknown { key: name, expected: ROOT_KEYS }));
        };
        if defined {
            return Err(syntax(text, at, format_args!("duplicate key `{name}` in document root")));
        }
        let (value_at, value) = parser.value().map_err(|e| syntax(text, e.at, e.kind))?;
        match value {
            Value::Array(items) if items.is_empty() && name != "host" => Ok(()),
            _ => Err(syntax(
                text,
                value_at,
                format_args!(
                    "`{name} = …`: tables written as values are not supported (write {}{name}{})",
                    brackets.0, brackets.1
                ),
            )),
        }
    }
}

/// The table the keys being read belong to.
enum Open<'a> {
    /// The document root, before the first header.
    Root,
    Network(Table<NetworkKeys<'a>>),
    Forward(Table<ForwardKeys<'a>>),
    Nat(Table<NatKeys<'a>>),
    Host(Table<HostKeys<'a>>),
}

impl<'a> Open<'a> {
    /// The table has ended: hands it over, or names the key it lacks.
    fn close(self, text: &str, each: &mut impl FnMut(Entry<'a>)) -> Result<(), ConfigError> {
        let entry = match self {
            Open::Root => return Ok(()),
            Open::Network(t) => t.close(text)?,
            Open::Forward(t) => t.close(text)?,
            Open::Nat(t) => t.close(text)?,
            Open::Host(t) => t.close(text)?,
        };
        each(entry);
        Ok(())
    }
}

/// A table being read: its keys so far, and where its header is.
struct Table<K> {
    at: usize,
    keys: K,
}

impl<'a, K: Keys<'a>> Table<K> {
    fn new(at: usize) -> Table<K> {
        Table { at, keys: K::default() }
    }

    /// `name = value`: the value is read only for a known key not set before.
    fn key(&mut self, text: &str, parser: &mut Parser<'a>, name: &str, at: usize) -> Result<(), ConfigError> {
        let Some(slot) = self.keys.slot(name) else {
            return Err(syntax(text, at, Unknown { key: name, expected: K::KEYS }));
        };
        if slot.is_set() {
            return Err(syntax(
                text,
                at,
                format_args!("duplicate key `{}` in table `{}`", Shown(name), K::TABLE),
            ));
        }
        let (value_at, value) = parser.value().map_err(|e| syntax(text, e.at, e.kind))?;
        slot.set(value).map_err(|expected| syntax(text, value_at, expected))
    }

    fn close(self, text: &str) -> Result<Entry<'a>, ConfigError> {
        self.keys.entry().map_err(|key| syntax(text, self.at, format_args!("missing field `{key}`")))
    }
}

/// The keys of one kind of table, as they are read.
trait Keys<'a>: Default {
    /// The table's name.
    const TABLE: &'static str;
    /// Its keys, for messages.
    const KEYS: &'static [&'static str];
    /// Where the value of key `name` goes, if the table has that key.
    fn slot(&mut self, name: &str) -> Option<Slot<'_, 'a>>;
    /// The complete entry, or the name of a required key that is missing.
    fn entry(self) -> Result<Entry<'a>, &'static str>;
}

/// Where one key's value goes, by type.
enum Slot<'k, 'a> {
    String(&'k mut Option<Cow<'a, str>>),
    Strings(&'k mut Option<OneOrMany<Cow<'a, str>>>),
    Ports(&'k mut Option<OneOrMany<RawPort<'a>>>),
    Integer(&'k mut Option<i64>),
    Boolean(&'k mut Option<bool>),
}

impl<'a> Slot<'_, 'a> {
    fn is_set(&self) -> bool {
        match self {
            Slot::String(s) => s.is_some(),
            Slot::Strings(s) => s.is_some(),
            Slot::Ports(s) => s.is_some(),
            Slot::Integer(s) => s.is_some(),
            Slot::Boolean(s) => s.is_some(),
        }
    }

    /// Stores `value`, or says which type was expected.
    fn set(self, value: Value<'a>) -> Result<(), String> {
        let mismatch = |value: &Value<'_>, expected| Mismatch { found: value, expected }.to_string();
        match (self, value) {
            (Slot::String(s), Value::Scalar(Scalar::String(v))) => *s = Some(v),
            (Slot::Integer(s), Value::Scalar(Scalar::Integer(v))) => *s = Some(v),
            (Slot::Boolean(s), Value::Scalar(Scalar::Boolean(v))) => *s = Some(v),
            (Slot::Strings(s), value) => *s = Some(one_or_many(value, string, STRINGS)?),
            (Slot::Ports(s), value) => *s = Some(one_or_many(value, port, PORTS)?),
            (Slot::String(_), value) => return Err(mismatch(&value, "a string")),
            (Slot::Integer(_), value) => return Err(mismatch(&value, "an integer")),
            (Slot::Boolean(_), value) => return Err(mismatch(&value, "a boolean")),
        }
        Ok(())
    }
}

/// What `proto` and `on` take.
const STRINGS: &str = "a string or an array of strings";
/// What `port` takes.
const PORTS: &str = "a port (8080 or \"8000-8099\") or an array of ports";

fn string(s: Scalar<'_>) -> Result<Cow<'_, str>, Scalar<'_>> {
    match s {
        Scalar::String(s) => Ok(s),
        other => Err(other),
    }
}

fn port(s: Scalar<'_>) -> Result<RawPort<'_>, Scalar<'_>> {
    match s {
        Scalar::String(s) => Ok(RawPort::Text(s)),
        Scalar::Integer(n) => Ok(RawPort::Number(n)),
        other => Err(other),
    }
}

/// `value` as one item or an array of items, each converted by `item` (which hands back what it
/// does not take).
fn one_or_many<'a, T>(
    value: Value<'a>,
    item: fn(Scalar<'a>) -> Result<T, Scalar<'a>>,
    expected: &'static str,
) -> Result<OneOrMany<T>, String> {
    match value {
        Value::Scalar(s) => item(s)
            .map(OneOrMany::One)
            .map_err(|s| format!("invalid type: {}, expected {expected}", Described(&s))),
        // Collected in place when `T` is the size of a scalar: one allocation per array.
        Value::Array(items) => items
            .into_iter()
            .map(|s| {
                item(s)
                    .map_err(|s| format!("invalid type: {} in an array, expected {expected}", Described(&s)))
            })
            .collect::<Result<_, _>>()
            .map(OneOrMany::Many),
    }
}

/// `unknown field `foo`, expected one of …`, as serde says it.
struct Unknown<'k> {
    key: &'k str,
    expected: &'static [&'static str],
}

impl fmt::Display for Unknown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown field `{}`, expected one of ", Shown(self.key))?;
        for (i, k) in self.expected.iter().enumerate() {
            write!(f, "{}`{k}`", if i == 0 { "" } else { ", " })?;
        }
        Ok(())
    }
}

/// `invalid type: integer `1`, expected a string`, as serde says it.
struct Mismatch<'v, 'a> {
    found: &'v Value<'a>,
    expected: &'static str,
}

impl fmt::Display for Mismatch<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.found {
            Value::Scalar(s) => write!(f, "invalid type: {}, expected {}", Described(s), self.expected),
            Value::Array(_) => write!(f, "invalid type: array, expected {}", self.expected),
        }
    }
}

/// A scalar as serde describes it: `integer `1``, `string "x"`, `boolean `true``.
struct Described<'v, 'a>(&'v Scalar<'a>);

impl fmt::Display for Described<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Scalar::String(s) => write!(f, "string \"{}\"", Shown(s)),
            Scalar::Integer(n) => write!(f, "integer `{n}`"),
            Scalar::Boolean(b) => write!(f, "boolean `{b}`"),
        }
    }
}

#[derive(Default)]
struct NetworkKeys<'a> {
    name: Option<Cow<'a, str>>,
    bridge: Option<Cow<'a, str>>,
    subnet: Option<Cow<'a, str>>,
    uplink: Option<Cow<'a, str>>,
    egress: Option<Cow<'a, str>>,
}

impl<'a> Keys<'a> for NetworkKeys<'a> {
    const TABLE: &'static str = "network";
    const KEYS: &'static [&'static str] = &["name", "bridge", "subnet", "uplink", "egress"];
    fn slot(&mut self, name: &str) -> Option<Slot<'_, 'a>> {
        Some(match name {
            "name" => Slot::String(&mut self.name),
            "bridge" => Slot::String(&mut self.bridge),
            "subnet" => Slot::String(&mut self.subnet),
            "uplink" => Slot::String(&mut self.uplink),
            "egress" => Slot::String(&mut self.egress),
            _ => return None,
        })
    }
    fn entry(self) -> Result<Entry<'a>, &'static str> {
        Ok(Entry::Network(RawNetwork {
            name: self.name,
            bridge: self.bridge.ok_or("bridge")?,
            subnet: self.subnet,
            uplink: self.uplink,
            egress: self.egress,
        }))
    }
}

#[derive(Default)]
struct ForwardKeys<'a> {
    proto: Option<OneOrMany<Cow<'a, str>>>,
    port: Option<OneOrMany<RawPort<'a>>>,
    to: Option<Cow<'a, str>>,
    on: Option<OneOrMany<Cow<'a, str>>>,
}

impl<'a> Keys<'a> for ForwardKeys<'a> {
    const TABLE: &'static str = "forward";
    const KEYS: &'static [&'static str] = &["proto", "port", "to", "on"];
    fn slot(&mut self, name: &str) -> Option<Slot<'_, 'a>> {
        Some(match name {
            "proto" => Slot::Strings(&mut self.proto),
            "port" => Slot::Ports(&mut self.port),
            "to" => Slot::String(&mut self.to),
            "on" => Slot::Strings(&mut self.on),
            _ => return None,
        })
    }
    fn entry(self) -> Result<Entry<'a>, &'static str> {
        Ok(Entry::Forward(RawForward {
            proto: self.proto,
            port: self.port.ok_or("port")?,
            to: self.to.ok_or("to")?,
            on: self.on,
        }))
    }
}

#[derive(Default)]
struct NatKeys<'a> {
    public: Option<Cow<'a, str>>,
    guest: Option<Cow<'a, str>>,
}

impl<'a> Keys<'a> for NatKeys<'a> {
    const TABLE: &'static str = "nat";
    const KEYS: &'static [&'static str] = &["public", "guest"];
    fn slot(&mut self, name: &str) -> Option<Slot<'_, 'a>> {
        Some(match name {
            "public" => Slot::String(&mut self.public),
            "guest" => Slot::String(&mut self.guest),
            _ => return None,
        })
    }
    fn entry(self) -> Result<Entry<'a>, &'static str> {
        Ok(Entry::Nat(RawNat { public: self.public.ok_or("public")?, guest: self.guest.ok_or("guest")? }))
    }
}

#[derive(Default)]
struct HostKeys<'a> {
    icmp_echo_rate: Option<Cow<'a, str>>,
    icmp_echo_max_size: Option<i64>,
    drop_other_icmp: Option<bool>,
}

impl<'a> Keys<'a> for HostKeys<'a> {
    const TABLE: &'static str = "host";
    const KEYS: &'static [&'static str] = &["icmp_echo_rate", "icmp_echo_max_size", "drop_other_icmp"];
    fn slot(&mut self, name: &str) -> Option<Slot<'_, 'a>> {
        Some(match name {
            "icmp_echo_rate" => Slot::String(&mut self.icmp_echo_rate),
            "icmp_echo_max_size" => Slot::Integer(&mut self.icmp_echo_max_size),
            "drop_other_icmp" => Slot::Boolean(&mut self.drop_other_icmp),
            _ => return None,
        })
    }
    fn entry(self) -> Result<Entry<'a>, &'static str> {
        Ok(Entry::Host(RawHost {
            icmp_echo_rate: self.icmp_echo_rate,
            icmp_echo_max_size: self.icmp_echo_max_size,
            drop_other_icmp: self.drop_other_icmp,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The error `read` gives for `text`.
    fn error(text: &str) -> String {
        match read(text, |_| {}) {
            Err(ConfigError::Syntax(e)) => e,
            other => panic!("{text:?}: {other:?}"),
        }
    }

    #[test]
    fn entries_are_handed_over_as_their_tables_end() {
        let text = "forward = []\n[[network]]\nbridge = 'virbr0'\n[host]\n[[nat]]\npublic = \"eth0:0\"\n\
                    guest = \"192.168.122.41\"\n[[network]]\nbridge = \"virbr1\"\nname = \"b\"\n";
        let mut seen = Vec::new();
        read(text, |e| {
            seen.push(match e {
                Entry::Network(n) => format!("network {} {:?}", n.bridge, n.name),
                Entry::Forward(f) => format!("forward {}", f.to),
                Entry::Nat(n) => format!("nat {} {}", n.public, n.guest),
                Entry::Host(h) => format!("host {:?}", h.drop_other_icmp),
            })
        })
        .unwrap();
        assert_eq!(
            seen,
            ["network virbr0 None", "host None", "nat eth0:0 192.168.122.41", "network virbr1 Some(\"b\")"]
        );
    }

    #[test]
    fn schema_errors_say_what_serde_said_and_where() {
        assert_eq!(
            error("[[forward]]\nport = 80\nto = \"10.0.0.1\"\nfoo = 1\n"),
            "TOML parse error at line 4, column 1: unknown field `foo`, expected one of `proto`, `port`, `to`, `on`"
        );
        assert_eq!(
            error("colour = 1"),
            "TOML parse error at line 1, column 1: unknown field `colour`, expected one of `network`, `forward`, \
             `nat`, `host`"
        );
        assert_eq!(
            error("[[forward]]\nport = 80\n'port' = 81\n"),
            "TOML parse error at line 3, column 1: duplicate key `port` in table `forward`"
        );
        assert_eq!(
            error("[host]\ndrop_other_icmp = true\n[host]\n"),
            "TOML parse error at line 3, column 1: duplicate key `host` in document root"
        );
        assert_eq!(
            error("forward = []\n[[forward]]\n"),
            "TOML parse error at line 2, column 1: duplicate key `forward` in document root"
        );
        assert_eq!(
            error("[[forward]]\nport = 80\nto = \"10.0.0.1\"\n[forward]\n"),
            "TOML parse error at line 4, column 1: duplicate key `forward` in document root"
        );
        assert_eq!(
            error("\n[[forward]]\nport = 80\n"),
            "TOML parse error at line 2, column 1: missing field `to`"
        );
        assert_eq!(
            error("[[network]]\n[host]"),
            "TOML parse error at line 1, column 1: missing field `bridge`"
        );
        assert_eq!(
            error("[[forward]]\nport = 80\nto = 1\n"),
            "TOML parse error at line 3, column 6: invalid type: integer `1`, expected a string"
        );
        assert_eq!(
            error("[[forward]]\nproto = [\"tcp\", 6]\n"),
            "TOML parse error at line 2, column 9: invalid type: integer `6` in an array, expected a string or an \
             array of strings"
        );
        assert_eq!(
            error("[[forward]]\nport = true\n"),
            "TOML parse error at line 2, column 8: invalid type: boolean `true`, expected a port (8080 or \
             \"8000-8099\") or an array of ports"
        );
        assert_eq!(
            error("[host]\nicmp_echo_max_size = \"84\"\n"),
            "TOML parse error at line 2, column 22: invalid type: string \"84\", expected an integer"
        );
        assert_eq!(
            error("[host]\ndrop_other_icmp = [true]\n"),
            "TOML parse error at line 2, column 19: invalid type: array, expected a boolean"
        );
        assert_eq!(
            error("[forward]\n"),
            "TOML parse error at line 1, column 1: invalid type: [forward] is a table, expected an array of tables \
             ([[forward]])"
        );
        assert_eq!(
            error("[[host]]\n"),
            "TOML parse error at line 1, column 1: invalid type: [[host]] is an array of tables, expected the \
             table [host]"
        );
        assert_eq!(
            error("host = [\"1/second\", 84, true]\n"),
            "TOML parse error at line 1, column 8: `host = …`: tables written as values are not supported (write \
             [host])"
        );
        assert_eq!(
            error("nat = [1]\n"),
            "TOML parse error at line 1, column 7: `nat = …`: tables written as values are not supported (write \
             [[nat]])"
        );
    }

    #[test]
    fn array_items_are_the_size_of_scalars() {
        // So arrays of ports and of strings are collected in place.
        use std::mem::size_of;
        assert_eq!(size_of::<RawPort<'_>>(), size_of::<Scalar<'_>>());
        assert_eq!(size_of::<Cow<'_, str>>(), size_of::<Scalar<'_>>());
    }

    #[test]
    fn keys_are_shown_on_one_short_line() {
        let e = error(&format!("[host]\n\"a\\nb{}\" = 1\n", "x".repeat(10_000)));
        assert!(e.starts_with("TOML parse error at line 2, column 1: unknown field `a\\nbxxx"), "{e}");
        assert!(e.len() < 200, "{e}");
    }

    #[test]
    fn a_known_key_is_checked_before_its_value_is_read() {
        // The key is unknown: what follows `=` does not matter.
        assert!(error("[host]\ncolour = 1.5\n").contains("unknown field `colour`"));
        assert!(error("[host]\ndrop_other_icmp = 1.5\n").contains("floats are not supported"));
    }
}

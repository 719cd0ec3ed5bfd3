//! The iptables argument parser: `do_parse` of iptables 1.8.9 (iptables/xshared.c) driving
//! `getopt_long`, re-done over typed extensions.
//!
//! Reproduced behaviour: short option clusters and attached values (`-AINPUT`, `-vn`),
//! `--long=value`, unambiguous abbreviations of long options (`--dest`, `--to`), `!` as its own
//! word before the option it negates, options of a match only after its `-m` (or after `-p`,
//! which loads the protocol's match on first use of one of its options), target options only
//! after `-j`, options applying to the most recent instance of a repeated match, and the checks
//! of `generic_opt_check` and the chain-name checks.

use crate::addr::AddrMask;
use crate::command::{Command, ListOptions, Policy};
use crate::error::{ErrorKind, ExtensionKind, ParseError};
use crate::ext::{Args, Arity, Ctx, MatchParser, OptSpec, ProtoCtx, TargetParser};
use crate::iface::Interface;
use crate::matches;
use crate::protocol::Protocol;
use crate::rule::{AddrMatch, Counters, IfaceMatch, ProtoMatch, Rule};
use crate::table::Table;
use crate::targets::{self, Jump, Target};
use crate::words;

/// `XT_EXTENSION_MAXNAMELEN`: chain and target names are shorter than this.
const XT_EXTENSION_MAXNAMELEN: usize = 29;

/// Parser settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct ParseOptions {
    /// Accept the pre-2010 intrapositioned negation `-d ! 10.0.0.0/8`, `--dport ! 22`, as
    /// iptables up to 1.4.x did, reading it as `! -d 10.0.0.0/8`. iptables 1.8.9 refuses it
    /// ("Bad argument"), and so does this parser unless this is set.
    pub legacy_negation: bool,
    /// Read restore input as `iptables-restore` without `-c` does: `[packets:bytes]` rule
    /// prefixes are checked but dropped, and chain counters are ignored (not even checked). A
    /// `-c PACKETS BYTES` inside a rule still counts.
    pub ignore_counters: bool,
}

impl ParseOptions {
    /// Settings that accept the old `--option ! value` form.
    pub fn legacy() -> Self {
        ParseOptions { legacy_negation: true, ..ParseOptions::default() }
    }

    /// Restore input read as `iptables-restore -c` (`true`, keep counters) or without `-c`
    /// (`false`: [`ParseOptions::ignore_counters`]).
    pub fn with_counters(mut self, counters: bool) -> Self {
        self.ignore_counters = !counters;
        self
    }
}

/// Parses iptables arguments (without the program name), e.g.
/// `["-t", "nat", "-A", "POSTROUTING", "-j", "MASQUERADE"]`.
pub fn parse_command<S: AsRef<str>>(args: &[S]) -> Result<Command, ParseError> {
    parse_command_with(args, &ParseOptions::default())
}

/// [`parse_command`] with settings.
pub fn parse_command_with<S: AsRef<str>>(args: &[S], options: &ParseOptions) -> Result<Command, ParseError> {
    let words: Vec<&str> = args.iter().map(AsRef::as_ref).collect();
    Engine::new(&words, None, *options).run()
}

/// Splits a line into words as iptables-restore does, then parses them as iptables arguments.
pub(crate) fn parse_line(line: &str, options: &ParseOptions) -> Result<Command, ParseError> {
    let words = split(line)?;
    let refs: Vec<&str> = words.iter().map(String::as_str).collect();
    Engine::new(&refs, None, *options).run()
}

/// Word splitting with the error turned into a [`ParseError`].
pub(crate) fn split(line: &str) -> Result<Vec<String>, ParseError> {
    words::split(line).map_err(|(word, kind)| ParseError { word: Some(word), ..ParseError::new(kind) })
}

/// Parses the words of an iptables-restore rule line in `table`; `counters` is the `[p:b]`
/// prefix, which counts as `-c`.
pub(crate) fn parse_restore_words(
    words: &[&str],
    table: Table,
    counters: Option<Counters>,
    options: &ParseOptions,
) -> Result<Command, ParseError> {
    let mut e = Engine::new(words, Some(table), *options);
    if let Some(c) = counters {
        e.set_flag(OptBit::Counters, 0)?;
        e.counters = Some(c);
    }
    e.run()
}

/// Base options (`original_opts`, xtables.c).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Base {
    Append,
    Check,
    Delete,
    Insert,
    Replace,
    List,
    ListRules,
    Flush,
    Zero,
    NewChain,
    DeleteChain,
    Rename,
    Policy,
    Source,
    Dest,
    Proto,
    InIface,
    OutIface,
    Jump,
    Goto,
    Table,
    Match,
    Numeric,
    Verbose,
    Wait,
    WaitInterval,
    Exact,
    Fragment,
    Version,
    Help,
    LineNumbers,
    Modprobe,
    SetCounters,
    Ipv4,
    Ipv6,
}

/// Whether a base option takes a value: none, required, or optional (attached only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BArg {
    None,
    Req,
    Opt,
}

const BASE_LONG: &[(&str, Base, BArg)] = &[
    ("append", Base::Append, BArg::Req),
    ("delete", Base::Delete, BArg::Req),
    ("check", Base::Check, BArg::Req),
    ("insert", Base::Insert, BArg::Req),
    ("replace", Base::Replace, BArg::Req),
    ("list", Base::List, BArg::Opt),
    ("list-rules", Base::ListRules, BArg::Opt),
    ("flush", Base::Flush, BArg::Opt),
    ("zero", Base::Zero, BArg::Opt),
    ("new-chain", Base::NewChain, BArg::Req),
    ("delete-chain", Base::DeleteChain, BArg::Opt),
    ("rename-chain", Base::Rename, BArg::Req),
    ("policy", Base::Policy, BArg::Req),
    ("source", Base::Source, BArg::Req),
    ("destination", Base::Dest, BArg::Req),
    ("src", Base::Source, BArg::Req),
    ("dst", Base::Dest, BArg::Req),
    ("protocol", Base::Proto, BArg::Req),
    ("in-interface", Base::InIface, BArg::Req),
    ("jump", Base::Jump, BArg::Req),
    ("table", Base::Table, BArg::Req),
    ("match", Base::Match, BArg::Req),
    ("numeric", Base::Numeric, BArg::None),
    ("out-interface", Base::OutIface, BArg::Req),
    ("verbose", Base::Verbose, BArg::None),
    ("wait", Base::Wait, BArg::Opt),
    ("wait-interval", Base::WaitInterval, BArg::Opt),
    ("exact", Base::Exact, BArg::None),
    ("fragments", Base::Fragment, BArg::None),
    ("version", Base::Version, BArg::None),
    ("help", Base::Help, BArg::Opt),
    ("line-numbers", Base::LineNumbers, BArg::None),
    ("modprobe", Base::Modprobe, BArg::Req),
    ("set-counters", Base::SetCounters, BArg::Req),
    ("goto", Base::Goto, BArg::Req),
    ("ipv4", Base::Ipv4, BArg::None),
    ("ipv6", Base::Ipv6, BArg::None),
];

/// `IPT_OPTSTRING`.
fn base_short(c: char) -> Option<(Base, BArg)> {
    Some(match c {
        'A' => (Base::Append, BArg::Req),
        'C' => (Base::Check, BArg::Req),
        'D' => (Base::Delete, BArg::Req),
        'E' => (Base::Rename, BArg::Req),
        'F' => (Base::Flush, BArg::Opt),
        'I' => (Base::Insert, BArg::Req),
        'L' => (Base::List, BArg::Opt),
        'M' => (Base::Modprobe, BArg::Req),
        'N' => (Base::NewChain, BArg::Req),
        'P' => (Base::Policy, BArg::Req),
        'V' => (Base::Version, BArg::None),
        'X' => (Base::DeleteChain, BArg::Opt),
        'Z' => (Base::Zero, BArg::Opt),
        'c' => (Base::SetCounters, BArg::Req),
        'd' => (Base::Dest, BArg::Req),
        'i' => (Base::InIface, BArg::Req),
        'j' => (Base::Jump, BArg::Req),
        'o' => (Base::OutIface, BArg::Req),
        'p' => (Base::Proto, BArg::Req),
        's' => (Base::Source, BArg::Req),
        't' => (Base::Table, BArg::Req),
        'R' => (Base::Replace, BArg::Req),
        'S' => (Base::ListRules, BArg::Opt),
        'W' => (Base::WaitInterval, BArg::Opt),
        '4' => (Base::Ipv4, BArg::None),
        '6' => (Base::Ipv6, BArg::None),
        'f' => (Base::Fragment, BArg::None),
        'g' => (Base::Goto, BArg::Req),
        'h' => (Base::Help, BArg::Opt),
        'm' => (Base::Match, BArg::Req),
        'n' => (Base::Numeric, BArg::None),
        'v' => (Base::Verbose, BArg::None),
        'w' => (Base::Wait, BArg::Opt),
        'x' => (Base::Exact, BArg::None),
        _ => return None,
    })
}

/// Commands (`CMD_*`) in the row order of `commands_v_options`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cmd {
    Insert,
    Delete,
    DeleteNum,
    Replace,
    Append,
    List,
    Flush,
    Zero,
    NewChain,
    DeleteChain,
    SetPolicy,
    Rename,
    ListRules,
    ZeroNum,
    Check,
}

impl Cmd {
    fn flag(self) -> &'static str {
        match self {
            Cmd::Insert => "-I",
            Cmd::Delete | Cmd::DeleteNum => "-D",
            Cmd::Replace => "-R",
            Cmd::Append => "-A",
            Cmd::List => "-L",
            Cmd::Flush => "-F",
            Cmd::Zero | Cmd::ZeroNum => "-Z",
            Cmd::NewChain => "-N",
            Cmd::DeleteChain => "-X",
            Cmd::SetPolicy => "-P",
            Cmd::Rename => "-E",
            Cmd::ListRules => "-S",
            Cmd::Check => "-C",
        }
    }

    /// `commands_v_options` row: for each [`OptBit`], `true` when the option is illegal.
    fn illegal(self) -> [bool; 12] {
        const X: bool = true;
        const O: bool = false;
        //  -n -s -d -p -j -v -x -i -o --line -c -f
        match self {
            Cmd::Insert | Cmd::Replace | Cmd::Append => [X, O, O, O, O, O, X, O, O, X, O, O],
            Cmd::Delete | Cmd::Check => [X, O, O, O, O, O, X, O, O, X, X, O],
            Cmd::List => [O, X, X, X, X, O, O, X, X, O, X, X],
            Cmd::SetPolicy => [X, X, X, X, X, O, X, X, X, X, O, X],
            _ => [X, X, X, X, X, O, X, X, X, X, X, X],
        }
    }
}

/// Options tracked by `generic_opt_check`, in `optflags` order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OptBit {
    Numeric,
    Source,
    Dest,
    Proto,
    Jump,
    Verbose,
    Exact,
    InIface,
    OutIface,
    LineNumbers,
    Counters,
    Fragment,
}

impl OptBit {
    fn name(self) -> &'static str {
        match self {
            OptBit::Numeric => "-n",
            OptBit::Source => "-s",
            OptBit::Dest => "-d",
            OptBit::Proto => "-p",
            OptBit::Jump => "-j",
            OptBit::Verbose => "-v",
            OptBit::Exact => "-x",
            OptBit::InIface => "-i",
            OptBit::OutIface => "-o",
            OptBit::LineNumbers => "--line-numbers",
            OptBit::Counters => "-c",
            OptBit::Fragment => "-f",
        }
    }
}

/// A loaded match extension instance.
struct MatchSlot {
    name: String,
    /// Word index of its `-m` (or of the option that loaded it).
    word: usize,
    parser: Box<dyn MatchParser>,
    seen: u32,
}

/// The `-j` state.
enum TargetSlot {
    None,
    Done(Target),
    Ext { name: String, parser: Box<dyn TargetParser>, seen: u32 },
}

/// Where a long option was found.
#[derive(Clone, Copy)]
enum Found {
    Base(Base, BArg),
    Match(usize, &'static OptSpec),
    Target(&'static OptSpec),
}

impl Found {
    /// Owner and id: equal keys are the same option (aliases), as glibc compares `val`.
    fn key(&self, kinds: &[(String, &'static [OptSpec])]) -> (usize, usize) {
        match self {
            Found::Base(b, _) => (0, *b as usize),
            Found::Match(k, s) => (1 + *k, s.id as usize),
            Found::Target(s) => (1 + kinds.len(), s.id as usize),
        }
    }
}

struct Engine<'w> {
    words: &'w [&'w str],
    pos: usize,
    options: ParseOptions,
    restore: bool,
    table: Table,
    cmd: Option<(Cmd, usize)>,
    zero_with_list: bool,
    chain: Option<String>,
    position: Option<u32>,
    new_name: Option<String>,
    policy: Option<(String, usize)>,
    flags: [Option<usize>; 12],
    invert: Option<usize>,
    source: Option<AddrMatch>,
    dest: Option<AddrMatch>,
    in_iface: Option<IfaceMatch>,
    out_iface: Option<IfaceMatch>,
    proto: Option<ProtoCtx>,
    proto_name: Option<String>,
    implicit_loaded: bool,
    fragment: Option<bool>,
    counters: Option<Counters>,
    matches: Vec<MatchSlot>,
    kinds: Vec<(String, &'static [OptSpec])>,
    target: TargetSlot,
    list: ListOptions,
}

/// The error for word `index` (0-based) of `words`.
fn at(words: &[&str], index: usize, kind: ErrorKind) -> ParseError {
    ParseError::at(kind, index + 1, words.get(index).copied().unwrap_or(""))
}

impl<'w> Engine<'w> {
    fn new(words: &'w [&'w str], restore_table: Option<Table>, options: ParseOptions) -> Self {
        Engine {
            words,
            pos: 0,
            options,
            restore: restore_table.is_some(),
            table: restore_table.unwrap_or(Table::Filter),
            cmd: None,
            zero_with_list: false,
            chain: None,
            position: None,
            new_name: None,
            policy: None,
            flags: [None; 12],
            invert: None,
            source: None,
            dest: None,
            in_iface: None,
            out_iface: None,
            proto: None,
            proto_name: None,
            implicit_loaded: false,
            fragment: None,
            counters: None,
            matches: Vec::new(),
            kinds: Vec::new(),
            target: TargetSlot::None,
            list: ListOptions::default(),
        }
    }

    fn err(&self, index: usize, kind: ErrorKind) -> ParseError {
        at(self.words, index, kind)
    }

    /// `xs_has_arg`: the next word exists and starts with neither `-` nor `!`.
    fn has_arg(&self) -> bool {
        self.words.get(self.pos).is_some_and(|w| !w.starts_with('-') && !w.starts_with('!'))
    }

    fn run(mut self) -> Result<Command, ParseError> {
        let mut options_ended = false;
        while self.pos < self.words.len() {
            let index = self.pos;
            let word = self.words[index];
            self.pos += 1;
            if options_ended || word == "-" || !word.starts_with('-') {
                if word == "!" {
                    if self.invert.is_some() {
                        return Err(self.err(index, ErrorKind::MultipleInvert));
                    }
                    self.invert = Some(index);
                    continue;
                }
                return Err(self.err(index, ErrorKind::UnexpectedArgument));
            }
            if word == "--" {
                options_ended = true;
                continue;
            }
            if let Some(long) = word.strip_prefix("--") {
                self.long_option(index, long)?;
            } else {
                self.short_cluster(index, &word[1..])?;
            }
        }
        self.finish()
    }

    fn short_cluster(&mut self, index: usize, cluster: &'w str) -> Result<(), ParseError> {
        for (i, c) in cluster.char_indices() {
            let (base, arg) = base_short(c)
                .ok_or_else(|| self.err(index, ErrorKind::UnknownOption { option: format!("-{c}") }))?;
            let rest = &cluster[i + c.len_utf8()..];
            let name = format!("-{c}");
            match arg {
                BArg::None => self.base_option(index, &name, base, None)?,
                BArg::Opt => {
                    let v = (!rest.is_empty()).then_some(rest);
                    return self.base_option(index, &name, base, v);
                }
                BArg::Req => {
                    let v = if rest.is_empty() {
                        self.take_value(index, &name)?
                    } else {
                        self.attached(base, index, rest)
                    };
                    return self.base_option(index, &name, base, Some(v));
                }
            }
        }
        Ok(())
    }

    /// The value of a base option written attached to it (`-s1.2.3.4`, `--src=1.2.3.4`).
    /// iptables 1.8.9 reads `-p -s -d -j -i -o` from `argv[optind - 1]`, which is then the
    /// whole word: `-s1.2.3.4` is the host `-s1.2.3.4` and fails, `-jACCEPT` jumps to the
    /// chain `-jACCEPT`. The other options use the attached part.
    fn attached(&self, base: Base, index: usize, value: &'w str) -> &'w str {
        match base {
            Base::Proto | Base::Source | Base::Dest | Base::Jump | Base::InIface | Base::OutIface => {
                self.words[index]
            }
            _ => value,
        }
    }

    /// The next word as the value of option `name` (getopt takes it whatever it looks like).
    fn take_value(&mut self, index: usize, name: &str) -> Result<&'w str, ParseError> {
        let v = self
            .words
            .get(self.pos)
            .copied()
            .ok_or_else(|| self.err(index, ErrorKind::MissingArgument { option: name.to_owned() }))?;
        self.pos += 1;
        Ok(v)
    }

    /// Handles the intrapositioned `!` of an invertible option whose value is `!`.
    fn intrapositioned(&mut self, index: usize, name: &str, value: &'w str) -> Result<&'w str, ParseError> {
        if value != "!" || self.pos >= self.words.len() {
            return Ok(value);
        }
        if !self.options.legacy_negation {
            return Err(self.err(index, ErrorKind::IntrapositionedNegation { option: name.to_owned() }));
        }
        if self.invert.is_some() {
            return Err(self.err(index, ErrorKind::MultipleInvert));
        }
        self.invert = Some(index);
        self.take_value(index, name)
    }

    fn lookup(&self, name: &str) -> Result<Option<Found>, ErrorKind> {
        let mut all: Vec<(&str, Found)> =
            BASE_LONG.iter().map(|(n, b, a)| (*n, Found::Base(*b, *a))).collect();
        // An alias is checked as the first option with its id (`xtables_option_lookup` looks
        // entries up by id): `--ttl` may be negated because `--ttl-eq` may.
        let canonical =
            |opts: &'static [OptSpec], s: &'static OptSpec| opts.iter().find(|o| o.id == s.id).unwrap_or(s);
        for (k, (_, opts)) in self.kinds.iter().enumerate() {
            all.extend(opts.iter().map(|s| (s.name, Found::Match(k, canonical(opts, s)))));
        }
        if let TargetSlot::Ext { parser, .. } = &self.target {
            let opts = parser.options();
            all.extend(opts.iter().map(|s| (s.name, Found::Target(canonical(opts, s)))));
        }
        if let Some((_, f)) = all.iter().find(|(n, _)| *n == name) {
            return Ok(Some(*f));
        }
        let mut found: Option<Found> = None;
        for (n, f) in &all {
            if n.starts_with(name) {
                match found {
                    None => found = Some(*f),
                    Some(prev) if prev.key(&self.kinds) != f.key(&self.kinds) => {
                        return Err(ErrorKind::AmbiguousOption { option: format!("--{name}") });
                    }
                    Some(_) => {}
                }
            }
        }
        Ok(found)
    }

    /// Loads the match of the `-p` protocol, once, when an option is unknown (`load_proto`).
    fn load_proto_match(&mut self, word: usize) -> Result<bool, ErrorKind> {
        if self.implicit_loaded {
            return Ok(false);
        }
        let Some(name) = self.proto_name.clone() else {
            return Ok(false);
        };
        // find_proto: a number is turned into its name first.
        let name = match crate::num::strtoul_full(&name, 0, 255) {
            Some(n) => match Protocol(n as u8).name() {
                Some(n) => n.to_owned(),
                None => return Ok(false),
            },
            None => name,
        };
        self.implicit_loaded = true;
        if matches::parser(&name).is_some() {
            self.add_match(&name, word);
            return Ok(true);
        }
        if matches::IPTABLES_MATCHES.contains(&name.as_str()) {
            return Err(ErrorKind::UnsupportedExtension { kind: ExtensionKind::Match, name });
        }
        Ok(false)
    }

    fn add_match(&mut self, name: &str, word: usize) -> bool {
        let Some(parser) = matches::parser(name) else {
            return false;
        };
        if !self.kinds.iter().any(|(n, _)| n == name) {
            self.kinds.push((name.to_owned(), parser.options()));
        }
        self.matches.push(MatchSlot { name: name.to_owned(), word, parser, seen: 0 });
        true
    }

    fn long_option(&mut self, index: usize, long: &'w str) -> Result<(), ParseError> {
        let (name, inline) = match long.split_once('=') {
            Some((n, v)) => (n, Some(v)),
            None => (long, None),
        };
        let found = loop {
            match self.lookup(name).map_err(|k| self.err(index, k))? {
                Some(f) => break f,
                None => {
                    if !self.load_proto_match(index).map_err(|k| self.err(index, k))? {
                        return Err(self.err(index, ErrorKind::UnknownOption { option: format!("--{name}") }));
                    }
                }
            }
        };
        match found {
            Found::Base(base, arg) => {
                let full = BASE_LONG.iter().find(|(_, b, _)| *b == base).map_or(name, |(n, _, _)| n);
                let opt = format!("--{full}");
                let value = match (arg, inline) {
                    (BArg::None, Some(_)) => {
                        return Err(self.err(index, ErrorKind::UnexpectedValue { option: opt }));
                    }
                    (BArg::None, None) => None,
                    (BArg::Opt, v) => v,
                    (BArg::Req, Some(v)) => Some(self.attached(base, index, v)),
                    (BArg::Req, None) => Some(self.take_value(index, &opt)?),
                };
                self.base_option(index, &opt, base, value)
            }
            Found::Match(kind, spec) => {
                let args = self.ext_args(index, spec, inline)?;
                let invert = self.invert.take().is_some();
                let kind_name = self.kinds[kind].0.clone();
                let ctx_proto = self.proto;
                let table = self.table;
                let chain = self.chain.clone();
                let ctx = Ctx { proto: ctx_proto, table, chain: chain.as_deref() };
                let words = self.words;
                // Options go to the latest instance of the match (earlier ones are "completed").
                let Some(slot) = self.matches.iter_mut().rev().find(|s| s.name == kind_name) else {
                    return Ok(());
                };
                ext_option(spec, &mut slot.seen, invert, slot.parser.options())
                    .and_then(|()| slot.parser.parse(&ctx, spec, args, invert))
                    .map_err(|k| at(words, index, k))?;
                slot.seen |= spec.bit();
                Ok(())
            }
            Found::Target(spec) => {
                let args = self.ext_args(index, spec, inline)?;
                let invert = self.invert.take().is_some();
                let chain = self.chain.clone();
                let ctx = Ctx { proto: self.proto, table: self.table, chain: chain.as_deref() };
                let words = self.words;
                if let TargetSlot::Ext { parser, seen, .. } = &mut self.target {
                    ext_option(spec, seen, invert, parser.options())
                        .and_then(|()| parser.parse(&ctx, spec, args, invert))
                        .map_err(|k| at(words, index, k))?;
                    *seen |= spec.bit();
                }
                Ok(())
            }
        }
    }

    /// The values of an extension option (inline, next word, and for two-value options the
    /// word after, which must not start with `-` or `!`).
    fn ext_args(
        &mut self,
        index: usize,
        spec: &OptSpec,
        inline: Option<&'w str>,
    ) -> Result<Args<'w>, ParseError> {
        let opt = format!("--{}", spec.name);
        match spec.arity {
            Arity::None => {
                if inline.is_some() {
                    return Err(self.err(index, ErrorKind::UnexpectedValue { option: opt }));
                }
                Ok(Args::new(None, None))
            }
            Arity::One | Arity::Two => {
                let mut v = match inline {
                    Some(v) => v,
                    None => self.take_value(index, &opt)?,
                };
                if spec.invert {
                    v = self.intrapositioned(index, &opt, v)?;
                }
                if spec.arity == Arity::One {
                    return Ok(Args::new(Some(v), None));
                }
                if !self.has_arg() {
                    return Err(self.err(index, ErrorKind::MissingArgument { option: opt }));
                }
                let second = self.words[self.pos];
                self.pos += 1;
                Ok(Args::new(Some(v), Some(second)))
            }
        }
    }

    fn set_flag(&mut self, bit: OptBit, index: usize) -> Result<(), ParseError> {
        if self.flags[bit as usize].is_some() {
            return Err(self.err(index, ErrorKind::DuplicateOption { option: bit.name().to_owned() }));
        }
        self.flags[bit as usize] = Some(index);
        Ok(())
    }

    fn add_command(&mut self, index: usize, cmd: Cmd) -> Result<(), ParseError> {
        if self.invert.is_some() {
            return Err(self.err(index, ErrorKind::InvertNotAllowed { option: cmd.flag().to_owned() }));
        }
        if let Some((prev, _)) = self.cmd {
            let list_zero = matches!(
                (prev, cmd),
                (Cmd::List | Cmd::ListRules, Cmd::Zero) | (Cmd::Zero, Cmd::List | Cmd::ListRules)
            );
            if !list_zero {
                return Err(self.err(
                    index,
                    ErrorKind::ConflictingCommands {
                        first: prev.flag().to_owned(),
                        second: cmd.flag().to_owned(),
                    },
                ));
            }
            self.zero_with_list = true;
            if cmd == Cmd::Zero {
                return Ok(());
            }
        }
        self.cmd = Some((cmd, index));
        Ok(())
    }

    /// The optional `[chain]` of `-L/-S/-F/-Z/-X`: attached value or a following plain word.
    fn optional_chain(&mut self, value: Option<&'w str>) {
        if let Some(v) = value {
            self.chain = Some(v.to_owned());
        } else if self.has_arg() {
            self.chain = Some(self.words[self.pos].to_owned());
            self.pos += 1;
        }
    }

    fn rule_number(&mut self) -> Result<u32, ParseError> {
        let index = self.pos;
        let w = self.words[index];
        self.pos += 1;
        crate::num::strtoul_full(w, 1, i32::MAX as u64)
            .map(|n| n as u32)
            .ok_or_else(|| self.err(index, ErrorKind::InvalidRuleNumber { value: w.to_owned() }))
    }

    fn base_option(
        &mut self,
        index: usize,
        name: &str,
        base: Base,
        value: Option<&'w str>,
    ) -> Result<(), ParseError> {
        let v = value.unwrap_or("");
        let invertible = matches!(
            base,
            Base::Source | Base::Dest | Base::Proto | Base::InIface | Base::OutIface | Base::Fragment
        );
        let v = if invertible && value.is_some() { self.intrapositioned(index, name, v)? } else { v };
        let invert = self.invert.is_some();
        if invert && !invertible && !is_command(base) {
            return Err(self.err(index, ErrorKind::InvertNotAllowed { option: name.to_owned() }));
        }
        match base {
            Base::Append => {
                self.add_command(index, Cmd::Append)?;
                self.chain = Some(v.to_owned());
            }
            Base::Check => {
                self.add_command(index, Cmd::Check)?;
                self.chain = Some(v.to_owned());
            }
            Base::Delete => {
                self.add_command(index, Cmd::Delete)?;
                self.chain = Some(v.to_owned());
                if self.has_arg() {
                    self.position = Some(self.rule_number()?);
                    self.cmd = Some((Cmd::DeleteNum, index));
                }
            }
            Base::Replace => {
                self.add_command(index, Cmd::Replace)?;
                self.chain = Some(v.to_owned());
                if !self.has_arg() {
                    return Err(
                        self.err(index, ErrorKind::MissingArgument { option: "-R (rule number)".into() })
                    );
                }
                self.position = Some(self.rule_number()?);
            }
            Base::Insert => {
                self.add_command(index, Cmd::Insert)?;
                self.chain = Some(v.to_owned());
                self.position = Some(if self.has_arg() { self.rule_number()? } else { 1 });
            }
            Base::List | Base::ListRules => {
                let cmd = if base == Base::List { Cmd::List } else { Cmd::ListRules };
                self.add_command(index, cmd)?;
                self.optional_chain(value);
                if self.has_arg() {
                    self.position = Some(self.rule_number()?);
                }
            }
            Base::Flush => {
                self.add_command(index, Cmd::Flush)?;
                self.optional_chain(value);
            }
            Base::Zero => {
                self.add_command(index, Cmd::Zero)?;
                self.optional_chain(value);
                if self.has_arg() {
                    self.position = Some(self.rule_number()?);
                    if !self.zero_with_list {
                        self.cmd = Some((Cmd::ZeroNum, index));
                    }
                }
            }
            Base::NewChain => {
                valid_chain_name(v).map_err(|k| self.err(index, k))?;
                self.add_command(index, Cmd::NewChain)?;
                self.chain = Some(v.to_owned());
            }
            Base::DeleteChain => {
                self.add_command(index, Cmd::DeleteChain)?;
                self.optional_chain(value);
            }
            Base::Rename => {
                self.add_command(index, Cmd::Rename)?;
                self.chain = Some(v.to_owned());
                if !self.has_arg() {
                    return Err(
                        self.err(index, ErrorKind::MissingArgument { option: "-E (new chain name)".into() })
                    );
                }
                let new = self.words[self.pos];
                self.pos += 1;
                valid_chain_name(new).map_err(|k| self.err(index + 2, k))?;
                self.new_name = Some(new.to_owned());
            }
            Base::Policy => {
                self.add_command(index, Cmd::SetPolicy)?;
                self.chain = Some(v.to_owned());
                if !self.has_arg() {
                    return Err(self.err(index, ErrorKind::MissingArgument { option: "-P (policy)".into() }));
                }
                self.policy = Some((self.words[self.pos].to_owned(), self.pos));
                self.pos += 1;
            }
            Base::Proto => {
                self.set_flag(OptBit::Proto, index)?;
                let lower = v.to_ascii_lowercase();
                let proto = Protocol::parse(&lower).ok_or_else(|| {
                    self.err(
                        index,
                        ErrorKind::InvalidValue {
                            option: "-p".into(),
                            value: v.to_owned(),
                            reason: "unknown protocol",
                        },
                    )
                })?;
                if proto == Protocol::ALL && invert {
                    return Err(self.err(index, ErrorKind::NeverMatches { what: "`! -p all'" }));
                }
                self.proto = Some(ProtoCtx { proto, invert });
                self.proto_name = Some(lower);
            }
            Base::Source | Base::Dest => {
                let bit = if base == Base::Source { OptBit::Source } else { OptBit::Dest };
                self.set_flag(bit, index)?;
                let m = parse_address(v, invert).map_err(|k| self.err(index, k))?;
                if base == Base::Source {
                    self.source = m;
                } else {
                    self.dest = m;
                }
            }
            Base::InIface | Base::OutIface => {
                let bit = if base == Base::InIface { OptBit::InIface } else { OptBit::OutIface };
                self.set_flag(bit, index)?;
                let iface = Interface::parse(v).map_err(|r| {
                    self.err(
                        index,
                        ErrorKind::InvalidValue { option: bit.name().into(), value: v.to_owned(), reason: r },
                    )
                })?;
                // `-i +` stays: iptables-nft 1.8.9 writes it as a lone `meta load iifname`.
                let m = Some(IfaceMatch { iface, invert });
                if base == Base::InIface {
                    self.in_iface = m;
                } else {
                    self.out_iface = m;
                }
            }
            Base::Fragment => {
                self.set_flag(OptBit::Fragment, index)?;
                self.fragment = Some(invert);
            }
            Base::Jump | Base::Goto => {
                self.set_flag(OptBit::Jump, index)?;
                self.jump(index, v, base == Base::Goto)?;
            }
            Base::Match => {
                if invert {
                    return Err(self.err(index, ErrorKind::InvertNotAllowed { option: "-m".into() }));
                }
                if !self.add_match(v, index) {
                    let kind = if matches::IPTABLES_MATCHES.contains(&v) {
                        ErrorKind::UnsupportedExtension { kind: ExtensionKind::Match, name: v.to_owned() }
                    } else {
                        ErrorKind::UnknownExtension { kind: ExtensionKind::Match, name: v.to_owned() }
                    };
                    return Err(self.err(index, kind));
                }
            }
            Base::Table => {
                if self.restore {
                    return Err(self.err(index, ErrorKind::NotInRestore { option: "-t".into() }));
                }
                self.table = Table::parse(v)
                    .ok_or_else(|| self.err(index, ErrorKind::UnknownTable { name: v.to_owned() }))?;
            }
            Base::Numeric => {
                self.set_flag(OptBit::Numeric, index)?;
                self.list.numeric = true;
            }
            Base::Verbose => {
                if !self.list.verbose {
                    self.set_flag(OptBit::Verbose, index)?;
                }
                self.list.verbose = true;
            }
            Base::Exact => {
                self.set_flag(OptBit::Exact, index)?;
                self.list.exact = true;
            }
            Base::LineNumbers => {
                self.set_flag(OptBit::LineNumbers, index)?;
                self.list.line_numbers = true;
            }
            Base::Wait | Base::WaitInterval => {
                if self.restore {
                    return Err(self.err(index, ErrorKind::NotInRestore { option: name.to_owned() }));
                }
                // Lock waiting: no meaning for a library. Takes an optional number of seconds.
                if value.is_none() && self.has_arg() {
                    self.pos += 1;
                }
            }
            Base::SetCounters => {
                self.set_flag(OptBit::Counters, index)?;
                let (p, b) = match v.split_once(',') {
                    Some((p, b)) => (p, b),
                    None if self.has_arg() => {
                        let b = self.words[self.pos];
                        self.pos += 1;
                        (v, b)
                    }
                    None => {
                        return Err(self.err(
                            index,
                            ErrorKind::MissingArgument { option: "-c (packet and byte counters)".into() },
                        ));
                    }
                };
                self.counters =
                    Some(parse_counters(p, b).ok_or_else(|| {
                        self.err(index, ErrorKind::BadCounters { value: format!("{p} {b}") })
                    })?);
            }
            Base::Modprobe | Base::Ipv4 => {}
            Base::Ipv6 | Base::Version | Base::Help => {
                return Err(self.err(index, ErrorKind::UnsupportedOption { option: name.to_owned() }));
            }
        }
        self.invert = None;
        Ok(())
    }

    fn jump(&mut self, index: usize, name: &str, goto: bool) -> Result<(), ParseError> {
        let bad = |reason| ErrorKind::InvalidTargetName { name: name.to_owned(), reason };
        if name.is_empty() {
            return Err(self.err(index, bad("too short")));
        }
        if name.len() >= XT_EXTENSION_MAXNAMELEN {
            return Err(self.err(index, bad("28 characters at most")));
        }
        if name.chars().any(|c| c.is_ascii_whitespace()) {
            return Err(self.err(index, bad("white space")));
        }
        if goto {
            if targets::is_target_name(name) {
                return Err(self.err(index, bad("-g needs a user chain")));
            }
            chain_ref(name).map_err(|k| self.err(index, k))?;
            self.target = TargetSlot::Done(Target::Goto(name.to_owned()));
            return Ok(());
        }
        match targets::resolve(name).map_err(|k| self.err(index, k))? {
            Jump::Verdict(t) => self.target = TargetSlot::Done(t),
            Jump::Chain => {
                chain_ref(name).map_err(|k| self.err(index, k))?;
                self.target = TargetSlot::Done(Target::Jump(name.to_owned()));
            }
            Jump::Ext(parser) => {
                self.target = TargetSlot::Ext { name: name.to_owned(), parser, seen: 0 };
            }
        }
        Ok(())
    }

    fn finish(mut self) -> Result<Command, ParseError> {
        if let Some(i) = self.invert {
            return Err(self.err(i, ErrorKind::DanglingInvert));
        }
        let Some((cmd, cmd_index)) = self.cmd else {
            return Err(ParseError::new(ErrorKind::NoCommand));
        };
        // generic_opt_check (with `-L -Z`, `cmd` is the listing command, the more permissive)
        let illegal = cmd.illegal();
        for (bit, idx) in self.flags.iter().enumerate() {
            if let Some(idx) = idx {
                if illegal[bit] {
                    return Err(
                        self.err(*idx, ErrorKind::IllegalOption { option: OPT_BITS[bit].name().to_owned() })
                    );
                }
            }
        }
        let is_rule_cmd = matches!(cmd, Cmd::Append | Cmd::Insert | Cmd::Replace | Cmd::Delete | Cmd::Check);
        if !is_rule_cmd && !self.matches.is_empty() {
            return Err(self.err(cmd_index, ErrorKind::IllegalOption { option: "-m".into() }));
        }
        if let Some(chain) = &self.chain {
            chain_arg(chain).map_err(|k| self.err(cmd_index, k))?;
        }
        // nat inhibits DROP
        if self.table == Table::Nat {
            let policy_drop = self.policy.as_ref().is_some_and(|(p, _)| p == "DROP");
            let jump_drop = matches!(self.target, TargetSlot::Done(Target::Drop));
            if policy_drop || jump_drop {
                return Err(self.err(cmd_index, ErrorKind::NatDrop));
            }
        }
        let chain = self.chain.clone().unwrap_or_default();
        let table = self.table;
        match cmd {
            Cmd::Append | Cmd::Insert | Cmd::Replace | Cmd::Delete | Cmd::Check => {}
            Cmd::DeleteNum => {
                return Ok(Command::DeleteNum { table, chain, position: self.position.unwrap_or(1) });
            }
            Cmd::NewChain => return Ok(Command::NewChain { table, chain }),
            Cmd::DeleteChain => {
                return Ok(Command::DeleteChain { table, chain: self.chain });
            }
            Cmd::Rename => {
                return Ok(Command::RenameChain {
                    table,
                    old: chain,
                    new: self.new_name.unwrap_or_default(),
                });
            }
            Cmd::Flush => {
                return Ok(Command::Flush { table, chain: self.chain });
            }
            Cmd::Zero | Cmd::ZeroNum => {
                return Ok(Command::Zero { table, chain: self.chain, position: self.position });
            }
            Cmd::SetPolicy => {
                let (name, pidx) = self.policy.clone().unwrap_or_default();
                let policy = Policy::parse(&name)
                    .ok_or_else(|| self.err(pidx, ErrorKind::BadPolicy { name: name.clone() }))?;
                if table.builtin_hook(&chain).is_none() {
                    return Err(
                        self.err(cmd_index, ErrorKind::NotBuiltinChain { chain, table: table.name() })
                    );
                }
                return Ok(Command::Policy { table, chain, policy, counters: self.counters });
            }
            Cmd::List | Cmd::ListRules => {
                let (chain, position, zero, options) =
                    (self.chain, self.position, self.zero_with_list, self.list);
                return Ok(if cmd == Cmd::List {
                    Command::List { table, chain, position, zero, options }
                } else {
                    Command::ListRules { table, chain, position, zero, options }
                });
            }
        }
        // -o not valid with incoming packets, -i not with outgoing ones (by chain name).
        if matches!(chain.as_str(), "PREROUTING" | "INPUT") && self.out_iface.is_some() {
            return Err(self.err(
                self.flags[OptBit::OutIface as usize].unwrap_or(cmd_index),
                ErrorKind::NotValidInChain { what: "-o".into(), chain },
            ));
        }
        if matches!(chain.as_str(), "POSTROUTING" | "OUTPUT") && self.in_iface.is_some() {
            return Err(self.err(
                self.flags[OptBit::InIface as usize].unwrap_or(cmd_index),
                ErrorKind::NotValidInChain { what: "-i".into(), chain },
            ));
        }
        let ctx = Ctx { proto: self.proto, table, chain: Some(&chain) };
        let mut matches_out = Vec::with_capacity(self.matches.len());
        for slot in std::mem::take(&mut self.matches) {
            let m = finish_ext(slot.parser.options(), slot.seen, &slot.name)
                .and_then(|()| slot.parser.finish(&ctx, slot.seen))
                .map_err(|k| self.err(slot.word, k))?;
            matches_out.push(m);
        }
        // iptables-nft writes each match on its own, and reads native tcp/udp tests back into one
        // match: refuse what would read back differently, keep the matches as written.
        matches::merge_native(matches_out.clone()).map_err(|k| self.err(cmd_index, k))?;
        let target = match std::mem::replace(&mut self.target, TargetSlot::None) {
            TargetSlot::None => None,
            TargetSlot::Done(t) => Some(t),
            TargetSlot::Ext { name, parser, seen } => Some(
                finish_ext(parser.options(), seen, &name)
                    .and_then(|()| parser.finish(&ctx, seen))
                    .map_err(|k| self.err(self.flags[OptBit::Jump as usize].unwrap_or(cmd_index), k))?,
            ),
        };
        let rule = Rule {
            table,
            chain,
            source: self.source,
            destination: self.dest,
            in_interface: self.in_iface,
            out_interface: self.out_iface,
            protocol: self
                .proto
                .filter(|p| p.proto != Protocol::ALL)
                .map(|p| ProtoMatch { proto: p.proto, invert: p.invert }),
            fragment: self.fragment,
            matches: matches_out,
            target,
            counters: self.counters,
        };
        let position = self.position.unwrap_or(1);
        Ok(match cmd {
            Cmd::Append => Command::Append(rule),
            Cmd::Insert => Command::Insert { rule, position },
            Cmd::Replace => Command::Replace { rule, position },
            Cmd::Delete => Command::Delete(rule),
            _ => Command::Check(rule),
        })
    }
}

const OPT_BITS: [OptBit; 12] = [
    OptBit::Numeric,
    OptBit::Source,
    OptBit::Dest,
    OptBit::Proto,
    OptBit::Jump,
    OptBit::Verbose,
    OptBit::Exact,
    OptBit::InIface,
    OptBit::OutIface,
    OptBit::LineNumbers,
    OptBit::Counters,
    OptBit::Fragment,
];

fn is_command(b: Base) -> bool {
    matches!(
        b,
        Base::Append
            | Base::Check
            | Base::Delete
            | Base::Insert
            | Base::Replace
            | Base::List
            | Base::ListRules
            | Base::Flush
            | Base::Zero
            | Base::NewChain
            | Base::DeleteChain
            | Base::Rename
            | Base::Policy
    )
}

/// The generic per-option checks of `xtables_option_parse`: once only, `!` allowed,
/// exclusions.
fn ext_option(
    spec: &OptSpec,
    seen: &mut u32,
    invert: bool,
    all: &'static [OptSpec],
) -> Result<(), ErrorKind> {
    let opt = format!("--{}", spec.name);
    if *seen & spec.bit() != 0 {
        return Err(ErrorKind::DuplicateOption { option: opt });
    }
    if invert && !spec.invert {
        return Err(ErrorKind::InvertNotAllowed { option: opt });
    }
    let clash = *seen & spec.excl & !spec.bit();
    if clash != 0 {
        let first =
            all.iter().find(|s| clash & s.bit() != 0).map_or_else(String::new, |s| format!("--{}", s.name));
        return Err(ErrorKind::ConflictingOptions { first, second: opt });
    }
    Ok(())
}

/// `xtables_options_fcheck`: mandatory options.
fn finish_ext(all: &'static [OptSpec], seen: u32, name: &str) -> Result<(), ErrorKind> {
    for s in all {
        if s.mand && seen & s.bit() == 0 {
            return Err(ErrorKind::MissingOption {
                extension: name.to_owned(),
                option: format!("--{}", s.name),
            });
        }
    }
    Ok(())
}

/// `-s`/`-d`: `None` for "any" (mask 0).
fn parse_address(v: &str, invert: bool) -> Result<Option<AddrMatch>, ErrorKind> {
    if v.contains(',') {
        return Err(ErrorKind::AddressList { value: v.to_owned() });
    }
    let net = AddrMask::parse_iptables(v).map_err(|reason| {
        if reason.starts_with("not a numeric") {
            ErrorKind::HostName { value: v.to_owned() }
        } else {
            ErrorKind::InvalidValue { option: "address".into(), value: v.to_owned(), reason }
        }
    })?;
    if net.mask.is_unspecified() {
        if invert {
            // iptables-nft 1.8.9 sends a zero-length payload compare: the kernel says EINVAL.
            return Err(ErrorKind::NeverMatches { what: "negated address with mask 0" });
        }
        return Ok(None);
    }
    Ok(Some(AddrMatch { net, invert }))
}

/// `-c PACKETS BYTES`: decimal counters.
fn parse_counters(p: &str, b: &str) -> Option<Counters> {
    let n = |s: &str| {
        (!s.is_empty() && s.bytes().all(|c| c.is_ascii_digit())).then(|| s.parse::<u64>().ok()).flatten()
    };
    Some(Counters { packets: n(p)?, bytes: n(b)? })
}

/// `assert_valid_chain_name`.
pub(crate) fn valid_chain_name(name: &str) -> Result<(), ErrorKind> {
    let bad = |reason| ErrorKind::InvalidChainName { name: name.to_owned(), reason };
    if name.is_empty() {
        return Err(bad("empty"));
    }
    if name.len() >= XT_EXTENSION_MAXNAMELEN {
        return Err(bad("28 characters at most"));
    }
    if name.starts_with('-') || name.starts_with('!') {
        return Err(bad("may not start with `-' or `!'"));
    }
    if targets::is_target_name(name) {
        return Err(bad("clashes with a target name"));
    }
    chain_arg(name)
}

/// The chain a command names: one that can exist (builtin, or accepted by `-N`), so that the
/// command prints and parses back.
fn chain_arg(name: &str) -> Result<(), ErrorKind> {
    let bad = |reason| ErrorKind::InvalidChainName { name: name.to_owned(), reason };
    if name.is_empty() {
        return Err(bad("empty"));
    }
    if name.len() >= XT_EXTENSION_MAXNAMELEN {
        return Err(bad("28 characters at most"));
    }
    if name.starts_with('-') || name.starts_with('!') {
        return Err(bad("may not start with `-' or `!'"));
    }
    if name.chars().any(|c| c.is_ascii_whitespace()) {
        return Err(bad("white space"));
    }
    if name.contains('"') {
        return Err(bad("`\"' cannot be written in iptables-save output"));
    }
    Ok(())
}

/// A chain named by `-j`/`-g`: it must be a name `-N` accepts.
fn chain_ref(name: &str) -> Result<(), ErrorKind> {
    chain_arg(name).map_err(|_| ErrorKind::InvalidTargetName {
        name: name.to_owned(),
        reason: "not a possible chain name",
    })
}

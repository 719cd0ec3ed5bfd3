//! `iptables-restore` input: parsing, printing, and the state `iptables-save` shows after it.
//!
//! The line rules are those of `xtables_restore_parse_line` (iptables/xtables-restore.c,
//! v1.8.9): an empty line or one starting with `#` is skipped; `*TABLE` opens a table,
//! `COMMIT` (exactly) closes it; `:CHAIN POLICY [packets:bytes]` declares a chain; any other
//! line inside a table is a command, optionally prefixed by `[packets:bytes]`; anything else
//! is an error, and so is input that ends inside a table.

use std::collections::BTreeMap;
use std::fmt;

use crate::command::{Command, Policy};
use crate::error::{ErrorKind, ParseError};
use crate::parse::{self, ParseOptions};
use crate::rule::{Counters, Rule};
use crate::table::Table;
use crate::targets::Target;

/// `:CHAIN POLICY [packets:bytes]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ChainDecl {
    /// Chain name.
    pub name: String,
    /// Policy of a builtin chain; `None` for `-` and for user chains (whose policy word
    /// iptables ignores).
    pub policy: Option<Policy>,
    /// Counters, when given.
    pub counters: Option<Counters>,
}

impl fmt::Display for ChainDecl {
    /// `:NAME POLICY [p:b]` (`-` for no policy, `[0:0]` when no counters).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, ":{} ", self.name)?;
        match self.policy {
            Some(p) => write!(f, "{p}")?,
            None => f.write_str("-")?,
        }
        write!(f, " {}", self.counters.unwrap_or_default())
    }
}

/// One line of a table block, in input order.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Entry {
    /// A chain declaration.
    Chain(ChainDecl),
    /// A command (usually `-A`).
    Command(Command),
}

/// `*TABLE` ... `COMMIT`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TableBlock {
    /// The table.
    pub table: Table,
    /// Its lines, in input order.
    pub entries: Vec<Entry>,
}

impl TableBlock {
    /// The chain declarations.
    pub fn chains(&self) -> impl Iterator<Item = &ChainDecl> {
        self.entries.iter().filter_map(|e| match e {
            Entry::Chain(c) => Some(c),
            Entry::Command(_) => None,
        })
    }

    /// The commands.
    pub fn commands(&self) -> impl Iterator<Item = &Command> {
        self.entries.iter().filter_map(|e| match e {
            Entry::Command(c) => Some(c),
            Entry::Chain(_) => None,
        })
    }
}

/// A whole iptables-restore input.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct RestoreFile {
    /// The table blocks, in input order.
    pub tables: Vec<TableBlock>,
}

/// Parses iptables-restore input. Errors carry the line number.
pub fn parse_restore(input: &str) -> Result<RestoreFile, ParseError> {
    parse_restore_with(input, &ParseOptions::default())
}

/// [`parse_restore`] with settings.
pub fn parse_restore_with(input: &str, options: &ParseOptions) -> Result<RestoreFile, ParseError> {
    parse_restore_lines(input, options).map(|(file, _)| file)
}

/// The input line of each entry of a parsed [`RestoreFile`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SourceLines {
    blocks: Vec<Vec<usize>>,
}

impl SourceLines {
    /// The 1-based input line of entry `entry` of block `block`.
    pub fn line(&self, block: usize, entry: usize) -> Option<usize> {
        self.blocks.get(block).and_then(|b| b.get(entry)).copied()
    }
}

/// [`parse_restore_with`], also giving the input line of every entry (for error messages about
/// an entry that parsed, such as a missing chain).
pub fn parse_restore_lines(
    input: &str,
    options: &ParseOptions,
) -> Result<(RestoreFile, SourceLines), ParseError> {
    let mut file = RestoreFile::default();
    let mut lines_of = SourceLines::default();
    let mut current_lines: Vec<usize> = Vec::new();
    let mut current: Option<TableBlock> = None;
    let mut lines = input.split('\n').peekable();
    let mut number = 0;
    while let Some(line) = lines.next() {
        // `fgets` sees no line after a final newline.
        if line.is_empty() && lines.peek().is_none() {
            break;
        }
        number += 1;
        let at_line = |e: ParseError| e.with_line(number);
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(block) = current.as_mut() {
            if line == "COMMIT" {
                file.tables.extend(current.take());
                lines_of.blocks.push(std::mem::take(&mut current_lines));
            } else if let Some(rest) = line.strip_prefix(':') {
                let mut decl = chain_line(rest, block.table, options).map_err(at_line)?;
                if options.ignore_counters {
                    decl.counters = None;
                }
                block.entries.push(Entry::Chain(decl));
                current_lines.push(number);
            } else {
                let (counters, rest) = counters_prefix(line, options.ignore_counters).map_err(at_line)?;
                let words = parse::split(rest).map_err(at_line)?;
                let refs: Vec<&str> = words.iter().map(String::as_str).collect();
                let cmd =
                    parse::parse_restore_words(&refs, block.table, counters, options).map_err(at_line)?;
                block.entries.push(Entry::Command(cmd));
                current_lines.push(number);
            }
        } else if let Some(rest) = line.strip_prefix('*') {
            let name = rest
                .split([' ', '\t'])
                .find(|t| !t.is_empty())
                .ok_or_else(|| at_line(ParseError::new(ErrorKind::MissingTableName)))?;
            let table = Table::parse(name)
                .ok_or_else(|| at_line(ParseError::new(ErrorKind::UnknownTable { name: name.to_owned() })))?;
            current = Some(TableBlock { table, entries: Vec::new() });
        } else {
            return Err(at_line(ParseError::new(ErrorKind::OutsideTable)));
        }
    }
    if current.is_some() {
        return Err(ParseError::new(ErrorKind::CommitExpected).with_line(number + 1));
    }
    Ok((file, lines_of))
}

/// `:CHAIN POLICY [p:b]`. The counters are not even looked at when they are to be ignored (as
/// iptables-restore without `-c` does not).
fn chain_line(rest: &str, table: Table, options: &ParseOptions) -> Result<ChainDecl, ParseError> {
    let mut tokens = rest.split([' ', '\t']).filter(|t| !t.is_empty());
    let bad = |reason| ParseError::new(ErrorKind::BadChainLine { reason });
    let name = tokens.next().ok_or_else(|| bad("chain name missing"))?;
    parse::valid_chain_name(name).map_err(ParseError::new)?;
    let policy_word = tokens.next().ok_or_else(|| bad("policy missing"))?;
    let builtin = table.builtin_hook(name).is_some();
    let policy = match (builtin, policy_word) {
        (true, "-") | (false, _) => None,
        (true, p) => Some(
            Policy::parse(p).ok_or_else(|| ParseError::new(ErrorKind::BadPolicy { name: p.to_owned() }))?,
        ),
    };
    let counters = match tokens.next().filter(|_| !options.ignore_counters) {
        None => None,
        Some(c) => Some(
            bracket_counters(c)
                .ok_or_else(|| ParseError::new(ErrorKind::BadCounters { value: c.to_owned() }))?,
        ),
    };
    Ok(ChainDecl { name: name.to_owned(), policy, counters })
}

/// `[packets:bytes]`, decimal.
fn bracket_counters(s: &str) -> Option<Counters> {
    let inner = s.strip_prefix('[')?.strip_suffix(']')?;
    let (p, b) = inner.split_once(':')?;
    let n = |x: &str| {
        (!x.is_empty() && x.bytes().all(|c| c.is_ascii_digit())).then(|| x.parse::<u64>().ok()).flatten()
    };
    Some(Counters { packets: n(p)?, bytes: n(b)? })
}

/// The `[p:b]` prefix of a rule line (`tokenize_rule_counters`) and the rest of the line.
/// Without `-c` (`ignore`), iptables-restore only checks the prefix's shape (`[a:b]`), not its
/// numbers, and drops it.
fn counters_prefix(line: &str, ignore: bool) -> Result<(Option<Counters>, &str), ParseError> {
    if !line.starts_with('[') {
        return Ok((None, line));
    }
    let end = line.find(']').map(|i| i + 1).unwrap_or(line.len());
    let bad = || ParseError::new(ErrorKind::BadCounters { value: line[..end].to_owned() });
    if ignore {
        let inner = line[..end].strip_prefix('[').and_then(|x| x.strip_suffix(']')).ok_or_else(bad)?;
        let well_formed = inner.split_once(':').is_some_and(|(p, b)| !p.is_empty() && !b.is_empty());
        return if well_formed { Ok((None, &line[end..])) } else { Err(bad()) };
    }
    let c = bracket_counters(&line[..end]).ok_or_else(bad)?;
    Ok((Some(c), &line[end..]))
}

impl fmt::Display for TableBlock {
    /// `*table`, the lines, `COMMIT`. Rule commands with counters get a `[p:b]` prefix.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "*{}", self.table)?;
        for e in &self.entries {
            match e {
                Entry::Chain(c) => writeln!(f, "{c}")?,
                Entry::Command(cmd) => {
                    if let Some(c) = cmd.rule().and_then(|r| r.counters) {
                        let mut cmd = cmd.clone();
                        strip_counters(&mut cmd);
                        write!(f, "{c} ")?;
                        CommandLine(&cmd).fmt(f)?;
                    } else {
                        CommandLine(cmd).fmt(f)?;
                    }
                    writeln!(f)?;
                }
            }
        }
        writeln!(f, "COMMIT")
    }
}

fn strip_counters(cmd: &mut Command) {
    match cmd {
        Command::Append(r) | Command::Delete(r) | Command::Check(r) => r.counters = None,
        Command::Insert { rule, .. } | Command::Replace { rule, .. } => rule.counters = None,
        _ => {}
    }
}

/// A command as an iptables-restore line (no `-t`).
struct CommandLine<'a>(&'a Command);

impl fmt::Display for CommandLine<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt_in_table(f)
    }
}

impl fmt::Display for RestoreFile {
    /// The blocks in iptables-restore syntax. For the exact `iptables-save` output after
    /// restoring this input, print [`RestoreFile::to_saved`] instead.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for t in &self.tables {
            write!(f, "{t}")?;
        }
        Ok(())
    }
}

/// Why restoring a file into empty tables would fail (what the kernel or iptables would refuse).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ApplyError {
    /// A command names a chain that does not exist.
    #[error("table {table}: chain `{chain}' does not exist")]
    NoSuchChain {
        /// Table.
        table: Table,
        /// Chain.
        chain: String,
    },
    /// `-N` of an existing chain, or `-E` to an existing name.
    #[error("table {table}: chain `{chain}' already exists")]
    ChainExists {
        /// Table.
        table: Table,
        /// Chain.
        chain: String,
    },
    /// A builtin chain cannot be deleted or renamed, and only builtin chains have a policy.
    #[error("table {table}: `{chain}' is {what}")]
    WrongChainKind {
        /// Table.
        table: Table,
        /// Chain.
        chain: String,
        /// "a builtin chain" or "not a builtin chain".
        what: &'static str,
    },
    /// `-X` of a chain with rules or referenced by a jump.
    #[error("table {table}: chain `{chain}' is not empty or still referenced")]
    ChainBusy {
        /// Table.
        table: Table,
        /// Chain.
        chain: String,
    },
    /// A rule number past the end of the chain.
    #[error("table {table}: chain `{chain}' has no rule {position}")]
    NoSuchPosition {
        /// Table.
        table: Table,
        /// Chain.
        chain: String,
        /// The number.
        position: u32,
    },
    /// `-D`/`-C` of a rule that is not in the chain.
    #[error("table {table}: no such rule in chain `{chain}'")]
    NoSuchRule {
        /// Table.
        table: Table,
        /// Chain.
        chain: String,
    },
    /// A jump to a chain that does not exist.
    #[error("table {table}: jump to missing chain `{chain}'")]
    MissingJumpTarget {
        /// Table.
        table: Table,
        /// Chain.
        chain: String,
    },
    /// A chain with this name exists in the kernel but is not one iptables accepts (a base chain
    /// with another hook, priority or type): iptables-nft cannot create or use it.
    #[error("table {table}: chain `{chain}' exists but is not an iptables chain (use nft)")]
    IncompatibleChain {
        /// Table.
        table: Table,
        /// Chain.
        chain: String,
    },
    /// A command natkeeper does not carry out in restore input.
    #[error("{what} is not supported")]
    Unsupported {
        /// What.
        what: &'static str,
    },
}

/// Table order of iptables-save (`enum nft_table_type` order: mangle, security, raw, filter, nat).
const SAVE_ORDER: [Table; 5] = [Table::Mangle, Table::Security, Table::Raw, Table::Filter, Table::Nat];

#[derive(Clone)]
struct ChainState {
    builtin: bool,
    policy: Policy,
    counters: Counters,
    rules: Vec<Rule>,
}

/// The chains of one table, builtin ones in hook order then user chains by name.
struct TableState {
    table: Table,
    chains: BTreeMap<String, ChainState>,
}

impl TableState {
    fn new(table: Table) -> Self {
        let chains = table
            .hooks()
            .iter()
            .map(|h| {
                (
                    h.chain_name().to_owned(),
                    ChainState {
                        builtin: true,
                        policy: Policy::Accept,
                        counters: Counters::default(),
                        rules: Vec::new(),
                    },
                )
            })
            .collect();
        TableState { table, chains }
    }

    fn chain(&mut self, name: &str) -> Result<&mut ChainState, ApplyError> {
        let table = self.table;
        self.chains.get_mut(name).ok_or_else(|| ApplyError::NoSuchChain { table, chain: name.to_owned() })
    }

    fn referenced(&self, name: &str) -> bool {
        self.chains
            .values()
            .flat_map(|c| &c.rules)
            .any(|r| matches!(&r.target, Some(Target::Jump(c) | Target::Goto(c)) if c == name))
    }

    fn apply(&mut self, cmd: &Command, keep_counters: bool) -> Result<(), ApplyError> {
        let table = self.table;
        let no_pos =
            |chain: &str, position| ApplyError::NoSuchPosition { table, chain: chain.to_owned(), position };
        let prepared = |r: &Rule| {
            let mut r = r.clone();
            r.counters = if keep_counters { Some(r.counters.unwrap_or_default()) } else { None };
            r
        };
        match cmd {
            Command::Append(r) => self.chain(&r.chain)?.rules.push(prepared(r)),
            Command::Insert { rule, position } => {
                let c = self.chain(&rule.chain)?;
                let i = (*position as usize).saturating_sub(1);
                if i > c.rules.len() {
                    return Err(no_pos(&rule.chain, *position));
                }
                c.rules.insert(i, prepared(rule));
            }
            Command::Replace { rule, position } => {
                let c = self.chain(&rule.chain)?;
                let slot = c
                    .rules
                    .get_mut((*position as usize).wrapping_sub(1))
                    .ok_or_else(|| no_pos(&rule.chain, *position))?;
                *slot = prepared(rule);
            }
            Command::Delete(r) | Command::Check(r) => {
                let c = self.chain(&r.chain)?;
                let i = c
                    .rules
                    .iter()
                    .position(|x| same_rule(x, r))
                    .ok_or_else(|| ApplyError::NoSuchRule { table, chain: r.chain.clone() })?;
                if matches!(cmd, Command::Delete(_)) {
                    c.rules.remove(i);
                }
            }
            Command::DeleteNum { chain, position, .. } => {
                let c = self.chain(chain)?;
                let i = (*position as usize).wrapping_sub(1);
                if i >= c.rules.len() {
                    return Err(no_pos(chain, *position));
                }
                c.rules.remove(i);
            }
            Command::NewChain { chain, .. } => {
                if self.chains.contains_key(chain) {
                    return Err(ApplyError::ChainExists { table, chain: chain.clone() });
                }
                self.chains.insert(chain.clone(), user_chain());
            }
            Command::DeleteChain { chain, .. } => {
                let names: Vec<String> = match chain {
                    Some(c) => {
                        if self.chain(c)?.builtin {
                            return Err(ApplyError::WrongChainKind {
                                table,
                                chain: c.clone(),
                                what: "a builtin chain",
                            });
                        }
                        vec![c.clone()]
                    }
                    None => self.chains.iter().filter(|(_, c)| !c.builtin).map(|(n, _)| n.clone()).collect(),
                };
                for n in &names {
                    let busy = self.chains.get(n).is_some_and(|c| !c.rules.is_empty());
                    if busy || self.referenced(n) {
                        return Err(ApplyError::ChainBusy { table, chain: n.clone() });
                    }
                }
                for n in names {
                    self.chains.remove(&n);
                }
            }
            Command::RenameChain { old, new, .. } => {
                if self.chain(old)?.builtin {
                    return Err(ApplyError::WrongChainKind {
                        table,
                        chain: old.clone(),
                        what: "a builtin chain",
                    });
                }
                if self.chains.contains_key(new) {
                    return Err(ApplyError::ChainExists { table, chain: new.clone() });
                }
                if let Some(mut c) = self.chains.remove(old) {
                    for r in &mut c.rules {
                        r.chain = new.clone();
                    }
                    self.chains.insert(new.clone(), c);
                }
                for c in self.chains.values_mut() {
                    for r in &mut c.rules {
                        if let Some(Target::Jump(t) | Target::Goto(t)) = &mut r.target {
                            if t == old {
                                *t = new.clone();
                            }
                        }
                    }
                }
            }
            Command::Flush { chain, .. } => match chain {
                Some(c) => self.chain(c)?.rules.clear(),
                None => self.chains.values_mut().for_each(|c| c.rules.clear()),
            },
            Command::Zero { chain, .. } => {
                let zero = |c: &mut ChainState| {
                    c.counters = Counters::default();
                    for r in &mut c.rules {
                        if r.counters.is_some() {
                            r.counters = Some(Counters::default());
                        }
                    }
                };
                match chain {
                    Some(c) => zero(self.chain(c)?),
                    None => self.chains.values_mut().for_each(zero),
                }
            }
            Command::Policy { chain, policy, counters, .. } => {
                let c = self.chain(chain)?;
                c.policy = *policy;
                if keep_counters {
                    c.counters = counters.unwrap_or_default();
                }
            }
            Command::List { .. } | Command::ListRules { .. } => {}
        }
        Ok(())
    }

    fn declare(&mut self, decl: &ChainDecl, keep_counters: bool) {
        let c = self.chains.entry(decl.name.clone()).or_insert_with(user_chain);
        if c.builtin {
            if let Some(p) = decl.policy {
                c.policy = p;
            }
        }
        if keep_counters {
            c.counters = decl.counters.unwrap_or_default();
        }
    }

    fn check_jumps(&self) -> Result<(), ApplyError> {
        for c in self.chains.values() {
            for r in &c.rules {
                if let Some(Target::Jump(t) | Target::Goto(t)) = &r.target {
                    if self.chains.get(t).is_none_or(|c| c.builtin) {
                        return Err(ApplyError::MissingJumpTarget { table: self.table, chain: t.clone() });
                    }
                }
            }
        }
        Ok(())
    }

    fn into_block(self) -> TableBlock {
        let mut entries = Vec::new();
        let mut order: Vec<&String> = self
            .table
            .hooks()
            .iter()
            .filter_map(|h| self.chains.get_key_value(h.chain_name()).map(|(k, _)| k))
            .collect();
        // BTreeMap order is strcmp order, as `nft_chain_cmp_byname`.
        order.extend(self.chains.iter().filter(|(_, c)| !c.builtin).map(|(k, _)| k));
        for name in &order {
            let c = &self.chains[*name];
            entries.push(Entry::Chain(ChainDecl {
                name: (*name).clone(),
                policy: c.builtin.then_some(c.policy),
                counters: Some(c.counters),
            }));
        }
        for name in &order {
            for r in &self.chains[*name].rules {
                entries.push(Entry::Command(Command::Append(r.clone())));
            }
        }
        TableBlock { table: self.table, entries }
    }
}

fn user_chain() -> ChainState {
    ChainState { builtin: false, policy: Policy::Accept, counters: Counters::default(), rules: Vec::new() }
}

/// `-D`/`-C` compare rules as iptables-save shows them.
fn same_rule(a: &Rule, b: &Rule) -> bool {
    a.as_saved() == b.as_saved()
}

impl RestoreFile {
    /// What `iptables-save` prints after `iptables-restore` of this input into a host without
    /// those tables: each named table flushed and rebuilt (a later block of the same table
    /// replaces an earlier one), its builtin chains all listed in hook order (policy ACCEPT
    /// unless set), user chains sorted by name, then the rules chain by chain, tables in
    /// iptables-save order. With `keep_counters` (`iptables-restore -c` + `iptables-save -c`)
    /// the counters of the input are kept, otherwise they are zero and rules carry none.
    pub fn to_saved(&self, keep_counters: bool) -> Result<RestoreFile, ApplyError> {
        let mut states: BTreeMap<Table, TableState> = BTreeMap::new();
        for block in &self.tables {
            let mut state = TableState::new(block.table);
            for e in &block.entries {
                match e {
                    Entry::Chain(decl) => state.declare(decl, keep_counters),
                    Entry::Command(cmd) => state.apply(cmd, keep_counters)?,
                }
            }
            state.check_jumps()?;
            states.insert(block.table, state);
        }
        let mut tables = Vec::new();
        for t in SAVE_ORDER {
            if let Some(state) = states.remove(&t) {
                tables.push(state.into_block());
            }
        }
        Ok(RestoreFile { tables })
    }
}

//! `iptables-restore` into the kernel: a [`RestoreFile`] applied with iptables-restore 1.8.9's
//! semantics as **one** generation-guarded nf_tables transaction for all its tables.
//!
//! Without `--noflush` each `*table` block deletes the table (everything in it, as
//! iptables-restore's `DELTABLE` does) and builds it again from the block: the chains declared
//! with `:` (with their policy and counters), builtin chains that commands need, and the rules.
//! With `--noflush` the commands work on the tables as they are; a `:CHAIN` line flushes a user
//! chain that exists, and sets a builtin chain's policy and counters.
//!
//! The planner runs the commands against a model of the kernel's iptables tables (read with
//! one consistent dump), as iptables does against its cache, so `-D RULE`, `-I CHAIN N`,
//! `-R`, `-X`, `-F`, `-Z` and `-P` see what earlier lines did. It then writes the difference
//! between the kernel and the final model: deleted rules and chains, new and updated chains,
//! replaced rules, and new rules placed before the kernel rule that follows them (or appended).
//! If another writer commits in between, the kernel refuses the batch (`ERESTART`) and the whole
//! plan is made again from a fresh read, a bounded number of times.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use natkeeper_nft::expr::{Counter, MetaKey};
use natkeeper_nft::{
    Chain, ChainCounters, Compat, Data, Expr, Family, NFT_RULE_COMPAT_F_INV, Position, Ruleset, Socket,
    Transaction, Verdict,
};

use crate::builtin::BuiltinChain;
use crate::command::{Command, Policy};
use crate::decode::{DecodeError, decode};
use crate::encode::{EncodeError, encode};
use crate::restore::{ApplyError, ChainDecl, Entry, RestoreFile};
use crate::rule::Rule;
use crate::save::{TableChains, chain_rules, read_ip};
use crate::table::Table;

/// How often a restore is planned again after another writer committed first.
const RESTART_ATTEMPTS: u32 = 32;
/// The longest pause before planning again (the pause doubles from 100 µs, with jitter, so that
/// a restore does not keep colliding with a writer that commits at a steady pace).
const MAX_BACKOFF: Duration = Duration::from_millis(10);

/// A name no table has: deleting it makes a probe batch fail at its end, so that nothing of it
/// is applied.
const PROBE_TABLE: &str = "natkeeper-probe-no-such-table";

/// `iptables-restore` options.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RestoreOptions {
    /// `--noflush`: apply the commands to the tables as they are, instead of replacing them.
    pub noflush: bool,
    /// `--test`: check that everything parses and encodes; read and change nothing.
    pub test: bool,
    /// `-T TABLE`: only the blocks of this table.
    pub table: Option<Table>,
}

/// A line of a [`RestoreFile`]: block index and entry index within the block (0-based).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Location {
    /// Index into [`RestoreFile::tables`].
    pub block: usize,
    /// Index into [`crate::TableBlock::entries`].
    pub entry: usize,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "block {}, entry {}", self.block + 1, self.entry + 1)
    }
}

/// Why a restore was not applied. Nothing of it was.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RestoreError {
    /// A rule cannot be written as iptables-nft writes it.
    #[error("{at}: {source}")]
    Encode {
        /// The line.
        at: Location,
        /// Why.
        source: EncodeError,
    },
    /// A command iptables would refuse against the tables as they are (no such chain, chain
    /// busy, no such rule, ...).
    #[error("{at}: {source}")]
    Command {
        /// The line.
        at: Location,
        /// Why.
        source: ApplyError,
    },
    /// `-D RULE`, `-C` or `-Z CHAIN N` met a rule in the chain that does not read back as an
    /// iptables rule (iptables fails the same way: "Parsing nftables rule failed").
    #[error("{at}: {source}")]
    Compare {
        /// The line.
        at: Location,
        /// The rule that does not read back.
        source: Box<DecodeError>,
    },
    /// Reading the ruleset failed.
    #[error("cannot read the ruleset: {0}")]
    Read(Box<natkeeper_nft::Error>),
    /// The kernel refused the transaction.
    #[error("{}{source}", at.map(|a| format!("{a}: ")).unwrap_or_default())]
    Kernel {
        /// The line whose message the kernel refused, when it could be told.
        at: Option<Location>,
        /// The kernel's error (it names the object and errno).
        source: Box<natkeeper_nft::Error>,
    },
    /// Other writers kept committing between our read and our commit.
    #[error("the ruleset kept changing ({attempts} attempts)")]
    Unstable {
        /// How many plans were tried.
        attempts: u32,
    },
}

impl RestoreError {
    /// The line the error is about, when there is one.
    pub fn location(&self) -> Option<Location> {
        match self {
            RestoreError::Encode { at, .. }
            | RestoreError::Command { at, .. }
            | RestoreError::Compare { at, .. } => Some(*at),
            RestoreError::Kernel { at, .. } => *at,
            RestoreError::Read(_) | RestoreError::Unstable { .. } => None,
        }
    }
}

/// What a restore did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    /// Messages in the committed batch (0 for `--test`).
    pub messages: usize,
    /// Plans made (more than 1 when another writer committed first).
    pub attempts: u32,
}

/// Applies `file` as `iptables-restore` 1.8.9 with `options` would, in one atomic transaction
/// guarded by the ruleset generation; re-read and re-planned when another writer commits first.
/// On any error nothing is changed.
pub fn restore(
    sock: &mut Socket,
    file: &RestoreFile,
    options: &RestoreOptions,
) -> Result<Applied, RestoreError> {
    if options.test {
        check_restore(file, options)?;
        return Ok(Applied { messages: 0, attempts: 0 });
    }
    for attempt in 1..=RESTART_ATTEMPTS {
        let ruleset = read_ip(sock).map_err(|e| RestoreError::Read(Box::new(e)))?;
        let plan = plan(&ruleset, file, options)?;
        let messages = plan.len();
        match sock.commit(plan.transaction(Some(ruleset.generation))) {
            Ok(()) => return Ok(Applied { messages, attempts: attempt }),
            Err(e) if e.is_restart() => {
                if attempt < RESTART_ATTEMPTS {
                    backoff(attempt);
                }
            }
            Err(source) => {
                let at = plan.locate(sock, ruleset.generation);
                return Err(RestoreError::Kernel { at, source: Box::new(source) });
            }
        }
    }
    Err(RestoreError::Unstable { attempts: RESTART_ATTEMPTS })
}

/// Sleeps before attempt `attempt + 1`: 100 µs doubled per attempt up to [`MAX_BACKOFF`], times a
/// jitter of 0.5 to 1.5 taken from the clock.
fn backoff(attempt: u32) {
    let base = Duration::from_micros(100).saturating_mul(1 << attempt.min(16)).min(MAX_BACKOFF);
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    let jitter = 0.5 + f64::from(nanos % 1000) / 1000.0;
    std::thread::sleep(base.mul_f64(jitter));
}

/// `iptables-restore --test`: every rule (of the table `-T` names, if any) encodes. Nothing is read
/// from the kernel, nor is anything that depends on it checked, as iptables-restore `--test` does
/// not either.
pub fn check_restore(file: &RestoreFile, options: &RestoreOptions) -> Result<(), RestoreError> {
    for (b, block) in file.tables.iter().enumerate() {
        if options.table.is_some_and(|t| t != block.table) {
            continue;
        }
        for (e, entry) in block.entries.iter().enumerate() {
            if let Entry::Command(cmd) = entry {
                if let Some(r) = cmd.rule() {
                    encode(r).map_err(|source| RestoreError::Encode {
                        at: Location { block: b, entry: e },
                        source,
                    })?;
                }
            }
        }
    }
    Ok(())
}

/// One change of the batch.
#[derive(Debug, Clone)]
enum Op {
    DeleteTable(Table),
    AddTable(Table),
    DeleteRule { table: Table, chain: String, handle: u64 },
    DeleteChain { table: Table, chain: String },
    AddChain(Chain),
    CreateChain(Chain),
    ReplaceRule(natkeeper_nft::Rule, u64),
    AddRule(natkeeper_nft::Rule, Position),
}

/// The changes a restore makes, in batch order, each with the line that caused it.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    ops: Vec<(Op, Option<Location>)>,
}

impl Plan {
    /// Number of messages.
    pub fn len(&self) -> usize {
        self.ops.len()
    }

    /// True when the restore changes nothing.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// The plan as a transaction, guarded by `genid` when given.
    pub fn transaction(&self, genid: Option<u32>) -> Transaction {
        self.prefix(self.ops.len(), genid)
    }

    fn prefix(&self, n: usize, genid: Option<u32>) -> Transaction {
        let mut t = Transaction::new(genid);
        for (op, _) in self.ops.iter().take(n) {
            match op {
                Op::DeleteTable(table) => t.delete_table(Family::Ip, table.name()),
                Op::AddTable(table) => t.add_table(&natkeeper_nft::Table::new(Family::Ip, table.name())),
                Op::DeleteRule { table, chain, handle } => {
                    t.delete_rule(Family::Ip, table.name(), chain, *handle)
                }
                Op::DeleteChain { table, chain } => t.delete_chain(Family::Ip, table.name(), chain),
                Op::AddChain(c) => t.add_chain(c),
                Op::CreateChain(c) => t.create_chain(c),
                Op::ReplaceRule(r, h) => t.replace_rule(r, *h),
                Op::AddRule(r, pos) => t.add_rule(r, *pos),
            }
        }
        t
    }

    /// The line of the first message the kernel refuses: found by sending prefixes of the batch
    /// that end in a message bound to fail, so that none of them is applied.
    fn locate(&self, sock: &mut Socket, genid: u32) -> Option<Location> {
        let fails = |sock: &mut Socket, n: usize| -> Option<bool> {
            let mut t = self.prefix(n, Some(genid));
            t.delete_table(Family::Ip, PROBE_TABLE);
            match sock.commit(t) {
                Err(natkeeper_nft::Error::Kernel { object, .. }) => Some(object.table != PROBE_TABLE),
                _ => None,
            }
        };
        // The smallest n whose prefix fails: message n - 1 is the first refused one.
        let (mut lo, mut hi) = (0, self.ops.len());
        while lo < hi {
            let mid = (lo + hi) / 2 + 1;
            if fails(sock, mid)? {
                hi = mid - 1;
            } else {
                lo = mid;
            }
        }
        self.ops.get(lo).and_then(|(_, at)| *at)
    }
}

/// Plans `file` against `ruleset` (family `ip`, as read by [`Ruleset::read`]) without touching
/// the kernel: the batch [`restore`] would commit.
pub fn plan(ruleset: &Ruleset, file: &RestoreFile, options: &RestoreOptions) -> Result<Plan, RestoreError> {
    let mut model = Model::new(ruleset);
    let mut order: Vec<Table> = Vec::new();
    for (b, block) in file.tables.iter().enumerate() {
        if options.table.is_some_and(|t| t != block.table) {
            continue;
        }
        if !order.contains(&block.table) {
            order.push(block.table);
        }
        let t = model.table(block.table);
        if !options.noflush {
            t.replace();
        }
        for (e, entry) in block.entries.iter().enumerate() {
            let at = Location { block: b, entry: e };
            match entry {
                Entry::Chain(decl) => t.declare(decl, at)?,
                Entry::Command(cmd) => t.command(cmd, at)?,
            }
        }
    }
    let mut plan = Plan::default();
    for table in order {
        if let Some(t) = model.tables.iter().find(|t| t.table == table) {
            t.emit(&mut plan);
        }
    }
    Ok(plan)
}

/// The kernel's iptables tables as the plan changes them.
struct Model<'a> {
    ruleset: &'a Ruleset,
    tables: Vec<TableModel<'a>>,
}

impl<'a> Model<'a> {
    fn new(ruleset: &'a Ruleset) -> Self {
        Model { ruleset, tables: Vec::new() }
    }

    fn table(&mut self, table: Table) -> &mut TableModel<'a> {
        let i = match self.tables.iter().position(|t| t.table == table) {
            Some(i) => i,
            None => {
                self.tables.push(TableModel::read(self.ruleset, table));
                self.tables.len() - 1
            }
        };
        &mut self.tables[i]
    }
}

/// A rule of the model: one of the kernel's (by handle, possibly to be replaced) or a new one.
#[derive(Debug, Clone)]
enum RuleModel<'a> {
    Kernel { rule: &'a natkeeper_nft::Rule, handle: u64, replace: Option<(natkeeper_nft::Rule, Location)> },
    New { rule: natkeeper_nft::Rule, at: Location },
}

impl RuleModel<'_> {
    /// The rule as it will be in the kernel.
    fn nft(&self) -> &natkeeper_nft::Rule {
        match self {
            RuleModel::Kernel { replace: Some((r, _)), .. } | RuleModel::New { rule: r, .. } => r,
            RuleModel::Kernel { rule, .. } => rule,
        }
    }
}

/// A chain of the model.
#[derive(Debug, Clone)]
struct ChainModel<'a> {
    name: String,
    builtin: Option<BuiltinChain>,
    /// The kernel chain this is, if it already exists.
    kernel: Option<&'a Chain>,
    /// Policy of a builtin chain.
    policy: Policy,
    /// Counters of a builtin chain (`None`: the chain keeps no counters).
    counters: Option<ChainCounters>,
    /// A builtin kernel chain whose policy or counters change.
    updated: Option<Location>,
    /// Where a new chain was created.
    created: Option<Location>,
    rules: Vec<RuleModel<'a>>,
}

/// One iptables table of the model.
struct TableModel<'a> {
    table: Table,
    /// The table exists in the kernel.
    in_kernel: bool,
    /// The kernel's table is deleted (iptables-restore without `--noflush`).
    replaced: bool,
    /// The table exists at this point of the plan.
    exists: bool,
    /// Where the table was (re)created, when the plan creates it.
    created: Option<Location>,
    /// The chains iptables sees, builtin ones and user chains.
    chains: Vec<ChainModel<'a>>,
    /// Base chains iptables does not accept (left alone, but `-F` empties them).
    foreign: Vec<ChainModel<'a>>,
    /// Every chain of the kernel table, with its rules, for the difference at the end.
    kernel_chains: Vec<&'a Chain>,
    kernel_rules: Vec<&'a natkeeper_nft::Rule>,
}

fn apply_err(at: Location, source: ApplyError) -> RestoreError {
    RestoreError::Command { at, source }
}

impl<'a> TableModel<'a> {
    fn read(ruleset: &'a Ruleset, table: Table) -> Self {
        let in_kernel = ruleset.table(Family::Ip, table.name()).is_some();
        let tc = TableChains::of(ruleset, table);
        let rules_of = |c: &Chain| -> Vec<RuleModel<'a>> {
            chain_rules(ruleset, table, &c.name)
                .filter_map(|r| r.handle.map(|handle| RuleModel::Kernel { rule: r, handle, replace: None }))
                .collect()
        };
        let model = |c: &'a Chain, builtin: Option<BuiltinChain>| ChainModel {
            name: c.name.clone(),
            builtin,
            kernel: Some(c),
            policy: match c.policy {
                Some(natkeeper_nft::Policy::Drop) => Policy::Drop,
                _ => Policy::Accept,
            },
            counters: c.counters,
            updated: None,
            created: None,
            rules: rules_of(c),
        };
        let mut chains: Vec<ChainModel<'a>> = tc.builtin.iter().map(|(b, c)| model(c, Some(*b))).collect();
        chains.extend(tc.user.iter().map(|c| model(c, None)));
        let foreign = ruleset
            .chains
            .iter()
            .filter(|c| c.family == Family::Ip && c.table == table.name())
            .filter(|c| c.is_base() && !tc.builtin.iter().any(|(_, b)| std::ptr::eq(*b, *c)))
            .map(|c| model(c, None))
            .collect();
        let kernel_chains =
            ruleset.chains.iter().filter(|c| c.family == Family::Ip && c.table == table.name()).collect();
        let kernel_rules =
            ruleset.rules.iter().filter(|r| r.family == Family::Ip && r.table == table.name()).collect();
        TableModel {
            table,
            in_kernel,
            replaced: false,
            exists: in_kernel,
            created: None,
            chains,
            foreign,
            kernel_chains,
            kernel_rules,
        }
    }

    /// iptables-restore without `--noflush` at `*table`: the table goes, with everything in it.
    fn replace(&mut self) {
        if self.in_kernel {
            self.replaced = true;
        }
        self.exists = false;
        self.created = None;
        self.chains.clear();
        self.foreign.clear();
    }

    fn ensure_table(&mut self, at: Location) {
        if !self.exists {
            self.exists = true;
            self.created = Some(at);
        }
    }

    fn chain_index(&self, name: &str) -> Option<usize> {
        self.chains.iter().position(|c| c.name == name)
    }

    fn no_chain(&self, name: &str) -> ApplyError {
        ApplyError::NoSuchChain { table: self.table, chain: name.to_owned() }
    }

    /// The builtin chain `name`, created (as iptables' `nft_xt_builtin_init` does) if missing.
    fn builtin(&mut self, b: BuiltinChain, at: Location) -> Result<usize, RestoreError> {
        if let Some(i) = self.chain_index(b.name()) {
            return Ok(i);
        }
        if self.foreign.iter().any(|c| c.name == b.name()) {
            return Err(apply_err(
                at,
                ApplyError::IncompatibleChain { table: self.table, chain: b.name().to_owned() },
            ));
        }
        self.ensure_table(at);
        self.chains.push(ChainModel {
            name: b.name().to_owned(),
            builtin: Some(b),
            kernel: None,
            policy: Policy::Accept,
            counters: None,
            updated: None,
            created: Some(at),
            rules: Vec::new(),
        });
        Ok(self.chains.len() - 1)
    }

    /// The chain a rule command works on: a builtin chain is created when `create`, a user chain
    /// must exist.
    fn rule_chain(&mut self, name: &str, create: bool, at: Location) -> Result<usize, RestoreError> {
        match BuiltinChain::find(self.table, name) {
            Some(b) if create => self.builtin(b, at),
            _ => self.chain_index(name).ok_or_else(|| apply_err(at, self.no_chain(name))),
        }
    }

    fn user_chain(&mut self, name: &str, at: Location) -> Result<(), RestoreError> {
        if self.foreign.iter().any(|c| c.name == name) {
            return Err(apply_err(
                at,
                ApplyError::IncompatibleChain { table: self.table, chain: name.to_owned() },
            ));
        }
        self.ensure_table(at);
        self.chains.push(ChainModel {
            name: name.to_owned(),
            builtin: None,
            kernel: None,
            policy: Policy::Accept,
            counters: None,
            updated: None,
            created: Some(at),
            rules: Vec::new(),
        });
        Ok(())
    }

    /// `:CHAIN POLICY [p:b]`.
    fn declare(&mut self, decl: &ChainDecl, at: Location) -> Result<(), RestoreError> {
        if let Some(b) = BuiltinChain::find(self.table, &decl.name) {
            // `nft_chain_set`: policy (unless `-`) and counters (zero unless given).
            let i = self.builtin(b, at)?;
            let c = &mut self.chains[i];
            if let Some(p) = decl.policy {
                c.policy = p;
            }
            let k = decl.counters.unwrap_or_default();
            c.counters = Some(ChainCounters { packets: k.packets, bytes: k.bytes });
            c.updated = Some(at);
            return Ok(());
        }
        // `nft_chain_restore`: flush a user chain that exists, else create it.
        match self.chain_index(&decl.name) {
            Some(i) => {
                self.chains[i].rules.clear();
                Ok(())
            }
            None => self.user_chain(&decl.name, at),
        }
    }

    /// `assert_chain_exists` for a jump target.
    fn check_jump(&self, rule: &Rule, at: Location) -> Result<(), RestoreError> {
        if let Some(crate::Target::Jump(c) | crate::Target::Goto(c)) = &rule.target {
            if self.chains.iter().all(|x| x.name != *c || x.builtin.is_some()) {
                return Err(apply_err(
                    at,
                    ApplyError::MissingJumpTarget { table: self.table, chain: c.clone() },
                ));
            }
        }
        Ok(())
    }

    fn encoded(rule: &Rule, at: Location) -> Result<natkeeper_nft::Rule, RestoreError> {
        encode(rule).map_err(|source| RestoreError::Encode { at, source })
    }

    /// Index of the first rule of chain `ci` that iptables takes for `rule` (`nft_rule_cmp`:
    /// both read back and compared, counters aside).
    fn find(&self, ci: usize, rule: &Rule, at: Location) -> Result<Option<usize>, RestoreError> {
        let want = decode(&Self::encoded(rule, at)?)
            .map_err(|source| RestoreError::Compare { at, source: Box::new(source) })?
            .as_saved();
        for (i, r) in self.chains[ci].rules.iter().enumerate() {
            let have =
                decode(r.nft()).map_err(|source| RestoreError::Compare { at, source: Box::new(source) })?;
            if have.as_saved() == want {
                return Ok(Some(i));
            }
        }
        Ok(None)
    }

    fn position(&self, chain: &str, position: u32) -> ApplyError {
        ApplyError::NoSuchPosition { table: self.table, chain: chain.to_owned(), position }
    }

    fn command(&mut self, cmd: &Command, at: Location) -> Result<(), RestoreError> {
        let table = self.table;
        match cmd {
            Command::Append(rule) => {
                self.check_jump(rule, at)?;
                let ci = self.rule_chain(&rule.chain, true, at)?;
                let r = Self::encoded(rule, at)?;
                self.chains[ci].rules.push(RuleModel::New { rule: r, at });
            }
            Command::Insert { rule, position } => {
                self.check_jump(rule, at)?;
                let ci = self.rule_chain(&rule.chain, true, at)?;
                let i = (*position as usize).saturating_sub(1);
                if i > self.chains[ci].rules.len() {
                    return Err(apply_err(at, self.position(&rule.chain, *position)));
                }
                let r = Self::encoded(rule, at)?;
                self.chains[ci].rules.insert(i, RuleModel::New { rule: r, at });
            }
            Command::Replace { rule, position } => {
                self.check_jump(rule, at)?;
                let ci = self.rule_chain(&rule.chain, false, at)?;
                let r = Self::encoded(rule, at)?;
                let no_pos = self.position(&rule.chain, *position);
                let slot = (*position as usize)
                    .checked_sub(1)
                    .and_then(|i| self.chains[ci].rules.get_mut(i))
                    .ok_or_else(|| apply_err(at, no_pos))?;
                match slot {
                    RuleModel::Kernel { replace, .. } => *replace = Some((r, at)),
                    RuleModel::New { .. } => *slot = RuleModel::New { rule: r, at },
                }
            }
            Command::Delete(rule) | Command::Check(rule) => {
                let ci = self.rule_chain(&rule.chain, false, at)?;
                let i = self.find(ci, rule, at)?.ok_or_else(|| {
                    apply_err(at, ApplyError::NoSuchRule { table, chain: rule.chain.clone() })
                })?;
                if matches!(cmd, Command::Delete(_)) {
                    self.chains[ci].rules.remove(i);
                }
            }
            Command::DeleteNum { chain, position, .. } => {
                let ci = self.rule_chain(chain, false, at)?;
                let i = (*position as usize).wrapping_sub(1);
                if i >= self.chains[ci].rules.len() {
                    return Err(apply_err(at, self.position(chain, *position)));
                }
                self.chains[ci].rules.remove(i);
            }
            Command::NewChain { chain, .. } => {
                if self.chain_index(chain).is_some() || BuiltinChain::find(table, chain).is_some() {
                    return Err(apply_err(at, ApplyError::ChainExists { table, chain: chain.clone() }));
                }
                self.user_chain(chain, at)?;
            }
            Command::DeleteChain { chain: Some(name), .. } => {
                let ci = self.chain_index(name).ok_or_else(|| apply_err(at, self.no_chain(name)))?;
                if !self.deletable(ci) {
                    return Err(apply_err(at, ApplyError::ChainBusy { table, chain: name.clone() }));
                }
                self.chains.remove(ci);
            }
            Command::DeleteChain { chain: None, .. } => {
                // `nft_chain_del` of every chain: builtin chains only when empty with policy
                // ACCEPT; a user chain in use fails the whole batch.
                let mut i = 0;
                while i < self.chains.len() {
                    let c = &self.chains[i];
                    if c.builtin.is_some() && !self.deletable(i) {
                        i += 1;
                        continue;
                    }
                    if c.builtin.is_none() && !self.deletable(i) {
                        return Err(apply_err(at, ApplyError::ChainBusy { table, chain: c.name.clone() }));
                    }
                    self.chains.remove(i);
                }
            }
            Command::Flush { chain: Some(name), .. } => {
                let ci = self.rule_chain(name, true, at)?;
                self.chains[ci].rules.clear();
            }
            Command::Flush { chain: None, .. } => {
                // A `DELRULE` for the whole table: the rules of foreign base chains go too.
                for c in self.chains.iter_mut().chain(self.foreign.iter_mut()) {
                    c.rules.clear();
                }
            }
            Command::Zero { chain, position, .. } => self.zero(chain.as_deref(), *position, at)?,
            Command::Policy { chain, policy, .. } => {
                // `-P` sends zero counters whatever `-c` says (xtables.c passes none).
                let b = BuiltinChain::find(table, chain).ok_or_else(|| {
                    apply_err(
                        at,
                        ApplyError::WrongChainKind {
                            table,
                            chain: chain.clone(),
                            what: "not a builtin chain",
                        },
                    )
                })?;
                let ci = self.builtin(b, at)?;
                let c = &mut self.chains[ci];
                c.policy = *policy;
                c.counters = Some(ChainCounters::default());
                c.updated = Some(at);
            }
            Command::RenameChain { .. } => {
                return Err(apply_err(
                    at,
                    ApplyError::Unsupported { what: "-E (renaming a chain) in restore input" },
                ));
            }
            Command::List { .. } | Command::ListRules { .. } => {
                return Err(apply_err(
                    at,
                    ApplyError::Unsupported { what: "-L/-S (listing) in restore input" },
                ));
            }
        }
        Ok(())
    }

    /// `nft_may_delete_chain` for builtin chains (empty, policy ACCEPT); for user chains what the
    /// kernel requires (empty, no rule jumps to it).
    fn deletable(&self, ci: usize) -> bool {
        let c = &self.chains[ci];
        if !c.rules.is_empty() {
            return false;
        }
        if c.builtin.is_some() {
            return c.policy == Policy::Accept;
        }
        !self.chains.iter().chain(&self.foreign).flat_map(|x| &x.rules).any(|r| jumps_to(r.nft(), &c.name))
    }

    /// `-Z [CHAIN [N]]`.
    fn zero(&mut self, chain: Option<&str>, position: Option<u32>, at: Location) -> Result<(), RestoreError> {
        let chains: Vec<usize> = match chain {
            Some(name) => vec![self.chain_index(name).ok_or_else(|| apply_err(at, self.no_chain(name)))?],
            None => (0..self.chains.len()).collect(),
        };
        for ci in chains {
            if let Some(n) = position {
                // `nft_rule_zero_counters`: the rule read back and written again, counters zero.
                // A missing rule is not an error (iptables 1.8.9 returns success).
                let i = (n as usize).wrapping_sub(1);
                let Some(r) = self.chains[ci].rules.get(i) else { return Ok(()) };
                let mut rule = decode(r.nft())
                    .map_err(|source| RestoreError::Compare { at, source: Box::new(source) })?;
                rule.counters = None;
                let fresh = Self::encoded(&rule, at)?;
                let Some(slot) = self.chains[ci].rules.get_mut(i) else { return Ok(()) };
                match slot {
                    RuleModel::Kernel { replace, .. } => *replace = Some((fresh, at)),
                    RuleModel::New { .. } => *slot = RuleModel::New { rule: fresh, at },
                }
                continue;
            }
            // `__nft_chain_zero_counters`: base chain counters, and every rule with a non-zero
            // counter replaced with its counters zeroed.
            let c = &mut self.chains[ci];
            if c.builtin.is_some() {
                c.counters = Some(ChainCounters::default());
                c.updated = Some(at);
            }
            for slot in &mut c.rules {
                let Some(zeroed) = zero_counters(slot.nft()) else { continue };
                match slot {
                    RuleModel::Kernel { replace, .. } => *replace = Some((zeroed, at)),
                    RuleModel::New { rule, .. } => *rule = zeroed,
                }
            }
        }
        Ok(())
    }

    /// The table's part of the batch: the difference between the kernel and the model.
    fn emit(&self, plan: &mut Plan) {
        let table = self.table;
        let mut push = |op: Op, at: Option<Location>| plan.ops.push((op, at));
        if self.replaced {
            push(Op::DeleteTable(table), None);
        }
        if !self.exists {
            return;
        }
        if self.replaced || !self.in_kernel {
            push(Op::AddTable(table), self.created);
        }
        // What stays of the kernel table (nothing when it is replaced).
        let live: Vec<&ChainModel<'_>> = self.chains.iter().chain(&self.foreign).collect();
        if !self.replaced {
            let kept = |handle: u64| {
                live.iter()
                    .flat_map(|c| &c.rules)
                    .any(|r| matches!(r, RuleModel::Kernel { handle: h, .. } if *h == handle))
            };
            for r in &self.kernel_rules {
                if let Some(h) = r.handle.filter(|h| !kept(*h)) {
                    push(Op::DeleteRule { table, chain: r.chain.clone(), handle: h }, None);
                }
            }
            for kc in &self.kernel_chains {
                if !live.iter().any(|c| c.kernel.is_some_and(|k| std::ptr::eq(k, *kc))) {
                    push(Op::DeleteChain { table, chain: kc.name.clone() }, None);
                }
            }
        }
        for c in &self.chains {
            let kernel = c.kernel.filter(|_| !self.replaced);
            match (kernel, c.builtin) {
                (None, Some(b)) => push(Op::AddChain(b.to_chain(Some(c.policy), c.counters)), c.created),
                (None, None) => {
                    push(Op::CreateChain(Chain::regular(Family::Ip, table.name(), c.name.clone())), c.created)
                }
                (Some(_), Some(b)) if c.updated.is_some() => {
                    push(Op::AddChain(b.to_chain(Some(c.policy), c.counters)), c.updated)
                }
                (Some(_), _) => {}
            }
        }
        for c in live.iter() {
            for r in &c.rules {
                if let RuleModel::Kernel { handle, replace: Some((new, at)), .. } = r {
                    push(Op::ReplaceRule(new.clone(), *handle), Some(*at));
                }
            }
        }
        for c in live.iter() {
            let mut pending: Vec<(&natkeeper_nft::Rule, Location)> = Vec::new();
            for r in &c.rules {
                match r {
                    RuleModel::New { rule, at } => pending.push((rule, *at)),
                    RuleModel::Kernel { handle, .. } => {
                        for (rule, at) in pending.drain(..) {
                            push(Op::AddRule(rule.clone(), Position::Before(*handle)), Some(at));
                        }
                    }
                }
            }
            for (rule, at) in pending {
                push(Op::AddRule(rule.clone(), Position::Append), Some(at));
            }
        }
    }
}

/// Whether a rule jumps or goes to `chain`.
fn jumps_to(rule: &natkeeper_nft::Rule, chain: &str) -> bool {
    rule.exprs.iter().any(|e| match e {
        Expr::Immediate(i) => {
            matches!(&i.data, Data::Verdict(Verdict::Jump(c) | Verdict::Goto(c)) if c == chain)
        }
        _ => false,
    })
}

/// The rule with every non-zero counter zeroed and `NFTA_RULE_COMPAT` recovered from its
/// `meta l4proto` test (`recover_rule_compat`); `None` when no counter needs it.
fn zero_counters(rule: &natkeeper_nft::Rule) -> Option<natkeeper_nft::Rule> {
    let mut r = rule.clone();
    let mut changed = false;
    for e in &mut r.exprs {
        if let Expr::Counter(c) = e {
            if c.packets != 0 || c.bytes != 0 {
                *c = Counter::default();
                changed = true;
            }
        }
    }
    if !changed {
        return None;
    }
    r.handle = None;
    r.position = None;
    if r.compat.is_none() {
        r.compat = r.exprs.windows(2).find_map(|w| match w {
            [Expr::Meta(natkeeper_nft::expr::Meta::Load { key: MetaKey::L4Proto, dreg }), Expr::Cmp(c)]
                if c.sreg == *dreg =>
            {
                let proto = c.data.first().copied().map(u32::from)?;
                let flags = if c.op == natkeeper_nft::expr::CmpOp::Neq { NFT_RULE_COMPAT_F_INV } else { 0 };
                Some(Compat { proto, flags })
            }
            _ => None,
        });
    }
    Some(r)
}

//! iptables commands (`-A`, `-I`, `-D`, ...), typed.

use std::fmt;
use std::str::FromStr;

use crate::error::ParseError;
use crate::parse::{self, ParseOptions};
use crate::rule::{Counters, Rule};
use crate::table::Table;

/// A builtin chain's policy (`-P`, `:CHAIN POLICY`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Policy {
    /// `ACCEPT`.
    Accept,
    /// `DROP`.
    Drop,
}

impl Policy {
    /// Parses `ACCEPT` or `DROP` (case-sensitive).
    pub fn parse(s: &str) -> Option<Policy> {
        match s {
            "ACCEPT" => Some(Policy::Accept),
            "DROP" => Some(Policy::Drop),
            _ => None,
        }
    }
}

impl fmt::Display for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Policy::Accept => "ACCEPT",
            Policy::Drop => "DROP",
        })
    }
}

/// Listing flags of `-L`/`-S`: `-v`, `-n`, `-x`, `--line-numbers`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ListOptions {
    /// `-v`.
    pub verbose: bool,
    /// `-n`.
    pub numeric: bool,
    /// `-x`.
    pub exact: bool,
    /// `--line-numbers`.
    pub line_numbers: bool,
}

/// One iptables command. Rule numbers are 1-based, as on the command line.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Command {
    /// `-A CHAIN RULE`.
    Append(Rule),
    /// `-I CHAIN [N] RULE` (`position` 1 = head).
    Insert {
        /// The rule.
        rule: Rule,
        /// Position the rule takes.
        position: u32,
    },
    /// `-R CHAIN N RULE`.
    Replace {
        /// The new rule.
        rule: Rule,
        /// Number of the rule replaced.
        position: u32,
    },
    /// `-D CHAIN RULE`: delete the first rule equal to this one.
    Delete(Rule),
    /// `-D CHAIN N`.
    DeleteNum {
        /// Table.
        table: Table,
        /// Chain.
        chain: String,
        /// Rule number.
        position: u32,
    },
    /// `-C CHAIN RULE`: does the rule exist?
    Check(Rule),
    /// `-N CHAIN`.
    NewChain {
        /// Table.
        table: Table,
        /// Chain.
        chain: String,
    },
    /// `-X [CHAIN]`: delete a user chain, or all empty user chains.
    DeleteChain {
        /// Table.
        table: Table,
        /// Chain, or all.
        chain: Option<String>,
    },
    /// `-E OLD NEW`.
    RenameChain {
        /// Table.
        table: Table,
        /// Current name.
        old: String,
        /// New name.
        new: String,
    },
    /// `-F [CHAIN]`.
    Flush {
        /// Table.
        table: Table,
        /// Chain, or all.
        chain: Option<String>,
    },
    /// `-Z [CHAIN [N]]` (alone; see [`Command::List`] for `-L -Z`).
    Zero {
        /// Table.
        table: Table,
        /// Chain, or all.
        chain: Option<String>,
        /// One rule.
        position: Option<u32>,
    },
    /// `-P CHAIN POLICY`.
    Policy {
        /// Table.
        table: Table,
        /// A builtin chain.
        chain: String,
        /// The policy.
        policy: Policy,
        /// `-c packets bytes`.
        counters: Option<Counters>,
    },
    /// `-L [CHAIN [N]]` (with `-Z`: list, then zero).
    List {
        /// Table.
        table: Table,
        /// Chain, or all.
        chain: Option<String>,
        /// One rule.
        position: Option<u32>,
        /// `-Z` given too.
        zero: bool,
        /// Flags.
        options: ListOptions,
    },
    /// `-S [CHAIN [N]]` (with `-Z`: list, then zero).
    ListRules {
        /// Table.
        table: Table,
        /// Chain, or all.
        chain: Option<String>,
        /// One rule.
        position: Option<u32>,
        /// `-Z` given too.
        zero: bool,
        /// Flags.
        options: ListOptions,
    },
}

impl Command {
    /// The table the command works on.
    pub fn table(&self) -> Table {
        match self {
            Command::Append(r) | Command::Delete(r) | Command::Check(r) => r.table,
            Command::Insert { rule, .. } | Command::Replace { rule, .. } => rule.table,
            Command::DeleteNum { table, .. }
            | Command::NewChain { table, .. }
            | Command::DeleteChain { table, .. }
            | Command::RenameChain { table, .. }
            | Command::Flush { table, .. }
            | Command::Zero { table, .. }
            | Command::Policy { table, .. }
            | Command::List { table, .. }
            | Command::ListRules { table, .. } => *table,
        }
    }

    /// The rule of a rule command.
    pub fn rule(&self) -> Option<&Rule> {
        match self {
            Command::Append(r) | Command::Delete(r) | Command::Check(r) => Some(r),
            Command::Insert { rule, .. } | Command::Replace { rule, .. } => Some(rule),
            _ => None,
        }
    }

    /// Writes the command without `-t` (as an iptables-restore line).
    pub(crate) fn fmt_in_table(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let opt = |f: &mut fmt::Formatter<'_>, c: &Option<String>| match c {
            Some(c) => write!(f, " {c}"),
            None => Ok(()),
        };
        let num = |f: &mut fmt::Formatter<'_>, n: &Option<u32>| match n {
            Some(n) => write!(f, " {n}"),
            None => Ok(()),
        };
        let list = |f: &mut fmt::Formatter<'_>, o: &ListOptions, zero: bool| {
            for (on, s) in [
                (zero, " -Z"),
                (o.verbose, " -v"),
                (o.numeric, " -n"),
                (o.exact, " -x"),
                (o.line_numbers, " --line-numbers"),
            ] {
                if on {
                    f.write_str(s)?;
                }
            }
            Ok(())
        };
        let counters = |f: &mut fmt::Formatter<'_>, c: &Option<Counters>| match c {
            Some(c) => write!(f, " -c {} {}", c.packets, c.bytes),
            None => Ok(()),
        };
        match self {
            Command::Append(r) => {
                write!(f, "{r}")?;
                counters(f, &r.counters)
            }
            Command::Insert { rule, position } => {
                write!(f, "-I {} {position}", rule.chain)?;
                rule.fmt_spec(f)?;
                counters(f, &rule.counters)
            }
            Command::Replace { rule, position } => {
                write!(f, "-R {} {position}", rule.chain)?;
                rule.fmt_spec(f)?;
                counters(f, &rule.counters)
            }
            Command::Delete(r) => {
                write!(f, "-D {}", r.chain)?;
                r.fmt_spec(f)
            }
            Command::Check(r) => {
                write!(f, "-C {}", r.chain)?;
                r.fmt_spec(f)
            }
            Command::DeleteNum { chain, position, .. } => write!(f, "-D {chain} {position}"),
            Command::NewChain { chain, .. } => write!(f, "-N {chain}"),
            Command::DeleteChain { chain, .. } => {
                f.write_str("-X")?;
                opt(f, chain)
            }
            Command::RenameChain { old, new, .. } => write!(f, "-E {old} {new}"),
            Command::Flush { chain, .. } => {
                f.write_str("-F")?;
                opt(f, chain)
            }
            Command::Zero { chain, position, .. } => {
                f.write_str("-Z")?;
                opt(f, chain)?;
                num(f, position)
            }
            Command::Policy { chain, policy, counters: c, .. } => {
                write!(f, "-P {chain} {policy}")?;
                counters(f, c)
            }
            Command::List { chain, position, zero, options, .. } => {
                f.write_str("-L")?;
                opt(f, chain)?;
                num(f, position)?;
                list(f, options, *zero)
            }
            Command::ListRules { chain, position, zero, options, .. } => {
                f.write_str("-S")?;
                opt(f, chain)?;
                num(f, position)?;
                list(f, options, *zero)
            }
        }
    }
}

impl fmt::Display for Command {
    /// The command as iptables arguments in canonical form: `-t TABLE` (unless `filter`), the
    /// command, and the rule as iptables-save prints it (`-c` last when counters are set).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let table = self.table();
        if table != Table::Filter {
            write!(f, "-t {table} ")?;
        }
        self.fmt_in_table(f)
    }
}

impl FromStr for Command {
    type Err = ParseError;

    /// Splits `s` into words as iptables-restore does and parses them as iptables arguments.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse::parse_line(s, &ParseOptions::default())
    }
}

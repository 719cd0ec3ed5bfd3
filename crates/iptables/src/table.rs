//! The five iptables tables and their builtin chains.

use std::fmt;

/// A netfilter hook (`NF_INET_*`), the point in the stack where a builtin chain runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Hook {
    /// `NF_INET_PRE_ROUTING` (0).
    Prerouting,
    /// `NF_INET_LOCAL_IN` (1).
    Input,
    /// `NF_INET_FORWARD` (2).
    Forward,
    /// `NF_INET_LOCAL_OUT` (3).
    Output,
    /// `NF_INET_POST_ROUTING` (4).
    Postrouting,
}

impl Hook {
    /// The hook's number (`NFTA_HOOK_HOOKNUM`).
    pub fn number(self) -> u32 {
        match self {
            Hook::Prerouting => 0,
            Hook::Input => 1,
            Hook::Forward => 2,
            Hook::Output => 3,
            Hook::Postrouting => 4,
        }
    }

    /// The builtin chain name of this hook.
    pub fn chain_name(self) -> &'static str {
        match self {
            Hook::Prerouting => "PREROUTING",
            Hook::Input => "INPUT",
            Hook::Forward => "FORWARD",
            Hook::Output => "OUTPUT",
            Hook::Postrouting => "POSTROUTING",
        }
    }
}

/// An iptables table (`-t`). iptables-nft 1.8.9 owns exactly these names in family `ip`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Table {
    /// `filter` (the default).
    Filter,
    /// `nat`.
    Nat,
    /// `mangle`.
    Mangle,
    /// `raw`.
    Raw,
    /// `security`.
    Security,
}

impl Table {
    /// All tables.
    pub const ALL: [Table; 5] = [Table::Filter, Table::Nat, Table::Mangle, Table::Raw, Table::Security];

    /// Parses a table name (case-sensitive, as iptables).
    pub fn parse(name: &str) -> Option<Table> {
        Table::ALL.into_iter().find(|t| t.name() == name)
    }

    /// The table's name.
    pub fn name(self) -> &'static str {
        match self {
            Table::Filter => "filter",
            Table::Nat => "nat",
            Table::Mangle => "mangle",
            Table::Raw => "raw",
            Table::Security => "security",
        }
    }

    /// The builtin chains' hooks, in hook order (the order iptables-save lists them).
    pub fn hooks(self) -> &'static [Hook] {
        use Hook::*;
        match self {
            Table::Filter | Table::Security => &[Input, Forward, Output],
            Table::Nat => &[Prerouting, Input, Output, Postrouting],
            Table::Mangle => &[Prerouting, Input, Forward, Output, Postrouting],
            Table::Raw => &[Prerouting, Output],
        }
    }

    /// The hook of `chain` if it is a builtin chain of this table.
    pub fn builtin_hook(self, chain: &str) -> Option<Hook> {
        self.hooks().iter().copied().find(|h| h.chain_name() == chain)
    }
}

impl fmt::Display for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_chains() {
        assert_eq!(Table::parse("nat"), Some(Table::Nat));
        assert_eq!(Table::parse("NAT"), None);
        assert_eq!(Table::Nat.builtin_hook("POSTROUTING"), Some(Hook::Postrouting));
        assert_eq!(Table::Filter.builtin_hook("PREROUTING"), None);
        assert_eq!(Table::Raw.builtin_hook("OUTPUT"), Some(Hook::Output));
    }
}

//! The builtin chains of iptables' tables as nf_tables base chains, with the exact hook, priority
//! and type iptables-nft 1.8.9 gives them (nft.c `xtables_ipv4`), and the check it applies to base
//! chains it finds in the kernel (nft-cache.c `nft_cache_add_base_chain`).

use natkeeper_nft::{Chain, ChainCounters, Family, HookNum};

use crate::command::Policy;
use crate::table::{Hook, Table};

const NF_IP_PRI_RAW: i32 = -300;
const NF_IP_PRI_MANGLE: i32 = -150;
const NF_IP_PRI_NAT_DST: i32 = -100;
const NF_IP_PRI_FILTER: i32 = 0;
/// iptables-nft 1.8.9 gives the security chains 150, not the kernel's `NF_IP_PRI_SECURITY` (50):
/// nft.c `xtables_ipv4`, "`.prio = 150, /* NF_IP_PRI_SECURITY */`".
const IPTABLES_NFT_PRI_SECURITY: i32 = 150;
const NF_IP_PRI_NAT_SRC: i32 = 100;

/// What a builtin chain is in nf_tables: hook, priority and chain type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BuiltinChain {
    /// The table.
    pub table: Table,
    /// The hook (which also names the chain).
    pub hook: Hook,
    /// `NFTA_HOOK_PRIORITY`.
    pub priority: i32,
    /// `NFTA_CHAIN_TYPE`: `filter`, `nat` or `route`.
    pub chain_type: &'static str,
}

impl BuiltinChain {
    /// The builtin chain `name` of `table`, if it is one.
    pub fn find(table: Table, name: &str) -> Option<BuiltinChain> {
        table.builtin_hook(name).map(|hook| BuiltinChain::of(table, hook))
    }

    /// The builtin chain of `table` at `hook` (the caller knows the table has one there).
    fn of(table: Table, hook: Hook) -> BuiltinChain {
        let (priority, chain_type) = match (table, hook) {
            (Table::Filter, _) => (NF_IP_PRI_FILTER, "filter"),
            (Table::Nat, Hook::Prerouting | Hook::Output) => (NF_IP_PRI_NAT_DST, "nat"),
            (Table::Nat, _) => (NF_IP_PRI_NAT_SRC, "nat"),
            (Table::Mangle, Hook::Output) => (NF_IP_PRI_MANGLE, "route"),
            (Table::Mangle, _) => (NF_IP_PRI_MANGLE, "filter"),
            (Table::Raw, _) => (NF_IP_PRI_RAW, "filter"),
            (Table::Security, _) => (IPTABLES_NFT_PRI_SECURITY, "filter"),
        };
        BuiltinChain { table, hook, priority, chain_type }
    }

    /// The chains of `table`, in hook order.
    pub fn all(table: Table) -> impl Iterator<Item = BuiltinChain> {
        table.hooks().iter().map(move |&h| BuiltinChain::of(table, h))
    }

    /// The chain's name (`INPUT`, ...).
    pub fn name(&self) -> &'static str {
        self.hook.chain_name()
    }

    /// The base chain as iptables-nft sends it (`nft_chain_builtin_alloc`): table, name, hook,
    /// priority, policy (none for `None`, as `:CHAIN - [p:b]` and `-P` without a policy), counters
    /// when given, type. No flags, no userdata.
    pub fn to_chain(&self, policy: Option<Policy>, counters: Option<ChainCounters>) -> Chain {
        let mut c = Chain::base(
            Family::Ip,
            self.table.name(),
            self.name(),
            self.chain_type,
            hook_num(self.hook),
            self.priority,
            natkeeper_nft::Policy::Accept,
        );
        c.policy = policy.map(|p| match p {
            Policy::Accept => natkeeper_nft::Policy::Accept,
            Policy::Drop => natkeeper_nft::Policy::Drop,
        });
        c.counters = counters;
        c
    }

    /// Whether `chain` (read from the kernel) is this builtin chain as iptables-nft 1.8.9 accepts
    /// it: same name, hook, priority and type. A base chain of an iptables table that fails this
    /// for every builtin chain "taints" the table: iptables-save leaves it out with a comment.
    pub fn accepts(&self, chain: &Chain) -> bool {
        let Some(h) = &chain.hook else { return false };
        chain.name == self.name()
            && h.num == hook_num(self.hook)
            && h.priority == self.priority
            && chain.chain_type.as_deref() == Some(self.chain_type)
    }
}

/// The builtin chain `name` of `table` as iptables-nft 1.8.9 creates it, with `policy` (`None`:
/// no `NFTA_CHAIN_POLICY`, the kernel's default ACCEPT on creation); `None` when `name` is not a
/// builtin chain of `table`.
pub fn builtin_chain(table: Table, name: &str, policy: Option<Policy>) -> Option<Chain> {
    BuiltinChain::find(table, name).map(|b| b.to_chain(policy, None))
}

/// The nf_tables hook number of a netfilter hook.
pub(crate) fn hook_num(h: Hook) -> HookNum {
    match h {
        Hook::Prerouting => HookNum::Prerouting,
        Hook::Input => HookNum::Input,
        Hook::Forward => HookNum::Forward,
        Hook::Output => HookNum::Output,
        Hook::Postrouting => HookNum::Postrouting,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_table() {
        // Reference §2.2.
        let b = |t, c| BuiltinChain::find(t, c).map(|b| (hook_num(b.hook), b.priority, b.chain_type));
        assert_eq!(b(Table::Filter, "FORWARD"), Some((HookNum::Forward, 0, "filter")));
        assert_eq!(b(Table::Nat, "PREROUTING"), Some((HookNum::Prerouting, -100, "nat")));
        assert_eq!(b(Table::Nat, "INPUT"), Some((HookNum::Input, 100, "nat")));
        assert_eq!(b(Table::Nat, "OUTPUT"), Some((HookNum::Output, -100, "nat")));
        assert_eq!(b(Table::Nat, "POSTROUTING"), Some((HookNum::Postrouting, 100, "nat")));
        assert_eq!(b(Table::Mangle, "OUTPUT"), Some((HookNum::Output, -150, "route")));
        assert_eq!(b(Table::Mangle, "FORWARD"), Some((HookNum::Forward, -150, "filter")));
        assert_eq!(b(Table::Raw, "PREROUTING"), Some((HookNum::Prerouting, -300, "filter")));
        assert_eq!(b(Table::Security, "INPUT"), Some((HookNum::Input, 150, "filter")));
        assert_eq!(b(Table::Filter, "PREROUTING"), None);
        let c = builtin_chain(Table::Filter, "INPUT", Some(Policy::Drop)).unwrap();
        assert_eq!(c.policy, Some(natkeeper_nft::Policy::Drop));
        assert!(BuiltinChain::find(Table::Filter, "INPUT").unwrap().accepts(&c));
        assert!(!BuiltinChain::find(Table::Filter, "OUTPUT").unwrap().accepts(&c));
    }
}

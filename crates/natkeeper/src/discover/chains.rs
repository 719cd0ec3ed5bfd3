//! References to nf_tables objects as discovery reports them: a table, a chain, a base chain with
//! its hook, a rule by position and handle.

use std::fmt;

use natkeeper_nft::{Chain, Family, HookNum, Policy};
use serde::Serialize;

/// A table: `ip filter`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct TableRef {
    /// Family (`ip`, `ip6`, `inet`, ...).
    #[serde(serialize_with = "super::ser::display")]
    pub family: Family,
    /// Name.
    pub name: String,
}

impl fmt::Display for TableRef {
    /// `ip filter`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.family, self.name)
    }
}

/// A chain: `ip filter FORWARD`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct ChainRef {
    /// Family of its table.
    #[serde(serialize_with = "super::ser::display")]
    pub family: Family,
    /// Table name.
    pub table: String,
    /// Chain name.
    pub chain: String,
}

impl ChainRef {
    /// The chain `family table chain`.
    pub fn new(family: Family, table: &str, chain: &str) -> ChainRef {
        ChainRef { family, table: table.to_string(), chain: chain.to_string() }
    }
}

impl fmt::Display for ChainRef {
    /// `ip filter FORWARD`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", self.family, self.table, self.chain)
    }
}

/// A base chain: attached to a hook, with a priority and a policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BaseChain {
    /// Which chain.
    #[serde(flatten)]
    pub chain: ChainRef,
    /// The hook (`forward`, `input`, ...).
    #[serde(serialize_with = "super::ser::display")]
    pub hook: HookNum,
    /// Priority: lower runs first (iptables' filter is 0).
    pub priority: i32,
    /// Policy (`accept`, `drop`).
    #[serde(serialize_with = "super::ser::policy_opt")]
    pub policy: Option<Policy>,
}

impl BaseChain {
    /// The base chain `c`, or `None` for a regular chain.
    pub(super) fn of(c: &Chain) -> Option<BaseChain> {
        let hook = c.hook.as_ref()?;
        Some(BaseChain {
            chain: ChainRef::new(c.family, &c.table, &c.name),
            hook: hook.num,
            priority: hook.priority,
            policy: c.policy,
        })
    }

    /// True when its policy is drop.
    pub fn drops(&self) -> bool {
        self.policy == Some(Policy::Drop)
    }
}

impl fmt::Display for BaseChain {
    /// `ip filter FORWARD (hook forward, priority 0, policy drop)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (hook {}, priority {}", self.chain, self.hook, self.priority)?;
        if let Some(p) = self.policy {
            write!(f, ", policy {}", super::ser::policy_name(p))?;
        }
        f.write_str(")")
    }
}

/// A rule of a chain: its position (1 for the first rule, as `iptables -L --line-numbers` counts)
/// and its kernel handle (what `nft insert rule … position H` and deletion use).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct RuleRef {
    /// 1-based position in the chain.
    pub position: usize,
    /// Kernel handle (always present in rules read from the kernel).
    pub handle: Option<u64>,
}

impl fmt::Display for RuleRef {
    /// `#2 (handle 7)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.position)?;
        if let Some(h) = self.handle {
            write!(f, " (handle {h})")?;
        }
        Ok(())
    }
}

//! The plan: the difference between what the policy needs and what the kernel holds, as typed
//! changes that print as `+`/`-`/`~` lines and become one transaction.
//!
//! Only what differs is written: a changed forward is one map element deleted and one added; the
//! table is rebuilt only when its shape (a map's type) changed.

use std::collections::HashSet;
use std::fmt;

use natkeeper_nft::expr::Expr;
use natkeeper_nft::{Chain, Family, Position, Rule, Ruleset, Set, SetElem, Transaction};

use crate::desired::{OwnTable, addr_elem, describe_forward, describe_nat, forward_elem};
use crate::holes::{Hole, HoleState};
use crate::names::{MAP_FORWARDS, MAP_NAT_IN, MAP_NAT_OUT, TABLE};
use crate::resolve::Resolved;

/// One change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Create natkeeper's table with everything in it.
    CreateTable(Box<OwnTable>),
    /// Delete natkeeper's table (and with it every chain, map and rule in it).
    DeleteTable,
    /// Add a missing chain.
    AddChain(Chain),
    /// Replace the rules of one of natkeeper's chains.
    RewriteChain {
        /// Chain name.
        chain: String,
        /// The rules it must hold.
        rules: Vec<Rule>,
    },
    /// Add map elements.
    AddElems {
        /// Map name.
        map: String,
        /// Elements.
        elems: Vec<SetElem>,
    },
    /// Delete map elements.
    DeleteElems {
        /// Map name.
        map: String,
        /// Elements.
        elems: Vec<SetElem>,
    },
    /// Insert a hole at the head of a chain natkeeper does not own.
    AddHole(Hole),
    /// Delete one of natkeeper's holes (misplaced, duplicated, or no longer wanted).
    DeleteHole {
        /// The hole's chain and reason.
        hole: HoleState,
    },
}

impl Change {
    /// The change as readable lines (`+`/`-`/`~`), one per map element; built lazily, so a caller
    /// can print the first few of a large plan cheaply.
    pub fn lines(&self) -> Box<dyn Iterator<Item = String> + '_> {
        match self {
            Change::CreateTable(t) => {
                let mut head =
                    format!("+ table ip {TABLE} ({} chains, {} rules", t.chains.len(), t.rules.len());
                for (s, e) in &t.maps {
                    head.push_str(&format!(", map {} with {} elements", s.name, e.len()));
                }
                head.push(')');
                let elems = t.maps.iter().flat_map(|(s, elems)| {
                    elems.iter().map(move |e| format!("+ {}", describe_elem(&s.name, e)))
                });
                Box::new(std::iter::once(head).chain(elems))
            }
            Change::AddElems { map, elems } => {
                Box::new(elems.iter().map(move |e| format!("+ {}", describe_elem(map, e))))
            }
            Change::DeleteElems { map, elems } => {
                Box::new(elems.iter().map(move |e| format!("- {}", describe_elem(map, e))))
            }
            Change::DeleteTable => Box::new(std::iter::once(format!("- table ip {TABLE}"))),
            Change::AddChain(c) => Box::new(std::iter::once(format!("+ chain ip {TABLE} {}", c.name))),
            Change::RewriteChain { chain, rules } => {
                Box::new(std::iter::once(format!("~ chain ip {TABLE} {chain} ({} rules)", rules.len())))
            }
            Change::AddHole(h) => Box::new(std::iter::once(format!("+ hole {h}"))),
            Change::DeleteHole { hole } => Box::new(std::iter::once(format!("- hole {hole}"))),
        }
    }

    /// How many lines [`Change::lines`] yields, without building them.
    pub fn line_count(&self) -> usize {
        match self {
            Change::CreateTable(t) => 1 + t.maps.iter().map(|(_, e)| e.len()).sum::<usize>(),
            Change::AddElems { elems, .. } | Change::DeleteElems { elems, .. } => elems.len(),
            _ => 1,
        }
    }
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, line) in self.lines().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            f.write_str(&line)?;
        }
        Ok(())
    }
}

fn describe_elem(map: &str, e: &SetElem) -> String {
    if map == MAP_FORWARDS {
        format!("forward {}", describe_forward(e))
    } else {
        format!("nat {}", describe_nat(map, e))
    }
}

/// The changes that make the kernel match the policy, planned against generation `generation`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The generation the plan was computed against (the transaction's guard).
    pub generation: u32,
    /// The changes, in the order they are applied.
    pub changes: Vec<Change>,
}

impl Plan {
    /// True when the kernel already matches.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// The plan as one generation-guarded transaction.
    pub fn transaction(&self) -> Transaction {
        let mut txn = Transaction::new(Some(self.generation));
        for c in &self.changes {
            match c {
                Change::CreateTable(t) => {
                    txn.add_table(&t.table);
                    for ch in &t.chains {
                        txn.add_chain(ch);
                    }
                    for (s, elems) in &t.maps {
                        txn.add_set(s);
                        if !elems.is_empty() {
                            txn.add_elems(Family::Ip, TABLE, &s.name, elems);
                        }
                    }
                    for r in &t.rules {
                        txn.add_rule(r, Position::Append);
                    }
                }
                Change::DeleteTable => txn.delete_table(Family::Ip, TABLE),
                Change::AddChain(ch) => txn.add_chain(ch),
                Change::RewriteChain { chain, rules } => {
                    txn.flush_chain(Family::Ip, TABLE, chain);
                    for r in rules {
                        txn.add_rule(r, Position::Append);
                    }
                }
                Change::AddElems { map, elems } => txn.add_elems(Family::Ip, TABLE, map, elems),
                Change::DeleteElems { map, elems } => txn.delete_elems(Family::Ip, TABLE, map, elems),
                Change::AddHole(h) => h.insert(&mut txn),
                Change::DeleteHole { hole } => hole.delete(&mut txn),
            }
        }
        txn
    }
}

impl Plan {
    /// Every line of the plan, lazily.
    pub fn lines(&self) -> impl Iterator<Item = String> + '_ {
        self.changes.iter().flat_map(Change::lines)
    }

    /// How many lines the plan has.
    pub fn line_count(&self) -> usize {
        self.changes.iter().map(Change::line_count).sum()
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in &self.changes {
            writeln!(f, "{c}")?;
        }
        Ok(())
    }
}

/// A set's defining attributes (what a change would need the set recreated for).
fn set_shape(s: &Set) -> (u32, u32, u32, Option<u32>, Option<u32>, Vec<&str>) {
    let exprs = s.exprs.iter().map(Expr::name).collect();
    (s.flags, s.key_type, s.key_len, s.data_type, s.data_len, exprs)
}

/// A rule as compared: expressions and comment, without handle, position or counters' values.
fn rule_shape(r: &Rule) -> (Vec<Expr>, Option<String>) {
    (r.exprs.clone(), r.comment())
}

/// Plans natkeeper's own table: what to add, rewrite, or delete so the kernel holds `want`.
pub fn plan_table(want: OwnTable, have: &Ruleset, changes: &mut Vec<Change>) {
    if have.table(Family::Ip, TABLE).is_none() {
        changes.push(Change::CreateTable(Box::new(want)));
        return;
    }
    // A map of another shape (an older natkeeper, a hand edit): rebuild the whole table, atomically.
    let reshaped = want.maps.iter().any(|(s, _)| {
        have.sets
            .iter()
            .find(|h| h.family == Family::Ip && h.table == TABLE && h.name == s.name)
            .map(set_shape)
            != Some(set_shape(s))
    });
    let foreign_chain = have
        .chains
        .iter()
        .any(|c| c.family == Family::Ip && c.table == TABLE && !want.chains.iter().any(|w| w.name == c.name));
    let reshaped_chain = want.chains.iter().any(|w| {
        have.chain(Family::Ip, TABLE, &w.name)
            .is_some_and(|h| (&h.hook, &h.chain_type, h.policy) != (&w.hook, &w.chain_type, w.policy))
    });
    if reshaped || foreign_chain || reshaped_chain {
        changes.push(Change::DeleteTable);
        changes.push(Change::CreateTable(Box::new(want)));
        return;
    }
    for c in &want.chains {
        if have.chain(Family::Ip, TABLE, &c.name).is_none() {
            changes.push(Change::AddChain(c.clone()));
        }
    }
    for c in &want.chains {
        let want_rules: Vec<_> = want.rules.iter().filter(|r| r.chain == c.name).collect();
        let have_rules: Vec<_> = have.chain_rules(Family::Ip, TABLE, &c.name).collect();
        let same = want_rules.len() == have_rules.len()
            && want_rules.iter().zip(&have_rules).all(|(w, h)| rule_shape(w) == rule_shape(h));
        if !same {
            changes.push(Change::RewriteChain {
                chain: c.name.clone(),
                rules: want_rules.into_iter().cloned().collect(),
            });
        }
    }
    for (s, want_elems) in &want.maps {
        let have_elems: &[SetElem] = have
            .elems
            .iter()
            .find(|e| e.family == Family::Ip && e.table == TABLE && e.set == s.name)
            .map_or(&[], |e| e.elems.as_slice());
        fn key(e: &SetElem) -> (&[u8], Option<&natkeeper_nft::Data>) {
            (e.key.as_slice(), e.data.as_ref())
        }
        let want_keys: HashSet<_> = want_elems.iter().map(key).collect();
        let have_keys: HashSet<_> = have_elems.iter().map(key).collect();
        // A key whose value changed is deleted and added again in the same transaction.
        let mut delete: Vec<SetElem> =
            have_elems.iter().filter(|e| !want_keys.contains(&key(e))).cloned().collect();
        let mut add: Vec<SetElem> =
            want_elems.iter().filter(|e| !have_keys.contains(&key(e))).cloned().collect();
        delete.sort_by(|a, b| a.key.cmp(&b.key));
        add.sort_by(|a, b| a.key.cmp(&b.key));
        if !delete.is_empty() {
            changes.push(Change::DeleteElems { map: s.name.clone(), elems: delete });
        }
        if !add.is_empty() {
            changes.push(Change::AddElems { map: s.name.clone(), elems: add });
        }
    }
}

/// What is in `old` and not in `new`, and what is in `new` and not in `old`, of two sorted lists.
fn sorted_diff<'a, T: Ord>(old: &'a [T], new: &'a [T]) -> (Vec<&'a T>, Vec<&'a T>) {
    let (mut gone, mut came) = (Vec::new(), Vec::new());
    let (mut i, mut j) = (0, 0);
    while i < old.len() || j < new.len() {
        match (old.get(i), new.get(j)) {
            (Some(a), Some(b)) if a == b => {
                i += 1;
                j += 1;
            }
            (Some(a), Some(b)) if a < b => {
                gone.push(a);
                i += 1;
            }
            (Some(_), Some(b)) | (None, Some(b)) => {
                came.push(b);
                j += 1;
            }
            (Some(a), None) => {
                gone.push(a);
                i += 1;
            }
            (None, None) => break,
        }
    }
    (gone, came)
}

/// The plan from `old` (what natkeeper committed, still in the kernel at `generation`) to `new`,
/// without reading the kernel: only map elements may differ. `None` when anything else changed
/// (networks, host protection, or whether anything needs forwarding at all, which places or removes
/// the holes): then the full plan against a fresh dump is needed.
pub fn plan_delta(old: &Resolved, new: &Resolved, generation: u32) -> Option<Plan> {
    if old.networks != new.networks
        || old.host != new.host
        || old.needs_forwarding() != new.needs_forwarding()
    {
        return None;
    }
    let mut changes = Vec::new();
    let (gone, came) = sorted_diff(&old.forwards, &new.forwards);
    if !gone.is_empty() {
        changes.push(Change::DeleteElems {
            map: MAP_FORWARDS.into(),
            elems: gone.into_iter().map(forward_elem).collect(),
        });
    }
    if !came.is_empty() {
        changes.push(Change::AddElems {
            map: MAP_FORWARDS.into(),
            elems: came.into_iter().map(forward_elem).collect(),
        });
    }
    let (gone, came) = sorted_diff(&old.nats, &new.nats);
    for (map, inbound) in [(MAP_NAT_IN, true), (MAP_NAT_OUT, false)] {
        let elem = |n: &&crate::resolve::NatPair| {
            if inbound { addr_elem(n.public, n.guest) } else { addr_elem(n.guest, n.public) }
        };
        if !gone.is_empty() {
            changes.push(Change::DeleteElems { map: map.into(), elems: gone.iter().map(elem).collect() });
        }
        if !came.is_empty() {
            changes.push(Change::AddElems { map: map.into(), elems: came.iter().map(elem).collect() });
        }
    }
    Some(Plan { generation, changes })
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;
    use crate::config::Proto;
    use crate::resolve::ForwardElem;

    fn with_forwards(ports: &[u16]) -> Resolved {
        let forwards = ports
            .iter()
            .map(|&port| ForwardElem {
                public: Ipv4Addr::new(192, 168, 1, 201),
                proto: Proto::Tcp,
                port,
                guest: Ipv4Addr::new(192, 168, 122, 41),
                guest_port: port,
            })
            .collect();
        Resolved { forwards, ..Resolved::default() }
    }

    #[test]
    fn a_delta_changes_only_map_elements() {
        let plan = plan_delta(&with_forwards(&[80, 443]), &with_forwards(&[80, 8443]), 7).unwrap();
        assert_eq!(plan.generation, 7);
        assert_eq!(plan.line_count(), 2, "{plan}");
        assert!(
            plan.changes.iter().all(|c| matches!(c, Change::AddElems { .. } | Change::DeleteElems { .. }))
        );
    }

    #[test]
    fn the_first_forward_or_the_last_one_gone_needs_the_full_plan_for_the_holes() {
        // Holes exist only while something needs forwarding: elements alone would leave them
        // missing (first forward) or behind (last forward removed).
        assert!(plan_delta(&with_forwards(&[]), &with_forwards(&[80]), 1).is_none());
        assert!(plan_delta(&with_forwards(&[80]), &with_forwards(&[]), 1).is_none());
        assert!(plan_delta(&with_forwards(&[]), &with_forwards(&[]), 1).is_some());
    }
}

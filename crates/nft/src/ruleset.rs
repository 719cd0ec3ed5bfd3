//! A consistent snapshot of a family's ruleset (read between two equal generations), and writing
//! one back.

use crate::chain::Chain;
use crate::error::Error;
use crate::family::Family;
use crate::rule::Rule;
use crate::set::{ElemList, Set};
use crate::sock::Socket;
use crate::table::Table;
use crate::txn::{Position, Transaction};

const SNAPSHOT_ATTEMPTS: u32 = 20;

/// Everything in the ruleset of one family (or all), as of `generation`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ruleset {
    /// The generation all of this was read at.
    pub generation: u32,
    /// Tables.
    pub tables: Vec<Table>,
    /// Chains, of all tables.
    pub chains: Vec<Chain>,
    /// Sets and maps, of all tables.
    pub sets: Vec<Set>,
    /// The elements of each set, in the order of `sets`.
    pub elems: Vec<ElemList>,
    /// Rules, of all chains, each chain's in order.
    pub rules: Vec<Rule>,
}

impl Ruleset {
    /// Reads the ruleset of `family` ([`Family::Unspec`] for all) from `sock`. The generation is
    /// read before and after; if a commit happened in between, it is read again.
    pub fn read(sock: &mut Socket, family: Family) -> Result<Ruleset, Error> {
        for _ in 0..SNAPSHOT_ATTEMPTS {
            let generation = sock.generation()?;
            let tables = sock.tables(family)?;
            let chains = sock.chains(family, None)?;
            let sets = sock.sets(family, None)?;
            let mut elems = Vec::with_capacity(sets.len());
            for s in &sets {
                elems.push(ElemList {
                    family: s.family,
                    table: s.table.clone(),
                    set: s.name.clone(),
                    elems: sock.elems(s.family, &s.table, &s.name)?,
                });
            }
            let rules = sock.rules(family, None, None)?;
            if sock.generation()? == generation {
                return Ok(Ruleset { generation, tables, chains, sets, elems, rules });
            }
        }
        Err(Error::Unstable { what: "read ruleset", attempts: SNAPSHOT_ATTEMPTS })
    }

    /// Adds everything to `txn`: tables, chains, sets with their elements, then rules in order.
    /// Loaded into an empty namespace, this recreates the ruleset (handles aside).
    pub fn restore_into(&self, txn: &mut Transaction) {
        for t in &self.tables {
            txn.add_table(t);
        }
        for c in &self.chains {
            txn.add_chain(c);
        }
        for (s, e) in self.sets.iter().zip(&self.elems) {
            txn.add_set(s);
            if !e.elems.is_empty() {
                txn.add_elems(e.family, &e.table, &e.set, &e.elems);
            }
        }
        for r in &self.rules {
            txn.add_rule(r, Position::Append);
        }
    }

    /// The rules of one chain, in order.
    pub fn chain_rules<'a>(
        &'a self,
        family: Family,
        table: &'a str,
        chain: &'a str,
    ) -> impl Iterator<Item = &'a Rule> {
        self.rules.iter().filter(move |r| r.family == family && r.table == table && r.chain == chain)
    }

    /// A table by family and name.
    pub fn table(&self, family: Family, name: &str) -> Option<&Table> {
        self.tables.iter().find(|t| t.family == family && t.name == name)
    }

    /// A chain by family, table and name.
    pub fn chain(&self, family: Family, table: &str, name: &str) -> Option<&Chain> {
        self.chains.iter().find(|c| c.family == family && c.table == table && c.name == name)
    }
}

//! The path of a DNAT'ed connection through the forward hook: which base chains would reject or
//! drop it, where, and so where natkeeper needs a hole.
//!
//! Every base chain on a hook must let a packet through: an `accept` ends only its own base chain,
//! a `drop` or `reject` is final. So each forward-hook base chain of the `ip` and `inet` families is
//! walked on its own, rule by rule, following `jump` and `goto` (also through verdict maps) into
//! the chains of its table:
//!
//! * a rule that ends in `drop`, `reject` or iptables' `REJECT`/`DROP` target *blocks*; so does a
//!   rule that jumps or goes to a chain in which one does (the first such rule of each chain, with
//!   the trace down to the rule that rejects, is reported);
//! * rule matches are not evaluated (which packets a rule matches depends on traffic), with two
//!   exceptions: a rule without matches, and `ct status dnat`, which every connection natkeeper
//!   forwards carries. An unconditional (or `ct status dnat`) `accept` ends the walk — DNAT'ed
//!   connections are accepted there, nothing after it is reached — and an unconditional `drop`,
//!   `reject`, `return` or `goto` ends its chain;
//! * reaching the end of a base chain whose policy is drop blocks too;
//! * natkeeper's own holes (comment starting with [`crate::names::HOLE_TAG`]) are skipped: the walk describes what
//!   the others do. Cycles (which the kernel refuses to load anyway) are cut.
//!
//! A blocking base chain gets a hole: at the head of iptables' `ip filter FORWARD` (before its first
//! blocking rule), in libvirt's `ip libvirt_network guest_input` (before its first blocking rule) when
//! the trace passes through it, and otherwise it is a [`HolePlace::Foreign`] chain natkeeper does
//! not put holes in.

use std::collections::HashMap;
use std::fmt;

use natkeeper_nft::expr::{BitwiseOp, CmpOp, Ct, CtKey, Register};
use natkeeper_nft::{Data, Expr, Family, HookNum, Policy, Rule, Ruleset, Verdict};
use serde::Serialize;

use super::chains::{BaseChain, ChainRef, RuleRef};
use super::libvirt::LIBVIRT_TABLE;
use crate::names::TABLE as OWN_TABLE;

// include/uapi/linux/netfilter/nf_conntrack_common.h
const IPS_DST_NAT: u32 = 1 << 5;
/// iptables' tables live in the `ip` family; FORWARD is its forward base chain in `filter`.
const IPTABLES_FILTER: &str = "filter";
const IPTABLES_FORWARD: &str = "FORWARD";
/// libvirt's nftables backend rejects new connections towards its bridges here.
const LIBVIRT_GUEST_INPUT: &str = "guest_input";

/// What a rule on a trace does.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// `jump CHAIN` (`-j CHAIN`).
    Jump(String),
    /// `goto CHAIN` (`-g CHAIN`).
    Goto(String),
    /// `accept`.
    Accept,
    /// `drop`.
    Drop,
    /// nft's `reject`.
    Reject,
    /// An iptables target that stops the packet (`REJECT`), run by the kernel's xt compat layer.
    Target(String),
    /// `return`.
    Return,
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Action::Jump(c) => write!(f, "jump {c}"),
            Action::Goto(c) => write!(f, "goto {c}"),
            Action::Accept => f.write_str("accept"),
            Action::Drop => f.write_str("drop"),
            Action::Reject => f.write_str("reject"),
            Action::Target(t) => write!(f, "-j {t}"),
            Action::Return => f.write_str("return"),
        }
    }
}

/// One rule on a trace: where it is and what it does.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Step {
    /// The chain it is in (same table as the base chain).
    pub chain: String,
    /// The rule.
    #[serde(flatten)]
    pub rule: RuleRef,
    /// The verdict map the action came from (`oifname vmap @m`), when it did.
    pub map: Option<String>,
    /// What it does.
    pub action: Action,
}

impl fmt::Display for Step {
    /// `FORWARD #2 (handle 7): jump LIBVIRT_FWI`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: ", self.chain, self.rule)?;
        if let Some(m) = &self.map {
            write!(f, "vmap @{m} → ")?;
        }
        write!(f, "{}", self.action)
    }
}

/// Rules from a base chain's rule down to the one that decides (each a jump or goto into the next).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Trace(pub Vec<Step>);

impl Trace {
    /// The rule of the base chain the trace starts at.
    pub fn first(&self) -> Option<&Step> {
        self.0.first()
    }

    /// The rule that decides (rejects, drops or accepts).
    pub fn last(&self) -> Option<&Step> {
        self.0.last()
    }

    fn prepend(step: Step, rest: &Trace) -> Trace {
        let mut steps = Vec::with_capacity(rest.0.len() + 1);
        steps.push(step);
        steps.extend(rest.0.iter().cloned());
        Trace(steps)
    }
}

impl fmt::Display for Trace {
    /// `FORWARD #2 (handle 7): jump LIBVIRT_FWI → LIBVIRT_FWI #2 (handle 12): -j REJECT`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, s) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" → ")?;
            }
            write!(f, "{s}")?;
        }
        Ok(())
    }
}

/// A forward-hook base chain and what it does to a DNAT'ed connection towards a guest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ForwardChain {
    /// The base chain.
    #[serde(flatten)]
    pub base: BaseChain,
    /// Its first rule that rejects or drops, or leads to a chain that does, with the trace.
    pub blocker: Option<Trace>,
    /// Where every DNAT'ed connection is accepted, ending the walk (`ct status dnat accept`).
    pub accepted: Option<Trace>,
    /// True when a DNAT'ed connection can reach the end of the chain and its policy is drop.
    pub policy_drops: bool,
}

impl ForwardChain {
    /// True when this chain would stop (some) DNAT'ed connections: it needs a hole.
    pub fn blocks(&self) -> bool {
        self.blocker.is_some() || self.policy_drops
    }
}

/// Where a hole goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HolePlace {
    /// iptables' `ip filter FORWARD` (iptables-nft: libvirt's iptables backend, Docker, plain
    /// iptables): the hole is an iptables-nft-encoded rule before the first blocking one.
    IptablesForward,
    /// libvirt's nftables backend, `ip libvirt_network guest_input`: before its `reject`.
    LibvirtGuestInput,
    /// Some other chain (firewalld, a hand-written table): natkeeper does not put holes there; the
    /// administrator has to accept the connections in it.
    Foreign,
}

/// A chain that needs a hole, and where in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HoleNeeded {
    /// What kind of place.
    pub place: HolePlace,
    /// The chain the hole goes in.
    pub chain: ChainRef,
    /// The hole must come before this rule: the chain's first rule that rejects or drops, or leads to
    /// a chain that does. `None` when only the base chain's policy drops (anywhere will do; the head
    /// is safest).
    pub before: Option<RuleRef>,
    /// The base chain that blocks (the same as `chain`, except for libvirt's `guest_input`).
    pub blocked_by: ChainRef,
    /// natkeeper's holes already in `chain` ahead of `before` (empty: no effective hole yet).
    pub present: Vec<RuleRef>,
    /// natkeeper's holes in `chain` after `before`: buried below the rule that rejects, so useless.
    pub below: Vec<RuleRef>,
}

/// Walks every forward-hook base chain of the `ip` and `inet` families (natkeeper's own table aside),
/// in the order the kernel runs them (by priority).
pub(super) fn forward_chains(ruleset: &Ruleset) -> Vec<ForwardChain> {
    let mut bases: Vec<BaseChain> = ruleset
        .chains
        .iter()
        .filter(|c| matches!(c.family, Family::Ip | Family::Inet) && c.table != OWN_TABLE)
        .filter_map(BaseChain::of)
        .filter(|b| b.hook == HookNum::Forward)
        .collect();
    bases.sort_by(|a, b| (a.priority, &a.chain).cmp(&(b.priority, &b.chain)));
    let mut walkers: HashMap<(Family, String), Walker<'_>> = HashMap::new();
    bases
        .into_iter()
        .map(|base| {
            let key = (base.chain.family, base.chain.table.clone());
            let walker = walkers
                .entry(key)
                .or_insert_with(|| Walker::new(ruleset, base.chain.family, &base.chain.table));
            let summary = walker.summary(&base.chain.chain);
            let (accepted, falls_through) = match summary.end {
                End::Accepted(t) => (Some(t), false),
                End::Stopped => (None, false),
                End::FallsThrough => (None, true),
            };
            let policy_drops = falls_through && base.policy == Some(Policy::Drop);
            ForwardChain { base, blocker: summary.block, accepted, policy_drops }
        })
        .collect()
}

/// The holes the blocking chains need.
pub(super) fn holes(ruleset: &Ruleset, forward: &[ForwardChain]) -> Vec<HoleNeeded> {
    forward
        .iter()
        .filter(|fc| fc.blocks())
        .map(|fc| {
            let base = &fc.base.chain;
            let first = fc.blocker.as_ref().and_then(Trace::first).map(|s| s.rule);
            let in_guest_input = fc
                .blocker
                .as_ref()
                .and_then(|t| t.0.iter().find(|s| s.chain == LIBVIRT_GUEST_INPUT))
                .map(|s| s.rule);
            let (place, chain, before) = match (base.family, base.table.as_str(), base.chain.as_str()) {
                (Family::Ip, IPTABLES_FILTER, IPTABLES_FORWARD) => {
                    (HolePlace::IptablesForward, base.clone(), first)
                }
                (Family::Ip, LIBVIRT_TABLE, _) if in_guest_input.is_some() => (
                    HolePlace::LibvirtGuestInput,
                    ChainRef::new(Family::Ip, LIBVIRT_TABLE, LIBVIRT_GUEST_INPUT),
                    in_guest_input,
                ),
                _ => (HolePlace::Foreign, base.clone(), first),
            };
            let (present, below) = ruleset
                .chain_rules(chain.family, &chain.table, &chain.chain)
                .enumerate()
                .filter(|(_, r)| crate::holes::is_hole(r))
                .map(|(i, r)| RuleRef { position: i + 1, handle: r.handle })
                .partition(|r| before.is_none_or(|b| r.position < b.position));
            HoleNeeded { place, chain, before, blocked_by: base.clone(), present, below }
        })
        .collect()
}

/// How a chain ends for DNAT'ed connections that get past its conditional rules.
#[derive(Debug, Clone)]
enum End {
    /// They reach its end (or an unconditional `return`): back to the caller, or the policy.
    FallsThrough,
    /// They are accepted (the whole base chain ends).
    Accepted(Trace),
    /// They are dropped or rejected.
    Stopped,
}

/// What a chain does to DNAT'ed connections.
#[derive(Debug, Clone)]
struct Summary {
    /// Its first rule that blocks, with the trace.
    block: Option<Trace>,
    /// How it ends.
    end: End,
}

/// Whether a rule's matches let every DNAT'ed connection through to its action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Guard {
    /// No match, or only `ct status dnat`.
    Always,
    /// Anything else.
    Sometimes,
}

/// Walks the chains of one table, remembering each chain's summary.
struct Walker<'a> {
    ruleset: &'a Ruleset,
    family: Family,
    table: String,
    memo: HashMap<String, Summary>,
    stack: Vec<String>,
}

impl<'a> Walker<'a> {
    fn new(ruleset: &'a Ruleset, family: Family, table: &str) -> Walker<'a> {
        Walker { ruleset, family, table: table.to_string(), memo: HashMap::new(), stack: Vec::new() }
    }

    fn summary(&mut self, chain: &str) -> Summary {
        if let Some(s) = self.memo.get(chain) {
            return s.clone();
        }
        if self.stack.iter().any(|c| c == chain) {
            // A cycle: the chain is being walked further up; it adds nothing here.
            return Summary { block: None, end: End::FallsThrough };
        }
        self.stack.push(chain.to_string());
        let summary = self.walk(chain);
        self.stack.pop();
        self.memo.insert(chain.to_string(), summary.clone());
        summary
    }

    fn walk(&mut self, chain: &str) -> Summary {
        let ruleset = self.ruleset;
        let table = self.table.clone();
        let mut block: Option<Trace> = None;
        for (i, rule) in ruleset.chain_rules(self.family, &table, chain).enumerate() {
            if crate::holes::is_hole(rule) {
                continue;
            }
            let guard = guard(rule);
            for (action, map) in self.actions(rule) {
                let always = guard == Guard::Always && map.is_none();
                let step = Step {
                    chain: chain.to_string(),
                    rule: RuleRef { position: i + 1, handle: rule.handle },
                    map,
                    action: action.clone(),
                };
                match &action {
                    Action::Drop | Action::Reject | Action::Target(_) => {
                        if block.is_none() {
                            block = Some(Trace(vec![step]));
                        }
                        if always {
                            return Summary { block, end: End::Stopped };
                        }
                    }
                    Action::Accept if always => {
                        return Summary { block, end: End::Accepted(Trace(vec![step])) };
                    }
                    Action::Return if always => return Summary { block, end: End::FallsThrough },
                    Action::Accept | Action::Return => {}
                    Action::Jump(target) | Action::Goto(target) => {
                        let sub = self.summary(target);
                        if let (None, Some(t)) = (&block, &sub.block) {
                            block = Some(Trace::prepend(step.clone(), t));
                        }
                        if always {
                            match sub.end {
                                End::Accepted(t) => {
                                    return Summary { block, end: End::Accepted(Trace::prepend(step, &t)) };
                                }
                                End::Stopped => return Summary { block, end: End::Stopped },
                                // After a goto, nothing of this chain runs: back to our caller.
                                End::FallsThrough if matches!(action, Action::Goto(_)) => {
                                    return Summary { block, end: End::FallsThrough };
                                }
                                End::FallsThrough => {}
                            }
                        }
                    }
                }
            }
        }
        Summary { block, end: End::FallsThrough }
    }

    /// What the rule does (its last expression), each with the verdict map it came from; a verdict
    /// map gives every distinct verdict of its elements.
    fn actions(&self, rule: &Rule) -> Vec<(Action, Option<String>)> {
        match rule.exprs.last() {
            Some(Expr::Immediate(i)) if i.dreg == Register::VERDICT => match &i.data {
                Data::Verdict(v) => action(v).map(|a| (a, None)).into_iter().collect(),
                Data::Value(_) => Vec::new(),
            },
            Some(Expr::Reject(_)) => vec![(Action::Reject, None)],
            Some(Expr::Target(x)) if x.name == "REJECT" || x.name == "DROP" => {
                vec![(Action::Target(x.name.clone()), None)]
            }
            Some(Expr::Lookup(l)) if l.dreg == Some(Register::VERDICT) => {
                let mut out: Vec<(Action, Option<String>)> = Vec::new();
                let elems = self
                    .ruleset
                    .elems
                    .iter()
                    .filter(|e| e.family == self.family && e.table == self.table && e.set == l.set)
                    .flat_map(|e| e.elems.iter());
                for elem in elems {
                    if let Some(a) = elem.data.as_ref().and_then(|d| match d {
                        Data::Verdict(v) => action(v),
                        Data::Value(_) => None,
                    }) {
                        let entry = (a, Some(l.set.clone()));
                        if !out.contains(&entry) {
                            out.push(entry);
                        }
                    }
                }
                out
            }
            _ => Vec::new(),
        }
    }
}

fn action(v: &Verdict) -> Option<Action> {
    match v {
        Verdict::Accept => Some(Action::Accept),
        Verdict::Drop => Some(Action::Drop),
        Verdict::Return => Some(Action::Return),
        Verdict::Jump(c) => Some(Action::Jump(c.clone())),
        Verdict::Goto(c) => Some(Action::Goto(c.clone())),
        Verdict::Queue | Verdict::Continue | Verdict::Break | Verdict::Other(_) => None,
    }
}

/// The matches of a rule are every expression but its last (the action); counters and log
/// statements match everything.
fn guard(rule: &Rule) -> Guard {
    let Some((_, matches)) = rule.exprs.split_last() else {
        return Guard::Sometimes;
    };
    let matches: Vec<&Expr> =
        matches.iter().filter(|e| !matches!(e, Expr::Counter(_) | Expr::Log(_))).collect();
    if matches.is_empty() || is_ct_status_dnat(&matches) { Guard::Always } else { Guard::Sometimes }
}

/// `ct status dnat` as nft writes it: load the status, mask `IPS_DST_NAT`, compare with zero (`!=`)
/// or with the mask (`==`).
fn is_ct_status_dnat(matches: &[&Expr]) -> bool {
    let [Expr::Ct(Ct::Load { key: CtKey::Status, dreg, .. }), Expr::Bitwise(bw), Expr::Cmp(cmp)] = matches
    else {
        return false;
    };
    let BitwiseOp::Bool { mask, xor } = &bw.op else {
        return false;
    };
    let dnat = IPS_DST_NAT.to_ne_bytes();
    bw.sreg == *dreg
        && cmp.sreg == bw.dreg
        && mask.as_slice() == dnat
        && xor.iter().all(|&b| b == 0)
        && match cmp.op {
            CmpOp::Neq => cmp.data.len() == dnat.len() && cmp.data.iter().all(|&b| b == 0),
            CmpOp::Eq => cmp.data.as_slice() == dnat,
            _ => false,
        }
}

#[cfg(test)]
mod tests {
    use natkeeper_nft::expr::{Bitwise, Cmp, Counter, Lookup, Meta, MetaKey, Reject, Xt};
    use natkeeper_nft::{Chain, ElemList, Set, SetElem, Table};

    use super::*;

    const FILTER: &str = "filter";

    fn base(family: Family, table: &str, name: &str, policy: Policy) -> Chain {
        Chain::base(family, table, name, "filter", HookNum::Forward, 0, policy)
    }

    /// A rule with handle `handle` (handles are unique per table, as in the kernel).
    fn rule(table: &str, chain: &str, handle: u64, exprs: Vec<Expr>) -> Rule {
        let mut r = Rule::new(Family::Ip, table, chain);
        r.exprs = exprs;
        r.handle = Some(handle);
        r
    }

    fn ruleset(chains: Vec<Chain>, rules: Vec<Rule>) -> Ruleset {
        let mut tables: Vec<Table> = Vec::new();
        for c in &chains {
            if !tables.iter().any(|t| t.family == c.family && t.name == c.table) {
                tables.push(Table::new(c.family, c.table.clone()));
            }
        }
        Ruleset { generation: 1, tables, chains, sets: Vec::new(), elems: Vec::new(), rules }
    }

    fn oifname(name: &str) -> Vec<Expr> {
        let mut data = name.as_bytes().to_vec();
        data.push(0);
        vec![Meta::load(MetaKey::OifName).into(), Cmp::eq(data).into()]
    }

    fn then(mut matches: Vec<Expr>, last: impl Into<Expr>) -> Vec<Expr> {
        matches.push(Counter::default().into());
        matches.push(last.into());
        matches
    }

    fn verdict(v: Verdict) -> Expr {
        Expr::verdict(v)
    }

    fn jump(c: &str) -> Expr {
        verdict(Verdict::Jump(c.into()))
    }

    fn reject() -> Expr {
        Expr::Reject(Reject { kind: 0, icmp_code: Some(3) })
    }

    /// `ct status dnat` as nft 1.0.6 writes it.
    fn ct_status_dnat() -> Vec<Expr> {
        vec![
            Ct::load(CtKey::Status).into(),
            Bitwise::mask(0x20u32.to_ne_bytes()).into(),
            Cmp::neq([0u8; 4]).into(),
        ]
    }

    fn step(chain: &str, position: usize, handle: u64, action: Action) -> Step {
        Step { chain: chain.into(), rule: RuleRef { position, handle: Some(handle) }, map: None, action }
    }

    fn only(rs: &Ruleset) -> ForwardChain {
        let mut fcs = forward_chains(rs);
        assert_eq!(fcs.len(), 1, "{fcs:?}");
        fcs.remove(0)
    }

    #[test]
    fn a_reject_behind_two_jumps_blocks_at_the_first_jump() {
        let rs = ruleset(
            vec![
                base(Family::Ip, FILTER, "FORWARD", Policy::Accept),
                Chain::regular(Family::Ip, FILTER, "A"),
                Chain::regular(Family::Ip, FILTER, "B"),
            ],
            vec![
                rule(FILTER, "FORWARD", 10, then(oifname("eth1"), verdict(Verdict::Accept))),
                rule(FILTER, "FORWARD", 11, then(vec![], jump("A"))),
                rule(FILTER, "A", 20, then(oifname("x"), jump("B"))),
                rule(FILTER, "B", 30, then(oifname("virbr0"), reject())),
            ],
        );
        let fc = only(&rs);
        assert_eq!(
            fc.blocker,
            Some(Trace(vec![
                step("FORWARD", 2, 11, Action::Jump("A".into())),
                step("A", 1, 20, Action::Jump("B".into())),
                step("B", 1, 30, Action::Reject),
            ]))
        );
        assert_eq!(fc.accepted, None);
        assert!(!fc.policy_drops);
        assert!(fc.blocks());
        assert_eq!(
            fc.blocker.as_ref().map(|t| t.to_string()).as_deref(),
            Some("FORWARD #2 (handle 11): jump A → A #1 (handle 20): jump B → B #1 (handle 30): reject")
        );
        let holes = holes(&rs, &[fc]);
        assert_eq!(
            holes,
            [HoleNeeded {
                place: HolePlace::IptablesForward,
                chain: ChainRef::new(Family::Ip, FILTER, "FORWARD"),
                before: Some(RuleRef { position: 2, handle: Some(11) }),
                blocked_by: ChainRef::new(Family::Ip, FILTER, "FORWARD"),
                present: vec![],
                below: vec![],
            }]
        );
    }

    #[test]
    fn jump_cycles_do_not_loop_and_what_lies_behind_them_is_still_found() {
        // A → B → A, and C jumps to itself: the kernel refuses such loops, the walk must not hang.
        let chains = vec![
            base(Family::Ip, FILTER, "FORWARD", Policy::Accept),
            Chain::regular(Family::Ip, FILTER, "A"),
            Chain::regular(Family::Ip, FILTER, "B"),
            Chain::regular(Family::Ip, FILTER, "C"),
        ];
        let mut rules = vec![
            rule(FILTER, "FORWARD", 1, then(vec![], jump("A"))),
            rule(FILTER, "FORWARD", 2, then(vec![], jump("C"))),
            rule(FILTER, "A", 3, then(oifname("a"), jump("B"))),
            rule(FILTER, "B", 4, then(oifname("b"), jump("A"))),
            rule(FILTER, "C", 5, then(oifname("c"), jump("C"))),
        ];
        let fc = only(&ruleset(chains.clone(), rules.clone()));
        assert_eq!(fc.blocker, None);
        assert!(!fc.blocks());

        rules.push(rule(FILTER, "B", 6, then(oifname("virbr0"), verdict(Verdict::Drop))));
        let fc = only(&ruleset(chains, rules));
        assert_eq!(
            fc.blocker,
            Some(Trace(vec![
                step("FORWARD", 1, 1, Action::Jump("A".into())),
                step("A", 1, 3, Action::Jump("B".into())),
                step("B", 2, 6, Action::Drop),
            ]))
        );
    }

    #[test]
    fn goto_leads_to_a_block_and_an_unconditional_goto_ends_the_chain() {
        let chains = vec![
            base(Family::Ip, FILTER, "FORWARD", Policy::Drop),
            Chain::regular(Family::Ip, FILTER, "G"),
            Chain::regular(Family::Ip, FILTER, "R"),
        ];
        // Conditional goto to a chain that rejects.
        let rs = ruleset(
            chains.clone(),
            vec![
                rule(FILTER, "FORWARD", 1, then(oifname("virbr0"), verdict(Verdict::Goto("R".into())))),
                rule(FILTER, "R", 2, then(vec![], Expr::Target(Xt::new("REJECT", 0, vec![0; 8])))),
            ],
        );
        let fc = only(&rs);
        assert_eq!(
            fc.blocker,
            Some(Trace(vec![
                step("FORWARD", 1, 1, Action::Goto("R".into())),
                step("R", 1, 2, Action::Target("REJECT".into())),
            ]))
        );
        assert!(fc.policy_drops, "a conditional goto lets the others reach the policy");

        // Unconditional goto to a chain that lets everything through: the rest of FORWARD is never
        // reached, and a return from G ends the base chain at its policy.
        let rs = ruleset(
            chains,
            vec![
                rule(FILTER, "FORWARD", 1, then(vec![], verdict(Verdict::Goto("G".into())))),
                rule(FILTER, "FORWARD", 3, then(vec![], reject())),
                rule(FILTER, "G", 2, then(oifname("x"), verdict(Verdict::Accept))),
            ],
        );
        let fc = only(&rs);
        assert_eq!(fc.blocker, None);
        assert!(fc.policy_drops);
        assert_eq!(holes(&rs, &[fc])[0].before, None);
    }

    #[test]
    fn ct_status_dnat_accept_ends_the_walk_before_a_reject_and_the_policy() {
        let chains = vec![base(Family::Inet, "firewalld", "filter_FORWARD", Policy::Drop)];
        let mut est = vec![Expr::from(Ct::load(CtKey::State)), Bitwise::mask(6u32.to_ne_bytes()).into()];
        est.push(Cmp::neq([0u8; 4]).into());
        let r = |handle, exprs| {
            let mut r = rule("firewalld", "filter_FORWARD", handle, exprs);
            r.family = Family::Inet;
            r
        };
        let rules = vec![
            r(1, then(est, verdict(Verdict::Accept))),
            r(2, then(ct_status_dnat(), verdict(Verdict::Accept))),
            r(3, then(vec![], reject())),
        ];
        let rs = ruleset(chains, rules);
        let fc = only(&rs);
        assert_eq!(fc.blocker, None);
        assert_eq!(fc.accepted, Some(Trace(vec![step("filter_FORWARD", 2, 2, Action::Accept)])));
        assert!(!fc.policy_drops);
        assert!(holes(&rs, &[fc]).is_empty());
    }

    #[test]
    fn unconditional_verdicts_end_their_chain() {
        let chains = vec![
            base(Family::Ip, FILTER, "FORWARD", Policy::Drop),
            Chain::regular(Family::Ip, FILTER, "DOCKER-USER"),
            Chain::regular(Family::Ip, FILTER, "X"),
        ];
        // `-A DOCKER-USER -j RETURN` hides what follows it; an unconditional drop stops everything.
        let rs = ruleset(
            chains.clone(),
            vec![
                rule(FILTER, "FORWARD", 1, then(vec![], jump("DOCKER-USER"))),
                rule(FILTER, "FORWARD", 2, then(vec![], verdict(Verdict::Drop))),
                rule(FILTER, "FORWARD", 3, then(vec![], jump("X"))),
                rule(FILTER, "DOCKER-USER", 4, then(vec![], verdict(Verdict::Return))),
                rule(FILTER, "DOCKER-USER", 5, then(vec![], reject())),
                rule(FILTER, "X", 6, then(vec![], reject())),
            ],
        );
        let fc = only(&rs);
        assert_eq!(fc.blocker, Some(Trace(vec![step("FORWARD", 2, 2, Action::Drop)])));
        assert!(!fc.policy_drops, "nothing reaches the policy after an unconditional drop");

        // An unconditional accept in a jumped-to chain accepts for the whole base chain.
        let rs = ruleset(
            chains,
            vec![
                rule(FILTER, "FORWARD", 1, then(vec![], jump("X"))),
                rule(FILTER, "FORWARD", 2, then(vec![], reject())),
                rule(FILTER, "X", 3, vec![verdict(Verdict::Accept)]),
            ],
        );
        let fc = only(&rs);
        assert_eq!(fc.blocker, None);
        assert_eq!(
            fc.accepted,
            Some(Trace(vec![
                step("FORWARD", 1, 1, Action::Jump("X".into())),
                step("X", 1, 3, Action::Accept)
            ]))
        );
    }

    #[test]
    fn verdict_maps_are_followed() {
        let mut rs = ruleset(
            vec![
                base(Family::Ip, "docker-bridges", "filter-FORWARD", Policy::Accept),
                Chain::regular(Family::Ip, "docker-bridges", "filter-forward-in__docker0"),
            ],
            vec![
                rule(
                    "docker-bridges",
                    "filter-FORWARD",
                    1,
                    vec![
                        Meta::load(MetaKey::OifName).into(),
                        Expr::Lookup(Lookup::map("filter-forward-in-jumps", Register::R1, Register::VERDICT)),
                    ],
                ),
                rule("docker-bridges", "filter-forward-in__docker0", 2, then(vec![], verdict(Verdict::Drop))),
            ],
        );
        rs.sets.push(Set::new(Family::Ip, "docker-bridges", "filter-forward-in-jumps", 41, 16));
        let elem = |name: &str, v: Verdict| SetElem::mapping(name.as_bytes().to_vec(), Data::Verdict(v));
        rs.elems.push(ElemList {
            family: Family::Ip,
            table: "docker-bridges".into(),
            set: "filter-forward-in-jumps".into(),
            elems: vec![
                elem("lo", Verdict::Accept),
                elem("docker0", Verdict::Jump("filter-forward-in__docker0".into())),
                elem("docker1", Verdict::Jump("filter-forward-in__docker0".into())),
            ],
        });
        let fc = only(&rs);
        let mut first = step("filter-FORWARD", 1, 1, Action::Jump("filter-forward-in__docker0".into()));
        first.map = Some("filter-forward-in-jumps".into());
        assert_eq!(
            fc.blocker,
            Some(Trace(vec![first, step("filter-forward-in__docker0", 1, 2, Action::Drop)]))
        );
        assert_eq!(fc.accepted, None, "a map's accept is conditional");
        assert_eq!(holes(&rs, &[fc])[0].place, HolePlace::Foreign);
    }

    #[test]
    fn natkeepers_holes_are_skipped_and_reported_where_they_stand() {
        let xt_comment = |text: &str| {
            let mut info = text.as_bytes().to_vec();
            info.resize(256, 0);
            Expr::Match(Xt::new("comment", 0, info))
        };
        // An unconditional accept tagged as ours would end the walk if it were not skipped.
        let ours_native =
            Rule { userdata: None, ..rule(FILTER, "FORWARD", 1, vec![verdict(Verdict::Accept)]) }
                .with_comment("natkeeper: virbr0 in");
        let ours_xt = rule(
            FILTER,
            "FORWARD",
            2,
            then(vec![xt_comment("natkeeper: virbr0 out")], verdict(Verdict::Accept)),
        );
        let theirs_xt =
            rule(FILTER, "FORWARD", 5, then(vec![xt_comment("somebody else")], verdict(Verdict::Accept)));
        let rs = ruleset(
            vec![
                base(Family::Ip, FILTER, "FORWARD", Policy::Accept),
                Chain::regular(Family::Ip, FILTER, "LIBVIRT_FWI"),
            ],
            vec![
                ours_native,
                ours_xt,
                rule(FILTER, "FORWARD", 3, then(vec![], jump("LIBVIRT_FWI"))),
                rule(
                    FILTER,
                    "FORWARD",
                    4,
                    then(vec![xt_comment("natkeeper: buried")], verdict(Verdict::Accept)),
                ),
                theirs_xt,
                rule(FILTER, "LIBVIRT_FWI", 6, then(oifname("virbr0"), reject())),
            ],
        );
        let fc = only(&rs);
        assert_eq!(
            fc.blocker.as_ref().and_then(Trace::first).map(|s| s.rule),
            Some(RuleRef { position: 3, handle: Some(3) })
        );
        let h = &holes(&rs, &[fc])[0];
        assert_eq!(
            h.present,
            [RuleRef { position: 1, handle: Some(1) }, RuleRef { position: 2, handle: Some(2) }]
        );
        assert_eq!(h.below, [RuleRef { position: 4, handle: Some(4) }]);
    }

    #[test]
    fn libvirt_nftables_needs_its_hole_in_guest_input() {
        let t = LIBVIRT_TABLE;
        let rs = ruleset(
            vec![
                base(Family::Ip, t, "forward", Policy::Accept),
                Chain::regular(Family::Ip, t, "guest_cross"),
                Chain::regular(Family::Ip, t, "guest_input"),
                Chain::regular(Family::Ip, t, "guest_output"),
            ],
            vec![
                rule(t, "forward", 5, then(vec![], jump("guest_cross"))),
                rule(t, "forward", 6, then(vec![], jump("guest_input"))),
                rule(t, "forward", 7, then(vec![], jump("guest_output"))),
                rule(t, "guest_cross", 8, then(oifname("virbr0"), verdict(Verdict::Accept))),
                rule(t, "guest_input", 9, then(oifname("virbr0"), verdict(Verdict::Accept))),
                rule(t, "guest_input", 10, then(oifname("virbr0"), reject())),
                rule(t, "guest_output", 11, then(oifname("virbr0"), reject())),
            ],
        );
        let fc = only(&rs);
        let h = holes(&rs, &[fc]);
        assert_eq!(
            h,
            [HoleNeeded {
                place: HolePlace::LibvirtGuestInput,
                chain: ChainRef::new(Family::Ip, t, "guest_input"),
                before: Some(RuleRef { position: 2, handle: Some(10) }),
                blocked_by: ChainRef::new(Family::Ip, t, "forward"),
                present: vec![],
                below: vec![],
            }]
        );
    }

    #[test]
    fn only_ip_and_inet_forward_chains_of_others_are_walked_in_priority_order() {
        let mut late = base(Family::Inet, "late", "fwd", Policy::Accept);
        late.hook = Some(natkeeper_nft::Hook {
            num: HookNum::Forward,
            priority: 10,
            device: None,
            other: Vec::new(),
        });
        let mut early = base(Family::Ip, "early", "fwd", Policy::Accept);
        early.hook = Some(natkeeper_nft::Hook {
            num: HookNum::Forward,
            priority: -150,
            device: None,
            other: Vec::new(),
        });
        let rs = ruleset(
            vec![
                late,
                base(Family::Ip6, FILTER, "FORWARD", Policy::Drop),
                base(Family::Ip, OWN_TABLE, "forward", Policy::Drop),
                Chain::base(Family::Ip, FILTER, "INPUT", "filter", HookNum::Input, 0, Policy::Drop),
                early,
            ],
            vec![],
        );
        let names: Vec<String> = forward_chains(&rs).iter().map(|f| f.base.chain.to_string()).collect();
        assert_eq!(names, ["ip early fwd", "inet late fwd"]);
    }
}

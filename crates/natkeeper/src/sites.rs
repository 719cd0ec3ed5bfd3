//! Where natkeeper's DNATed connections would be rejected: the chains that need a hole.
//!
//! A site needs a hole when, walking from it through jumps and gotos, some rule drops or rejects,
//! or its base chain's policy is drop. The walk stops at cycles.

use std::collections::BTreeSet;

use natkeeper_nft::{Expr, Family, Policy, Rule, Ruleset, Verdict};

use crate::holes::{Site, SiteInfo, is_hole};

/// The sites in `ruleset` where a hole is needed, with the first blocking rule of each.
pub fn hole_sites(ruleset: &Ruleset) -> Vec<SiteInfo> {
    let mut out = Vec::new();
    for site in [Site::IptablesForward, Site::LibvirtGuestInput] {
        let (table, chain) = site.chain();
        let Some(c) = ruleset.chain(Family::Ip, table, chain) else { continue };
        let first_blocking = ruleset
            .chain_rules(Family::Ip, table, chain)
            .filter(|r| !is_hole(r))
            .find(|r| blocks(ruleset, table, r, &mut BTreeSet::new()))
            .and_then(|r| r.handle);
        if first_blocking.is_some() || c.policy == Some(Policy::Drop) {
            out.push(SiteInfo { site, first_blocking });
        }
    }
    out
}

/// True when `rule` drops or rejects, or jumps/goes to a chain that (transitively) does.
fn blocks(ruleset: &Ruleset, table: &str, rule: &Rule, seen: &mut BTreeSet<String>) -> bool {
    rule.exprs.iter().any(|e| match e {
        Expr::Reject(_) => true,
        Expr::Target(x) => x.name == "REJECT" || x.name == "DROP",
        Expr::Immediate(i) => match &i.data {
            natkeeper_nft::Data::Verdict(Verdict::Drop) => true,
            natkeeper_nft::Data::Verdict(Verdict::Jump(c) | Verdict::Goto(c)) => {
                seen.insert(c.clone())
                    && ruleset.chain_rules(Family::Ip, table, c).any(|r| blocks(ruleset, table, r, seen))
            }
            _ => false,
        },
        _ => false,
    })
}

//! Holes: the only rules natkeeper puts in chains it does not own. Each accepts the connections
//! natkeeper DNATed (they carry its conntrack mark), in both directions, ahead of whatever rejects
//! them there, and carries a comment starting with [`HOLE_TAG`].
//!
//! * In iptables' `ip filter FORWARD` (libvirt's iptables backend, Docker, plain iptables hosts) the
//!   hole is written exactly as iptables-nft 1.8.9 writes
//!   `-A FORWARD -o virbr0 -m connmark --mark 0x4e4b0000/0xffff0000 -m comment --comment "natkeeper: virbr0 in" -j ACCEPT`
//!   (and `-i virbr0 ... out` for the replies), so `iptables-save` and every iptables user keep working.
//! * In libvirt's nftables backend (`ip libvirt_network guest_input`) it is native:
//!   `oifname "virbr0" ct mark & 0xffff0000 == 0x4e4b0000 counter accept comment "natkeeper: virbr0 in"`
//!   (`oifname`, never `oif`: libvirt recreates the bridge with a new index).

use std::fmt;

use natkeeper_iptables::matches::{CommentMatch, MarkMatch};
use natkeeper_iptables::{IfaceMatch, Interface, Match, Table, Target};
use natkeeper_nft::expr::{Cmp, Counter, Meta, MetaKey};
use natkeeper_nft::{Expr, Family, Position, Rule, Ruleset, Transaction, Verdict};

use crate::desired::{ifname_bytes, is_ours};
use crate::names::{HOLE_TAG, MARK, MARK_MASK};

/// A chain where a hole can be needed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Site {
    /// `ip filter FORWARD`, owned by iptables-nft.
    IptablesForward,
    /// `ip libvirt_network guest_input`, libvirt's nftables backend.
    LibvirtGuestInput,
}

impl Site {
    /// `(table, chain)`.
    pub fn chain(self) -> (&'static str, &'static str) {
        match self {
            Site::IptablesForward => ("filter", "FORWARD"),
            Site::LibvirtGuestInput => ("libvirt_network", "guest_input"),
        }
    }
}

impl fmt::Display for Site {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (t, c) = self.chain();
        write!(f, "ip {t} {c}")
    }
}

/// A site where something rejects natkeeper's connections, as discovery found it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteInfo {
    /// The chain.
    pub site: Site,
    /// Handle of the first rule that rejects or drops (or jumps to a chain that does); `None` when
    /// only the chain's policy drops.
    pub first_blocking: Option<u64>,
}

/// Which way through the bridge a hole lets connections pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Direction {
    /// Towards the guests (`-o bridge`).
    In,
    /// From the guests: the replies (`-i bridge`).
    Out,
}

/// A hole natkeeper wants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hole {
    /// Where.
    pub site: Site,
    /// For which bridge.
    pub bridge: String,
    /// Which direction.
    pub direction: Direction,
    /// The rule, ready to insert.
    pub rule: Rule,
}

/// A hole that cannot be written (a bridge name iptables cannot express).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot write the hole for bridge `{bridge}`: {reason}")]
pub struct HoleError {
    /// The bridge.
    pub bridge: String,
    /// Why.
    pub reason: String,
}

impl Hole {
    /// The hole for `bridge` in `direction` at `site`.
    pub fn new(site: Site, bridge: &str, direction: Direction) -> Result<Hole, HoleError> {
        let comment = comment(bridge, direction);
        let err = |reason: String| HoleError { bridge: bridge.to_string(), reason };
        let rule = match site {
            Site::IptablesForward => {
                // The iptables rule, encoded by natkeeper-iptables exactly as iptables-nft 1.8.9
                // writes it (interface with its NUL, xt connmark rev 1, xt comment, counter, COMPAT).
                let iface = IfaceMatch {
                    iface: Interface::parse(bridge).map_err(|e| err(e.to_string()))?,
                    invert: false,
                };
                let mut r = natkeeper_iptables::Rule::new(Table::Filter, "FORWARD");
                match direction {
                    Direction::In => r.out_interface = Some(iface),
                    Direction::Out => r.in_interface = Some(iface),
                }
                r.matches = vec![
                    Match::Connmark(MarkMatch { mark: MARK, mask: MARK_MASK, invert: false }),
                    Match::Comment(CommentMatch { comment: comment.clone() }),
                ];
                r.target = Some(Target::Accept);
                natkeeper_iptables::encode(&r).map_err(|e| err(e.to_string()))?
            }
            Site::LibvirtGuestInput => {
                let (table, chain) = site.chain();
                let iface = match direction {
                    Direction::In => MetaKey::OifName,
                    Direction::Out => MetaKey::IifName,
                };
                let mut rule = Rule::new(Family::Ip, table, chain)
                    .with(Meta::load(iface))
                    .with(Cmp::eq(ifname_bytes(bridge)));
                rule.exprs.extend(is_ours());
                rule.with(Counter::default()).with(Expr::verdict(Verdict::Accept)).with_comment(&comment)
            }
        };
        Ok(Hole { site, bridge: bridge.to_string(), direction, rule })
    }

    /// Inserts the hole at the head of its chain.
    pub(crate) fn insert(&self, txn: &mut Transaction) {
        txn.add_rule(&self.rule, Position::Head);
    }
}

impl fmt::Display for Hole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let flag = match self.direction {
            Direction::In => "-o",
            Direction::Out => "-i",
        };
        let comment = comment(&self.bridge, self.direction);
        match self.site {
            Site::IptablesForward => write!(
                f,
                "{}: -A FORWARD {flag} {} -m connmark --mark {MARK:#x}/{MARK_MASK:#x} -m comment --comment \"{comment}\" -j ACCEPT",
                self.site, self.bridge
            ),
            Site::LibvirtGuestInput => {
                let key = match self.direction {
                    Direction::In => "oifname",
                    Direction::Out => "iifname",
                };
                write!(
                    f,
                    "{}: {key} \"{}\" ct mark & {MARK_MASK:#x} == {MARK:#x} counter accept comment \"{comment}\"",
                    self.site, self.bridge
                )
            }
        }
    }
}

/// A hole found in the kernel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HoleState {
    /// Where.
    pub site: Site,
    /// Its handle.
    pub handle: u64,
    /// Its comment.
    pub comment: String,
    /// Why it is being removed (plan output).
    pub reason: &'static str,
}

impl HoleState {
    pub(crate) fn delete(&self, txn: &mut Transaction) {
        let (table, chain) = self.site.chain();
        txn.delete_rule(Family::Ip, table, chain, self.handle);
    }
}

impl fmt::Display for HoleState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} handle {} \"{}\" ({})", self.site, self.handle, self.comment, self.reason)
    }
}

/// The comment that tags a hole.
pub fn comment(bridge: &str, direction: Direction) -> String {
    let d = match direction {
        Direction::In => "in",
        Direction::Out => "out",
    };
    format!("{HOLE_TAG}: {bridge} {d}")
}

/// The comment of a rule: its userdata comment, or the text of an xt `comment` match.
pub fn rule_comment(r: &Rule) -> Option<String> {
    r.comment().or_else(|| {
        r.exprs.iter().find_map(|e| match e {
            Expr::Match(x) if x.name == "comment" => {
                let end = x.info.iter().position(|&b| b == 0).unwrap_or(x.info.len());
                String::from_utf8(x.info[..end].to_vec()).ok()
            }
            _ => None,
        })
    })
}

/// True for a rule natkeeper placed (its comment starts with [`HOLE_TAG`]).
pub fn is_hole(r: &Rule) -> bool {
    rule_comment(r).is_some_and(|c| c.starts_with(HOLE_TAG))
}

/// Compares a wanted hole with a rule found in the kernel (counters and compat aside).
fn same_rule(want: &Rule, have: &Rule) -> bool {
    let strip = |r: &Rule| -> Vec<Expr> {
        r.exprs
            .iter()
            .map(|e| if let Expr::Counter(_) = e { Expr::Counter(Counter::default()) } else { e.clone() })
            .collect()
    };
    strip(want) == strip(have) && want.comment() == have.comment()
}

/// Plans the holes: `sites` are where something blocks natkeeper's connections, `bridges` the guest
/// bridges. Missing or misplaced holes are (re)inserted at the chain's head; duplicates and holes no
/// longer wanted are deleted.
pub fn plan_holes(
    sites: &[SiteInfo],
    bridges: &[String],
    have: &Ruleset,
    changes: &mut Vec<crate::plan::Change>,
) -> Result<(), HoleError> {
    use crate::plan::Change;
    for site in [Site::IptablesForward, Site::LibvirtGuestInput] {
        let info = sites.iter().find(|s| s.site == site);
        let (table, chain) = site.chain();
        let rules: Vec<&Rule> = have.chain_rules(Family::Ip, table, chain).collect();
        let blocking_at =
            info.and_then(|i| i.first_blocking).and_then(|h| rules.iter().position(|r| r.handle == Some(h)));
        let directions: &[Direction] = match site {
            Site::IptablesForward => &[Direction::In, Direction::Out],
            Site::LibvirtGuestInput => &[Direction::In],
        };
        let wanted: Vec<Hole> = match info {
            None => Vec::new(),
            Some(_) => bridges
                .iter()
                .flat_map(|b| directions.iter().map(move |d| Hole::new(site, b, *d)))
                .collect::<Result<_, _>>()?,
        };
        let mut kept = vec![false; rules.len()];
        for w in &wanted {
            let found = rules
                .iter()
                .enumerate()
                .find(|(i, r)| !kept[*i] && same_rule(&w.rule, r) && blocking_at.is_none_or(|b| *i < b));
            match found {
                Some((i, _)) => kept[i] = true,
                None => changes.push(Change::AddHole(w.clone())),
            }
        }
        for (i, r) in rules.iter().enumerate() {
            if kept[i] || !is_hole(r) {
                continue;
            }
            let reason = if wanted.iter().any(|w| same_rule(&w.rule, r)) {
                if blocking_at.is_some_and(|b| i > b) { "below a rule that rejects" } else { "duplicate" }
            } else {
                "not wanted"
            };
            if let Some(handle) = r.handle {
                let comment = rule_comment(r).unwrap_or_default();
                changes.push(Change::DeleteHole { hole: HoleState { site, handle, comment, reason } });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_iptables_hole_carries_the_xt_blobs_iptables_nft_writes() {
        // iptables-nft -vvv -A FORWARD -o virbr0 -m connmark --mark 0x4e4b0000/0xffff0000 ...:
        // connmark rev 1 info = 00004b4e 0000ffff 00000000 00000000
        let h = Hole::new(Site::IptablesForward, "virbr0", Direction::In).unwrap();
        let connmark = h.rule.exprs.iter().find_map(|e| match e {
            Expr::Match(x) if x.name == "connmark" => Some(x.info.clone()),
            _ => None,
        });
        assert_eq!(connmark.unwrap(), [0, 0, 0x4b, 0x4e, 0, 0, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0]);
        assert!(is_hole(&h.rule));
        assert_eq!(rule_comment(&h.rule).as_deref(), Some("natkeeper: virbr0 in"));
        let native = Hole::new(Site::LibvirtGuestInput, "virbr0", Direction::In).unwrap();
        assert!(Hole::new(Site::IptablesForward, "vir br0", Direction::In).is_err());
        assert!(is_hole(&native.rule));
    }
}

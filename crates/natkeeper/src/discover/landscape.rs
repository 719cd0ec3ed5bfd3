//! The firewall landscape, read over nf_tables: who else writes rules (libvirt and which backend,
//! Docker, firewalld, iptables-legacy), which base chains drop by policy, and what a DNAT'ed
//! connection towards a guest meets on the forward hook.

use natkeeper_nft::{Family, HookNum, Ruleset};
use serde::Serialize;

use super::chains::{BaseChain, ChainRef, TableRef};
use super::legacy::LegacyTables;
use super::libvirt::{LIBVIRT_CHAIN_PREFIX, LIBVIRT_TABLE};
use super::walk::{self, ForwardChain, HoleNeeded, HolePlace};
use crate::names::TABLE as OWN_TABLE;

/// iptables-nft's tables that Docker's iptables backend puts `DOCKER*` chains in.
const DOCKER_IPTABLES_TABLES: [&str; 2] = ["filter", "nat"];
/// The prefix of Docker's iptables chains (`DOCKER`, `DOCKER-USER`, `DOCKER-ISOLATION-STAGE-1`...).
const DOCKER_CHAIN_PREFIX: &str = "DOCKER";
/// Docker's nftables backend's tables (`ip`, `ip6`).
const DOCKER_TABLE: &str = "docker-bridges";
/// firewalld's table (`inet firewalld`).
const FIREWALLD_TABLE: &str = "firewalld";

/// Which of libvirt's firewall backends has rules here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LibvirtBackend {
    /// No libvirt rules.
    None,
    /// `LIBVIRT_*` chains in iptables' `filter` table (libvirt ≤ 10.3, and Debian's default).
    Iptables,
    /// `table ip libvirt_network` (libvirt ≥ 10.4 with `firewall_backend = "nftables"`).
    Nftables,
    /// Both (left over from a backend switch).
    Both,
}

/// Docker's firewall rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Docker {
    /// Its iptables chains (`DOCKER`, `DOCKER-USER`, ...).
    pub chains: Vec<ChainRef>,
    /// Its nftables backend's tables (`ip docker-bridges`).
    pub tables: Vec<TableRef>,
    /// True when iptables' `ip filter FORWARD` has policy drop (Docker sets it when it enables
    /// forwarding).
    pub forward_policy_drop: bool,
}

/// The firewall as natkeeper finds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Landscape {
    /// The nf_tables generation all of this was read at.
    pub generation: u32,
    /// Every table, natkeeper's included.
    pub tables: Vec<TableRef>,
    /// True when natkeeper's own table (`ip natkeeper`) exists.
    pub natkeeper: bool,
    /// libvirt's backend.
    pub libvirt: LibvirtBackend,
    /// Docker, when it has rules here.
    pub docker: Option<Docker>,
    /// True when firewalld's table exists.
    pub firewalld: bool,
    /// iptables-legacy tables in use: invisible over netlink.
    pub legacy: LegacyTables,
    /// Every base chain on the forward or input hook whose policy is drop (natkeeper's aside).
    pub drop_policies: Vec<BaseChain>,
    /// Every forward-hook base chain of the `ip` and `inet` families, by priority, with what it does
    /// to a DNAT'ed connection.
    pub forward: Vec<ForwardChain>,
    /// Where holes are needed.
    pub holes: Vec<HoleNeeded>,
}

impl Landscape {
    /// Reads the landscape out of `ruleset` (all families) and the legacy tables in use.
    pub fn from_ruleset(ruleset: &Ruleset, legacy: LegacyTables) -> Landscape {
        let mut tables: Vec<TableRef> =
            ruleset.tables.iter().map(|t| TableRef { family: t.family, name: t.name.clone() }).collect();
        tables.sort();
        let has_table =
            |family: Family, name: &str| tables.iter().any(|t| t.family == family && t.name == name);
        let chains = || ruleset.chains.iter().map(|c| ChainRef::new(c.family, &c.table, &c.name));

        let iptables = chains().any(|c| {
            matches!(c.family, Family::Ip | Family::Ip6)
                && c.table == "filter"
                && c.chain.starts_with(LIBVIRT_CHAIN_PREFIX)
        });
        let nftables = has_table(Family::Ip, LIBVIRT_TABLE) || has_table(Family::Ip6, LIBVIRT_TABLE);
        let libvirt = match (iptables, nftables) {
            (false, false) => LibvirtBackend::None,
            (true, false) => LibvirtBackend::Iptables,
            (false, true) => LibvirtBackend::Nftables,
            (true, true) => LibvirtBackend::Both,
        };

        let mut docker_chains: Vec<ChainRef> = chains()
            .filter(|c| {
                matches!(c.family, Family::Ip | Family::Ip6)
                    && DOCKER_IPTABLES_TABLES.contains(&c.table.as_str())
                    && c.chain.starts_with(DOCKER_CHAIN_PREFIX)
            })
            .collect();
        docker_chains.sort();
        let docker_tables: Vec<TableRef> =
            tables.iter().filter(|t| t.name == DOCKER_TABLE).cloned().collect();
        let forward_policy_drop =
            ruleset.chain(Family::Ip, "filter", "FORWARD").and_then(BaseChain::of).is_some_and(|b| b.drops());
        let docker = (!docker_chains.is_empty() || !docker_tables.is_empty()).then_some(Docker {
            chains: docker_chains,
            tables: docker_tables,
            forward_policy_drop,
        });

        let mut drop_policies: Vec<BaseChain> = ruleset
            .chains
            .iter()
            .filter(|c| c.table != OWN_TABLE)
            .filter_map(BaseChain::of)
            .filter(|b| matches!(b.hook, HookNum::Forward | HookNum::Input) && b.drops())
            .collect();
        drop_policies.sort_by(|a, b| (a.hook, a.priority, &a.chain).cmp(&(b.hook, b.priority, &b.chain)));

        let forward = walk::forward_chains(ruleset);
        let holes = walk::holes(ruleset, &forward);
        Landscape {
            generation: ruleset.generation,
            natkeeper: has_table(Family::Ip, OWN_TABLE),
            firewalld: tables.iter().any(|t| t.name == FIREWALLD_TABLE),
            tables,
            libvirt,
            docker,
            legacy,
            drop_policies,
            forward,
            holes,
        }
    }

    /// The hole needed at `place` (the first, for [`HolePlace::Foreign`]).
    pub fn hole(&self, place: HolePlace) -> Option<&HoleNeeded> {
        self.holes.iter().find(|h| h.place == place)
    }

    /// The forward-hook base chains that would stop a DNAT'ed connection.
    pub fn blocking(&self) -> impl Iterator<Item = &ForwardChain> {
        self.forward.iter().filter(|f| f.blocks())
    }
}

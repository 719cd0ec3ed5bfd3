//! The scenarios: each one a part of the article's lab, checked with real traffic. Each runs alone
//! by name; those on the same libvirt share one lab (and its guests), reset between them.

mod checks;
mod iptables_service;
mod libvirt_nftables;
mod libvirt_restart;
mod poor_man;
mod rich_man;

use std::path::{Path, PathBuf};

use anyhow::Result;

use super::lab::Lab;
use super::libvirt::Flavor;
use super::natkeeper::Natkeeper;
use super::report::Report;

/// One scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scenario {
    /// The article's port forwards, refused before `apply`, working after.
    PoorMan,
    /// 1:1 NAT of `eth0:0` and `eth0:1`, both directions.
    RichMan,
    /// `watch` across libvirtd restart, `net-destroy`/`net-start`, and lost FORWARD jumps.
    LibvirtRestart,
    /// libvirt's nftables backend, across a libvirtd restart and a network restart.
    LibvirtNftables,
    /// `watch` across an `iptables-restore` without `--noflush`.
    IptablesService,
}

impl Scenario {
    /// Every scenario, in the order a full run takes them.
    pub(crate) const ALL: [Scenario; 5] = [
        Scenario::PoorMan,
        Scenario::RichMan,
        Scenario::LibvirtRestart,
        Scenario::IptablesService,
        Scenario::LibvirtNftables,
    ];

    /// The name on the command line.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Scenario::PoorMan => "poor-man",
            Scenario::RichMan => "rich-man",
            Scenario::LibvirtRestart => "libvirt-restart",
            Scenario::LibvirtNftables => "libvirt-nftables",
            Scenario::IptablesService => "iptables-service",
        }
    }

    /// The scenario called `name`.
    pub(crate) fn from_name(name: &str) -> Option<Scenario> {
        Scenario::ALL.into_iter().find(|s| s.name() == name)
    }

    /// The libvirt it runs on.
    pub(crate) fn flavor(self) -> Flavor {
        match self {
            Scenario::LibvirtNftables => Flavor::Nftables,
            _ => Flavor::System,
        }
    }

    /// Its natkeeper configuration, `vm-tests/scenarios/<name>.toml`.
    pub(crate) fn config(self, vm_tests: &Path) -> PathBuf {
        vm_tests.join("scenarios").join(format!("{}.toml", self.name()))
    }

    /// Runs its checks. An error means the lab itself failed (the scenario is cut short).
    pub(crate) fn run(self, s: &mut Session<'_>) -> Result<()> {
        match self {
            Scenario::PoorMan => poor_man::run(s),
            Scenario::RichMan => rich_man::run(s),
            Scenario::LibvirtRestart => libvirt_restart::run(s),
            Scenario::LibvirtNftables => libvirt_nftables::run(s),
            Scenario::IptablesService => iptables_service::run(s),
        }
    }
}

/// What a scenario works with.
#[derive(Debug)]
pub(crate) struct Session<'a> {
    /// The lab.
    pub(crate) lab: &'a mut Lab,
    /// The binary under test.
    pub(crate) natkeeper: &'a Natkeeper,
    /// Where verdicts go.
    pub(crate) report: &'a mut Report,
    /// Which scenario.
    pub(crate) scenario: Scenario,
    /// Its configuration file.
    pub(crate) config: PathBuf,
}

//! [`Host`]: the operations an agent (or the CLI) runs, on the network namespace of the thread that
//! opened it — discover, plan, apply, status, delete — with no process spawned.
//!
//! ```no_run
//! use natkeeper::{Host, Options, Policy};
//! let policy = Policy::parse("[[forward]]\nport = 8080\nto = \"192.168.122.42:80\"\n")?;
//! let applied = Host::open()?.apply(&policy, &Options::default())?;
//! print!("{}", applied.plan);
//! # Ok::<(), natkeeper::Error>(())
//! ```

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use natkeeper_nft::{Family, Ruleset, Socket};
use natkeeper_rtnl::{Rtnl, Sysctl};

use crate::config::{ConfigError, Policy};
use crate::desired::own_table;
use crate::holes::{SiteInfo, plan_holes};
use crate::names::TABLE;
use crate::plan::{Change, Plan, plan_delta, plan_table};
use crate::resolve::{HostFacts, Mode, Resolved, resolve};
use crate::sites::hole_sites;
use crate::status::{Status, status};

/// How many times `apply` re-reads and re-plans when another writer commits in between.
pub const APPLY_ATTEMPTS: u32 = 32;

/// The longest pause between two attempts.
const MAX_BACKOFF: Duration = Duration::from_millis(50);

/// Waits a random time, growing with `attempt` up to [`MAX_BACKOFF`], before retrying after
/// `ERESTART`: a writer that commits periodically (a shell loop, libvirt restoring its rules) then
/// does not keep hitting the same phase of our read-plan-commit window.
fn backoff(attempt: u32) {
    let cap = Duration::from_millis(1 << attempt.min(6)).min(MAX_BACKOFF);
    let jitter = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    std::thread::sleep(cap.mul_f64(f64::from(jitter) / 1e9));
}

/// Everything natkeeper's operations can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The configuration is wrong (exit code 2 in the CLI).
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// nf_tables refused or failed.
    #[error(transparent)]
    Nft(#[from] natkeeper_nft::Error),
    /// rtnetlink failed.
    #[error(transparent)]
    Rtnl(#[from] natkeeper_rtnl::Error),
    /// Waiting for events failed.
    #[error("waiting for events: {0}")]
    Io(#[from] std::io::Error),
    /// A hole cannot be written (a bridge name iptables cannot express).
    #[error(transparent)]
    Hole(#[from] crate::holes::HoleError),
    /// Another writer kept committing between our read and our commit.
    #[error("the ruleset kept changing: gave up after {0} attempts")]
    Contended(u32),
}

/// Options of `plan` and `apply`.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// How strictly names and addresses the host lacks are treated.
    pub mode: Mode,
}

/// The result of `apply`.
#[derive(Debug, Clone)]
pub struct Applied {
    /// What was changed (empty when the kernel already matched).
    pub plan: Plan,
    /// How many attempts it took (more than 1 when another writer interfered).
    pub attempts: u32,
    /// `ip_forward` was off and is now on.
    pub enabled_ip_forward: bool,
    /// Warnings from resolving the policy.
    pub warnings: Vec<String>,
}

/// A handle on the host's netfilter and network state.
#[derive(Debug)]
pub struct Host {
    nft: Socket,
    rtnl: Rtnl,
    /// What this handle last committed (or found in place), and the generation the kernel had
    /// right after: while the generation is unchanged, nobody else has written, and the next apply
    /// can diff against this instead of dumping the ruleset.
    last: Option<(u32, Resolved)>,
}

impl Host {
    /// Opens netlink sockets in the calling thread's network namespace.
    pub fn open() -> Result<Host, Error> {
        Ok(Host { nft: Socket::open()?, rtnl: Rtnl::open()?, last: None })
    }

    /// The netlink port id of natkeeper's nf_tables socket (its own events carry it).
    pub fn portid(&self) -> u32 {
        self.nft.portid()
    }

    /// The host facts the policy is resolved against.
    pub fn facts(&mut self) -> Result<HostFacts, Error> {
        Ok(HostFacts::from_snapshot(&self.rtnl.snapshot()?))
    }

    /// Resolves `policy` against the host as it is now.
    pub fn resolve(&mut self, policy: &Policy, opts: &Options) -> Result<Resolved, Error> {
        Ok(resolve(policy, &self.facts()?, opts.mode)?)
    }

    /// What `apply` would change, without changing anything.
    pub fn plan(&mut self, policy: &Policy, opts: &Options) -> Result<(Plan, Resolved), Error> {
        let resolved = self.resolve(policy, opts)?;
        let ruleset = Ruleset::read(&mut self.nft, Family::Ip)?;
        Ok((plan_for(&resolved, &ruleset)?, resolved))
    }

    /// Makes the kernel match `policy` in one generation-guarded transaction; when another writer
    /// commits in between, re-reads, re-plans and retries (at most [`APPLY_ATTEMPTS`] times).
    pub fn apply(&mut self, policy: &Policy, opts: &Options) -> Result<Applied, Error> {
        let resolved = self.resolve(policy, opts)?;
        self.apply_resolved(resolved)
    }

    /// [`Host::apply`] for a policy already resolved with [`Host::resolve`] (the caller can drop
    /// the parsed policy first: with many forwards it is the larger of the two).
    pub fn apply_resolved(&mut self, resolved: Resolved) -> Result<Applied, Error> {
        for attempt in 1..=APPLY_ATTEMPTS {
            let plan = self.plan_against_kernel(&resolved)?;
            if !plan.is_empty() {
                match self.nft.commit(plan.transaction()) {
                    Ok(()) => {}
                    Err(e) if e.is_restart() => {
                        self.last = None;
                        backoff(attempt);
                        continue;
                    }
                    Err(e) => {
                        self.last = None;
                        return Err(e.into());
                    }
                }
            }
            // The guarded commit went in at `plan.generation`: the kernel is now one further.
            let generation = if plan.is_empty() { plan.generation } else { plan.generation.wrapping_add(1) };
            self.last = Some((generation, resolved.clone()));
            // Only once the rules are in: a refused transaction leaves the host as it was.
            let mut enabled_ip_forward = false;
            if resolved.needs_forwarding() && !Sysctl::IpForward.read()?.is_on() {
                Sysctl::IpForward.write(true)?;
                enabled_ip_forward = true;
            }
            return Ok(Applied { plan, attempts: attempt, enabled_ip_forward, warnings: resolved.warnings });
        }
        Err(Error::Contended(APPLY_ATTEMPTS))
    }

    /// The plan for `resolved`: from what this handle last committed when the kernel's generation
    /// shows nobody wrote since (no dump), else against a fresh dump of the ruleset.
    fn plan_against_kernel(&mut self, resolved: &Resolved) -> Result<Plan, Error> {
        if let Some((generation, old)) = &self.last {
            let now = self.nft.generation()?;
            if now == *generation {
                if let Some(plan) = plan_delta(old, resolved, now) {
                    return Ok(plan);
                }
            }
        }
        let ruleset = Ruleset::read(&mut self.nft, Family::Ip)?;
        plan_for(resolved, &ruleset)
    }

    /// natkeeper's forwards, 1:1 NATs and holes as the kernel holds them, with live counters.
    pub fn status(&mut self) -> Result<Status, Error> {
        Ok(status(&Ruleset::read(&mut self.nft, Family::Ip)?))
    }

    /// Removes natkeeper's table and its holes — nothing else.
    pub fn delete(&mut self) -> Result<Plan, Error> {
        self.last = None;
        for attempt in 1..=APPLY_ATTEMPTS {
            let ruleset = Ruleset::read(&mut self.nft, Family::Ip)?;
            let mut changes = Vec::new();
            plan_holes(&[], &[], &ruleset, &mut changes)?;
            if ruleset.table(Family::Ip, TABLE).is_some() {
                changes.push(Change::DeleteTable);
            }
            let plan = Plan { generation: ruleset.generation, changes };
            if plan.is_empty() {
                return Ok(plan);
            }
            match self.nft.commit(plan.transaction()) {
                Ok(()) => return Ok(plan),
                Err(e) if e.is_restart() => backoff(attempt),
                Err(e) => return Err(e.into()),
            }
        }
        Err(Error::Contended(APPLY_ATTEMPTS))
    }
}

/// The plan for `resolved` against `ruleset` (pure: no I/O).
pub fn plan_for(resolved: &Resolved, ruleset: &Ruleset) -> Result<Plan, Error> {
    let mut changes = Vec::new();
    plan_table(own_table(resolved), ruleset, &mut changes);
    let sites: Vec<SiteInfo> = if resolved.needs_forwarding() { hole_sites(ruleset) } else { Vec::new() };
    let bridges: Vec<String> = resolved.networks.iter().map(|n| n.bridge.clone()).collect();
    plan_holes(&sites, &bridges, ruleset, &mut changes)?;
    Ok(Plan { generation: ruleset.generation, changes })
}

//! `iptables-service`: the CentOS "service iptables restart" of the article: a rule set saved before
//! natkeeper ran (libvirt's rules, as `iptables-save` wrote them) restored with `iptables-restore`
//! without `--noflush`, which flushes the iptables tables and so natkeeper's FORWARD rule. A control
//! shows the breakage without `watch`; under `watch` the forwards work again.

use anyhow::{Context as _, Result};

use super::Session;
use super::checks::{Forward, fwd};
use crate::vmtest::cmd::run as run_cmd;
use crate::vmtest::lab::{G41, G42, HOST, Lab};

const SAVED: &str = "iptables-service.rules";

/// What vm-tests/scenarios/iptables-service.toml forwards.
const FORWARDS: [Forward; 2] = [fwd(HOST, 80, G41, 80), fwd(HOST, 8080, G42, 80)];

fn save(lab: &mut Lab) -> Result<()> {
    let rules = run_cmd(&mut lab.host("iptables-save"))?;
    std::fs::write(lab.dir.join(SAVED), rules).context("writing the saved rule set")
}

fn restore(lab: &mut Lab) -> Result<()> {
    run_cmd(lab.host("iptables-restore").arg(lab.dir.join(SAVED))).map(drop)
}

/// Runs the scenario.
pub(super) fn run(s: &mut Session<'_>) -> Result<()> {
    s.step(&format!("iptables-save > {SAVED} (the service's rule set, before natkeeper)"), save)?;
    s.apply("");
    s.forwards("after apply", &FORWARDS);
    s.step(&format!("iptables-restore {SAVED} (no --noflush, no watch)"), restore)?;
    s.refused(
        "(control: without watch, the restore removed natkeeper's FORWARD rule)",
        &FORWARDS.map(|f| f.public),
    );
    s.start_watch();
    s.forwards_eventually("once watch runs", &FORWARDS);
    s.step(&format!("iptables-restore {SAVED} (no --noflush)"), restore)?;
    s.forwards_eventually("after iptables-restore under watch", &FORWARDS);
    s.watch_still_running();
    Ok(())
}

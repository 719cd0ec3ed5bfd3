//! `libvirt-nftables`: libvirt ≥ 10.4 with `firewall_backend = "nftables"`, whose `reject` for
//! traffic to the guests sits in `ip libvirt_network guest_input`, re-inserted at the chain's head on
//! every libvirtd restart and `net-start`. Forwards work after `apply`; a control shows a restart
//! without `watch` breaking them; under `watch` they keep working across restarts.

use anyhow::Result;

use super::Session;
use super::checks::{Forward, fwd};
use crate::vmtest::cmd::{output, run as run_cmd};
use crate::vmtest::lab::{G41, G42, HOST, Lab};

/// What vm-tests/scenarios/libvirt-nftables.toml forwards.
const FORWARDS: [Forward; 2] = [fwd(HOST, 80, G41, 80), fwd(HOST, 8080, G42, 80)];

/// Runs the scenario.
pub(super) fn run(s: &mut Session<'_>) -> Result<()> {
    let lab = &*s.lab;
    let what = format!("{}: libvirt ({}) uses its nftables backend", s.scenario.name(), lab.install.version);
    s.report.check(what, || {
        let table = run_cmd(lab.host("nft").args(["list", "chain", "ip", "libvirt_network", "guest_input"]))
            .map_err(|e| format!("{e:#}"))?;
        let filter =
            output(lab.host("nft").args(["list", "table", "ip", "filter"])).map_err(|e| format!("{e:#}"))?;
        match (table.contains("reject"), filter.status.success()) {
            (true, false) => Ok(()),
            (false, _) => Err(format!("no reject in ip libvirt_network guest_input: {}", table.trim())),
            (true, true) => Err("libvirt also made iptables' table ip filter".into()),
        }
    });
    s.refused("before apply", &FORWARDS.map(|f| f.public));
    s.apply("");
    s.forwards("after apply", &FORWARDS);
    s.step("restart libvirtd (no watch)", Lab::restart_libvirtd)?;
    s.refused("(control: without watch, libvirt re-inserted its reject first)", &FORWARDS.map(|f| f.public));
    s.start_watch();
    s.forwards_eventually("once watch runs", &FORWARDS);
    s.step("restart libvirtd", Lab::restart_libvirtd)?;
    s.forwards_eventually("after libvirtd restart", &FORWARDS);
    s.step("net-destroy + net-start default, taps re-attached and forwarding", Lab::restart_network)?;
    s.forwards_eventually("after net-destroy + net-start", &FORWARDS);
    s.watch_still_running();
    Ok(())
}

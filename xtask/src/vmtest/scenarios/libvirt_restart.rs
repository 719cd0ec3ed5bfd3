//! `libvirt-restart`: forwards under `natkeeper watch` across what libvirt does to the firewall:
//! a libvirtd restart, `net-destroy` + `net-start` (taps re-attached, ports forwarding again), and
//! the reproduced hazard: FORWARD's jumps to libvirt's chains lost, then libvirtd restarted, which
//! re-inserts them on top of natkeeper's rule. A control first shows the hazard without `watch`.

use anyhow::Result;

use super::Session;
use super::checks::{Forward, fwd};
use crate::vmtest::cmd::run as run_cmd;
use crate::vmtest::lab::{G41, G42, HOST, Lab};

/// What vm-tests/scenarios/libvirt-restart.toml forwards.
const FORWARDS: [Forward; 2] = [fwd(HOST, 80, G41, 80), fwd(HOST, 8080, G42, 80)];

/// Deletes libvirt's jumps from FORWARD (what a firewall reload does), then restarts libvirtd.
fn lose_jumps_and_restart(lab: &mut Lab) -> Result<()> {
    for chain in ["LIBVIRT_FWX", "LIBVIRT_FWI", "LIBVIRT_FWO"] {
        run_cmd(lab.host("iptables").args(["-D", "FORWARD", "-j", chain]))?;
    }
    lab.restart_libvirtd()
}

/// Runs the scenario.
pub(super) fn run(s: &mut Session<'_>) -> Result<()> {
    s.apply("");
    s.forwards("after apply", &FORWARDS);
    s.step("delete libvirt's FORWARD jumps, restart libvirtd (no watch)", lose_jumps_and_restart)?;
    s.refused(
        "(control: without watch, libvirt's re-inserted jumps come first)",
        &FORWARDS.map(|f| f.public),
    );
    s.start_watch();
    s.forwards_eventually("once watch runs", &FORWARDS);
    s.step("restart libvirtd", Lab::restart_libvirtd)?;
    s.forwards_eventually("after libvirtd restart", &FORWARDS);
    s.step("net-destroy + net-start default, taps re-attached and forwarding", Lab::restart_network)?;
    s.forwards_eventually("after net-destroy + net-start", &FORWARDS);
    s.step("delete libvirt's FORWARD jumps, restart libvirtd", lose_jumps_and_restart)?;
    s.forwards_eventually("after lost FORWARD jumps + libvirtd restart", &FORWARDS);
    s.watch_still_running();
    Ok(())
}

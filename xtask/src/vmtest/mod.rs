//! `cargo xtask vmtest`: real QEMU guests on a real libvirt `virbr0`, real DNAT and SNAT traffic.
//!
//! The lab of the article "XEN, KVM, Libvirt and IPTables", in network namespaces this run creates
//! (the caller's own namespace is never changed): a KVM host with libvirt's `default` NAT network and
//! two guests booted with QEMU (Debian's cloud kernel, an initramfs built here from busybox), and an
//! outside laptop on a veth. The real `natkeeper` binary runs in the host namespace; every check is a
//! real connection. See `vm-tests/` for the guest init, the scenario configurations and fixtures.
//!
//! Flow: prerequisites (installed on Debian when missing) → cached guest kernel and initramfs →
//! `cargo build -p natkeeper-cli` → accelerator (KVM if a probe guest boots, else TCG) → one lab per
//! libvirt flavor, its scenarios in turn (reset between them) → teardown by pid, also on failure and
//! Ctrl-C → `vmtest: N passed, M failed`.

mod cmd;
mod cpio;
mod elf;
mod guest;
mod hostns;
mod http;
mod initramfs;
mod interrupt;
mod kernel;
mod lab;
mod libvirt;
mod natkeeper;
mod options;
mod packages;
mod paths;
mod report;
mod scenarios;

use std::time::Instant;

use anyhow::{Result, bail};

use self::guest::{Accel, Image};
use self::lab::{GUESTS, HOST, Lab, Parts};
use self::libvirt::{Flavor, Install};
use self::natkeeper::Natkeeper;
use self::options::{Options, USAGE};
use self::packages::{Apt, Prereqs};
use self::paths::Paths;
use self::report::{Report, secs};
use self::scenarios::{Scenario, Session};

/// The oldest libvirt with the nftables firewall backend.
const NFTABLES_BACKEND_SINCE: (u32, u32) = (10, 4);

/// Runs the VM tests with the given arguments (those after `vmtest`).
pub(crate) fn run(args: &[String]) -> Result<()> {
    let opts = Options::parse(args)?;
    if opts.help {
        println!("{USAGE}");
        return Ok(());
    }
    interrupt::install()?;
    let started = Instant::now();
    let mut report = Report::new(std::env::var("CI").is_ok_and(|v| v == "true"));
    let paths = Paths::discover()?;
    if let Err(e) = run_all(&opts, &paths, &mut report) {
        report.fail("vmtest", format!("{e:#}"));
    }
    if interrupt::interrupted() {
        println!("vmtest: interrupted; everything started was stopped");
    }
    if report.failed() == 0 && !opts.keep {
        let _ = std::fs::remove_dir_all(&paths.run);
    } else {
        println!("vmtest: logs, consoles and libvirt state in {}", paths.run.display());
    }
    println!("vmtest: whole run took {}", secs(started.elapsed()));
    println!("{}", report.summary());
    if report.failed() > 0 {
        bail!("{} vmtest check(s) failed", report.failed());
    }
    Ok(())
}

fn run_all(opts: &Options, paths: &Paths, report: &mut Report) -> Result<()> {
    let prep = Instant::now();
    let mut apt = Apt::default();
    if let Prereqs::Missing(why) = packages::ensure(&mut apt)? {
        report.skip("vmtest", why);
        return Ok(());
    }
    let kernel = kernel::prepare(&paths.cache, &mut apt)?;
    let initramfs = initramfs::build(&paths.cache, &paths.vm_tests, &kernel)?;
    let image = Image { kernel: kernel.vmlinuz.clone(), initramfs };
    let wants = |f: Flavor| opts.scenarios.iter().any(|s| s.flavor() == f);
    let system = if wants(Flavor::System) { Some(libvirt::system(&paths.cache)?) } else { None };
    let nftables =
        if wants(Flavor::Nftables) { backports_libvirt(paths, &mut apt, opts, report)? } else { None };
    let natkeeper = natkeeper::build(paths, opts.release);
    match natkeeper.build_error() {
        Some(e) => report.fail("natkeeper builds", e),
        None => println!("vmtest: testing {}", natkeeper.bin().display()),
    }
    interrupt::check()?;
    let (accel, why) = guest::choose_accel(opts.accel, &image, &paths.run)?;
    println!("vmtest: guest kernel {}; guests run under {} ({why})", kernel.package, accel.name());
    println!("vmtest: preparation took {}", secs(prep.elapsed()));

    let host_before = hostns::snapshot()?;
    let network_xml = paths.vm_tests.join("fixtures/default.xml");
    let parts = Parts { image: &image, accel, network_xml: &network_xml, run_dir: &paths.run };
    for (name, install) in [("iptables", system), ("nftables", nftables)] {
        let Some(install) = install else { continue };
        let scenarios: Vec<Scenario> =
            opts.scenarios.iter().copied().filter(|s| s.flavor() == install.flavor).collect();
        run_lab(name, &install, &scenarios, &parts, &natkeeper, paths, opts.keep, report)?;
    }
    let host_after = hostns::snapshot()?;
    report.check("the caller's network namespace is unchanged", || {
        match hostns::difference(&host_before, &host_after) {
            None => Ok(()),
            Some(d) => Err(d),
        }
    });
    Ok(())
}

/// libvirt ≥ 10.4 from backports, or a skip of `libvirt-nftables` saying why not.
fn backports_libvirt(
    paths: &Paths,
    apt: &mut Apt,
    opts: &Options,
    report: &mut Report,
) -> Result<Option<Install>> {
    let skip = |report: &mut Report, why: String| {
        for s in opts.scenarios.iter().filter(|s| s.flavor() == Flavor::Nftables) {
            report.skip(s.name(), &why);
        }
    };
    let install = match libvirt::backports(&paths.cache, apt) {
        Ok(i) => i,
        Err(e) => {
            interrupt::check()?;
            skip(report, format!("libvirt from backports is unavailable: {e:#}"));
            return Ok(None);
        }
    };
    match parse_version(&install.version) {
        Some(v) if v >= NFTABLES_BACKEND_SINCE => Ok(Some(install)),
        _ => {
            skip(report, format!("`{}` is older than libvirt 10.4 (no nftables backend)", install.version));
            Ok(None)
        }
    }
}

/// `libvirtd (libvirt) 11.3.0` → (11, 3).
fn parse_version(text: &str) -> Option<(u32, u32)> {
    let v = text.split_whitespace().last()?;
    let mut parts = v.split('.');
    Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
}

/// Brings a lab up, runs `scenarios` in it, and tears it down (or keeps it). Errors only when interrupted.
#[allow(clippy::too_many_arguments)]
fn run_lab(
    name: &str,
    install: &Install,
    scenarios: &[Scenario],
    parts: &Parts<'_>,
    natkeeper: &Natkeeper,
    paths: &Paths,
    keep: bool,
    report: &mut Report,
) -> Result<()> {
    if scenarios.is_empty() {
        return Ok(());
    }
    let t = Instant::now();
    let mut lab = match Lab::up(name, install, parts) {
        Ok(lab) => lab,
        Err(e) => {
            interrupt::check()?;
            for s in scenarios {
                report.fail(s.name(), format!("lab `{name}` did not come up: {e:#}"));
            }
            return Ok(());
        }
    };
    let shim = if lab.uses_tc_shim() { ", tc shim (kernel lacks act_csum)" } else { "" };
    println!(
        "vmtest: lab `{name}` up in {}: {}, {} guests under {}{shim}",
        secs(t.elapsed()),
        install.version,
        GUESTS.len(),
        match parts.accel {
            Accel::Kvm => "KVM",
            Accel::Tcg => "TCG",
        }
    );
    let result = run_scenarios(&mut lab, scenarios, natkeeper, paths, report);
    if keep && !interrupt::interrupted() {
        lab.keep();
    } else {
        let t = Instant::now();
        lab.teardown();
        println!("vmtest: lab `{name}` torn down ({})", secs(t.elapsed()));
    }
    result
}

fn run_scenarios(
    lab: &mut Lab,
    scenarios: &[Scenario],
    natkeeper: &Natkeeper,
    paths: &Paths,
    report: &mut Report,
) -> Result<()> {
    for g in GUESTS {
        let what =
            format!("lab {}: guest {} → outside seen as {HOST} (libvirt's masquerade)", lab.name, g.ip);
        report.check(what, || match lab.egress_seen_as(g.ip, None) {
            Ok(seen) if seen == HOST.to_string() => Ok(()),
            Ok(seen) => Err(format!("the outside saw {seen}")),
            Err(e) => Err(format!("{e:#}")),
        });
    }
    for (i, &scenario) in scenarios.iter().enumerate() {
        interrupt::check()?;
        if i > 0 {
            let t = Instant::now();
            if let Err(e) = lab.reset() {
                interrupt::check()?;
                for s in &scenarios[i..] {
                    report.fail(s.name(), format!("resetting lab `{}` failed: {e:#}", lab.name));
                }
                return Ok(());
            }
            println!("vmtest: lab `{}` reset ({})", lab.name, secs(t.elapsed()));
        }
        let t = Instant::now();
        let mut session = Session {
            lab: &mut *lab,
            natkeeper,
            report: &mut *report,
            scenario,
            config: scenario.config(&paths.vm_tests),
        };
        if let Err(e) = scenario.run(&mut session) {
            interrupt::check()?;
            report.fail(format!("{}: cut short", scenario.name()), format!("{e:#}"));
        }
        println!("vmtest: scenario {} took {}", scenario.name(), secs(t.elapsed()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libvirt_versions() {
        assert_eq!(parse_version("libvirtd (libvirt) 11.3.0"), Some((11, 3)));
        assert_eq!(parse_version("libvirtd (libvirt) 9.0.0"), Some((9, 0)));
        assert!(parse_version("libvirtd (libvirt) 9.0.0") < Some(NFTABLES_BACKEND_SINCE));
        assert_eq!(parse_version("garbage"), None);
    }
}

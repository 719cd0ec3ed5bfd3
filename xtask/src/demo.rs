//! `cargo xtask demo`: the article's lab, built in network namespaces of its own, with natkeeper
//! doing the job the article's administrator did by hand.
//!
//! A KVM host (libvirt's iptables rules loaded, REJECTs and all) with `virbr0` and three guests, and a
//! laptop outside on the LAN. The real `natkeeper` binary applies `examples/poor-man.toml` (port
//! forwards) and then `examples/rich-man.toml` (1:1 NAT of `eth0:0`/`eth0:1`); the outside client
//! reaches the guests, the guests reach out. The host's own namespace is never touched; everything is
//! deleted at the end.

use std::net::{Ipv4Addr, SocketAddrV4};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, bail};
use natkeeper_tests::http::{EchoServer, get};
use natkeeper_tests::lab::{self, Lab};

use crate::deps;

/// Runs the demo.
pub(crate) fn run(args: &[String]) -> anyhow::Result<()> {
    if let Some(a) = args.first() {
        bail!("cargo xtask demo takes no arguments (got `{a}`)");
    }
    deps::ensure(&[("nft", "nftables"), ("iptables", "iptables"), ("ip", "iproute2")])?;
    let root = workspace();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    deps::run(Command::new(&cargo).args(["build", "--quiet", "-p", "natkeeper-cli"]).current_dir(&root))?;
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
    let bin = target.join("debug/natkeeper");

    println!("== the article's lab, in network namespaces");
    let lab = Lab::with_guests(&[41, 42, 43]);
    println!(
        "   host {}: eth0 192.168.1.201/24 + 192.168.1.211 (eth0:0) + 192.168.1.212 (eth0:1)",
        lab.host.name()
    );
    println!(
        "   virbr0 192.168.122.1/24 with guests .41, .42, .43; outside client 192.168.1.5 ({})",
        lab.outside.name()
    );
    let rules = std::fs::read_to_string(root.join("tests/fixtures/libvirt9-iptables.rules"))?;
    lab.host.iptables_restore(&[], &rules);
    println!("   libvirt's iptables rules loaded (LIBVIRT_FWI rejects new connections to virbr0)");
    let _guests: Vec<EchoServer> =
        lab.guests.iter().map(|g| EchoServer::start(&g.ns, &[22, 80, 443, 25, 110, 143])).collect();
    let _outside = EchoServer::start(&lab.outside, &[80]);

    println!("\n== before natkeeper: outside -> 192.168.1.201:8080");
    show(&lab, lab::HOST_PUBLIC, 8080);

    natkeeper(&lab, &bin, &["apply", "-c", &root.join("examples/poor-man.toml").display().to_string()])?;
    println!("\n== the poor man's setup: outside -> public ports");
    for port in [80, 443, 25, 110, 143, 8080, 8443] {
        show(&lab, lab::HOST_PUBLIC, port);
    }
    println!("\n== iptables-save still reads every table; natkeeper's holes head FORWARD:");
    for line in lab.host.iptables_save().lines().filter(|l| l.starts_with("-A FORWARD")) {
        println!("   {line}");
    }

    natkeeper(&lab, &bin, &["apply", "-c", &root.join("examples/rich-man.toml").display().to_string()])?;
    println!("\n== the rich man's setup: outside -> 192.168.1.211 / .212, any port");
    for (public, port) in [(lab::EXTRA_0, 22), (lab::EXTRA_0, 443), (lab::EXTRA_1, 80)] {
        show(&lab, public, port);
    }
    println!("\n== and out: guest -> outside 192.168.1.5:80, seen from");
    for g in [41, 42, 43] {
        match get(&lab.guest(g).ns, None, SocketAddrV4::new(lab::CLIENT, 80), Duration::from_secs(2)) {
            Ok(e) => println!("   guest 192.168.122.{g}: seen as {}", e.peer.ip()),
            Err(e) => println!("   guest 192.168.122.{g}: {e}"),
        }
    }
    natkeeper(&lab, &bin, &["status"])?;
    println!("\n== done; deleting the lab's namespaces");
    Ok(())
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

fn natkeeper(lab: &Lab, bin: &Path, args: &[&str]) -> anyhow::Result<()> {
    println!("\n$ natkeeper {}", args.join(" "));
    let out = lab.host.cmd(bin).args(args).output().with_context(|| format!("run {}", bin.display()))?;
    for line in
        String::from_utf8_lossy(&out.stdout).lines().chain(String::from_utf8_lossy(&out.stderr).lines())
    {
        println!("   {line}");
    }
    if !out.status.success() {
        bail!("natkeeper {} failed ({})", args.join(" "), out.status);
    }
    Ok(())
}

fn show(lab: &Lab, public: Ipv4Addr, port: u16) {
    match get(&lab.outside, None, SocketAddrV4::new(public, port), Duration::from_secs(2)) {
        Ok(e) => println!("   {public}:{port:<5} -> guest {} (sees the client as {})", e.server, e.peer.ip()),
        Err(e) => println!("   {public}:{port:<5} -> {e}"),
    }
}

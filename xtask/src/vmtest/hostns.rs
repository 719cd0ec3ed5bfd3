//! The caller's own network namespace must never change: a snapshot of its links, addresses, routes,
//! ruleset and `ip_forward`, taken before and after the run.

use std::fs;

use anyhow::Result;

use super::cmd::{cmd, run};

/// What the host namespace looks like.
pub(crate) fn snapshot() -> Result<String> {
    let links = run(cmd("ip").args(["-o", "link", "show"]))?;
    let names: Vec<&str> = links.lines().filter_map(|l| l.split(':').nth(1)).map(str::trim).collect();
    let addrs = run(cmd("ip").args(["-o", "addr", "show"]))?;
    let addrs: Vec<String> =
        addrs.lines().map(|l| l.split_whitespace().take(4).collect::<Vec<_>>().join(" ")).collect();
    let routes = run(cmd("ip").args(["route", "show", "table", "all"]))?;
    let ruleset = run(cmd("nft").args(["-s", "list", "ruleset"]))?;
    let forward = fs::read_to_string("/proc/sys/net/ipv4/ip_forward").unwrap_or_default();
    Ok(format!(
        "links: {}\naddresses:\n{}\nroutes:\n{routes}\nruleset:\n{ruleset}\nip_forward: {forward}",
        names.join(" "),
        addrs.join("\n")
    ))
}

/// The first line that differs, or `None` when equal.
pub(crate) fn difference(before: &str, after: &str) -> Option<String> {
    if before == after {
        return None;
    }
    let mut a = before.lines();
    let mut b = after.lines();
    loop {
        match (a.next(), b.next()) {
            (Some(x), Some(y)) if x == y => continue,
            (x, y) => return Some(format!("`{}` is now `{}`", x.unwrap_or(""), y.unwrap_or(""))),
        }
    }
}

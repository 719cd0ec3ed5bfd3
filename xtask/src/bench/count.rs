//! Counting what the kernel holds after a trial, with the tools as oracles (`nft -j`,
//! `iptables-save`), so a figure is only reported for work that was really done. Call these inside
//! [`super::ns::Netns::run`].

use anyhow::{Context as _, Result};
use serde_json::Value;

use super::exec::{cmd, stdout};

fn nft_json(args: &[&str]) -> Result<Vec<Value>> {
    let mut all = vec!["-j"];
    all.extend_from_slice(args);
    let text = stdout(&mut cmd("nft", &all))?;
    let v: Value =
        serde_json::from_str(&text).with_context(|| format!("nft {} printed no JSON", all.join(" ")))?;
    Ok(v.get("nftables").and_then(Value::as_array).cloned().unwrap_or_default())
}

/// Elements of map `set` in `table ip <table>`.
pub(crate) fn map_elems(table: &str, set: &str) -> Result<usize> {
    let objects = nft_json(&["list", "map", "ip", table, set])?;
    Ok(objects
        .iter()
        .filter_map(|o| o.get("map").or_else(|| o.get("set")))
        .filter_map(|m| m.get("elem").and_then(Value::as_array))
        .map(Vec::len)
        .sum())
}

/// Rules of chain `chain` in `table ip <table>`.
pub(crate) fn chain_rules(table: &str, chain: &str) -> Result<usize> {
    Ok(nft_json(&["list", "chain", "ip", table, chain])?.iter().filter(|o| o.get("rule").is_some()).count())
}

/// The kernel handles of the rules of `chain` in `table ip <table>`, in chain order.
pub(crate) fn rule_handles(table: &str, chain: &str) -> Result<Vec<u64>> {
    nft_json(&["-a", "list", "chain", "ip", table, chain])?
        .iter()
        .filter_map(|o| o.get("rule"))
        .map(|r| {
            r.get("handle").and_then(Value::as_u64).context("a rule without a handle in nft -a -j output")
        })
        .collect()
}

/// `-A <chain>` rules in iptables' table `table`.
pub(crate) fn ipt_rules(table: &str, chain: &str) -> Result<usize> {
    let text = stdout(&mut cmd("iptables-save", &["-t", table]))?;
    let prefix = format!("-A {chain} ");
    Ok(text.lines().filter(|l| l.starts_with(&prefix)).count())
}

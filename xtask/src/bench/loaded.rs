//! W2–W4 with N forwards loaded (10,000; 1,000 with `--quick`), one fresh namespace per tool family
//! and round: the bulk load (peak RSS under GNU time: W4), the read-back (W3, then its peak RSS),
//! then add and remove single forwards (W2, then the peak RSS of one add).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context as _, Result, bail};
use natkeeper::{Host, Options, Policy};

use super::exec::{self, cmd, timed};
use super::inputs::{self, Fwd};
use super::ns::host_like;
use super::report::{Row, Section, Unit, thousands};
use super::stats::Series;
use super::{Ctx, count};

/// W2 rows.
pub(crate) const ADD_LIB: &str = "add: natkeeper library `host.apply()`";
pub(crate) const DEL_LIB: &str = "remove: natkeeper library `host.apply()`";
pub(crate) const ADD_PROC: &str = "add: `natkeeper apply -c` (changed config)";
pub(crate) const DEL_PROC: &str = "remove: `natkeeper apply -c` (changed config)";
pub(crate) const ADD_ELEM: &str = "add: `nft add element` map + set (one process)";
pub(crate) const DEL_ELEM: &str = "remove: `nft delete element` map + set (one process)";
const ADD_RULE: &str = "add: `nft add rule` ×2 (one process)";
const DEL_RULE: &str = "remove: `nft delete rule` ×2 by handle (one process; handle lookup untimed)";
pub(crate) const ADD_IPT: &str = "add: 2 × `iptables -A`";
const DEL_IPT: &str = "remove: 2 × `iptables -D` (by rule spec)";
pub(crate) const BASE_ELEM: &str = "nft element, same op";

/// W3 rows.
pub(crate) const ST_PROC: &str = "`natkeeper status --json`";
const ST_LIB: &str = "natkeeper library: `host.status()`";
const LIST_RULES: &str = "`nft -j list ruleset` (individual rules)";
const LIST_MAP: &str = "`nft -j list ruleset` (map + set)";
pub(crate) const SAVE: &str = "`iptables-save`";
pub(crate) const BASE_SAVE: &str = "iptables-save";
const BASE_LIST: &str = "nft -j list (rules)";

/// W4 rows.
pub(crate) const RSS_NK_APPLY: &str = "`natkeeper apply`, N forwards";
pub(crate) const RSS_NK_STATUS: &str = "`natkeeper status --json`, N loaded";
pub(crate) const RSS_NK_ADD: &str = "`natkeeper apply`, +1 forward with N loaded";
const RSS_NFT_RULES: &str = "`nft -f` (individual rules), N forwards";
const RSS_NFT_MAP: &str = "`nft -f` (map + set), N forwards";
const RSS_RESTORE: &str = "`iptables-restore --noflush`, N forwards";
const RSS_LIST_RULES: &str = "`nft -j list ruleset` (rules), N loaded";
const RSS_LIST_MAP: &str = "`nft -j list ruleset` (map), N loaded";
const RSS_SAVE: &str = "`iptables-save`, N loaded";
const RSS_ADD_ELEM: &str = "`nft add element` map + set, N loaded";
const RSS_ADD_RULE: &str = "`nft add rule` ×2, N loaded";
const RSS_IPT_A: &str = "`iptables -t nat -A`, N loaded";
const BASE_RSS_RULES: &str = "nft -f rules";
const BASE_RSS_RESTORE: &str = "iptables-restore";

/// Named series in the order first recorded.
#[derive(Debug, Default)]
struct Figures(Vec<(&'static str, Series)>);

impl Figures {
    fn record(&mut self, label: &'static str, round: usize, v: f64) {
        match self.0.iter_mut().find(|(l, _)| *l == label) {
            Some((_, s)) => s.record(round, v),
            None => {
                let mut s = Series::default();
                s.record(round, v);
                self.0.push((label, s));
            }
        }
    }

    fn get(&self, label: &str) -> Series {
        self.0.iter().find(|(l, _)| *l == label).map(|(_, s)| s.clone()).unwrap_or_default()
    }
}

#[derive(Debug, Clone, Copy)]
enum Family {
    Natkeeper,
    NftRules,
    NftMap,
    Ipt,
}

/// What a round records into.
struct Sink<'a> {
    round: usize,
    w2: &'a mut Figures,
    w3: &'a mut Figures,
    w4: &'a mut Figures,
}

/// Runs W2, W3 and W4; returns their three sections.
pub(crate) fn run(ctx: &Ctx) -> Result<[Section; 3]> {
    let n = ctx.big;
    let fwds: Vec<Fwd> = (0..n).map(Fwd::trial).collect();
    let files = Files {
        toml: ctx.write(&format!("nk_{n}.toml"), &inputs::natkeeper_toml(&fwds))?,
        rules: ctx.write(&format!("nft_rules_{n}.nft"), &inputs::nft_rules(&fwds))?,
        map: ctx.write(&format!("nft_map_{n}.nft"), &inputs::nft_map(&fwds))?,
        restore: ctx.write(&format!("ipt_{n}.restore"), &inputs::ipt_restore(&fwds))?,
    };
    let (mut w2, mut w3, mut w4) = (Figures::default(), Figures::default(), Figures::default());
    let families = [Family::Natkeeper, Family::NftRules, Family::NftMap, Family::Ipt];
    eprintln!("bench: W2–W4 at N = {} ({} families × {} runs)", thousands(n), families.len(), ctx.runs);
    for round in 0..ctx.runs {
        for k in 0..families.len() {
            let family = families[(k + round) % families.len()];
            ctx.check()?;
            let ns = host_like("w2")?;
            let mut sink = Sink { round, w2: &mut w2, w3: &mut w3, w4: &mut w4 };
            ns.run(|| match family {
                Family::Natkeeper => natkeeper_trial(ctx, &files, &mut sink),
                Family::NftRules => nft_rules_trial(ctx, &files, &mut sink),
                Family::NftMap => nft_map_trial(ctx, &files, &mut sink),
                Family::Ipt => ipt_trial(ctx, &files, &mut sink),
            })?;
            drop(ns);
            ctx.settle()?;
        }
    }

    let add_base = w2.get(ADD_ELEM);
    let del_base = w2.get(DEL_ELEM);
    let w2_rows =
        [ADD_LIB, DEL_LIB, ADD_PROC, DEL_PROC, ADD_ELEM, DEL_ELEM, ADD_RULE, DEL_RULE, ADD_IPT, DEL_IPT]
            .iter()
            .map(|l| {
                let mut row = Row::measured(None, *l, w2.get(l));
                row.add_ratio(BASE_ELEM, if l.starts_with("add") { &add_base } else { &del_base });
                row
            })
            .collect();
    let save = w3.get(SAVE);
    let list = w3.get(LIST_RULES);
    let w3_rows = [ST_PROC, ST_LIB, LIST_RULES, LIST_MAP, SAVE]
        .iter()
        .map(|l| {
            let mut row = Row::measured(None, *l, w3.get(l));
            row.add_ratio(BASE_SAVE, &save);
            row.add_ratio(BASE_LIST, &list);
            row
        })
        .collect();
    let rss_rules = w4.get(RSS_NFT_RULES);
    let rss_restore = w4.get(RSS_RESTORE);
    let w4_rows = [
        RSS_NK_APPLY,
        RSS_NK_STATUS,
        RSS_NK_ADD,
        RSS_NFT_RULES,
        RSS_NFT_MAP,
        RSS_RESTORE,
        RSS_LIST_RULES,
        RSS_LIST_MAP,
        RSS_SAVE,
        RSS_ADD_ELEM,
        RSS_ADD_RULE,
        RSS_IPT_A,
    ]
    .iter()
    .map(|l| {
        let mut row = Row::measured(None, *l, w4.get(l));
        row.add_ratio(BASE_RSS_RULES, &rss_rules);
        row.add_ratio(BASE_RSS_RESTORE, &rss_restore);
        row
    })
    .collect();
    let nn = thousands(n);
    Ok([
        Section {
            id: "W2",
            title: format!("add or remove one forward with N = {nn} loaded"),
            method: format!(
                "Each tool family loads {nn} forwards into a fresh namespace (natkeeper: `natkeeper apply`; \
                 nft: `nft -f` rules or map; iptables: `iptables-restore --noflush`), then adds forward \
                 #{nn}+j and removes forward #{}+3j, {} times each per run. The library keeps one `Host` \
                 open (after one untimed apply: its first call after another writer re-reads the kernel) and \
                 times `host.apply(&policy)` with the changed policy (parsed beforehand); the \
                 process gets the changed config file. At the end of every run the forwards in the kernel are \
                 counted with an oracle (`nft -j`, `iptables-save`). Ratio: per round, to `nft add element` \
                 (adds) or `nft delete element` (removes).",
                thousands(n / 2),
                ctx.ops,
            ),
            unit: Unit::Seconds,
            baselines: vec![BASE_ELEM.into()],
            rows: w2_rows,
        },
        Section {
            id: "W3",
            title: format!("read back N = {nn} forwards"),
            method: "Right after the bulk load of W2's namespaces; output to /dev/null.".into(),
            unit: Unit::Seconds,
            baselines: vec![BASE_SAVE.into(), BASE_LIST.into()],
            rows: w3_rows,
        },
        Section {
            id: "W4",
            title: format!("peak RSS of each process at N = {nn}"),
            method: "`/usr/bin/time -f %M` (GNU time: `ru_maxrss` of the child from `wait4`), one sample \
                     per process and run, in W2's namespaces."
                .into(),
            unit: Unit::Mib,
            baselines: vec![BASE_RSS_RULES.into(), BASE_RSS_RESTORE.into()],
            rows: w4_rows,
        },
    ])
}

struct Files {
    toml: PathBuf,
    rules: PathBuf,
    map: PathBuf,
    restore: PathBuf,
}

fn nft(arg: &str) -> Result<f64> {
    timed(&mut cmd("nft", &[arg]))
}

fn natkeeper_trial(ctx: &Ctx, f: &Files, s: &mut Sink<'_>) -> Result<()> {
    let n = ctx.big;
    let nk = &ctx.natkeeper;
    let report = ctx.scratch("time.out");
    let u = exec::usage(nk, &[Path::new("apply"), Path::new("-c"), f.toml.as_path()], &report)?;
    s.w4.record(RSS_NK_APPLY, s.round, u.rss_mib);

    s.w3.record(ST_PROC, s.round, timed(&mut cmd(nk, &["status", "--json"]))?);
    let mut host = Host::open()?;
    let start = Instant::now();
    let status = host.status()?;
    s.w3.record(ST_LIB, s.round, start.elapsed().as_secs_f64());
    if status.forwards.len() != n {
        bail!("natkeeper status shows {} forwards after applying {n}", status.forwards.len());
    }
    s.w4.record(RSS_NK_STATUS, s.round, exec::usage(nk, &["status", "--json"], &report)?.rss_mib);

    let mut set: BTreeSet<usize> = (0..n).collect();
    let mut adds = n;
    let mut dels = n / 2;
    let config = ctx.scratch("changed.toml");
    let opts = Options::default();
    // An agent keeps its `Host`: the first apply after another writer (here the bulk load by the
    // process) re-reads the kernel; the timed ones that follow on the same handle do not need to.
    host.apply(&Policy::parse(&toml(&set)).context("parsing the policy")?, &opts)?;
    for _ in 0..ctx.ops {
        for (label, add) in [(ADD_LIB, true), (DEL_LIB, false)] {
            step(&mut set, &mut adds, &mut dels, add);
            let policy = Policy::parse(&toml(&set)).context("parsing the changed policy")?;
            let start = Instant::now();
            let applied = host.apply(&policy, &opts)?;
            let secs = start.elapsed().as_secs_f64();
            if applied.plan.changes.is_empty() {
                bail!("{label}: the library changed nothing");
            }
            s.w2.record(label, s.round, secs);
        }
    }
    for _ in 0..ctx.ops {
        for (label, add) in [(ADD_PROC, true), (DEL_PROC, false)] {
            step(&mut set, &mut adds, &mut dels, add);
            std::fs::write(&config, toml(&set)).context("writing the changed config")?;
            s.w2.record(label, s.round, timed(cmd(nk, &["apply", "-c"]).arg(&config))?);
        }
    }
    step(&mut set, &mut adds, &mut dels, true);
    std::fs::write(&config, toml(&set)).context("writing the changed config")?;
    let u = exec::usage(nk, &[Path::new("apply"), Path::new("-c"), config.as_path()], &report)?;
    s.w4.record(RSS_NK_ADD, s.round, u.rss_mib);
    expect("natkeeper", count::map_elems("natkeeper", "forwards")?, set.len())
}

fn step(set: &mut BTreeSet<usize>, adds: &mut usize, dels: &mut usize, add: bool) {
    if add {
        set.insert(*adds);
        *adds += 1;
    } else {
        set.remove(dels);
        *dels += 3;
    }
}

fn toml(set: &BTreeSet<usize>) -> String {
    let fwds: Vec<Fwd> = set.iter().map(|&i| Fwd::trial(i)).collect();
    inputs::natkeeper_toml(&fwds)
}

fn expect(what: &str, have: usize, want: usize) -> Result<()> {
    if have != want {
        bail!("{what}: {have} forwards in the kernel at the end of the run, expected {want}");
    }
    Ok(())
}

fn nft_rules_trial(ctx: &Ctx, f: &Files, s: &mut Sink<'_>) -> Result<()> {
    let n = ctx.big;
    let report = ctx.scratch("time.out");
    let u = exec::usage(Path::new("nft"), &[Path::new("-f"), f.rules.as_path()], &report)?;
    s.w4.record(RSS_NFT_RULES, s.round, u.rss_mib);
    s.w3.record(LIST_RULES, s.round, timed(&mut cmd("nft", &["-j", "list", "ruleset"]))?);
    s.w4.record(
        RSS_LIST_RULES,
        s.round,
        exec::usage(Path::new("nft"), &["-j", "list", "ruleset"], &report)?.rss_mib,
    );
    let pre = count::rule_handles("bench", "prerouting")?;
    let fwd = count::rule_handles("bench", "forward")?;
    for j in 0..ctx.ops {
        s.w2.record(ADD_RULE, s.round, nft(&inputs::nft_add_rules(&Fwd::trial(n + j)))?);
        let d = n / 2 + 3 * j;
        let (Some(h1), Some(h2)) = (pre.get(d), fwd.get(d)) else { bail!("no handle for forward #{d}") };
        s.w2.record(DEL_RULE, s.round, nft(&inputs::nft_delete_rules(*h1, *h2))?);
    }
    let add = inputs::nft_add_rules(&Fwd::trial(n + ctx.ops));
    s.w4.record(RSS_ADD_RULE, s.round, exec::usage(Path::new("nft"), &[add.as_str()], &report)?.rss_mib);
    expect("nft rules", count::chain_rules("bench", "prerouting")?, n + 1)
}

fn nft_map_trial(ctx: &Ctx, f: &Files, s: &mut Sink<'_>) -> Result<()> {
    let n = ctx.big;
    let report = ctx.scratch("time.out");
    let u = exec::usage(Path::new("nft"), &[Path::new("-f"), f.map.as_path()], &report)?;
    s.w4.record(RSS_NFT_MAP, s.round, u.rss_mib);
    s.w3.record(LIST_MAP, s.round, timed(&mut cmd("nft", &["-j", "list", "ruleset"]))?);
    s.w4.record(
        RSS_LIST_MAP,
        s.round,
        exec::usage(Path::new("nft"), &["-j", "list", "ruleset"], &report)?.rss_mib,
    );
    for j in 0..ctx.ops {
        s.w2.record(ADD_ELEM, s.round, nft(&inputs::nft_add_elements(&Fwd::trial(n + j)))?);
        s.w2.record(DEL_ELEM, s.round, nft(&inputs::nft_delete_elements(&Fwd::trial(n / 2 + 3 * j)))?);
    }
    let add = inputs::nft_add_elements(&Fwd::trial(n + ctx.ops));
    s.w4.record(RSS_ADD_ELEM, s.round, exec::usage(Path::new("nft"), &[add.as_str()], &report)?.rss_mib);
    expect("nft map", count::map_elems("bench", "fwdmap")?, n + 1)
}

fn ipt_trial(ctx: &Ctx, f: &Files, s: &mut Sink<'_>) -> Result<()> {
    let n = ctx.big;
    let report = ctx.scratch("time.out");
    let u =
        exec::usage(Path::new("iptables-restore"), &[Path::new("--noflush"), f.restore.as_path()], &report)?;
    s.w4.record(RSS_RESTORE, s.round, u.rss_mib);
    s.w3.record(SAVE, s.round, timed(&mut cmd("iptables-save", &[] as &[&str]))?);
    s.w4.record(RSS_SAVE, s.round, exec::usage(Path::new("iptables-save"), &[] as &[&str], &report)?.rss_mib);
    let pair = |fwd: &Fwd, op: &str| -> Result<f64> {
        let mut total = 0.0;
        for args in inputs::ipt_commands(fwd, op) {
            total += timed(&mut cmd("iptables", &args))?;
        }
        Ok(total)
    };
    for j in 0..ctx.ops {
        s.w2.record(ADD_IPT, s.round, pair(&Fwd::trial(n + j), "-A")?);
        s.w2.record(DEL_IPT, s.round, pair(&Fwd::trial(n / 2 + 3 * j), "-D")?);
    }
    let [nat, _] = inputs::ipt_commands(&Fwd::trial(n + ctx.ops), "-A");
    s.w4.record(RSS_IPT_A, s.round, exec::usage(Path::new("iptables"), &nat, &report)?.rss_mib);
    expect("iptables", count::ipt_rules("nat", "PREROUTING")?, n + 1)
}

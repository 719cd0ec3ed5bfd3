//! W1: apply N forwards at once, each run in a fresh host-like namespace — `natkeeper apply`
//! (process) and the library call against `nft -f` (rules), `nft -f` (map + set),
//! `iptables-restore --noflush` and one `iptables -A` process per rule.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context as _, Result, bail};
use natkeeper::{Host, Options, Policy};

use super::exec::{cmd, stdout, timed};
use super::inputs::{self, Fwd};
use super::ns::host_like;
use super::report::{Figure, Row, Section, Unit, thousands};
use super::stats::{Series, Summary};
use super::{Ctx, count};

/// Row and baseline labels.
pub(crate) const NK_PROCESS: &str = "`natkeeper apply -c FILE` (process)";
pub(crate) const NK_LIBRARY: &str = "natkeeper library: `Host::open()?.apply()`";
pub(crate) const NFT_RULES: &str = "`nft -f` (individual rules)";
pub(crate) const NFT_MAP: &str = "`nft -f` (map + set)";
pub(crate) const IPT_RESTORE: &str = "`iptables-restore --noflush`";
pub(crate) const IPT_LOOP: &str = "N × 2 `iptables -A` processes";

/// Baseline column labels of W1.
pub(crate) const BASE_RULES: &str = "nft -f rules";
pub(crate) const BASE_MAP: &str = "nft -f map";
pub(crate) const BASE_RESTORE: &str = "iptables-restore";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tool {
    NkProcess,
    NkLibrary,
    NftRules,
    NftMap,
    IptRestore,
    IptLoop,
}

impl Tool {
    fn label(self) -> &'static str {
        match self {
            Tool::NkProcess => NK_PROCESS,
            Tool::NkLibrary => NK_LIBRARY,
            Tool::NftRules => NFT_RULES,
            Tool::NftMap => NFT_MAP,
            Tool::IptRestore => IPT_RESTORE,
            Tool::IptLoop => IPT_LOOP,
        }
    }
}

/// The input files of one size.
struct Inputs {
    toml: PathBuf,
    rules: PathBuf,
    map: PathBuf,
    restore: PathBuf,
}

impl Inputs {
    fn write(ctx: &Ctx, n: usize, fwds: &[Fwd]) -> Result<(Inputs, Policy)> {
        let toml_text = inputs::natkeeper_toml(fwds);
        let policy = Policy::parse(&toml_text).context("natkeeper rejects the bench's configuration")?;
        let i = Inputs {
            toml: ctx.write(&format!("nk_{n}.toml"), &toml_text)?,
            rules: ctx.write(&format!("nft_rules_{n}.nft"), &inputs::nft_rules(fwds))?,
            map: ctx.write(&format!("nft_map_{n}.nft"), &inputs::nft_map(fwds))?,
            restore: ctx.write(&format!("ipt_{n}.restore"), &inputs::ipt_restore(fwds))?,
        };
        Ok((i, policy))
    }
}

/// Runs W1 for every size of `ctx`.
pub(crate) fn run(ctx: &Ctx) -> Result<Section> {
    let mut rows = Vec::new();
    for &n in &ctx.sizes {
        let fwds: Vec<Fwd> = (0..n).map(Fwd::trial).collect();
        let (inputs, policy) = Inputs::write(ctx, n, &fwds)?;
        let mut tools =
            vec![Tool::NkProcess, Tool::NkLibrary, Tool::NftRules, Tool::NftMap, Tool::IptRestore];
        if n <= ctx.loop_max {
            tools.push(Tool::IptLoop);
        }
        let mut series = vec![Series::default(); tools.len()];
        let mut notes = vec![String::new(); tools.len()];
        eprintln!("bench: W1 N = {} ({} tools × {} runs)", thousands(n), tools.len(), ctx.runs);
        for round in 0..ctx.runs {
            for k in 0..tools.len() {
                let t = (k + round) % tools.len();
                let tool = tools[t];
                ctx.check()?;
                let ns = host_like("w1")?;
                let secs = ns.run(|| trial(ctx, tool, &inputs, &policy, &fwds))?;
                series[t].record(round, secs);
                if round == 0 {
                    let have = ns.run(|| verify(tool))?;
                    if have != n {
                        bail!("W1 {}: {have} forwards in the kernel after applying {n}", tool.label());
                    }
                    notes[t] = format!("verified: {} in the kernel", thousands(have));
                }
                drop(ns);
                ctx.settle()?;
            }
        }
        let base =
            |t: Tool| tools.iter().position(|x| *x == t).map(|i| series[i].clone()).unwrap_or_default();
        let (rules, map, restore) = (base(Tool::NftRules), base(Tool::NftMap), base(Tool::IptRestore));
        for (i, tool) in tools.iter().enumerate() {
            let mut row = Row::measured(Some(n), tool.label(), series[i].clone());
            row.add_ratio(BASE_RULES, &rules);
            row.add_ratio(BASE_MAP, &map);
            row.add_ratio(BASE_RESTORE, &restore);
            row.note = std::mem::take(&mut notes[i]);
            rows.push(row);
        }
    }
    Ok(Section {
        id: "W1",
        title: "apply N forwards at once".into(),
        method: format!(
            "Each run in a fresh namespace set up like a KVM host (`eth0` with {pub}, `virbr0` \
             192.168.122.1/24, ip_forward on). Forward *i*: `{pub}:(10000+i)/tcp` → \
             `192.168.122.(2 + i mod 250):(40000+i)` plus the FORWARD accept it needs (natkeeper: its \
             map; the namespace has no filter rules, so no hole). Whole-process wall time, spawn → \
             reap, stdout to /dev/null; the library call is timed in-process (`Host::open` + `apply` \
             with the policy already parsed; bench binary built with the release profile). \
             Ratios: per-round ratio to the baseline measured in the same round, median [min–max]. \
             `N × 2 iptables -A` is measured up to N = {}; beyond, estimated (see note).",
            thousands(ctx.loop_max),
            pub = super::ns::TRIAL_PUBLIC,
        ),
        unit: Unit::Seconds,
        baselines: vec![BASE_RULES.into(), BASE_MAP.into(), BASE_RESTORE.into()],
        rows,
    })
}

fn trial(ctx: &Ctx, tool: Tool, i: &Inputs, policy: &Policy, fwds: &[Fwd]) -> Result<f64> {
    match tool {
        Tool::NkProcess => timed(cmd(&ctx.natkeeper, &["apply", "-c"]).arg(&i.toml)),
        Tool::NkLibrary => {
            let start = Instant::now();
            let applied = Host::open()?.apply(policy, &Options::default())?;
            let secs = start.elapsed().as_secs_f64();
            if applied.plan.is_empty() && !fwds.is_empty() {
                bail!("the library applied nothing in a fresh namespace");
            }
            Ok(secs)
        }
        Tool::NftRules => timed(cmd("nft", &["-f"]).arg(&i.rules)),
        Tool::NftMap => timed(cmd("nft", &["-f"]).arg(&i.map)),
        Tool::IptRestore => timed(cmd("iptables-restore", &["--noflush"]).arg(&i.restore)),
        Tool::IptLoop => {
            let start = Instant::now();
            for f in fwds {
                for args in inputs::ipt_commands(f, "-A") {
                    // Checked as it goes: a failing `iptables` would make the loop look fast.
                    stdout(&mut cmd("iptables", &args))?;
                }
            }
            Ok(start.elapsed().as_secs_f64())
        }
    }
}

/// How many forwards the kernel holds after `tool` ran (DNAT half), read with an oracle.
fn verify(tool: Tool) -> Result<usize> {
    match tool {
        Tool::NkProcess | Tool::NkLibrary => count::map_elems("natkeeper", "forwards"),
        Tool::NftRules => count::chain_rules("bench", "prerouting"),
        Tool::NftMap => count::map_elems("bench", "fwdmap"),
        Tool::IptRestore | Tool::IptLoop => count::ipt_rules("nat", "PREROUTING"),
    }
}

/// Adds the estimated `N × 2 iptables -A` row at `n` (not measured beyond `loop_max`): the per-call
/// cost grows with the ruleset, so T(N) ≈ N·(c₀ + c_N)/2, with c₀ the per-forward cost of the
/// smallest measured loop with N ≥ 10 and c_N the W2 median of adding one forward (two `iptables -A`)
/// with N loaded — the baseline's "endpoint" estimate.
pub(crate) fn add_loop_estimate(w1: &mut Section, n: usize, c_n: Option<f64>) {
    let c0 = w1
        .rows
        .iter()
        .filter(|r| r.tool == IPT_LOOP && r.n.is_some_and(|m| m >= 10))
        .filter_map(|r| Some((r.n?, r.median()?)))
        .min_by_key(|(m, _)| *m);
    let mut row = Row {
        n: Some(n),
        tool: IPT_LOOP.into(),
        figure: Figure::Missing("not measured".into()),
        ratios: Vec::new(),
        note: "estimated from W2's `iptables -A` figure: run W2 too".into(),
    };
    if let (Some((m, t)), Some(c_n)) = (c0, c_n) {
        let c0 = t / m as f64;
        let est = n as f64 * (c0 + c_n) / 2.0;
        row.figure = Figure::Estimated(est);
        row.note = format!(
            "estimate: N·(c₀+c_N)/2, c₀ = {:.2} ms/forward (loop at N = {}), c_N = {:.2} ms (W2: 2 × iptables -A at N = {})",
            c0 * 1000.0,
            thousands(m),
            c_n * 1000.0,
            thousands(n)
        );
        for (label, tool) in [(BASE_RULES, NFT_RULES), (BASE_MAP, NFT_MAP), (BASE_RESTORE, IPT_RESTORE)] {
            if let Some(b) = w1.row(Some(n), tool).and_then(Row::median) {
                let r = est / b;
                row.ratios.push((label.into(), Summary { runs: 1, median: r, min: r, max: r }));
            }
        }
    }
    let at = w1.rows.iter().rposition(|r| r.n == Some(n)).map_or(w1.rows.len(), |p| p + 1);
    w1.rows.insert(at, row);
}

//! W6: connection setup rate through DNAT with few and many forwards loaded — natkeeper's map against
//! one iptables DNAT rule (and one FORWARD accept) per forward.

use std::net::SocketAddrV4;

use anyhow::{Result, bail};

use super::Ctx;
use super::exec::{cmd, stdout};
use super::inputs::{self, Fwd};
use super::ns::{LAB_PUBLIC, Lab};
use super::report::{Row, Section, Unit, thousands};
use super::stats::Series;
use super::traffic::{Server, connections};

/// Ratio column: time per connection relative to the same tool with few forwards.
pub(crate) const BASE_SMALL: &str = "cost vs few forwards (same tool)";
const BASE_IPT: &str = "rate vs iptables (same N)";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Natkeeper,
    Iptables,
}

/// The label of a W6 row.
pub(crate) fn label(natkeeper: bool, n: usize) -> String {
    if natkeeper {
        format!("natkeeper (map), {} forwards", thousands(n))
    } else {
        format!("iptables DNAT rules, {} forwards", thousands(n))
    }
}

/// Runs W6.
pub(crate) fn run(ctx: &Ctx) -> Result<Section> {
    let (small, big) = ctx.path_sizes;
    let configs =
        [(Kind::Natkeeper, small), (Kind::Natkeeper, big), (Kind::Iptables, small), (Kind::Iptables, big)];
    let mut series = vec![Series::default(); configs.len()];
    eprintln!("bench: W6 data path ({} configurations × {} runs)", configs.len(), ctx.runs);
    for round in 0..ctx.runs {
        for k in 0..configs.len() {
            let c = (k + round) % configs.len();
            ctx.check()?;
            let (kind, n) = configs[c];
            series[c].record(round, trial(ctx, kind, n)?);
            ctx.settle()?;
        }
    }
    let rows = configs
        .iter()
        .enumerate()
        .map(|(i, (kind, n))| {
            let mut row = Row::measured(Some(*n), label(*kind == Kind::Natkeeper, *n), series[i].clone());
            let same_small = if *kind == Kind::Natkeeper { 0 } else { 2 };
            // rate(few) / rate(this) = time per connection here / time per connection with few.
            if let Some(r) = super::stats::ratio(&series[same_small], &series[i]) {
                row.ratios.push((BASE_SMALL.into(), r));
            }
            let ipt = if *n == small { 2 } else { 3 };
            row.add_ratio(BASE_IPT, &series[ipt]);
            row
        })
        .collect();
    Ok(Section {
        id: "W6",
        title: "connection setup rate through DNAT".into(),
        method: format!(
            "A fresh lab per run (host, guest 192.168.122.41, outside client 192.168.1.5). natkeeper: \
             `natkeeper apply` with N forwards `{LAB_PUBLIC}:(10000+i)` → `192.168.122.41:(40000+i)`; \
             iptables: `iptables-restore --noflush` with N DNAT rules in nat PREROUTING and an \
             ESTABLISHED,RELATED accept followed by N accepts in filter FORWARD. The client opens \
             {} connections one after another ({} more as warm-up, untimed) to the forward added last \
             (for a rule list the worst case: every rule is evaluated; a map lookup does not depend on \
             position); each waits for the server's close. Figure: connections per second. \
             `{BASE_SMALL}` = rate with {small} forwards / rate with N, per round.",
            thousands(ctx.conns),
            thousands(ctx.warmup),
        ),
        unit: Unit::PerSecond,
        baselines: vec![BASE_SMALL.into(), BASE_IPT.into()],
        rows,
    })
}

fn trial(ctx: &Ctx, kind: Kind, n: usize) -> Result<f64> {
    let fwds: Vec<Fwd> = (0..n).map(Fwd::lab).collect();
    let Some(probe) = fwds.last().copied() else { bail!("W6 needs at least one forward") };
    let lab = Lab::new()?;
    match kind {
        Kind::Natkeeper => {
            let cfg = ctx.write("w6.toml", &inputs::natkeeper_toml(&fwds))?;
            lab.host.run(|| stdout(cmd(&ctx.natkeeper, &["apply", "-c"]).arg(&cfg)))?;
        }
        Kind::Iptables => {
            let file = ctx.write("w6.restore", &inputs::ipt_restore_stateful(&fwds))?;
            lab.host.run(|| stdout(cmd("iptables-restore", &["--noflush"]).arg(&file)))?;
        }
    }
    let server = Server::start(&lab.guest, probe.guest_port)?;
    let to = SocketAddrV4::new(probe.public, probe.port);
    let secs = lab.outside.run(|| {
        connections(to, ctx.warmup)?;
        connections(to, ctx.conns)
    })?;
    let accepted = server.stop()?;
    let want = (ctx.warmup + ctx.conns) as u64;
    if accepted != want {
        bail!("W6: the guest accepted {accepted} connections, the client opened {want}");
    }
    Ok(ctx.conns as f64 / secs)
}

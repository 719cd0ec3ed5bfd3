//! The targets of issue 8, judged on the figures of the run (never on figures from elsewhere).

use super::Ctx;
use super::apply::{BASE_MAP, BASE_RESTORE, BASE_RULES, NK_LIBRARY, NK_PROCESS};
use super::datapath::{BASE_SMALL, label};
use super::loaded::{
    ADD_LIB, ADD_PROC, BASE_SAVE, DEL_LIB, DEL_PROC, RSS_NK_ADD, RSS_NK_APPLY, RSS_NK_STATUS, SAVE, ST_PROC,
};
use super::repair::LATENCY;
use super::report::{Report, Row, Target, sig, thousands};
use super::stats::Summary;

fn ms(v: f64) -> String {
    format!("{} ms", sig(v * 1000.0))
}

fn ratio_text(r: &Summary) -> String {
    format!("{} [{}–{}]", sig(r.median), sig(r.min), sig(r.max))
}

/// Every target with its verdict.
pub(crate) fn judge(ctx: &Ctx, report: &Report) -> Vec<Target> {
    let at = if ctx.quick { format!(" (--quick: at N = {})", thousands(ctx.big)) } else { String::new() };
    let mut out = Vec::new();
    let row = |id: &str, n: Option<usize>, tool: &str| -> Option<Row> {
        report.section(id).and_then(|s| s.row(n, tool)).cloned()
    };

    // W1 at N = 10,000: natkeeper apply (process) against each bulk loader.
    let n = Some(ctx.big);
    let nk = row("W1", n, NK_PROCESS);
    let lib = row("W1", n, NK_LIBRARY);
    for (base, limit, name) in [
        (BASE_MAP, 0.35, "nft -f with a map"),
        (BASE_RULES, 0.1, "nft -f with rules"),
        (BASE_RESTORE, 0.2, "iptables-restore"),
    ] {
        let goal = format!("apply {} forwards: `natkeeper apply` ≤ {limit} × {name}{at}", thousands(ctx.big));
        let r = nk.as_ref().and_then(|r| r.ratio_to(base));
        let figure = match (&nk, r) {
            (Some(row), Some(r)) => {
                let lib = lib
                    .as_ref()
                    .and_then(|l| l.ratio_to(base))
                    .map(|x| format!("; library call {}", ratio_text(&x)))
                    .unwrap_or_default();
                format!("{} × ({}){lib}", ratio_text(&r), row.median().map(ms).unwrap_or_default())
            }
            _ => "W1 not run".into(),
        };
        out.push(Target { id: "W1", goal, figure, met: r.map(|r| r.median <= limit) });
    }

    // W2: the library call ≤ 1 ms; the process ≤ 0.5 × nft add element.
    let add = row("W2", None, ADD_LIB).and_then(|r| r.median());
    let del = row("W2", None, DEL_LIB).and_then(|r| r.median());
    out.push(Target {
        id: "W2",
        goal: format!("add/remove one forward with {} loaded: library call ≤ 1 ms", thousands(ctx.big)),
        figure: match (add, del) {
            (Some(a), Some(d)) => format!("add {}, remove {} (medians)", ms(a), ms(d)),
            _ => "W2 not run".into(),
        },
        met: add.zip(del).map(|(a, d)| a.max(d) <= 0.001),
    });
    let padd = row("W2", None, ADD_PROC).and_then(|r| r.ratio_to(super::loaded::BASE_ELEM));
    let pdel = row("W2", None, DEL_PROC).and_then(|r| r.ratio_to(super::loaded::BASE_ELEM));
    out.push(Target {
        id: "W2",
        goal: "process ≤ 0.5 × `nft add element` (remove: × `nft delete element`)".into(),
        figure: match (padd, pdel) {
            (Some(a), Some(d)) => format!("add {} ×, remove {} ×", ratio_text(&a), ratio_text(&d)),
            _ => "W2 not run".into(),
        },
        met: padd.zip(pdel).map(|(a, d)| a.median.max(d.median) <= 0.5),
    });

    // W3: status ≤ 0.25 × iptables-save.
    let st = row("W3", None, ST_PROC);
    let r = st.as_ref().and_then(|r| r.ratio_to(BASE_SAVE));
    out.push(Target {
        id: "W3",
        goal: format!("read back {}: `natkeeper status --json` ≤ 0.25 × `iptables-save`", thousands(ctx.big)),
        figure: match (&st, r) {
            (Some(s), Some(r)) => format!(
                "{} × ({} vs {})",
                ratio_text(&r),
                s.median().map(ms).unwrap_or_default(),
                row("W3", None, SAVE).and_then(|x| x.median()).map(ms).unwrap_or_default()
            ),
            _ => "W3 not run".into(),
        },
        met: r.map(|r| r.median <= 0.25),
    });

    // W4: every natkeeper process ≤ 8 MiB.
    let rss: Vec<(&str, f64)> =
        [(RSS_NK_APPLY, "apply"), (RSS_NK_STATUS, "status"), (RSS_NK_ADD, "apply +1")]
            .iter()
            .filter_map(|(l, short)| row("W4", None, l).and_then(|r| r.median()).map(|m| (*short, m)))
            .collect();
    let worst = rss.iter().map(|(_, m)| *m).fold(None, |a: Option<f64>, m| Some(a.map_or(m, |a| a.max(m))));
    out.push(Target {
        id: "W4",
        goal: format!("≤ 8 MiB peak RSS at {}{at}", thousands(ctx.big)),
        figure: if rss.is_empty() {
            "W4 not run".into()
        } else {
            rss.iter().map(|(s, m)| format!("{s} {m:.1} MiB")).collect::<Vec<_>>().join(", ")
        },
        met: worst.map(|w| w <= 8.0),
    });

    // W5: repair median ≤ 50 ms.
    let lat = row("W5", None, LATENCY);
    let s = lat.as_ref().and_then(|r| match &r.figure {
        super::report::Figure::Measured(series) => series.summary(),
        _ => None,
    });
    out.push(Target {
        id: "W5",
        goal: "repair latency median ≤ 50 ms".into(),
        figure: match (&lat, s) {
            (_, Some(s)) => format!("median {}, max {} over {}", ms(s.median), ms(s.max), s.runs),
            (Some(r), None) => match &r.figure {
                super::report::Figure::Missing(why) => why.clone(),
                _ => "no samples".into(),
            },
            (None, None) => "W5 not run".into(),
        },
        met: s.map(|s| s.median <= 0.050),
    });

    // W6: 10,000 forwards cost ≤ 1.1 × 10 forwards for natkeeper.
    let (small, big) = ctx.path_sizes;
    let nk6 = row("W6", Some(big), &label(true, big)).and_then(|r| r.ratio_to(BASE_SMALL));
    let ipt6 = row("W6", Some(big), &label(false, big)).and_then(|r| r.ratio_to(BASE_SMALL));
    out.push(Target {
        id: "W6",
        goal: format!("connection setup with {} forwards costs ≤ 1.1 × with {small}{at}", thousands(big)),
        figure: match nk6 {
            Some(r) => format!(
                "natkeeper {} ×{}",
                ratio_text(&r),
                ipt6.map(|x| format!(" (iptables rules: {} ×)", ratio_text(&x))).unwrap_or_default()
            ),
            None => "W6 not run".into(),
        },
        met: nk6.map(|r| r.median <= 1.1),
    });
    out
}

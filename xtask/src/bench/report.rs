//! The bench's results: one section per workload (rows of figures with their per-round ratios), the
//! issue's targets marked met or not, printed as Markdown tables and written as JSON.

use std::fmt::Write as _;

use serde_json::{Value, json};

use super::stats::{Series, Summary, ratio};

/// What a figure measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unit {
    /// Wall time (stored in seconds, printed in ms).
    Seconds,
    /// Peak RSS in MiB.
    Mib,
    /// Connections per second.
    PerSecond,
}

impl Unit {
    fn name(self) -> &'static str {
        match self {
            Unit::Seconds => "ms",
            Unit::Mib => "MiB",
            Unit::PerSecond => "conn/s",
        }
    }

    fn show(self, v: f64) -> String {
        match self {
            Unit::Seconds => sig(v * 1000.0),
            Unit::Mib => format!("{v:.1}"),
            Unit::PerSecond => format!("{v:.0}"),
        }
    }

    fn json_name(self) -> &'static str {
        match self {
            Unit::Seconds => "s",
            Unit::Mib => "MiB",
            Unit::PerSecond => "1/s",
        }
    }
}

/// Three significant digits, no exponent.
pub(crate) fn sig(v: f64) -> String {
    let a = v.abs();
    if a >= 100.0 {
        format!("{v:.0}")
    } else if a >= 10.0 {
        format!("{v:.1}")
    } else if a >= 1.0 {
        format!("{v:.2}")
    } else if a >= 0.1 {
        format!("{v:.3}")
    } else {
        format!("{v:.4}")
    }
}

/// A figure's value.
#[derive(Debug, Clone)]
pub(crate) enum Figure {
    /// Measured: every sample, by round.
    Measured(Series),
    /// Estimated from other figures (no run of its own), with how.
    Estimated(f64),
    /// Not measured, with why.
    Missing(String),
}

/// One row of a section.
#[derive(Debug, Clone)]
pub(crate) struct Row {
    /// The workload size it was measured at, when the section has several.
    pub(crate) n: Option<usize>,
    /// What ran.
    pub(crate) tool: String,
    /// The figure.
    pub(crate) figure: Figure,
    /// Ratios to the section's baselines, by baseline label.
    pub(crate) ratios: Vec<(String, Summary)>,
    /// A remark (verification, method).
    pub(crate) note: String,
}

impl Row {
    /// A measured row.
    pub(crate) fn measured(n: Option<usize>, tool: impl Into<String>, series: Series) -> Row {
        Row {
            n,
            tool: tool.into(),
            figure: Figure::Measured(series),
            ratios: Vec::new(),
            note: String::new(),
        }
    }

    /// The row's median, when it has one.
    pub(crate) fn median(&self) -> Option<f64> {
        match &self.figure {
            Figure::Measured(s) => s.summary().map(|s| s.median),
            Figure::Estimated(v) => Some(*v),
            Figure::Missing(_) => None,
        }
    }

    /// The row's ratio to `baseline`, when computed.
    pub(crate) fn ratio_to(&self, baseline: &str) -> Option<Summary> {
        self.ratios.iter().find(|(b, _)| b == baseline).map(|(_, s)| *s)
    }

    /// Adds the per-round ratio of this row to `base` under `label`.
    pub(crate) fn add_ratio(&mut self, label: &str, base: &Series) {
        if let Figure::Measured(s) = &self.figure {
            if let Some(r) = ratio(s, base) {
                self.ratios.push((label.to_string(), r));
            }
        }
    }
}

/// One workload's table.
#[derive(Debug, Clone)]
pub(crate) struct Section {
    /// `W1` … `W6`.
    pub(crate) id: &'static str,
    /// Title.
    pub(crate) title: String,
    /// How it was measured (printed under the title).
    pub(crate) method: String,
    /// Unit of every row.
    pub(crate) unit: Unit,
    /// Ratio columns, in order.
    pub(crate) baselines: Vec<String>,
    /// Rows.
    pub(crate) rows: Vec<Row>,
}

impl Section {
    /// The row whose tool is `tool` (at size `n`).
    pub(crate) fn row(&self, n: Option<usize>, tool: &str) -> Option<&Row> {
        self.rows.iter().find(|r| r.n == n && r.tool == tool)
    }
}

/// One of the targets.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    /// Workload.
    pub(crate) id: &'static str,
    /// The target, as the issue states it.
    pub(crate) goal: String,
    /// The figure it is judged on.
    pub(crate) figure: String,
    /// Met, not met, or not measured (`None`).
    pub(crate) met: Option<bool>,
}

/// Everything a run produced.
#[derive(Debug, Clone, Default)]
pub(crate) struct Report {
    /// `(key, value)` lines of the header: date, kernel, CPU, tools, load.
    pub(crate) meta: Vec<(String, String)>,
    /// The sections, in workload order.
    pub(crate) sections: Vec<Section>,
    /// The targets.
    pub(crate) targets: Vec<Target>,
}

impl Report {
    /// The section `id`.
    pub(crate) fn section(&self, id: &str) -> Option<&Section> {
        self.sections.iter().find(|s| s.id == id)
    }

    /// The whole report as Markdown.
    pub(crate) fn markdown(&self) -> String {
        let mut out = String::from("## natkeeper bench\n\n| | |\n|---|---|\n");
        for (k, v) in &self.meta {
            let _ = writeln!(out, "| {k} | {v} |");
        }
        for s in &self.sections {
            let _ = write!(out, "\n### {} — {}\n\n{}\n\n", s.id, s.title, s.method);
            let has_n = s.rows.iter().any(|r| r.n.is_some());
            let mut head = String::from("|");
            let mut rule = String::from("|");
            if has_n {
                head.push_str(" N |");
                rule.push_str("---:|");
            }
            let u = s.unit.name();
            let _ = write!(head, " tool | runs | median {u} | min {u} | max {u} |");
            rule.push_str("---|---:|---:|---:|---:|");
            for b in &s.baselines {
                let _ = write!(head, " × {b} |");
                rule.push_str("---:|");
            }
            head.push_str(" note |");
            rule.push_str("---|");
            let _ = writeln!(out, "{head}\n{rule}");
            for r in &s.rows {
                let mut line = String::from("|");
                if has_n {
                    let _ = write!(line, " {} |", r.n.map(thousands).unwrap_or_default());
                }
                match &r.figure {
                    Figure::Measured(series) => match series.summary() {
                        Some(m) => {
                            let _ = write!(
                                line,
                                " {} | {} | {} | {} | {} |",
                                r.tool,
                                m.runs,
                                s.unit.show(m.median),
                                s.unit.show(m.min),
                                s.unit.show(m.max)
                            );
                        }
                        None => {
                            let _ = write!(line, " {} | 0 | – | – | – |", r.tool);
                        }
                    },
                    Figure::Estimated(v) => {
                        let _ = write!(line, " {} | est. | {} | – | – |", r.tool, s.unit.show(*v));
                    }
                    Figure::Missing(why) => {
                        let _ = write!(line, " {} | 0 | {why} | – | – |", r.tool);
                    }
                }
                for b in &s.baselines {
                    match r.ratio_to(b) {
                        Some(x) if (x.min - x.max).abs() < 1e-12 => {
                            let _ = write!(line, " {} |", sig(x.median));
                        }
                        Some(x) => {
                            let _ = write!(line, " {} [{}–{}] |", sig(x.median), sig(x.min), sig(x.max));
                        }
                        None => line.push_str(" – |"),
                    }
                }
                let _ = writeln!(line, " {} |", r.note);
                out.push_str(&line);
            }
        }
        out.push_str("\n### Targets (issue 8)\n\n| | target | figure | |\n|---|---|---|---|\n");
        for t in &self.targets {
            let verdict = match t.met {
                Some(true) => "**met**",
                Some(false) => "**not met**",
                None => "not measured",
            };
            let _ = writeln!(out, "| {} | {} | {} | {verdict} |", t.id, t.goal, t.figure);
        }
        out
    }

    /// The whole report as JSON (every sample included).
    pub(crate) fn json(&self) -> Value {
        let summary = |s: &Summary| json!({"runs": s.runs, "median": s.median, "min": s.min, "max": s.max});
        let sections: Vec<Value> = self
            .sections
            .iter()
            .map(|s| {
                let rows: Vec<Value> = s
                    .rows
                    .iter()
                    .map(|r| {
                        let (kind, value) = match &r.figure {
                            Figure::Measured(series) => (
                                "measured",
                                json!({
                                    "summary": series.summary().as_ref().map(summary),
                                    "samples": series.samples(),
                                }),
                            ),
                            Figure::Estimated(v) => ("estimated", json!({ "value": v })),
                            Figure::Missing(why) => ("missing", json!({ "reason": why })),
                        };
                        let ratios: serde_json::Map<String, Value> =
                            r.ratios.iter().map(|(b, x)| (b.clone(), summary(x))).collect();
                        json!({
                            "n": r.n, "tool": r.tool, "kind": kind, "value": value,
                            "ratios": ratios, "note": r.note,
                        })
                    })
                    .collect();
                json!({
                    "id": s.id, "title": s.title, "method": s.method, "unit": s.unit.json_name(),
                    "baselines": s.baselines, "rows": rows,
                })
            })
            .collect();
        let targets: Vec<Value> = self
            .targets
            .iter()
            .map(|t| json!({"id": t.id, "target": t.goal, "figure": t.figure, "met": t.met}))
            .collect();
        let meta: serde_json::Map<String, Value> =
            self.meta.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect();
        json!({ "meta": meta, "sections": sections, "targets": targets })
    }
}

/// `10000` → `10,000`.
pub(crate) fn thousands(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_print_readably() {
        assert_eq!(thousands(10000), "10,000");
        assert_eq!(thousands(100), "100");
        assert_eq!(sig(0.41234), "0.412");
        assert_eq!(sig(412.34), "412");
        assert_eq!(Unit::Seconds.show(0.0123), "12.3");
    }
}

//! `cargo xtask bench [--quick] [--json FILE] [--only W1,W2,...]`: natkeeper side by side with `nft`
//! and `iptables`, on the workloads of issue 8 and the baseline
//! (`reference/baseline-bench-2026-11-28.md`), with the targets marked met or not.
//!
//! * Every trial runs in fresh network namespaces made (and deleted) by the bench; never the host's.
//! * Every figure is the median of at least 5 runs, with min and max; every comparison is a ratio
//!   to the baseline tool measured in the same round.
//! * Release builds are measured: `cargo xtask bench` builds `natkeeper` (`-p natkeeper-cli`) and
//!   the bench itself (`-p xtask`) with the release profile — the one natkeeper ships with — and
//!   re-executes as the optimized `xtask`, so the library call is timed optimized, in-process.
//! * `--quick` (CI smoke): N up to 1,000, 5 runs, fewer connections and repairs; under 2 minutes.
//! * Peak RSS is read with GNU time (`/usr/bin/time`, Debian package `time`; installed when missing).

mod apply;
mod count;
mod datapath;
mod exec;
mod inputs;
mod loaded;
mod ns;
mod repair;
mod report;
mod stats;
mod targets;
mod traffic;

use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use signal_hook::consts::{SIGINT, SIGTERM};

use crate::deps;
use report::Report;

const USAGE: &str = "usage: cargo xtask bench [--quick] [--json FILE] [--only W1,W2,W3,W4,W5,W6]";

/// What the bench needs installed (binary, Debian package).
const BENCH_DEPS: &[(&str, &str)] =
    &[("nft", "nftables"), ("iptables", "iptables"), ("ip", "iproute2"), ("time", "time")];

/// The command line.
#[derive(Debug, Default)]
struct Args {
    help: bool,
    quick: bool,
    json: Option<PathBuf>,
    only: Option<Vec<String>>,
}

impl Args {
    fn parse(args: &[String]) -> Result<Args> {
        let mut a = Args::default();
        let mut it = args.iter();
        while let Some(arg) = it.next() {
            match arg.as_str() {
                "--quick" => a.quick = true,
                "--json" => a.json = Some(it.next().context("--json needs a FILE")?.into()),
                "--only" => {
                    let list = it.next().context("--only needs a list such as W1,W3")?;
                    let ws: Vec<String> = list.split(',').map(|w| w.trim().to_uppercase()).collect();
                    if let Some(w) =
                        ws.iter().find(|w| !["W1", "W2", "W3", "W4", "W5", "W6"].contains(&w.as_str()))
                    {
                        bail!("unknown workload `{w}`\n{USAGE}");
                    }
                    a.only = Some(ws);
                }
                "-h" | "--help" => {
                    a.help = true;
                }
                other => bail!("unknown argument `{other}`\n{USAGE}"),
            }
        }
        Ok(a)
    }

    fn wants(&self, w: &str) -> bool {
        self.only.as_ref().is_none_or(|o| o.iter().any(|x| x == w))
    }
}

/// Sizes, repetitions and paths of one run.
#[derive(Debug)]
pub(crate) struct Ctx {
    /// `--quick`.
    quick: bool,
    /// Runs (rounds) per figure.
    runs: usize,
    /// W1 sizes.
    sizes: Vec<usize>,
    /// N of W2–W4.
    big: usize,
    /// Largest N at which `N × iptables -A` is measured (beyond: estimated).
    loop_max: usize,
    /// W2: adds and removes per run and tool.
    ops: usize,
    /// W5: forwards loaded and repairs timed.
    repair_forwards: usize,
    repairs: usize,
    /// W6: the two sizes compared, connections timed and warm-up connections per run.
    path_sizes: (usize, usize),
    conns: usize,
    warmup: usize,
    /// Pause after each trial (namespace teardown is asynchronous kernel work).
    settle: Duration,
    /// The release-built `natkeeper`.
    natkeeper: PathBuf,
    /// The workspace root.
    workspace: PathBuf,
    /// Scratch directory for input files (removed at the end).
    work: PathBuf,
}

impl Ctx {
    fn new(quick: bool, natkeeper: PathBuf, workspace: PathBuf, work: PathBuf) -> Ctx {
        if quick {
            Ctx {
                quick,
                runs: 5,
                sizes: vec![1, 100, 1000],
                big: 1000,
                loop_max: 100,
                ops: 2,
                repair_forwards: 1000,
                repairs: 5,
                path_sizes: (10, 1000),
                conns: 500,
                warmup: 100,
                settle: Duration::from_millis(50),
                natkeeper,
                workspace,
                work,
            }
        } else {
            Ctx {
                quick,
                runs: 7,
                sizes: vec![1, 100, 1000, 10_000],
                big: 10_000,
                loop_max: 1000,
                ops: 3,
                repair_forwards: 1000,
                repairs: 20,
                path_sizes: (10, 10_000),
                conns: 2000,
                warmup: 200,
                settle: Duration::from_millis(200),
                natkeeper,
                workspace,
                work,
            }
        }
    }

    /// Writes `text` to the scratch file `name`; returns its path.
    fn write(&self, name: &str, text: &str) -> Result<PathBuf> {
        let p = self.scratch(name);
        std::fs::write(&p, text).with_context(|| format!("writing {}", p.display()))?;
        Ok(p)
    }

    /// The path of scratch file `name`.
    fn scratch(&self, name: &str) -> PathBuf {
        self.work.join(name)
    }

    /// Fails once Ctrl-C or SIGTERM arrived (the run then unwinds and deletes its namespaces).
    fn check(&self) -> Result<()> {
        if INTERRUPTED.get().is_some_and(|f| f.load(Ordering::Relaxed)) {
            bail!("interrupted");
        }
        Ok(())
    }

    /// Sleeps `d`, failing early when interrupted.
    fn sleep(&self, d: Duration) -> Result<()> {
        let end = Instant::now() + d;
        while Instant::now() < end {
            self.check()?;
            std::thread::sleep((end - Instant::now()).min(Duration::from_millis(50)));
        }
        self.check()
    }

    /// Lets the kernel finish tearing the last namespace down before the next trial.
    fn settle(&self) -> Result<()> {
        self.sleep(self.settle)
    }
}

static INTERRUPTED: OnceLock<Arc<AtomicBool>> = OnceLock::new();
/// Exit status when a second Ctrl-C or SIGTERM arrives before the run has stopped.
const SECOND_SIGNAL_EXIT: i32 = 130;

/// Removes the scratch directory when the run ends, however it ends.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs the bench.
pub(crate) fn run(args: &[String]) -> Result<()> {
    let opts = Args::parse(args)?;
    if opts.help {
        println!("{USAGE}");
        return Ok(());
    }
    let workspace =
        Path::new(env!("CARGO_MANIFEST_DIR")).parent().context("no workspace root")?.to_path_buf();
    if cfg!(debug_assertions) {
        // Measure optimized code only: build both binaries with the release profile and become the
        // optimized bench.
        let bench = build_release(&workspace)?;
        let err = Command::new(&bench).arg("bench").args(args).exec();
        return Err(err).with_context(|| format!("executing {}", bench.display()));
    }
    if !nix::unistd::Uid::effective().is_root() {
        bail!("the bench creates network namespaces and needs root");
    }
    deps::ensure(BENCH_DEPS)?;
    let flag = INTERRUPTED.get_or_init(|| Arc::new(AtomicBool::new(false)));
    for sig in [SIGINT, SIGTERM] {
        // The first signal stops the run at its next check (namespaces are deleted); a second one
        // ends the process at once.
        signal_hook::flag::register_conditional_shutdown(sig, SECOND_SIGNAL_EXIT, Arc::clone(flag))
            .context("installing the signal handler")?;
        signal_hook::flag::register(sig, Arc::clone(flag)).context("installing the signal handler")?;
    }
    let natkeeper = std::env::current_exe().context("locating the bench binary")?.with_file_name("natkeeper");
    if !natkeeper.is_file() {
        bail!("{} is missing: run `cargo xtask bench` (it builds it)", natkeeper.display());
    }
    ns::sweep_stale();
    let work = std::env::temp_dir().join(format!("natkeeper-bench-{}", std::process::id()));
    std::fs::create_dir_all(&work).with_context(|| format!("creating {}", work.display()))?;
    let _scratch = Scratch(work.clone());
    let ctx = Ctx::new(opts.quick, natkeeper, workspace, work);

    let started = Instant::now();
    let mut report = Report { meta: meta(&ctx)?, ..Report::default() };
    let mut w1 = if opts.wants("W1") { Some(apply::run(&ctx)?) } else { None };
    let w234 = if ["W2", "W3", "W4"].iter().any(|w| opts.wants(w)) { Some(loaded::run(&ctx)?) } else { None };
    if let Some(w1) = &mut w1 {
        if ctx.sizes.contains(&ctx.big) && ctx.big > ctx.loop_max {
            let c_n = w234
                .as_ref()
                .and_then(|[w2, _, _]| w2.row(None, loaded::ADD_IPT))
                .and_then(report::Row::median);
            apply::add_loop_estimate(w1, ctx.big, c_n);
        }
    }
    report.sections.extend(w1);
    for s in w234.into_iter().flatten() {
        if opts.wants(s.id) {
            report.sections.push(s);
        }
    }
    if opts.wants("W5") {
        report.sections.push(repair::run(&ctx)?);
    }
    if opts.wants("W6") {
        report.sections.push(datapath::run(&ctx)?);
    }
    report.meta.push(("load average at end".into(), loadavg()));
    report.meta.push(("bench wall time".into(), format!("{:.0} s", started.elapsed().as_secs_f64())));
    report.targets = targets::judge(&ctx, &report);

    print!("{}", report.markdown());
    if let Some(path) = &opts.json {
        let text = serde_json::to_string_pretty(&report.json()).context("encoding JSON")?;
        std::fs::write(path, text + "\n").with_context(|| format!("writing {}", path.display()))?;
        eprintln!("bench: wrote {}", path.display());
    }
    Ok(())
}

/// `cargo build --release -p xtask -p natkeeper-cli`; returns the path of the optimized `xtask`.
fn build_release(workspace: &Path) -> Result<PathBuf> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    eprintln!("bench: building natkeeper and the bench with the release profile");
    let out = Command::new(&cargo)
        .args([
            "build",
            "--release",
            "-p",
            "xtask",
            "-p",
            "natkeeper-cli",
            "--message-format=json-render-diagnostics",
        ])
        .current_dir(workspace)
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| format!("running {cargo}"))?;
    if !out.status.success() {
        bail!("cargo build --release failed ({})", out.status);
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut exes = text
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v.get("executable").and_then(|e| e.as_str()).map(PathBuf::from));
    exes.find(|p| p.file_name().is_some_and(|n| n == "xtask")).context("cargo built no xtask executable")
}

/// The header: date, machine, tools, load.
fn meta(ctx: &Ctx) -> Result<Vec<(String, String)>> {
    let read = |p: &str| std::fs::read_to_string(p).unwrap_or_default();
    let first_line = |c: &mut Command| {
        exec::stdout(c).ok().and_then(|s| s.lines().next().map(str::to_string)).unwrap_or_else(|| "?".into())
    };
    let cpuinfo = read("/proc/cpuinfo");
    let cpu = cpuinfo
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name").and_then(|r| r.split_once(':')).map(|(_, m)| m.trim().to_string())
        })
        .unwrap_or_else(|| "?".into());
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let mem_kib: f64 = read("/proc/meminfo")
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|r| r.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0.0);
    let os = read("/etc/os-release")
        .lines()
        .find_map(|l| l.strip_prefix("PRETTY_NAME=").map(|v| v.trim_matches('"').to_string()))
        .unwrap_or_else(|| "?".into());
    let commit = first_line(Command::new("git").args(["-C"]).arg(&ctx.workspace).args([
        "rev-parse",
        "--short",
        "HEAD",
    ]));
    Ok(vec![
        ("date".into(), first_line(Command::new("date").args(["-u", "+%Y-%m-%d %H:%M:%S UTC"]))),
        ("kernel".into(), read("/proc/sys/kernel/osrelease").trim().to_string()),
        ("CPU".into(), format!("{cpu} × {cpus}")),
        ("memory".into(), format!("{:.1} GiB", mem_kib / 1024.0 / 1024.0)),
        ("OS".into(), os),
        (
            "natkeeper".into(),
            format!(
                "{} (release profile; tree at commit {commit} plus uncommitted changes, if any)",
                first_line(&mut exec::cmd(&ctx.natkeeper, &["--version"]))
            ),
        ),
        ("nft".into(), first_line(&mut exec::cmd("nft", &["--version"]))),
        ("iptables".into(), first_line(&mut exec::cmd("iptables", &["--version"]))),
        (
            "mode".into(),
            format!(
                "{} ({} runs per figure; W1 N = {}; W2–W4 N = {})",
                if ctx.quick { "--quick" } else { "full" },
                ctx.runs,
                ctx.sizes.iter().map(|&n| report::thousands(n)).collect::<Vec<_>>().join(", "),
                report::thousands(ctx.big)
            ),
        ),
        ("load average at start".into(), loadavg()),
    ])
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg").unwrap_or_default().trim().to_string()
}

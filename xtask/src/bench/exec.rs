//! Running the tools under test: whole-process wall time (spawn → reap, as the baseline measured it)
//! and peak RSS through GNU time (`/usr/bin/time`, which reads `ru_maxrss` from `wait4`).
//!
//! Every function here runs its process from the calling thread, so call them inside
//! [`super::ns::Netns::run`]: the process is born in that namespace.

use std::ffi::OsStr;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Instant;

use anyhow::{Context as _, Result, bail};

/// GNU time, for W4's peak RSS.
pub(crate) const GNU_TIME: &str = "/usr/bin/time";

/// A command: `program args...`, stdin from /dev/null.
pub(crate) fn cmd<S: AsRef<OsStr>>(program: impl AsRef<OsStr>, args: &[S]) -> Command {
    let mut c = Command::new(program);
    c.args(args).stdin(Stdio::null());
    c
}

/// Runs `c` with stdout to /dev/null and returns its wall time in seconds; fails, with its stderr,
/// when it does not exit 0.
pub(crate) fn timed(c: &mut Command) -> Result<f64> {
    c.stdout(Stdio::null()).stderr(Stdio::piped());
    let start = Instant::now();
    let child = c.spawn().with_context(|| format!("cannot run {c:?}"))?;
    let out = child.wait_with_output().with_context(|| format!("waiting for {c:?}"))?;
    let secs = start.elapsed().as_secs_f64();
    check(c, &out)?;
    Ok(secs)
}

/// Runs `c` (untimed) and returns its stdout.
pub(crate) fn stdout(c: &mut Command) -> Result<String> {
    let out = c.stderr(Stdio::piped()).output().with_context(|| format!("cannot run {c:?}"))?;
    check(c, &out)?;
    String::from_utf8(out.stdout).with_context(|| format!("{c:?} printed something that is not UTF-8"))
}

fn check(c: &Command, out: &Output) -> Result<()> {
    if !out.status.success() {
        bail!("{c:?} failed ({}): {}", out.status, String::from_utf8_lossy(&out.stderr).trim());
    }
    Ok(())
}

/// What GNU time reports for one process.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Usage {
    /// Peak resident set size, MiB (`ru_maxrss`).
    pub(crate) rss_mib: f64,
}

/// Runs `program args...` under GNU time (stdout to /dev/null) and returns its peak RSS; the
/// report goes to `report` (a scratch file).
pub(crate) fn usage<S: AsRef<OsStr>>(program: &Path, args: &[S], report: &Path) -> Result<Usage> {
    let mut c = Command::new(GNU_TIME);
    c.arg("-f").arg("%M").arg("-o").arg(report).arg(program).args(args).stdin(Stdio::null());
    timed(&mut c)?;
    let text = std::fs::read_to_string(report).with_context(|| format!("reading {}", report.display()))?;
    let kib: f64 = text
        .lines()
        .last()
        .and_then(|l| l.trim().parse().ok())
        .with_context(|| format!("GNU time wrote no maximum RSS: {text:?}"))?;
    Ok(Usage { rss_mib: kib / 1024.0 })
}

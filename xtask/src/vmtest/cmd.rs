//! Running the tools the lab is built with (`ip`, `virsh`, `iptables`, `apt-get`, ...), with errors that
//! say which command failed and what it printed.

use std::ffi::OsStr;
use std::process::{Command, Output, Stdio};

use anyhow::{Context as _, Result, bail};

/// A command for `prog`, with standard input closed.
pub(crate) fn cmd(prog: impl AsRef<OsStr>) -> Command {
    let mut c = Command::new(prog);
    c.stdin(Stdio::null());
    c
}

/// A command for `prog` run inside network namespace `ns` (`ip netns exec NS PROG`).
pub(crate) fn in_ns(ns: &str, prog: impl AsRef<OsStr>) -> Command {
    let mut c = cmd("ip");
    c.args(["netns", "exec", ns]).arg(prog);
    c
}

/// Runs `c` to completion and returns its output, whatever its exit status.
pub(crate) fn output(c: &mut Command) -> Result<Output> {
    c.output().with_context(|| format!("running {}", show(c)))
}

/// Runs `c`, requires exit status 0, and returns its standard output.
pub(crate) fn run(c: &mut Command) -> Result<String> {
    let out = output(c)?;
    if !out.status.success() {
        bail!("{} failed ({}): {}", show(c), out.status, tail(&out));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The command line of `c`, for messages.
pub(crate) fn show(c: &Command) -> String {
    let mut s = c.get_program().to_string_lossy().into_owned();
    for a in c.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}

/// The last lines of what a command printed (standard error, else standard output), on one line.
pub(crate) fn tail(out: &Output) -> String {
    let text = if out.stderr.iter().any(|b| !b.is_ascii_whitespace()) { &out.stderr } else { &out.stdout };
    last_lines(&String::from_utf8_lossy(text), 3)
}

/// The last `n` non-empty lines of `text`, joined with " | ".
pub(crate) fn last_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    lines[lines.len().saturating_sub(n)..].join(" | ")
}

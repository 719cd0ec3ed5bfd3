//! Debian packages the tests need, installed when missing (as root, with `apt-get`).

use std::path::Path;
use std::process::Command;

use anyhow::{Context, bail};

/// Installs each `(binary, package)` whose binary is not on this machine, saying what it installs.
pub(crate) fn ensure(needs: &[(&str, &str)]) -> anyhow::Result<()> {
    let missing: Vec<&str> = needs.iter().filter(|(bin, _)| !have(bin)).map(|(_, pkg)| *pkg).collect();
    if missing.is_empty() {
        return Ok(());
    }
    if !Path::new("/usr/bin/apt-get").exists() {
        bail!("missing packages {missing:?} and no apt-get to install them");
    }
    eprintln!("xtask: installing {}", missing.join(" "));
    run(Command::new("apt-get").args(["update", "-qq"]))?;
    run(Command::new("apt-get")
        .args(["install", "-y", "-qq", "--no-install-recommends"])
        .args(&missing)
        .env("DEBIAN_FRONTEND", "noninteractive"))
}

/// True when `bin` is an executable in a usual system directory or on `PATH`.
pub(crate) fn have(bin: &str) -> bool {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin", "/usr/bin", "/bin"].iter().map(Into::into))
        .any(|d| d.join(bin).is_file())
}

/// Runs a command, failing with its name when it does not succeed.
pub(crate) fn run(cmd: &mut Command) -> anyhow::Result<()> {
    let status = cmd.status().with_context(|| format!("cannot run {cmd:?}"))?;
    if !status.success() {
        bail!("{cmd:?} failed ({status})");
    }
    Ok(())
}

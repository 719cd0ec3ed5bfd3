//! The real `natkeeper` binary under test: built with `cargo build -p natkeeper-cli` before the run,
//! then run inside the lab's host namespace as `natkeeper apply -c FILE` and `natkeeper watch -c FILE`.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::Duration;

use nix::unistd::Pid;

use super::cmd::{cmd, in_ns, last_lines, show};
use super::guest::stop_pid;
use super::paths::Paths;

/// How long `watch` may take to exit after SIGTERM.
const WATCH_STOP_TIMEOUT: Duration = Duration::from_secs(5);

/// The binary, or why there is none.
#[derive(Debug, Clone)]
pub(crate) struct Natkeeper {
    bin: PathBuf,
    build_error: Option<String>,
}

/// Builds natkeeper (debug, or release) into the workspace's target directory.
pub(crate) fn build(paths: &Paths, release: bool) -> Natkeeper {
    let profile = if release { "release" } else { "debug" };
    let bin = paths.target.join(profile).join("natkeeper");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut c = cmd(cargo);
    c.args(["build", "-p", "natkeeper-cli"])
        .current_dir(&paths.workspace)
        .env("CARGO_TARGET_DIR", &paths.target);
    if release {
        c.arg("--release");
    }
    println!("vmtest: {}", show(&c));
    let build_error = match c.status() {
        Ok(s) if s.success() && bin.is_file() => None,
        Ok(s) if s.success() => Some(format!("cargo build succeeded but {} is missing", bin.display())),
        Ok(s) => Some(format!("cargo build -p natkeeper-cli failed ({s})")),
        Err(e) => Some(format!("running cargo: {e}")),
    };
    Natkeeper { bin, build_error }
}

impl Natkeeper {
    /// The binary's path.
    pub(crate) fn bin(&self) -> &Path {
        &self.bin
    }

    /// Why the build failed, if it did.
    pub(crate) fn build_error(&self) -> Option<&str> {
        self.build_error.as_deref()
    }

    /// `natkeeper apply -c CONFIG` in namespace `ns`; requires exit status 0. Output goes to `log`.
    pub(crate) fn apply(&self, ns: &str, config: &Path, log: &Path) -> Result<(), String> {
        if let Some(e) = &self.build_error {
            return Err(e.clone());
        }
        let mut c = in_ns(ns, &self.bin);
        c.arg("apply").arg("-c").arg(config);
        let out = c.output().map_err(|e| format!("running {}: {e}", show(&c)))?;
        let text = format!(
            "$ {}\n{}{}",
            show(&c),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let _ = fs::write(log, &text);
        if out.status.success() {
            Ok(())
        } else {
            Err(format!("`natkeeper apply` exited with {}: {}", out.status, last_lines(&text, 3)))
        }
    }

    /// Starts `natkeeper watch -c CONFIG` in namespace `ns`, output to `log`.
    pub(crate) fn watch(&self, ns: &str, config: &Path, log: &Path) -> Result<Watch, String> {
        if let Some(e) = &self.build_error {
            return Err(e.clone());
        }
        let out = File::create(log).map_err(|e| format!("creating {}: {e}", log.display()))?;
        let err = out.try_clone().map_err(|e| e.to_string())?;
        let mut c = in_ns(ns, &self.bin);
        c.arg("watch").arg("-c").arg(config).stdin(Stdio::null()).stdout(out).stderr(err);
        std::os::unix::process::CommandExt::process_group(&mut c, 0);
        let child = c.spawn().map_err(|e| format!("starting {}: {e}", show(&c)))?;
        Ok(Watch { child, log: log.to_path_buf() })
    }
}

/// A running `natkeeper watch`.
#[derive(Debug)]
pub(crate) struct Watch {
    child: Child,
    log: PathBuf,
}

impl Watch {
    /// Its process id.
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Ok while it runs; otherwise its exit status and last output.
    pub(crate) fn running(&mut self) -> Result<(), String> {
        match self.child.try_wait() {
            Ok(None) => Ok(()),
            Ok(Some(status)) => {
                let text = fs::read_to_string(&self.log).unwrap_or_default();
                Err(format!("`natkeeper watch` exited with {status}: {}", last_lines(&text, 3)))
            }
            Err(e) => Err(format!("checking `natkeeper watch`: {e}")),
        }
    }

    /// Stops it (SIGTERM, then SIGKILL) and reaps it.
    pub(crate) fn stop(mut self) {
        let pid = Pid::from_raw(i32::try_from(self.child.id()).unwrap_or(i32::MAX));
        if matches!(self.child.try_wait(), Ok(None)) {
            if let Err(e) = stop_pid(pid, WATCH_STOP_TIMEOUT) {
                eprintln!("vmtest: warning: {e:#}");
            }
        }
        let _ = self.child.wait();
    }
}

//! Where things are: the workspace, its target directory, the vmtest cache and this run's directory.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};

/// The directories a run works with.
#[derive(Debug, Clone)]
pub(crate) struct Paths {
    /// The cargo workspace (parent of `xtask/`).
    pub(crate) workspace: PathBuf,
    /// The workspace's target directory: `CARGO_TARGET_DIR` if set, else `<workspace>/target`.
    pub(crate) target: PathBuf,
    /// `<target>/vmtest`: everything prepared once and reused (kernel, initramfs, libvirt 11).
    pub(crate) cache: PathBuf,
    /// `<workspace>/vm-tests`: the guest init, scenario configs and fixtures.
    pub(crate) vm_tests: PathBuf,
    /// `<cache>/run-<pid>`: this run's state (libvirt state dirs, consoles, logs).
    pub(crate) run: PathBuf,
}

impl Paths {
    /// Finds the directories and creates the cache and run directories.
    pub(crate) fn discover() -> Result<Paths> {
        let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .context("xtask has no parent directory")?
            .to_path_buf();
        let target = match std::env::var_os("CARGO_TARGET_DIR") {
            Some(dir) if !dir.is_empty() => {
                std::path::absolute(PathBuf::from(dir)).context("resolving CARGO_TARGET_DIR")?
            }
            _ => workspace.join("target"),
        };
        let cache = target.join("vmtest");
        let run = cache.join(format!("run-{}", std::process::id()));
        std::fs::create_dir_all(&run).with_context(|| format!("creating {}", run.display()))?;
        Ok(Paths { vm_tests: workspace.join("vm-tests"), workspace, target, cache, run })
    }
}

//! The guest's initramfs, built here: the static busybox, the guest `init` from `vm-tests/`, and the
//! kernel modules with the order to load them in (`/etc/modules`); written as a newc cpio and
//! compressed with `gzip`. Rebuilt only when one of those inputs changed.

use std::collections::hash_map::DefaultHasher;
use std::fs;
use std::hash::{Hash as _, Hasher as _};
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};

use super::cmd::{cmd, run};
use super::cpio::Cpio;
use super::kernel::GuestKernel;
use super::packages::BUSYBOX;

/// Directories of the guest's root file system.
const DIRS: &[&str] = &["bin", "dev", "etc", "lib", "lib/modules", "proc", "root", "sys", "tmp", "www"];

/// Builds (or reuses) `<cache>/initramfs.gz` and returns its path.
pub(crate) fn build(cache: &Path, vm_tests: &Path, kernel: &GuestKernel) -> Result<PathBuf> {
    let init_path = vm_tests.join("guest-init");
    let init = fs::read(&init_path).with_context(|| format!("reading {}", init_path.display()))?;
    let busybox = fs::read(BUSYBOX).with_context(|| format!("reading {BUSYBOX}"))?;
    let mut modules = Vec::new();
    for (name, file) in &kernel.modules {
        modules.push((name.as_str(), fs::read(file).with_context(|| format!("reading {}", file.display()))?));
    }
    let mut h = DefaultHasher::new();
    (&init, &busybox, &modules).hash(&mut h);
    let key = format!("{:016x}\n", h.finish());

    let out = cache.join("initramfs.gz");
    let key_file = cache.join("initramfs.key");
    if out.is_file() && fs::read_to_string(&key_file).is_ok_and(|k| k == key) {
        return Ok(out);
    }

    let mut c = Cpio::new();
    for d in DIRS {
        c.dir(d, 0o755);
    }
    c.char_dev("dev/console", 0o600, 5, 1);
    c.char_dev("dev/null", 0o666, 1, 3);
    c.file("bin/busybox", 0o755, &busybox);
    c.symlink("bin/sh", "busybox");
    c.file("init", 0o755, &init);
    let mut order = String::new();
    for (name, bytes) in &modules {
        c.file(&format!("lib/modules/{name}.ko"), 0o644, bytes);
        order.push_str(name);
        order.push('\n');
    }
    c.file("etc/modules", 0o644, order.as_bytes());

    let raw = cache.join("initramfs");
    fs::write(&raw, c.finish()).with_context(|| format!("writing {}", raw.display()))?;
    run(cmd("gzip").args(["-n", "-f", "-6"]).arg(&raw))?;
    fs::write(&key_file, key).context("writing the initramfs cache key")?;
    println!(
        "vmtest: built {} ({} modules: {})",
        out.display(),
        modules.len(),
        order.trim().replace('\n', " ")
    );
    Ok(out)
}

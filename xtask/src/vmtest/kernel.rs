//! The guest kernel: Debian's cloud kernel package, downloaded with `apt-get download` and unpacked
//! with `dpkg-deb -x` into the cache, plus the modules the guest needs for its virtio NIC, in
//! dependency order (read from each module's `.modinfo`, as the package ships no `modules.dep`).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};

use super::cmd::{cmd, run};
use super::elf;
use super::packages::Apt;

/// The metapackage that depends on the current cloud kernel.
const META: &str = "linux-image-cloud-amd64";
/// Modules the guest loads (with their dependencies): the virtio PCI transport and the NIC.
const WANTED: &[&str] = &["virtio_pci", "virtio_net"];
/// Marker written once the unpacked kernel is complete; holds the package name.
const READY: &str = "READY";

/// A kernel ready to boot.
#[derive(Debug, Clone)]
pub(crate) struct GuestKernel {
    /// The Debian package it came from (`linux-image-6.1.0-56-cloud-amd64`).
    pub(crate) package: String,
    /// The kernel image.
    pub(crate) vmlinuz: PathBuf,
    /// Modules to load, dependencies first: (module name, file).
    pub(crate) modules: Vec<(String, PathBuf)>,
}

/// Returns the cached kernel, downloading and unpacking it first when the cache has none.
pub(crate) fn prepare(cache: &Path, apt: &mut Apt) -> Result<GuestKernel> {
    let dir = cache.join("kernel");
    let root = dir.join("root");
    let package = match fs::read_to_string(dir.join(READY)) {
        Ok(p) => p.trim().to_string(),
        Err(_) => {
            let package = concrete_package(apt)?;
            println!("vmtest: guest kernel: apt-get download {package}, dpkg-deb -x");
            let _ = fs::remove_dir_all(&dir);
            let debs = apt.download(&dir.join("deb"), std::slice::from_ref(&package))?;
            let deb = debs.first().with_context(|| format!("apt-get download {package} left no .deb"))?;
            run(cmd("dpkg-deb").arg("-x").arg(deb).arg(&root))?;
            fs::remove_dir_all(dir.join("deb")).context("removing the downloaded .deb")?;
            fs::write(dir.join(READY), &package).context("writing the kernel cache marker")?;
            package
        }
    };
    let vmlinuz = first_entry(&root.join("boot"), "vmlinuz-")?;
    let modules_root = first_entry(&root.join("lib/modules"), "")?;
    let modules = resolve_modules(&modules_root, WANTED)?;
    Ok(GuestKernel { package, vmlinuz, modules })
}

/// The versioned package `linux-image-cloud-amd64` depends on.
fn concrete_package(apt: &mut Apt) -> Result<String> {
    let depends = || -> Result<Option<String>> {
        let out = run(cmd("apt-cache").args(["depends", META]))?;
        Ok(out
            .lines()
            .filter_map(|l| l.trim().strip_prefix("Depends: "))
            .find(|p| p.starts_with("linux-image-"))
            .map(str::to_string))
    };
    if let Some(p) = depends().ok().flatten() {
        return Ok(p);
    }
    apt.update()?;
    depends()?.with_context(|| format!("apt-cache depends {META} names no linux-image package"))
}

fn first_entry(dir: &Path, prefix: &str) -> Result<PathBuf> {
    let mut names: Vec<PathBuf> = fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with(prefix)))
        .collect();
    names.sort();
    names.pop().with_context(|| format!("nothing named {prefix}* in {}", dir.display()))
}

/// The modules `wanted` needs, dependencies first. Modules built into the kernel are left out.
fn resolve_modules(modules_root: &Path, wanted: &[&str]) -> Result<Vec<(String, PathBuf)>> {
    let mut files = BTreeMap::new();
    index_modules(&modules_root.join("kernel"), &mut files)?;
    let builtin = fs::read_to_string(modules_root.join("modules.builtin")).unwrap_or_default();
    let builtin: BTreeSet<String> = builtin.lines().filter_map(|l| module_name(Path::new(l))).collect();
    let mut order = Vec::new();
    let mut seen = BTreeSet::new();
    for w in wanted {
        visit(w, &files, &builtin, &mut seen, &mut order, 0)?;
    }
    Ok(order)
}

fn visit(
    name: &str,
    files: &BTreeMap<String, PathBuf>,
    builtin: &BTreeSet<String>,
    seen: &mut BTreeSet<String>,
    order: &mut Vec<(String, PathBuf)>,
    depth: usize,
) -> Result<()> {
    if depth > 32 {
        bail!("module dependencies of {name} are circular");
    }
    if seen.contains(name) || builtin.contains(name) {
        return Ok(());
    }
    let file =
        files.get(name).with_context(|| format!("kernel module {name} is neither built in nor shipped"))?;
    let bytes = fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let info = elf::modinfo(&bytes).with_context(|| format!("reading .modinfo of {}", file.display()))?;
    for (_, deps) in info.iter().filter(|(k, _)| k == "depends") {
        for dep in deps.split(',').filter(|d| !d.is_empty()) {
            visit(&dep.replace('-', "_"), files, builtin, seen, order, depth + 1)?;
        }
    }
    seen.insert(name.to_string());
    order.push((name.to_string(), file.clone()));
    Ok(())
}

fn index_modules(dir: &Path, files: &mut BTreeMap<String, PathBuf>) -> Result<()> {
    for entry in fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            index_modules(&path, files)?;
        } else if let Some(name) = module_name(&path) {
            files.insert(name, path);
        }
    }
    Ok(())
}

/// `kernel/drivers/net/virtio_net.ko` → `virtio_net` (the kernel spells `-` in file names as `_`).
fn module_name(path: &Path) -> Option<String> {
    let file = path.file_name()?.to_str()?;
    let stem = file.strip_suffix(".ko")?;
    Some(stem.replace('-', "_"))
}

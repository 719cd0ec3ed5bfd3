//! Debian prerequisites: finds what is missing and installs it with `apt-get --no-install-recommends`,
//! saying what it installs. `qemu-system-x86` comes from `<codename>-backports` when the installed
//! `qemu-utils` is a backport (the bookworm `qemu-system-common` is broken by it), and the backports
//! source is added when apt has none.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};

use super::cmd::{cmd, run, show};

/// Packages from the release itself.
const PACKAGES: &[&str] = &[
    "libvirt-daemon",
    "libvirt-clients",
    "dnsmasq-base",
    "busybox-static",
    "iproute2",
    "iptables",
    "nftables",
];
/// The emulator; from backports when `qemu-utils` is a backport.
const QEMU: &str = "qemu-system-x86";
/// Programs the run executes, checked after installing.
const PROGRAMS: &[&str] = &[
    "qemu-system-x86_64",
    "libvirtd",
    "virsh",
    "dnsmasq",
    "busybox",
    "ip",
    "bridge",
    "tc",
    "iptables",
    "iptables-save",
    "iptables-restore",
    "nft",
    "unshare",
    "gzip",
    "dpkg-deb",
    "apt-get",
];
/// Where the static busybox of `busybox-static` is installed.
pub(crate) const BUSYBOX: &str = "/bin/busybox";
const SOURCES_DIR: &str = "/etc/apt/sources.list.d";
const SOURCES_LIST: &str = "/etc/apt/sources.list";
const DEBIAN_KEYRING: &str = "/usr/share/keyrings/debian-archive-keyring.gpg";

/// Whether the run can go ahead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Prereqs {
    /// Everything is installed.
    Ready,
    /// Something is missing and cannot be installed; the reason.
    Missing(String),
}

/// `apt-get`, with `apt-get update` run at most once per run.
#[derive(Debug, Default)]
pub(crate) struct Apt {
    updated: bool,
}

impl Apt {
    /// Runs `apt-get update` unless this run already did.
    pub(crate) fn update(&mut self) -> Result<()> {
        if !self.updated {
            println!("vmtest: apt-get update");
            run(cmd("apt-get").args(["-q", "update"]))?;
            self.updated = true;
        }
        Ok(())
    }

    /// `apt-get download` of `packages` (name, `name=version` or `name/release`) into `dir`; returns the
    /// `.deb` files there.
    pub(crate) fn download(&mut self, dir: &Path, packages: &[String]) -> Result<Vec<PathBuf>> {
        fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let mut c = cmd("apt-get");
        // Downloads as root into a directory `_apt` cannot write: say so instead of warning about it.
        c.args(["-q", "-o", "APT::Sandbox::User=root", "download"]).args(packages).current_dir(dir);
        if run(&mut c).is_err() {
            // Stale or missing package lists are the usual cause.
            self.update()?;
            run(&mut c)?;
        }
        let mut debs = Vec::new();
        for entry in fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
            let path = entry?.path();
            if path.extension().is_some_and(|e| e == "deb") {
                debs.push(path);
            }
        }
        debs.sort();
        Ok(debs)
    }

    /// `apt-get install -y --no-install-recommends [-t RELEASE] PACKAGES`, announced on stdout.
    fn install(&mut self, release: Option<&str>, packages: &[&str]) -> Result<()> {
        self.update()?;
        let mut c = cmd("apt-get");
        c.env("DEBIAN_FRONTEND", "noninteractive").args(["-q", "-y", "--no-install-recommends", "install"]);
        if let Some(r) = release {
            c.args(["-t", r]);
        }
        c.args(packages);
        println!("vmtest: installing missing packages: {}", show(&c));
        run(&mut c)?;
        Ok(())
    }
}

/// Makes sure everything the run needs is installed, installing what is missing on Debian.
pub(crate) fn ensure(apt: &mut Apt) -> Result<Prereqs> {
    if !nix::unistd::geteuid().is_root() {
        return Ok(Prereqs::Missing("needs root (network namespaces, libvirtd, taps)".into()));
    }
    if !Path::new("/dev/net/tun").exists() {
        return Ok(Prereqs::Missing("/dev/net/tun is missing: QEMU cannot create its tap".into()));
    }
    if which("dpkg-query").is_some() {
        if let Err(e) = install_missing(apt) {
            return Ok(Prereqs::Missing(format!("cannot install the packages vmtest needs: {e:#}")));
        }
    }
    let missing: Vec<&str> = PROGRAMS.iter().copied().filter(|p| which(p).is_none()).collect();
    if !missing.is_empty() {
        return Ok(Prereqs::Missing(format!("programs not found: {}", missing.join(", "))));
    }
    if !is_static_elf(Path::new(BUSYBOX))? {
        return Ok(Prereqs::Missing(format!("{BUSYBOX} is not statically linked (install busybox-static)")));
    }
    Ok(Prereqs::Ready)
}

fn install_missing(apt: &mut Apt) -> Result<()> {
    let missing: Vec<&str> = PACKAGES.iter().copied().filter(|p| !installed(p)).collect();
    if !missing.is_empty() {
        apt.install(None, &missing)?;
    }
    if !installed(QEMU) {
        let utils = installed_version("qemu-utils");
        if utils.as_deref().is_some_and(|v| v.contains("~bpo")) {
            let codename = codename()?;
            let backports = format!("{codename}-backports");
            ensure_backports_source(apt, &backports)?;
            apt.install(Some(&backports), &[QEMU])?;
        } else {
            apt.install(None, &[QEMU])?;
        }
    }
    Ok(())
}

/// Adds `<codename>-backports` to apt's sources unless a source already names it.
pub(crate) fn ensure_backports_source(apt: &mut Apt, backports: &str) -> Result<()> {
    if backports_configured(backports)? {
        return Ok(());
    }
    let file = Path::new(SOURCES_DIR).join(format!("{backports}.sources"));
    let text = format!(
        "Types: deb\nURIs: http://deb.debian.org/debian\nSuites: {backports}\nComponents: main\nSigned-By: {DEBIAN_KEYRING}\n"
    );
    println!("vmtest: adding apt source {} ({backports}, main)", file.display());
    fs::write(&file, text).with_context(|| format!("writing {}", file.display()))?;
    apt.updated = false;
    apt.update()
}

fn backports_configured(backports: &str) -> Result<bool> {
    let mut files = vec![PathBuf::from(SOURCES_LIST)];
    if let Ok(dir) = fs::read_dir(SOURCES_DIR) {
        for entry in dir {
            let path = entry?.path();
            if path.extension().is_some_and(|e| e == "list" || e == "sources") {
                files.push(path);
            }
        }
    }
    for f in files {
        let Ok(text) = fs::read_to_string(&f) else { continue };
        if sources_name_suite(&text, backports) {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Whether an apt sources file (one-line or deb822 format) has an active entry for `suite`.
fn sources_name_suite(text: &str, suite: &str) -> bool {
    let mut enabled = true;
    for line in text.lines().map(str::trim) {
        if line.is_empty() {
            enabled = true; // a new deb822 stanza
            continue;
        }
        if line.starts_with('#') {
            continue;
        }
        if line.eq_ignore_ascii_case("enabled: no") {
            enabled = false;
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        let one_line = words.first().is_some_and(|w| *w == "deb") && words.contains(&suite);
        let deb822 = line.starts_with("Suites:") && words.contains(&suite);
        if enabled && (one_line || deb822) {
            return true;
        }
    }
    false
}

/// The release codename from /etc/os-release (`bookworm`).
pub(crate) fn codename() -> Result<String> {
    let text = fs::read_to_string("/etc/os-release").context("reading /etc/os-release")?;
    for line in text.lines() {
        if let Some(v) = line.strip_prefix("VERSION_CODENAME=") {
            return Ok(v.trim_matches('"').to_string());
        }
    }
    bail!("/etc/os-release has no VERSION_CODENAME")
}

fn installed(package: &str) -> bool {
    let out = cmd("dpkg-query").args(["-W", "-f", "${db:Status-Status}", package]).output();
    out.is_ok_and(|o| o.status.success() && o.stdout == b"installed")
}

fn installed_version(package: &str) -> Option<String> {
    if !installed(package) {
        return None;
    }
    let o = cmd("dpkg-query").args(["-W", "-f", "${Version}", package]).output().ok()?;
    Some(String::from_utf8_lossy(&o.stdout).into_owned())
}

/// The path of `prog` in `PATH` (plus the sbin directories, which a non-login root shell may lack).
pub(crate) fn which(prog: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/local/sbin", "/usr/sbin", "/sbin", "/usr/bin", "/bin"].map(PathBuf::from))
        .map(|d| d.join(prog))
        .find(|p| p.is_file())
}

/// Whether an ELF file has no program interpreter (`PT_INTERP`), i.e. is statically linked.
fn is_static_elf(path: &Path) -> Result<bool> {
    const PT_INTERP: u32 = 3;
    let bytes = fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let elf = super::elf::Elf64::parse(&bytes).with_context(|| format!("parsing {}", path.display()))?;
    Ok(!elf.program_header_types().contains(&PT_INTERP))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_backports_in_both_source_formats() {
        let deb822 = "Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm bookworm-updates\n\n\
                      Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm-backports\nComponents: main\n";
        assert!(sources_name_suite(deb822, "bookworm-backports"));
        assert!(!sources_name_suite("Suites: bookworm bookworm-updates\n", "bookworm-backports"));
        let disabled = "Enabled: no\nTypes: deb\nSuites: bookworm-backports\n";
        assert!(!sources_name_suite(disabled, "bookworm-backports"));
        assert!(sources_name_suite(
            "deb http://deb.debian.org/debian bookworm-backports main\n",
            "bookworm-backports"
        ));
        assert!(!sources_name_suite(
            "# deb http://deb.debian.org/debian bookworm-backports main\n",
            "bookworm-backports"
        ));
    }
}

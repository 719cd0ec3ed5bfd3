//! Real `libvirtd`, without systemd: only its network driver (through `LIBVIRT_DRIVER_DIR`), in a
//! private mount namespace whose `/run/libvirt`, `/var/lib/libvirt`, `/var/cache/libvirt` and
//! `/etc/libvirt` are bind mounts of this run's state directories, inside the lab's network namespace.
//! Either the system's libvirt (Debian 12: 9.0, iptables backend) or the backports' libvirt (11.x,
//! `apt-get download` + `dpkg-deb -x` into the cache, never installed) with `firewall_backend = "nftables"`.

use std::fs::{self, OpenOptions};
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::Duration;

use anyhow::{Context as _, Result, bail};
use nix::unistd::Pid;

use super::cmd::{cmd, in_ns, output, run, show, tail};
use super::guest::{alive, read_pid, stop_pid};
use super::interrupt;
use super::packages::{self, Apt, which};

/// The network driver, relative to a libdir.
const NETWORK_DRIVER: &str = "libvirt/connection-driver/libvirt_driver_network.so";
/// Debian's multiarch libdir.
const LIBDIR: &str = "usr/lib/x86_64-linux-gnu";
/// The packages of libvirt 11 the network driver needs (from backports, unpacked only).
const BACKPORTS_PACKAGES: &[&str] = &[
    "libvirt0",
    "libvirt-common",
    "libvirt-daemon-common",
    "libvirt-daemon-driver-network",
    "libvirt-daemon",
    "libvirt-clients",
    "libvirt-daemon-log",
];
/// The global state paths libvirtd uses, each replaced by a private bind mount.
const STATE_DIRS: &[(&str, &str)] = &[
    ("run", "/run/libvirt"),
    ("lib", "/var/lib/libvirt"),
    ("cache", "/var/cache/libvirt"),
    ("etc", "/etc/libvirt"),
];
/// How long libvirtd may take to answer after start.
const START_TIMEOUT: Duration = Duration::from_secs(20);
/// How long libvirtd may take to exit after SIGTERM.
const STOP_TIMEOUT: Duration = Duration::from_secs(10);
const READY: &str = "READY";

/// Which libvirt the lab runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flavor {
    /// The system's libvirt with its default (iptables) firewall backend.
    System,
    /// libvirt ≥ 10.4 from backports with `firewall_backend = "nftables"`.
    Nftables,
}

/// A libvirt to run: its programs and where its libraries and driver are.
#[derive(Debug, Clone)]
pub(crate) struct Install {
    /// Which one.
    pub(crate) flavor: Flavor,
    libvirtd: PathBuf,
    virsh: PathBuf,
    driver_dir: PathBuf,
    lib_dir: Option<PathBuf>,
    /// `libvirtd --version`.
    pub(crate) version: String,
}

/// The installed libvirt, with a driver directory holding only the network driver.
pub(crate) fn system(cache: &Path) -> Result<Install> {
    let libvirtd = which("libvirtd").context("libvirtd is not installed")?;
    let virsh = which("virsh").context("virsh is not installed")?;
    let driver = Path::new("/").join(LIBDIR).join(NETWORK_DRIVER);
    let driver_dir = driver_dir(&cache.join("libvirt-drivers/system"), &driver)?;
    finish(Install {
        flavor: Flavor::System,
        libvirtd,
        virsh,
        driver_dir,
        lib_dir: None,
        version: String::new(),
    })
}

/// libvirt from `<codename>-backports`, unpacked into the cache (downloaded on first use).
pub(crate) fn backports(cache: &Path, apt: &mut Apt) -> Result<Install> {
    let dir = cache.join("libvirt-backports");
    let root = dir.join("root");
    if !dir.join(READY).is_file() {
        let suite = format!("{}-backports", packages::codename()?);
        packages::ensure_backports_source(apt, &suite)?;
        let _ = fs::remove_dir_all(&dir);
        let wanted: Vec<String> = BACKPORTS_PACKAGES.iter().map(|p| format!("{p}/{suite}")).collect();
        println!(
            "vmtest: libvirt from {suite}: apt-get download + dpkg-deb -x into {} (not installed)",
            root.display()
        );
        let debs = apt.download(&dir.join("deb"), &wanted)?;
        for deb in &debs {
            run(cmd("dpkg-deb").arg("-x").arg(deb).arg(&root))?;
        }
        let names: Vec<String> =
            debs.iter().filter_map(|d| d.file_name().map(|n| n.to_string_lossy().into_owned())).collect();
        fs::remove_dir_all(dir.join("deb")).context("removing the downloaded .debs")?;
        fs::write(dir.join(READY), names.join("\n")).context("writing the libvirt cache marker")?;
    }
    let lib_dir = root.join(LIBDIR);
    let driver_dir = driver_dir(&cache.join("libvirt-drivers/backports"), &lib_dir.join(NETWORK_DRIVER))?;
    finish(Install {
        flavor: Flavor::Nftables,
        libvirtd: root.join("usr/sbin/libvirtd"),
        virsh: root.join("usr/bin/virsh"),
        driver_dir,
        lib_dir: Some(lib_dir),
        version: String::new(),
    })
}

fn finish(mut install: Install) -> Result<Install> {
    let mut c = cmd(&install.libvirtd);
    c.arg("--version");
    if let Some(lib) = &install.lib_dir {
        c.env("LD_LIBRARY_PATH", lib);
    }
    install.version = run(&mut c)?.trim().to_string();
    Ok(install)
}

/// A directory with one symlink, to `driver`: libvirtd then loads no other driver (the QEMU driver
/// would need the `libvirt-qemu` user that only libvirt-daemon-system creates).
fn driver_dir(dir: &Path, driver: &Path) -> Result<PathBuf> {
    if !driver.is_file() {
        bail!("{} is missing", driver.display());
    }
    fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let link = dir.join("libvirt_driver_network.so");
    let _ = fs::remove_file(&link);
    std::os::unix::fs::symlink(driver, &link).with_context(|| format!("linking {}", link.display()))?;
    Ok(dir.to_path_buf())
}

/// Whether the kernel has `act_csum`, which libvirt's nftables backend needs for its DHCP checksum
/// `tc` filter. Probed on a scratch veth inside namespace `ns`.
pub(crate) fn kernel_has_act_csum(ns: &str) -> Result<bool> {
    run(in_ns(ns, "ip").args(["link", "add", "nkcsum0", "type", "veth", "peer", "name", "nkcsum1"]))?;
    let result = (|| -> Result<bool> {
        run(in_ns(ns, "tc").args(["qdisc", "add", "dev", "nkcsum0", "root", "handle", "1:", "htb"]))?;
        let out = output(in_ns(ns, "tc").args([
            "filter", "add", "dev", "nkcsum0", "parent", "1:", "prio", "2", "protocol", "ip", "u32", "match",
            "ip", "dport", "68", "ffff", "action", "csum", "ip", "and", "udp",
        ]))?;
        Ok(out.status.success())
    })();
    run(in_ns(ns, "ip").args(["link", "del", "nkcsum0"]))?;
    result
}

/// Writes `<dir>/tc`: runs the real `tc` and turns only a failing `action csum` into success, for
/// kernels without `act_csum`. Returns `dir`, to put first in libvirtd's `PATH`.
pub(crate) fn write_tc_shim(dir: &Path) -> Result<PathBuf> {
    let real = which("tc").context("tc is not installed")?;
    fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let shim = dir.join("tc");
    let text = format!(
        "#!/bin/sh\n\
         # vmtest tc shim: this kernel lacks act_csum (CONFIG_NET_ACT_CSUM), which libvirt's nftables\n\
         # backend uses for the DHCP checksum filter on its bridge. Only that failure is ignored.\n\
         {real} \"$@\" && exit 0\n\
         rc=$?\n\
         case \" $* \" in *\" action csum \"*) echo \"tc-shim: ignoring failure ($rc) of: tc $*\" >&2; exit 0;; esac\n\
         exit $rc\n",
        real = real.display()
    );
    fs::write(&shim, text).with_context(|| format!("writing {}", shim.display()))?;
    fs::set_permissions(&shim, fs::Permissions::from_mode(0o755)).context("chmod the tc shim")?;
    Ok(dir.to_path_buf())
}

/// A libvirtd for one lab.
#[derive(Debug)]
pub(crate) struct Daemon {
    install: Install,
    ns: String,
    state: PathBuf,
    path_prefix: Option<PathBuf>,
    child: Option<Child>,
}

impl Daemon {
    /// Prepares the state directories and configuration of a libvirtd in namespace `ns`. With
    /// `path_prefix`, that directory comes first in its `PATH` (the `tc` shim).
    pub(crate) fn new(
        install: &Install,
        ns: &str,
        state: &Path,
        path_prefix: Option<PathBuf>,
    ) -> Result<Daemon> {
        for (sub, _) in STATE_DIRS {
            fs::create_dir_all(state.join(sub))
                .with_context(|| format!("creating {}", state.join(sub).display()))?;
        }
        let conf = format!(
            "log_filters=\"1:network 1:util.firewall 1:util.command 3:*\"\n\
             log_outputs=\"1:file:{s}/libvirtd-debug.log 3:file:{s}/libvirtd.log\"\n",
            s = state.display()
        );
        fs::write(state.join("libvirtd.conf"), conf).context("writing libvirtd.conf")?;
        if install.flavor == Flavor::Nftables {
            fs::write(state.join("etc/network.conf"), "firewall_backend = \"nftables\"\n")
                .context("writing network.conf")?;
        }
        Ok(Daemon {
            install: install.clone(),
            ns: ns.to_string(),
            state: state.to_path_buf(),
            path_prefix,
            child: None,
        })
    }

    /// The client URI (a socket path, so `virsh` works from any network namespace).
    pub(crate) fn uri(&self) -> String {
        format!("network:///system?socket={}/run/libvirt-sock", self.state.display())
    }

    /// How to run virsh against this daemon by hand.
    pub(crate) fn virsh_hint(&self) -> String {
        let env = self
            .install
            .lib_dir
            .as_ref()
            .map(|l| format!("LD_LIBRARY_PATH={} ", l.display()))
            .unwrap_or_default();
        format!("{env}{} -c '{}'", self.install.virsh.display(), self.uri())
    }

    /// The pid of libvirtd, from its pidfile.
    pub(crate) fn pid(&self) -> Option<Pid> {
        read_pid(&self.state.join("libvirtd.pid")).ok()
    }

    /// The pid of the network's dnsmasq, from libvirt's pidfile.
    pub(crate) fn dnsmasq_pid(&self) -> Option<Pid> {
        read_pid(&self.state.join("run/network/default.pid")).ok()
    }

    /// Starts libvirtd and waits until it answers.
    pub(crate) fn start(&mut self) -> Result<()> {
        for (_, global) in STATE_DIRS {
            // The mount points; libvirt-daemon creates all but /run/libvirt.
            fs::create_dir_all(global).with_context(|| format!("creating mount point {global}"))?;
        }
        let s = self.state.clone();
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(s.join("libvirtd.out"))
            .context("opening libvirtd.out")?;
        let mut c = in_ns(&self.ns, "unshare");
        c.args(["-m", "--propagation", "private", "sh", "-c"])
            .arg(
                "mount --bind \"$1\" /run/libvirt && mount --bind \"$2\" /var/lib/libvirt && \
                 mount --bind \"$3\" /var/cache/libvirt && mount --bind \"$4\" /etc/libvirt && \
                 exec \"$5\" -f \"$6\" -p \"$7\"",
            )
            .arg("sh")
            .args(STATE_DIRS.iter().map(|(sub, _)| s.join(sub)))
            .arg(&self.install.libvirtd)
            .arg(s.join("libvirtd.conf"))
            .arg(s.join("libvirtd.pid"))
            .env("LIBVIRT_DRIVER_DIR", &self.install.driver_dir)
            .stdin(Stdio::null())
            .stdout(log.try_clone().context("libvirtd log")?)
            .stderr(log);
        if let Some(lib) = &self.install.lib_dir {
            c.env("LD_LIBRARY_PATH", lib);
        }
        if let Some(prefix) = &self.path_prefix {
            let path = std::env::var_os("PATH").unwrap_or_default();
            let joined =
                std::env::join_paths(std::iter::once(prefix.clone()).chain(std::env::split_paths(&path)))
                    .context("building libvirtd's PATH")?;
            c.env("PATH", joined);
        }
        std::os::unix::process::CommandExt::process_group(&mut c, 0);
        let child = c.spawn().with_context(|| format!("starting {}", show(&c)))?;
        self.child = Some(child);
        let up = interrupt::poll(START_TIMEOUT, Duration::from_millis(50), || {
            if let Some(Ok(Some(status))) = self.child.as_mut().map(Child::try_wait) {
                return Some(Err(status));
            }
            self.virsh(&["net-list", "--all"]).ok().map(|_| Ok(()))
        })?;
        match up {
            Some(Ok(())) => Ok(()),
            Some(Err(status)) => {
                let text = fs::read_to_string(s.join("libvirtd.out")).unwrap_or_default();
                bail!("libvirtd exited ({status}): {}", super::cmd::last_lines(&text, 3))
            }
            None => bail!("libvirtd did not answer within {}s", START_TIMEOUT.as_secs()),
        }
    }

    /// Stops libvirtd (SIGTERM; the network, its bridge and dnsmasq stay up, as with systemd).
    pub(crate) fn stop(&mut self) -> Result<()> {
        let pid = self
            .pid()
            .or_else(|| self.child.as_ref().and_then(|c| i32::try_from(c.id()).ok().map(Pid::from_raw)));
        if let Some(pid) = pid {
            stop_pid(pid, STOP_TIMEOUT).context("stopping libvirtd")?;
        }
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        Ok(())
    }

    /// Stops and starts libvirtd.
    pub(crate) fn restart(&mut self) -> Result<()> {
        self.stop()?;
        self.start()
    }

    /// Whether libvirtd is running.
    pub(crate) fn running(&self) -> bool {
        self.pid().is_some_and(alive)
    }

    /// Runs `virsh -q -c URI ARGS`; returns its standard output.
    pub(crate) fn virsh(&self, args: &[&str]) -> Result<String> {
        let mut c = cmd(&self.install.virsh);
        c.args(["-q", "-c", &self.uri()]).args(args);
        if let Some(lib) = &self.install.lib_dir {
            c.env("LD_LIBRARY_PATH", lib);
        }
        let out = output(&mut c)?;
        if !out.status.success() {
            bail!("virsh {} failed: {}", args.join(" "), tail(&out));
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// The daemon's own log file, for messages.
    pub(crate) fn log_file(&self) -> PathBuf {
        self.state.join("libvirtd.log")
    }
}

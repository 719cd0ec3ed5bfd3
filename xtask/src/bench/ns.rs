//! Network namespaces made by the bench: one fresh namespace per trial (deleted when dropped), the
//! host-like setup every apply trial starts from, and the article's lab for traffic.
//!
//! Namespaces are named `nkb<pid>-<n>-<tag>` under `/run/netns`; a run that was killed leaves some
//! behind, and the next run deletes those whose process is gone ([`sweep_stale`]). Code runs inside
//! a namespace on a thread of its own that has entered it; a process spawned from that thread is
//! born inside it. The bench's own threads never leave the namespace they started in.

use std::fs::File;
use std::io::Write as _;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::{Context as _, Result, anyhow, bail};
use nix::sched::{CloneFlags, setns};

const NETNS_DIR: &str = "/run/netns";
const PREFIX: &str = "nkb";

static NEXT: AtomicUsize = AtomicUsize::new(0);

/// A network namespace created by the bench; deleted on drop.
#[derive(Debug)]
pub(crate) struct Netns {
    name: String,
    file: File,
}

impl Netns {
    /// Creates a fresh namespace with `lo` up.
    pub(crate) fn new(tag: &str) -> Result<Netns> {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let mut name = format!("{PREFIX}{}-{n}-{tag}", std::process::id());
        name.truncate(30);
        run_ok(Command::new("ip").args(["netns", "add", &name]))?;
        let file = match File::open(format!("{NETNS_DIR}/{name}")) {
            Ok(f) => f,
            Err(e) => {
                let _ = Command::new("ip").args(["netns", "del", &name]).status();
                return Err(e).with_context(|| format!("opening namespace {name}"));
            }
        };
        let ns = Netns { name, file };
        ns.ip_batch("link set lo up\n")?;
        Ok(ns)
    }

    /// The namespace's name, as `ip netns` knows it.
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// Runs `f` on a new thread that has entered this namespace, and returns its result.
    pub(crate) fn run<T: Send>(&self, f: impl FnOnce() -> Result<T> + Send) -> Result<T> {
        std::thread::scope(|s| {
            s.spawn(|| {
                self.enter()?;
                f()
            })
            .join()
            .map_err(|_| anyhow!("a thread in namespace {} panicked", self.name))?
        })
    }

    /// A handle that can run code in this namespace from elsewhere (it keeps the namespace alive,
    /// but not its name: the namespace is still deleted when this [`Netns`] is dropped).
    pub(crate) fn handle(&self) -> Result<NsHandle> {
        let file = self.file.try_clone().context("dup of the namespace's fd")?;
        Ok(NsHandle { name: self.name.clone(), file })
    }

    fn enter(&self) -> Result<()> {
        setns(&self.file, CloneFlags::CLONE_NEWNET)
            .with_context(|| format!("entering namespace {}", self.name))
    }

    /// Runs `ip -n NAME -batch -` with `script` (one `ip` command per line).
    pub(crate) fn ip_batch(&self, script: &str) -> Result<()> {
        let mut child = Command::new("ip")
            .args(["-n", &self.name, "-batch", "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .context("running ip")?;
        if let Some(mut stdin) = child.stdin.take() {
            stdin.write_all(script.as_bytes()).context("writing to ip -batch")?;
        }
        let out = child.wait_with_output().context("waiting for ip")?;
        if !out.status.success() {
            bail!(
                "ip -n {} -batch failed ({}): {}\nscript:\n{script}",
                self.name,
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        Ok(())
    }

    /// Writes `value` to `/proc/sys/<key with dots as slashes>` inside the namespace.
    pub(crate) fn sysctl(&self, key: &str, value: &str) -> Result<()> {
        let path = format!("/proc/sys/{}", key.replace('.', "/"));
        self.run(|| std::fs::write(&path, value).with_context(|| format!("writing {path}")))
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

/// A namespace's file descriptor, to run code in it ([`Netns::handle`]).
#[derive(Debug)]
pub(crate) struct NsHandle {
    name: String,
    file: File,
}

impl NsHandle {
    /// Starts `f` on a detached thread that has entered the namespace (a listener that outlives
    /// the call).
    pub(crate) fn spawn<T: Send + 'static>(
        self,
        f: impl FnOnce() -> Result<T> + Send + 'static,
    ) -> std::thread::JoinHandle<Result<T>> {
        std::thread::spawn(move || {
            setns(&self.file, CloneFlags::CLONE_NEWNET)
                .with_context(|| format!("entering namespace {}", self.name))?;
            f()
        })
    }

    /// Runs `f` on a new thread that has entered the namespace, and returns its result.
    pub(crate) fn run<T: Send>(&self, f: impl FnOnce() -> Result<T> + Send) -> Result<T> {
        std::thread::scope(|s| {
            s.spawn(|| {
                setns(&self.file, CloneFlags::CLONE_NEWNET)
                    .with_context(|| format!("entering namespace {}", self.name))?;
                f()
            })
            .join()
            .map_err(|_| anyhow!("a thread in namespace {} panicked", self.name))?
        })
    }
}

/// The public address of the host in the apply trials (W1–W4).
pub(crate) const TRIAL_PUBLIC: &str = "203.0.113.10";

/// A namespace set up like a KVM host before anything is forwarded: an uplink `eth0` with the public
/// address (a veth, since this kernel has no `dummy` driver), libvirt's bridge `virbr0` with
/// 192.168.122.1/24, and `ip_forward` on (libvirt turns it on). Every tool starts from this.
pub(crate) fn host_like(tag: &str) -> Result<Netns> {
    let ns = Netns::new(tag)?;
    ns.ip_batch(&format!(
        "link add eth0 type veth peer name eth0p\n\
         link set eth0p up\n\
         addr add {TRIAL_PUBLIC}/24 dev eth0\n\
         link set eth0 up\n\
         link add virbr0 type bridge stp_state 0 forward_delay 0\n\
         addr add 192.168.122.1/24 dev virbr0\n\
         link set virbr0 up\n"
    ))?;
    ns.sysctl("net.ipv4.ip_forward", "1")?;
    Ok(ns)
}

/// The lab's public address of the host (on `eth0`, facing the outside client).
pub(crate) const LAB_PUBLIC: &str = "192.168.1.201";
/// The lab's guest address.
pub(crate) const LAB_GUEST: &str = "192.168.122.41";

/// The article's lab, reduced to what traffic needs: the host (bridge `virbr0` 192.168.122.1/24,
/// `eth0` 192.168.1.201/24), one guest (192.168.122.41 on `vnet0`, default route via the host)
/// and the outside client (192.168.1.5 on the other end of `eth0`).
#[derive(Debug)]
pub(crate) struct Lab {
    /// The KVM host.
    pub(crate) host: Netns,
    /// The client on the LAN.
    pub(crate) outside: Netns,
    /// The guest.
    pub(crate) guest: Netns,
}

impl Lab {
    /// Builds the lab in three fresh namespaces.
    pub(crate) fn new() -> Result<Lab> {
        let host = Netns::new("host")?;
        let outside = Netns::new("out")?;
        let guest = Netns::new("g41")?;
        host.ip_batch(&format!(
            "link add virbr0 type bridge stp_state 0 forward_delay 0\n\
             addr add 192.168.122.1/24 brd 192.168.122.255 dev virbr0\n\
             link set virbr0 up\n\
             link add eth0 type veth peer name eth0 netns {out}\n\
             addr add {LAB_PUBLIC}/24 brd 192.168.1.255 dev eth0\n\
             link set eth0 up\n\
             link add vnet0 type veth peer name eth0 netns {guest}\n\
             link set vnet0 master virbr0\n\
             link set vnet0 up\n",
            out = outside.name(),
            guest = guest.name(),
        ))?;
        host.sysctl("net.ipv4.ip_forward", "1")?;
        outside.ip_batch("addr add 192.168.1.5/24 dev eth0\nlink set eth0 up\n")?;
        guest.ip_batch(&format!(
            "addr add {LAB_GUEST}/24 dev eth0\nlink set eth0 up\nroute add default via 192.168.122.1\n"
        ))?;
        Ok(Lab { host, outside, guest })
    }
}

/// Deletes the namespaces of earlier bench runs whose process is gone (a run killed by SIGKILL).
pub(crate) fn sweep_stale() {
    let Ok(entries) = std::fs::read_dir(NETNS_DIR) else { return };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(pid) = name.strip_prefix(PREFIX).and_then(|r| r.split('-').next()) else { continue };
        if pid.parse::<u32>().is_err() || std::path::Path::new(&format!("/proc/{pid}")).exists() {
            continue;
        }
        eprintln!("bench: deleting namespace {name} left by an earlier run (pid {pid} is gone)");
        let _ = Command::new("ip").args(["netns", "del", &name]).status();
    }
}

fn run_ok(cmd: &mut Command) -> Result<()> {
    let out = cmd.output().with_context(|| format!("running {cmd:?}"))?;
    if !out.status.success() {
        bail!("{cmd:?} failed ({}): {}", out.status, String::from_utf8_lossy(&out.stderr).trim());
    }
    Ok(())
}

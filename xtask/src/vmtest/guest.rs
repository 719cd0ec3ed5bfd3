//! QEMU guests: a daemonized `qemu-system-x86_64` per guest inside the lab's host namespace, with a
//! tap for libvirt's bridge, the console (ttyS0) in a file and a command channel on ttyS1 through a
//! pair of FIFOs (`-chardev pipe`). Also the accelerator probe.

use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Read as _, Write as _};
use std::net::Ipv4Addr;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use nix::fcntl::OFlag;
use nix::sys::signal::{Signal, kill};
use nix::sys::stat::Mode;
use nix::unistd::{Pid, mkfifo};

use super::cmd::{cmd, in_ns, last_lines, output, tail};
use super::interrupt;
use super::options::AccelChoice;

/// How long a probe guest may take to print VM-READY under KVM.
const PROBE_TIMEOUT: Duration = Duration::from_secs(8);
/// Guest memory, MiB.
const MEMORY_MIB: &str = "128";
/// How long a guest may take to stop after SIGTERM before it gets SIGKILL.
const STOP_TIMEOUT: Duration = Duration::from_secs(5);

/// The accelerator guests run under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Accel {
    /// Hardware virtualization.
    Kvm,
    /// Software emulation.
    Tcg,
}

impl Accel {
    fn qemu_args(self) -> &'static [&'static str] {
        match self {
            Accel::Kvm => &["-accel", "kvm", "-cpu", "host"],
            Accel::Tcg => &["-accel", "tcg"],
        }
    }

    /// `kvm` or `tcg`.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Accel::Kvm => "kvm",
            Accel::Tcg => "tcg",
        }
    }
}

/// What a guest boots: the kernel and the initramfs.
#[derive(Debug, Clone)]
pub(crate) struct Image {
    /// The kernel.
    pub(crate) kernel: PathBuf,
    /// The initramfs with the guest init.
    pub(crate) initramfs: PathBuf,
}

/// One guest of the lab.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct GuestSpec {
    /// Short name (`g41`), used for files and messages.
    pub(crate) name: &'static str,
    /// Its static address on virbr0's network (/24).
    pub(crate) ip: Ipv4Addr,
    /// Its tap device on the host side.
    pub(crate) tap: &'static str,
}

impl GuestSpec {
    fn mac(&self) -> String {
        format!("52:54:00:00:00:{:02x}", self.ip.octets()[3])
    }
}

/// Chooses the accelerator: KVM only when asked for, or (auto) when a probe guest boots under it.
/// Returns the choice and why.
pub(crate) fn choose_accel(choice: AccelChoice, image: &Image, dir: &Path) -> Result<(Accel, String)> {
    match choice {
        AccelChoice::Kvm => Ok((Accel::Kvm, "--accel kvm".into())),
        AccelChoice::Tcg => Ok((Accel::Tcg, "--accel tcg".into())),
        AccelChoice::Auto if !Path::new("/dev/kvm").exists() => Ok((Accel::Tcg, "no /dev/kvm".into())),
        AccelChoice::Auto => match probe_kvm(image, dir)? {
            Ok(took) => Ok((Accel::Kvm, format!("a KVM probe guest booted in {:.2}s", took.as_secs_f64()))),
            Err(why) => Ok((Accel::Tcg, format!("KVM probe failed: {why}"))),
        },
    }
}

/// Boots a network-less guest under KVM and waits for its VM-READY. `Ok(Err(why))` when it did not boot.
fn probe_kvm(image: &Image, dir: &Path) -> Result<Result<Duration, String>> {
    let console = dir.join("kvm-probe.console");
    let _ = fs::remove_file(&console);
    let start = Instant::now();
    let mut c = cmd("qemu-system-x86_64");
    c.args(Accel::Kvm.qemu_args())
        .args([
            "-m",
            MEMORY_MIB,
            "-smp",
            "1",
            "-nodefaults",
            "-no-user-config",
            "-display",
            "none",
            "-no-reboot",
        ])
        .arg("-kernel")
        .arg(&image.kernel)
        .arg("-initrd")
        .arg(&image.initramfs)
        .args(["-append", "console=ttyS0 quiet panic=-1 vmprobe", "-serial"])
        .arg(format!("file:{}", console.display()))
        .stdout(Stdio::null())
        .stderr(File::create(dir.join("kvm-probe.log")).context("creating the probe log")?);
    std::os::unix::process::CommandExt::process_group(&mut c, 0);
    let mut child = c.spawn().context("starting the KVM probe guest")?;
    let result = interrupt::poll(PROBE_TIMEOUT, Duration::from_millis(50), || {
        if fs::read_to_string(&console).is_ok_and(|t| t.contains("VM-READY probe")) {
            return Some(Ok(start.elapsed()));
        }
        match child.try_wait() {
            Ok(Some(status)) => {
                let log = fs::read_to_string(dir.join("kvm-probe.log")).unwrap_or_default();
                Some(Err(format!("qemu exited ({status}) before the guest was up: {}", last_lines(&log, 2))))
            }
            _ => None,
        }
    });
    let _ = child.kill();
    let _ = child.wait();
    Ok(result?.unwrap_or_else(|| Err(format!("no VM-READY within {}s", PROBE_TIMEOUT.as_secs()))))
}

/// A running guest.
#[derive(Debug)]
pub(crate) struct Guest {
    /// What it is.
    pub(crate) spec: GuestSpec,
    pid: Option<Pid>,
    console: PathBuf,
    cmd_in: File,
    cmd_out: File,
    pending: Vec<u8>,
    seq: u64,
}

impl Guest {
    /// Starts QEMU for `spec` inside namespace `ns`; its tap exists (unattached) when this returns.
    pub(crate) fn launch(
        ns: &str,
        image: &Image,
        accel: Accel,
        spec: GuestSpec,
        dir: &Path,
    ) -> Result<Guest> {
        let base = dir.join(spec.name);
        let console = base.with_extension("console");
        let pidfile = base.with_extension("pid");
        let chan = base.with_extension("cmd");
        let (fifo_in, fifo_out) = (base.with_extension("cmd.in"), base.with_extension("cmd.out"));
        for f in [&console, &pidfile, &fifo_in, &fifo_out] {
            let _ = fs::remove_file(f);
        }
        for f in [&fifo_in, &fifo_out] {
            mkfifo(f, Mode::from_bits_truncate(0o600)).with_context(|| format!("mkfifo {}", f.display()))?;
        }
        let append = format!("console=ttyS0 quiet panic=-1 vmname={} vmip={}/24", spec.name, spec.ip);
        let mut c = in_ns(ns, "qemu-system-x86_64");
        c.args(accel.qemu_args())
            .args([
                "-m",
                MEMORY_MIB,
                "-smp",
                "1",
                "-nodefaults",
                "-no-user-config",
                "-display",
                "none",
                "-no-reboot",
            ])
            .arg("-kernel")
            .arg(&image.kernel)
            .arg("-initrd")
            .arg(&image.initramfs)
            .args(["-append", &append, "-serial"])
            .arg(format!("file:{}", console.display()))
            .arg("-chardev")
            .arg(format!("pipe,id=cmd,path={}", chan.display()))
            .args(["-serial", "chardev:cmd", "-netdev"])
            .arg(format!("tap,id=n0,ifname={},script=no,downscript=no", spec.tap))
            .args(["-device", &format!("virtio-net-pci,netdev=n0,mac={},romfile=", spec.mac()), "-pidfile"])
            .arg(&pidfile)
            .arg("-daemonize");
        let out = output(&mut c)?;
        if !out.status.success() {
            bail!("qemu for {} failed to start ({}): {}", spec.name, out.status, tail(&out));
        }
        let pid = read_pid(&pidfile).with_context(|| format!("qemu for {} wrote no pidfile", spec.name))?;
        let cmd_in = OpenOptions::new()
            .write(true)
            .open(&fifo_in)
            .with_context(|| format!("opening {}", fifo_in.display()))?;
        let cmd_out = OpenOptions::new()
            .read(true)
            .custom_flags(OFlag::O_NONBLOCK.bits())
            .open(&fifo_out)
            .with_context(|| format!("opening {}", fifo_out.display()))?;
        Ok(Guest { spec, pid: Some(pid), console, cmd_in, cmd_out, pending: Vec::new(), seq: 0 })
    }

    /// The QEMU process.
    pub(crate) fn pid(&self) -> Option<Pid> {
        self.pid
    }

    /// Waits for the guest's `VM-READY` on its console.
    pub(crate) fn wait_ready(&self, timeout: Duration) -> Result<()> {
        let marker = format!("VM-READY {} ", self.spec.name);
        let ready = interrupt::poll(timeout, Duration::from_millis(50), || {
            fs::read_to_string(&self.console).ok().filter(|t| t.contains(&marker)).map(|_| ())
        })?;
        if ready.is_none() {
            let text = fs::read_to_string(&self.console).unwrap_or_default();
            bail!(
                "{} not ready after {}s; console ends: {}",
                self.spec.name,
                timeout.as_secs(),
                last_lines(&text, 3)
            );
        }
        Ok(())
    }

    /// Runs a shell command in the guest (through ttyS1); returns its exit status and output.
    pub(crate) fn exec(&mut self, command: &str, timeout: Duration) -> Result<(i32, String)> {
        self.drain()?;
        self.pending.clear();
        self.seq += 1;
        let seq = self.seq;
        writeln!(self.cmd_in, "{seq} {command}")
            .with_context(|| format!("writing to {}'s ttyS1", self.spec.name))?;
        let done = format!("@@DONE {seq} ");
        let end = Instant::now() + timeout;
        loop {
            let eof = self.drain()?;
            let text = String::from_utf8_lossy(&self.pending).into_owned();
            if let Some(at) = text.find(&done) {
                let rest = &text[at + done.len()..];
                if let Some(nl) = rest.find('\n') {
                    let status = rest[..nl].trim().parse().unwrap_or(-1);
                    return Ok((status, text[..at].trim_end().to_string()));
                }
            }
            if eof {
                bail!("{}'s command channel closed (QEMU gone?)", self.spec.name);
            }
            if Instant::now() >= end {
                bail!(
                    "`{command}` in {} did not finish within {}s; got: {}",
                    self.spec.name,
                    timeout.as_secs(),
                    last_lines(&text, 2)
                );
            }
            interrupt::sleep(Duration::from_millis(20))?;
        }
    }

    /// Reads what is available from ttyS1; true at end of file.
    fn drain(&mut self) -> Result<bool> {
        let mut buf = [0u8; 4096];
        loop {
            match self.cmd_out.read(&mut buf) {
                Ok(0) => return Ok(true),
                Ok(n) => self.pending.extend_from_slice(buf.get(..n).unwrap_or_default()),
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(false),
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(e).with_context(|| format!("reading {}'s ttyS1", self.spec.name)),
            }
        }
    }

    /// Stops QEMU: SIGTERM, then SIGKILL if it lingers.
    pub(crate) fn stop(&mut self) -> Result<()> {
        let Some(pid) = self.pid.take() else { return Ok(()) };
        stop_pid(pid, STOP_TIMEOUT).with_context(|| format!("stopping qemu of {}", self.spec.name))
    }
}

/// Reads a pidfile.
pub(crate) fn read_pid(path: &Path) -> Result<Pid> {
    let text = fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let pid: i32 = text.trim().parse().with_context(|| format!("{} holds no pid", path.display()))?;
    Ok(Pid::from_raw(pid))
}

/// Whether a process exists (and is not a zombie).
pub(crate) fn alive(pid: Pid) -> bool {
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state follows the command name in parentheses: "PID (comm) S ...".
        Ok(stat) => stat.rsplit_once(") ").is_some_and(|(_, rest)| !rest.starts_with('Z')),
        Err(_) => false,
    }
}

/// Sends SIGTERM to `pid`, waits up to `timeout` for it to go, then SIGKILL. Not interruptible:
/// this is cleanup.
pub(crate) fn stop_pid(pid: Pid, timeout: Duration) -> Result<()> {
    if !alive(pid) {
        return Ok(());
    }
    kill(pid, Signal::SIGTERM).with_context(|| format!("kill -TERM {pid}"))?;
    let end = Instant::now() + timeout;
    while Instant::now() < end {
        if !alive(pid) {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    kill(pid, Signal::SIGKILL).with_context(|| format!("kill -KILL {pid}"))?;
    let end = Instant::now() + Duration::from_secs(2);
    while alive(pid) && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(())
}

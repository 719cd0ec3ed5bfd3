//! The lab of the article, in network namespaces: the KVM host (`<prefix>-host`: eth0 192.168.1.201
//! with 192.168.1.211 `eth0:0` and 192.168.1.212 `eth0:1`, libvirt's virbr0, the guests' taps) and
//! the LAN with the "outside" laptop (`<prefix>-out`: 192.168.1.5, an HTTP server that echoes the
//! caller's address), joined by a veth. Everything runs in these namespaces; teardown kills what was
//! started, by pid, and deletes them.

use std::fs::{self, File};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context as _, Result, bail};
use nix::unistd::Pid;

use super::cmd::{cmd, in_ns, run, show};
use super::guest::{Accel, Guest, GuestSpec, Image, stop_pid};
use super::http::{self, Reply};
use super::interrupt;
use super::libvirt::{self, Daemon, Flavor, Install};
use super::natkeeper::Watch;

/// The host's address on the LAN.
pub(crate) const HOST: Ipv4Addr = Ipv4Addr::new(192, 168, 1, 201);
/// `eth0:0`, the first extra public address (rich man's setup).
pub(crate) const PUBLIC_0: Ipv4Addr = Ipv4Addr::new(192, 168, 1, 211);
/// `eth0:1`, the second extra public address.
pub(crate) const PUBLIC_1: Ipv4Addr = Ipv4Addr::new(192, 168, 1, 212);
/// The outside laptop, with the echo server.
pub(crate) const CLIENT: Ipv4Addr = Ipv4Addr::new(192, 168, 1, 5);
/// The first guest ("VM1" of the article).
pub(crate) const G41: Ipv4Addr = Ipv4Addr::new(192, 168, 122, 41);
/// The second guest ("VM2").
pub(crate) const G42: Ipv4Addr = Ipv4Addr::new(192, 168, 122, 42);
/// The guests.
pub(crate) const GUESTS: [GuestSpec; 2] =
    [GuestSpec { name: "g41", ip: G41, tap: "vnet0" }, GuestSpec { name: "g42", ip: G42, tap: "vnet1" }];
/// The echo server's URL, as guests call it.
pub(crate) const ECHO_URL: &str = "http://192.168.1.5/cgi-bin/ip";
const BRIDGE: &str = "virbr0";
/// How long a guest may take to boot.
const BOOT_TIMEOUT: Duration = Duration::from_secs(90);
/// How long a bridge port may take to reach `forwarding` (STP: the kernel clamps libvirt's delay 0
/// to 2 s, so listening + learning take about 4 s).
const FORWARDING_TIMEOUT: Duration = Duration::from_secs(20);
/// How long a command in a guest may take.
const GUEST_CMD_TIMEOUT: Duration = Duration::from_secs(15);

/// What every lab is made from.
#[derive(Debug, Clone)]
pub(crate) struct Parts<'a> {
    /// The kernel and initramfs.
    pub(crate) image: &'a Image,
    /// The accelerator.
    pub(crate) accel: Accel,
    /// libvirt's stock `default` network (vm-tests/fixtures/default.xml).
    pub(crate) network_xml: &'a Path,
    /// The run's directory.
    pub(crate) run_dir: &'a Path,
}

/// A lab that is (partly) up. Fields are filled as it comes up, so teardown undoes exactly what was done.
#[derive(Debug)]
pub(crate) struct Lab {
    /// Short name, e.g. `iptables`.
    pub(crate) name: String,
    /// The KVM host's namespace.
    pub(crate) host_ns: String,
    /// The LAN/outside namespace.
    pub(crate) out_ns: String,
    /// This lab's directory (logs, consoles, libvirt state).
    pub(crate) dir: PathBuf,
    /// The libvirt in use.
    pub(crate) install: Install,
    namespaces: Vec<String>,
    httpd: Option<Child>,
    libvirt: Option<Daemon>,
    network_defined: bool,
    guests: Vec<Guest>,
    watch: Option<Watch>,
    shim: bool,
}

impl Lab {
    /// Builds the lab; on failure, tears down what was built and returns the error.
    pub(crate) fn up(name: &str, install: &Install, parts: &Parts<'_>) -> Result<Lab> {
        let prefix = format!("nkvm{}-{name}", std::process::id());
        let dir = parts.run_dir.join(name);
        fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let mut lab = Lab {
            name: name.to_string(),
            host_ns: format!("{prefix}-host"),
            out_ns: format!("{prefix}-out"),
            dir,
            install: install.clone(),
            namespaces: Vec::new(),
            httpd: None,
            libvirt: None,
            network_defined: false,
            guests: Vec::new(),
            watch: None,
            shim: false,
        };
        match lab.build(parts) {
            Ok(()) => Ok(lab),
            Err(e) => {
                lab.teardown();
                Err(e)
            }
        }
    }

    fn build(&mut self, parts: &Parts<'_>) -> Result<()> {
        self.network()?;
        interrupt::check()?;
        self.echo_server()?;
        self.start_libvirt(parts.network_xml)?;
        interrupt::check()?;
        for spec in GUESTS {
            let guest = Guest::launch(&self.host_ns, parts.image, parts.accel, spec, &self.dir)?;
            self.guests.push(guest);
            self.attach(spec.tap)?;
        }
        for g in &self.guests {
            g.wait_ready(BOOT_TIMEOUT)?;
        }
        self.wait_forwarding()
    }

    /// Namespaces, veth, addresses, routes.
    fn network(&mut self) -> Result<()> {
        for ns in [self.host_ns.clone(), self.out_ns.clone()] {
            run(cmd("ip").args(["netns", "add", &ns]))?;
            self.namespaces.push(ns.clone());
            run(cmd("ip").args(["-n", &ns, "link", "set", "lo", "up"]))?;
        }
        let (h, o) = (self.host_ns.as_str(), self.out_ns.as_str());
        run(cmd("ip")
            .args(["-n", h, "link", "add", "eth0", "type", "veth", "peer", "name", "eth0", "netns", o]))?;
        run(cmd("ip").args(["-n", h, "addr", "add", &format!("{HOST}/24"), "dev", "eth0"]))?;
        run(cmd("ip").args([
            "-n",
            h,
            "addr",
            "add",
            &format!("{PUBLIC_0}/24"),
            "dev",
            "eth0",
            "label",
            "eth0:0",
        ]))?;
        run(cmd("ip").args([
            "-n",
            h,
            "addr",
            "add",
            &format!("{PUBLIC_1}/24"),
            "dev",
            "eth0",
            "label",
            "eth0:1",
        ]))?;
        run(cmd("ip").args(["-n", h, "link", "set", "eth0", "up"]))?;
        run(cmd("ip").args(["-n", o, "addr", "add", &format!("{CLIENT}/24"), "dev", "eth0"]))?;
        run(cmd("ip").args(["-n", o, "link", "set", "eth0", "up"]))?;
        run(cmd("ip").args(["-n", h, "route", "add", "default", "via", &CLIENT.to_string()]))?;
        Ok(())
    }

    /// busybox httpd on 192.168.1.5:80 in the outside namespace; /cgi-bin/ip echoes the caller.
    fn echo_server(&mut self) -> Result<()> {
        let www = self.dir.join("outside-www");
        let cgi = www.join("cgi-bin/ip");
        fs::create_dir_all(www.join("cgi-bin")).context("creating the echo server's directory")?;
        fs::write(
            &cgi,
            "#!/bin/sh\necho 'Content-Type: text/plain'\necho\necho \"REMOTE_ADDR=$REMOTE_ADDR\"\n",
        )
        .context("writing the echo cgi")?;
        fs::set_permissions(&cgi, fs::Permissions::from_mode(0o755)).context("chmod the echo cgi")?;
        let log = File::create(self.dir.join("outside-httpd.log")).context("creating the httpd log")?;
        let mut c = in_ns(&self.out_ns, "busybox");
        c.args(["httpd", "-f", "-vv", "-p", &format!("{CLIENT}:80"), "-h"])
            .arg(&www)
            .stdin(Stdio::null())
            .stdout(log.try_clone().context("httpd log")?)
            .stderr(log);
        std::os::unix::process::CommandExt::process_group(&mut c, 0);
        self.httpd = Some(c.spawn().with_context(|| format!("starting {}", show(&c)))?);
        // Up when the host can fetch from it (this also proves the veth).
        let addr = SocketAddrV4::new(CLIENT, 80);
        let seen = interrupt::poll(Duration::from_secs(5), Duration::from_millis(50), || {
            match http::get(&self.host_ns, addr, "/cgi-bin/ip") {
                Reply::Ok(body) => Some(body),
                _ => None,
            }
        })?;
        match seen {
            Some(body) if body.contains(&format!("REMOTE_ADDR={HOST}")) => Ok(()),
            Some(body) => bail!("echo server answered `{}`, expected REMOTE_ADDR={HOST}", body.trim()),
            None => bail!("the echo server on {addr} did not answer the host"),
        }
    }

    fn start_libvirt(&mut self, network_xml: &Path) -> Result<()> {
        let mut path_prefix = None;
        if self.install.flavor == Flavor::Nftables && !libvirt::kernel_has_act_csum(&self.host_ns)? {
            path_prefix = Some(libvirt::write_tc_shim(&self.dir.join("tc-shim"))?);
            self.shim = true;
        }
        let daemon = Daemon::new(&self.install, &self.host_ns, &self.dir.join("libvirt"), path_prefix)?;
        let daemon = self.libvirt.insert(daemon);
        daemon.start()?;
        daemon.virsh(&["net-define", &network_xml.to_string_lossy()])?;
        self.network_defined = true;
        daemon.virsh(&["net-start", "default"])?;
        Ok(())
    }

    /// Whether the `tc` shim is in use (the kernel lacks act_csum).
    pub(crate) fn uses_tc_shim(&self) -> bool {
        self.shim
    }

    fn attach(&self, tap: &str) -> Result<()> {
        run(cmd("ip").args(["-n", &self.host_ns, "link", "set", tap, "master", BRIDGE]))?;
        run(cmd("ip").args(["-n", &self.host_ns, "link", "set", tap, "up"]))?;
        Ok(())
    }

    /// Waits until every guest's tap forwards on virbr0.
    fn wait_forwarding(&self) -> Result<()> {
        let taps: Vec<&str> = self.guests.iter().map(|g| g.spec.tap).collect();
        let ok = interrupt::poll(FORWARDING_TIMEOUT, Duration::from_millis(100), || {
            let out = run(in_ns(&self.host_ns, "bridge").args(["link", "show"])).ok()?;
            let forwarding = |tap: &str| {
                out.lines().any(|l| {
                    l.contains(&format!(" {tap}:"))
                        && l.contains(&format!("master {BRIDGE}"))
                        && l.contains("state forwarding")
                })
            };
            taps.iter().all(|t| forwarding(t)).then_some(())
        })?;
        ok.with_context(|| {
            format!("bridge ports {} not forwarding after {}s", taps.join(", "), FORWARDING_TIMEOUT.as_secs())
        })
    }

    /// A command run inside the KVM host's namespace.
    pub(crate) fn host(&self, prog: &str) -> Command {
        in_ns(&self.host_ns, prog)
    }

    /// `GET path` from the outside laptop.
    pub(crate) fn get(&self, addr: SocketAddrV4, path: &str) -> Reply {
        http::get(&self.out_ns, addr, path)
    }

    /// The running libvirtd.
    pub(crate) fn libvirt(&mut self) -> Result<&mut Daemon> {
        self.libvirt.as_mut().context("libvirtd is not running")
    }

    /// Restarts libvirtd (SIGTERM, start); guests, bridge and dnsmasq stay.
    pub(crate) fn restart_libvirtd(&mut self) -> Result<()> {
        self.libvirt()?.restart()
    }

    /// `virsh net-destroy default` + `net-start default`, then re-attaches the taps the way libvirt
    /// would for its own guests, and waits for the ports to forward.
    pub(crate) fn restart_network(&mut self) -> Result<()> {
        let lv = self.libvirt()?;
        lv.virsh(&["net-destroy", "default"])?;
        lv.virsh(&["net-start", "default"])?;
        for g in &self.guests {
            self.attach(g.spec.tap)?;
        }
        self.wait_forwarding()
    }

    /// Runs a shell command in guest `ip`.
    pub(crate) fn guest_exec(&mut self, ip: Ipv4Addr, command: &str) -> Result<(i32, String)> {
        let g = self.guests.iter_mut().find(|g| g.spec.ip == ip).with_context(|| format!("no guest {ip}"))?;
        g.exec(command, GUEST_CMD_TIMEOUT)
    }

    /// What the outside echo server saw as the address of guest `ip` calling it (from its own
    /// address, or from the extra address `from`).
    pub(crate) fn egress_seen_as(&mut self, ip: Ipv4Addr, from: Option<Ipv4Addr>) -> Result<String> {
        let command = match from {
            None => format!("egress {ECHO_URL}"),
            Some(src) => format!("egress_from {src} {ECHO_URL}"),
        };
        let (status, out) = self.guest_exec(ip, &command)?;
        if status != 0 {
            bail!("`{command}` in the guest failed ({status}): {}", out.trim());
        }
        out.lines()
            .find_map(|l| l.trim().strip_prefix("REMOTE_ADDR="))
            .map(str::to_string)
            .with_context(|| format!("unexpected echo reply `{}`", out.trim()))
    }

    /// Makes `watch` the lab's running `natkeeper watch` (stopped at reset and teardown).
    pub(crate) fn set_watch(&mut self, watch: Watch) {
        self.stop_watch();
        self.watch = Some(watch);
    }

    /// The running `natkeeper watch`.
    pub(crate) fn watch(&mut self) -> Option<&mut Watch> {
        self.watch.as_mut()
    }

    /// Stops `natkeeper watch` if one runs.
    pub(crate) fn stop_watch(&mut self) {
        if let Some(w) = self.watch.take() {
            w.stop();
        }
    }

    /// Returns the lab to the state right after `net-start`, for the next scenario: stops `watch`,
    /// flushes the host's whole ruleset (natkeeper's, libvirt's and anyone's) and restarts libvirtd,
    /// which puts its own rules back. Guests and taps stay.
    pub(crate) fn reset(&mut self) -> Result<()> {
        self.stop_watch();
        run(self.host("nft").args(["flush", "ruleset"]))?;
        self.restart_libvirtd()?;
        let (rules, reject) = match self.install.flavor {
            Flavor::System => (run(self.host("iptables").args(["-S", "LIBVIRT_FWI"]))?, "-j REJECT"),
            Flavor::Nftables => (
                run(self.host("nft").args(["list", "chain", "ip", "libvirt_network", "guest_input"]))?,
                "reject",
            ),
        };
        if !rules.contains(reject) {
            bail!("after the reset libvirt's rules are missing: {}", rules.trim());
        }
        Ok(())
    }

    /// Tears everything down, by pid, in order; carries on past errors (printed as warnings).
    pub(crate) fn teardown(&mut self) {
        let name = self.name.clone();
        let warn = |what: &str, r: Result<()>| {
            if let Err(e) = r {
                eprintln!("vmtest: warning: teardown of lab {name}: {what}: {e:#}");
            }
        };
        self.stop_watch();
        for mut g in self.guests.drain(..) {
            let guest = g.spec.name;
            warn(guest, g.stop());
        }
        if let Some(mut lv) = self.libvirt.take() {
            if self.network_defined && lv.running() {
                warn("net-destroy", lv.virsh(&["net-destroy", "default"]).map(drop));
                warn("net-undefine", lv.virsh(&["net-undefine", "default"]).map(drop));
            }
            if let Some(pid) = lv.dnsmasq_pid() {
                warn("dnsmasq", stop_pid(pid, Duration::from_secs(5)));
            }
            warn("libvirtd", lv.stop());
        }
        if let Some(mut httpd) = self.httpd.take() {
            let _ = httpd.kill();
            let _ = httpd.wait();
        }
        for ns in self.namespaces.drain(..).rev() {
            let r = run(cmd("ip").args(["netns", "del", &ns])).map(drop);
            warn("ip netns del", r);
        }
    }

    /// Leaves the lab running and prints how to reach it.
    pub(crate) fn keep(mut self) {
        let pids = |p: Option<Pid>| p.map(|p| p.to_string()).unwrap_or_else(|| "-".into());
        println!("vmtest: --keep: lab `{}` is left running ({}):", self.name, self.install.version);
        println!(
            "  KVM host:  ip netns exec {} bash   (eth0 {HOST}, eth0:0 {PUBLIC_0}, eth0:1 {PUBLIC_1}, {BRIDGE})",
            self.host_ns
        );
        println!("  outside:   ip netns exec {} bash   ({CLIENT}, echo server on :80)", self.out_ns);
        if let Some(lv) = &self.libvirt {
            println!("  libvirt:   {} net-list --all", lv.virsh_hint());
            println!(
                "  libvirtd pid {}, dnsmasq pid {}, log {}",
                pids(lv.pid()),
                pids(lv.dnsmasq_pid()),
                lv.log_file().display()
            );
        }
        for g in &self.guests {
            let base = self.dir.join(g.spec.name);
            println!(
                "  guest {} {} (qemu pid {}): console {}.console; shell: echo '1 uname -a' > {}.cmd.in; cat {}.cmd.out",
                g.spec.name,
                g.spec.ip,
                pids(g.pid()),
                base.display(),
                base.display(),
                base.display()
            );
        }
        if let Some(h) = &self.httpd {
            println!("  echo server (busybox httpd) pid {}", h.id());
        }
        if let Some(w) = &self.watch {
            println!("  natkeeper watch pid {}", w.pid());
        }
        let mut all: Vec<String> = self.guests.iter().filter_map(Guest::pid).map(|p| p.to_string()).collect();
        if let Some(lv) = &self.libvirt {
            all.extend([lv.pid(), lv.dnsmasq_pid()].into_iter().flatten().map(|p| p.to_string()));
        }
        all.extend(self.httpd.iter().map(|h| h.id().to_string()));
        all.extend(self.watch.iter().map(|w| w.pid().to_string()));
        println!(
            "  clean up:  kill {}; ip netns del {}; ip netns del {}",
            all.join(" "),
            self.host_ns,
            self.out_ns
        );
        // Drop the handles (dropping kills nothing): the processes stay.
        self.httpd = None;
        self.watch = None;
        self.libvirt = None;
        self.guests.clear();
        self.namespaces.clear();
    }
}

//! W5: repair latency — with `natkeeper watch` running and 1,000 forwards, the time from a foreign
//! `iptables-restore` of libvirt's rules (no `--noflush`: it flushes `filter FORWARD` and with it
//! natkeeper's hole) until a connection through the forward works again.

use std::fs::File;
use std::net::SocketAddrV4;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use natkeeper_nft::{Event, Events};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use super::Ctx;
use super::exec::{cmd, stdout};
use super::inputs::{self, Fwd};
use super::ns::{Lab, Netns};
use super::report::{Figure, Row, Section, Unit, thousands};
use super::stats::Series;
use super::traffic::{PROBE_PAUSE, PROBE_TIMEOUT, Server, first_success, reachable};

/// The row label of the repair latency (what the target is judged on).
pub(crate) const LATENCY: &str = "outage: foreign commit to `ip filter` → forward works again";
const FROM_EXIT: &str = "`iptables-restore` exited → forward works again";
const RESTORE: &str = "the foreign `iptables-restore` itself (for scale)";
/// libvirt 9's iptables rules, as the project's tests use them.
const FIXTURE: &str = "tests/fixtures/libvirt9-iptables.rules";
/// How long a repair may take before the run counts it as failed.
const GIVE_UP: Duration = Duration::from_secs(5);
/// Time between two foreign rewrites: more than 10 repairs in 10 s is what `watch` treats as a
/// fight (it backs off), so stay below one per second.
const SPACING: Duration = Duration::from_millis(1200);
/// How often the event listener checks whether it should stop.
const LISTEN_POLL: Duration = Duration::from_millis(100);

/// Whether the `natkeeper` binary has a `watch` command.
fn has_watch(natkeeper: &Path) -> bool {
    Command::new(natkeeper)
        .args(["watch", "--help"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Runs W5 (or reports it not measured when `watch` is missing).
pub(crate) fn run(ctx: &Ctx) -> Result<Section> {
    let mut section = Section {
        id: "W5",
        title: format!("repair latency, `natkeeper watch` with {} forwards", thousands(ctx.repair_forwards)),
        method: format!(
            "A fresh lab under libvirt's iptables rules ({FIXTURE}). Checked first without `watch`: after \
             `natkeeper apply` the forward works, after `iptables-restore {FIXTURE}` (no --noflush) it is \
             rejected. Then `natkeeper watch -c FILE` runs and the same restore is repeated {} times, \
             {:.1} s apart (more than 10 repairs in 10 s is what watch treats as a fight); after each, \
             the outside client tries to connect to the forward until it works: {} ms between tries, \
             each waits ≤ {} ms (a rejected try fails at once: the lab host's icmp_ratelimit is 0), so a \
             figure overstates the latency by at most ~{} ms. Figure: from the restore's commit of the \
             `filter` table (the one that drops natkeeper's hole; seen as its `NEWGEN` by an nf_tables \
             event listener in the lab host) to the first working connection.",
            ctx.repairs,
            SPACING.as_secs_f64(),
            PROBE_PAUSE.as_millis(),
            PROBE_TIMEOUT.as_millis(),
            (PROBE_PAUSE + PROBE_TIMEOUT).as_millis(),
        ),
        unit: Unit::Seconds,
        baselines: Vec::new(),
        rows: Vec::new(),
    };
    if !has_watch(&ctx.natkeeper) {
        section.rows.push(Row {
            n: None,
            tool: LATENCY.into(),
            figure: Figure::Missing("not measured: watch missing".into()),
            ratios: Vec::new(),
            note: "`natkeeper watch --help` failed: the binary has no watch command".into(),
        });
        return Ok(section);
    }
    eprintln!("bench: W5 repair latency ({} repairs)", ctx.repairs);
    let [outage, from_exit, restore] = measure(ctx)?;
    section.rows.push(Row::measured(None, LATENCY, outage));
    section.rows.push(Row::measured(None, FROM_EXIT, from_exit));
    section.rows.push(Row::measured(None, RESTORE, restore));
    Ok(section)
}

/// `natkeeper watch` as a child process; stopped with SIGTERM on drop.
struct Watch(Child);

impl Watch {
    /// Sends SIGTERM and waits; fails unless it exits 0.
    fn stop(mut self) -> Result<()> {
        terminate(&mut self.0)
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        let _ = terminate(&mut self.0);
    }
}

fn terminate(child: &mut Child) -> Result<()> {
    if child.try_wait()?.is_some() {
        return Ok(());
    }
    let pid = i32::try_from(child.id()).context("pid out of range")?;
    kill(Pid::from_raw(pid), Signal::SIGTERM).context("signalling natkeeper watch")?;
    let status = child.wait().context("waiting for natkeeper watch")?;
    if !status.success() {
        bail!("natkeeper watch exited with {status} on SIGTERM");
    }
    Ok(())
}

/// Commits that changed `ip filter` in a namespace, as an nf_tables event listener sees them: the
/// committing process's pid and the instant the listener received the commit's `NEWGEN`.
struct FilterCommits {
    rx: Receiver<(u32, Instant)>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<Result<()>>>,
}

impl FilterCommits {
    /// Starts listening in `ns`; returns once subscribed.
    fn listen(ns: &Netns) -> Result<FilterCommits> {
        let (tx, rx) = mpsc::channel();
        let (ready_tx, ready_rx) = mpsc::channel();
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = ns.handle()?.spawn(move || {
            let mut events = Events::subscribe().context("subscribing to nf_tables events")?;
            let _ = ready_tx.send(());
            // A commit's object events come first, its NEWGEN last.
            let mut filter = false;
            while !flag.load(Ordering::Relaxed) {
                let Some(n) = events.next_timeout(LISTEN_POLL)? else { continue };
                match n.event {
                    Event::NewRule(r) | Event::DelRule(r) => filter |= r.table == "filter",
                    Event::NewChain(c) | Event::DelChain(c) => filter |= c.table == "filter",
                    Event::NewGen(g) => {
                        if let (true, Some(pid)) = (filter, g.pid) {
                            let _ = tx.send((pid, Instant::now()));
                        }
                        filter = false;
                    }
                    Event::Overrun => bail!("nf_tables events were lost (overrun)"),
                    _ => {}
                }
            }
            Ok(())
        });
        if ready_rx.recv_timeout(GIVE_UP).is_err() {
            let why = match thread.join() {
                Ok(Err(e)) => format!("{e:#}"),
                _ => "it did not start".into(),
            };
            bail!("the nf_tables event listener failed: {why}");
        }
        Ok(FilterCommits { rx, stop, thread: Some(thread) })
    }

    /// When process `pid` committed its change to `ip filter`.
    fn of(&self, pid: u32) -> Result<Instant> {
        let deadline = Instant::now() + GIVE_UP;
        loop {
            match self.rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                Ok((p, t)) if p == pid => return Ok(t),
                Ok(_) => {}
                Err(_) => bail!("no commit to ip filter by pid {pid} was seen"),
            }
        }
    }
}

impl Drop for FilterCommits {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Runs `iptables-restore FILE` from the calling thread; returns its pid, start and exit instants.
fn restore_once(file: &Path) -> Result<(u32, Instant, Instant)> {
    let mut c = cmd("iptables-restore", &[file]);
    c.stdout(Stdio::null()).stderr(Stdio::piped());
    let started = Instant::now();
    let child = c.spawn().context("running iptables-restore")?;
    let pid = child.id();
    let out = child.wait_with_output().context("waiting for iptables-restore")?;
    let exited = Instant::now();
    if !out.status.success() {
        bail!("iptables-restore failed ({}): {}", out.status, String::from_utf8_lossy(&out.stderr).trim());
    }
    Ok((pid, started, exited))
}

fn measure(ctx: &Ctx) -> Result<[Series; 3]> {
    let fwds: Vec<Fwd> = (0..ctx.repair_forwards).map(Fwd::lab).collect();
    let Some(probe) = fwds.last().copied() else { bail!("W5 needs at least one forward") };
    let to = SocketAddrV4::new(probe.public, probe.port);
    let cfg = ctx.write("w5.toml", &inputs::natkeeper_toml(&fwds))?;
    let fixture = ctx.workspace.join(FIXTURE);

    let lab = Lab::new()?;
    // Every rejected probe gets its ICMP error back (no per-destination rate limit in the lab host),
    // so a probe during the outage fails at once instead of waiting out its timeout.
    lab.host.sysctl("net.ipv4.icmp_ratelimit", "0")?;
    lab.host.run(|| restore_once(&fixture))?;
    let server = Server::start(&lab.guest, probe.guest_port)?;

    // What is timed must be a real repair: the restore has to break the forward.
    lab.host.run(|| stdout(cmd(&ctx.natkeeper, &["apply", "-c"]).arg(&cfg)))?;
    if !lab.outside.run(|| Ok(reachable(to)))? {
        bail!("W5: the forward does not work after `natkeeper apply` under libvirt's rules");
    }
    lab.host.run(|| restore_once(&fixture))?;
    if lab.outside.run(|| Ok(reachable(to)))? {
        bail!("W5: libvirt's iptables-restore did not break the forward; there would be nothing to repair");
    }

    let commits = FilterCommits::listen(&lab.host)?;
    let log_path = ctx.scratch("watch.log");
    let log = File::create(&log_path).context("creating the watch log")?;
    let child = lab.host.run(|| {
        Command::new(&ctx.natkeeper)
            .args(["watch", "-c"])
            .arg(&cfg)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .context("starting natkeeper watch")
    })?;
    let watch = Watch(child);
    let log_tail = || std::fs::read_to_string(&log_path).unwrap_or_default();
    if lab.outside.run(|| Ok(first_success(to, Instant::now() + GIVE_UP)))?.is_none() {
        bail!(
            "W5: natkeeper watch did not make the forward work within {GIVE_UP:?}; its log:\n{}",
            log_tail()
        );
    }

    let mut outage = Series::default();
    let mut from_exit = Series::default();
    let mut restore_time = Series::default();
    for rep in 0..ctx.repairs {
        ctx.sleep(SPACING)?;
        let (pid, started, exited) = lab.host.run(|| restore_once(&fixture))?;
        let Some(ok) = lab.outside.run(|| Ok(first_success(to, exited + GIVE_UP)))? else {
            bail!(
                "W5: repair {rep}: the forward did not work again within {GIVE_UP:?}; watch's log:\n{}",
                log_tail()
            );
        };
        let commit = commits.of(pid)?;
        outage.record(rep, ok.saturating_duration_since(commit).as_secs_f64());
        from_exit.record(rep, ok.saturating_duration_since(exited).as_secs_f64());
        restore_time.record(rep, exited.duration_since(started).as_secs_f64());
    }
    watch.stop().with_context(|| format!("watch's log:\n{}", log_tail()))?;
    drop(commits);
    let accepted = server.stop()?;
    if accepted < ctx.repairs as u64 + 2 {
        bail!("W5: the guest accepted only {accepted} connections");
    }
    Ok([outage, from_exit, restore_time])
}

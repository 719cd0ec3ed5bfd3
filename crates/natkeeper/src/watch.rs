//! `watch`: keep the policy in place while libvirt, `iptables-restore`, firewalld or Docker rewrite
//! the firewall.
//!
//! The watcher applies the policy, then listens to nf_tables events (`NFNLGRP_NFTABLES`) and
//! rtnetlink link and address events. A change made by anyone else marks the state dirty; once the
//! changes pause for [`WatchOptions::quiet`] (or at the latest [`WatchOptions::max_delay`] after the
//! first one) it plans against the kernel and, only when something of natkeeper's is missing, out of
//! place or stale, repairs it with one generation-guarded transaction. A socket overrun means "re-read
//! everything". A writer that keeps undoing natkeeper is answered with exponential back-off and a
//! loud log line, never a tight loop.

use std::io::{self, Read, Write};
use std::os::fd::AsFd;
use std::os::unix::net::UnixStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use natkeeper_nft::{Event, Events};
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};

use crate::config::Policy;
use crate::host::{Error, Host, Options};
use crate::resolve::Mode;

/// How many changes a repair's log line lists.
const LOGGED_CHANGES: usize = 8;

/// Timing of the watcher.
#[derive(Debug, Clone)]
pub struct WatchOptions {
    /// Repair once the changes have paused this long (a libvirt restart is a burst of ~50 commits).
    pub quiet: Duration,
    /// …but never later than this after the first change of a burst.
    pub max_delay: Duration,
    /// Re-check this often even without events (a safety net; it writes nothing when all is well).
    pub recheck: Duration,
    /// More repairs than this within [`WatchOptions::fight_window`] means someone keeps undoing us.
    pub fight_repairs: u32,
    /// The window for counting repairs.
    pub fight_window: Duration,
    /// Longest back-off between repairs while fighting.
    pub max_backoff: Duration,
}

impl Default for WatchOptions {
    fn default() -> Self {
        WatchOptions {
            quiet: Duration::from_millis(20),
            max_delay: Duration::from_millis(200),
            recheck: Duration::from_secs(60),
            fight_repairs: 10,
            fight_window: Duration::from_secs(10),
            max_backoff: Duration::from_secs(60),
        }
    }
}

/// What a running watcher is asked to do from outside (a signal handler, another thread).
#[derive(Debug)]
pub struct Control {
    stop: Arc<AtomicBool>,
    reload: Arc<AtomicBool>,
    wake_tx: UnixStream,
    wake_rx: UnixStream,
}

impl Control {
    /// A new control channel.
    pub fn new() -> io::Result<Control> {
        let (wake_tx, wake_rx) = UnixStream::pair()?;
        wake_rx.set_nonblocking(true)?;
        wake_tx.set_nonblocking(true)?;
        Ok(Control {
            stop: Arc::new(AtomicBool::new(false)),
            reload: Arc::new(AtomicBool::new(false)),
            wake_tx,
            wake_rx,
        })
    }

    /// Asks the watcher to stop.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = (&self.wake_tx).write(&[1]);
    }

    /// Asks the watcher to re-read its configuration.
    pub fn reload(&self) {
        self.reload.store(true, Ordering::SeqCst);
        let _ = (&self.wake_tx).write(&[1]);
    }

    /// The flags a signal handler sets (`stop`, `reload`) and a writer that wakes the watcher up
    /// (for `signal_hook::low_level::pipe::register`).
    pub fn handles(&self) -> io::Result<(Arc<AtomicBool>, Arc<AtomicBool>, UnixStream)> {
        Ok((self.stop.clone(), self.reload.clone(), self.wake_tx.try_clone()?))
    }
}

/// Counts of what the watcher did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WatchStats {
    /// Plans computed after a change (most find nothing to do).
    pub checks: u64,
    /// Repair transactions committed.
    pub repairs: u64,
    /// Events from other writers.
    pub foreign_events: u64,
    /// Event socket overruns (each followed by a full check).
    pub overruns: u64,
}

/// Re-reads the configuration (on reload).
type Loader = Box<dyn FnMut() -> Result<Policy, crate::ConfigError> + Send>;

/// The watcher.
pub struct Watcher {
    host: Host,
    policy: Policy,
    load: Loader,
    opts: WatchOptions,
    nft_events: Events,
    link_events: natkeeper_rtnl::Events,
    stats: WatchStats,
    repairs: Vec<Instant>,
    backoff: Duration,
}

impl std::fmt::Debug for Watcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Watcher")
            .field("policy", &self.policy)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

/// Who made the changes that triggered a check (for the log line).
#[derive(Debug, Default)]
struct Burst {
    first: Option<Instant>,
    last: Option<Instant>,
    writers: Vec<String>,
    what: Vec<String>,
}

impl Watcher {
    /// A watcher for `policy`, in the calling thread's network namespace. `load` re-reads the
    /// configuration on reload (SIGHUP).
    pub fn new(
        policy: Policy,
        load: impl FnMut() -> Result<Policy, crate::ConfigError> + Send + 'static,
        opts: WatchOptions,
    ) -> Result<Watcher, Error> {
        // Subscribe before the first apply, so no change between the two is missed.
        let nft_events = Events::subscribe()?;
        let link_events = natkeeper_rtnl::Events::open()?;
        Ok(Watcher {
            host: Host::open()?,
            policy,
            load: Box::new(load),
            opts,
            nft_events,
            link_events,
            stats: WatchStats::default(),
            repairs: Vec::new(),
            backoff: Duration::ZERO,
        })
    }

    /// What the watcher did so far.
    pub fn stats(&self) -> WatchStats {
        self.stats
    }

    /// Runs until `control` asks it to stop. Returns the statistics.
    pub fn run(&mut self, control: &Control) -> Result<WatchStats, Error> {
        self.reconcile("start", &Burst::default())?;
        let mut burst = Burst::default();
        let mut next_recheck = Instant::now() + self.opts.recheck;
        let mut not_before: Option<Instant> = None;
        loop {
            if control.stop.load(Ordering::SeqCst) {
                return Ok(self.stats);
            }
            if control.reload.swap(false, Ordering::SeqCst) {
                match (self.load)() {
                    Ok(p) => {
                        tracing::info!("configuration reloaded");
                        self.policy = p;
                        burst.note(Instant::now(), "configuration reloaded".into());
                    }
                    Err(e) => tracing::error!("configuration not reloaded, keeping the previous one: {e}"),
                }
            }
            let now = Instant::now();
            let due = burst.due(&self.opts).map(|d| not_before.map_or(d, |nb| d.max(nb)));
            let deadline = due.unwrap_or(next_recheck).min(next_recheck);
            if now >= deadline {
                let reason = if due.is_some_and(|d| now >= d) { "change" } else { "periodic check" };
                let result = self.reconcile(reason, &burst);
                burst = Burst::default();
                next_recheck = Instant::now() + self.opts.recheck;
                not_before = self.fighting().then(|| Instant::now() + self.backoff);
                if let Err(e) = result {
                    tracing::error!("repair failed: {e}");
                }
                continue;
            }
            let wait = deadline.saturating_duration_since(now);
            self.wait(wait, control)?;
            self.drain(&mut burst)?;
        }
    }

    fn wait(&mut self, timeout: Duration, control: &Control) -> Result<(), Error> {
        let ms = u16::try_from(timeout.as_millis().saturating_add(1)).unwrap_or(u16::MAX);
        let mut fds = [
            PollFd::new(self.nft_events.as_fd(), PollFlags::POLLIN),
            PollFd::new(self.link_events.as_fd(), PollFlags::POLLIN),
            PollFd::new(control.wake_rx.as_fd(), PollFlags::POLLIN),
        ];
        match poll(&mut fds, PollTimeout::from(ms)) {
            Ok(_) | Err(nix::errno::Errno::EINTR) => {}
            Err(e) => return Err(Error::Io(io::Error::from(e))),
        }
        let mut sink = [0u8; 64];
        while matches!((&control.wake_rx).read(&mut sink), Ok(n) if n > 0) {}
        Ok(())
    }

    /// Reads every pending event; changes by other writers extend the burst.
    fn drain(&mut self, burst: &mut Burst) -> Result<(), Error> {
        let own = self.host.portid();
        while let Some(n) = self.nft_events.try_next()? {
            let now = Instant::now();
            match n.event {
                Event::Overrun => {
                    self.stats.overruns += 1;
                    burst.note(now, "event overrun: full re-check".into());
                }
                Event::Undecodable { msg, error } => {
                    tracing::debug!("undecodable event {msg}: {error}");
                    burst.note(now, format!("an event natkeeper cannot decode ({error})"));
                }
                _ if n.portid == own => {}
                Event::NewGen(g) => {
                    let who = match (g.process, g.pid) {
                        (Some(p), Some(pid)) => format!("{p}[{pid}]"),
                        (Some(p), None) => p,
                        _ => "kernel".into(),
                    };
                    if burst.first.is_some() && !burst.writers.contains(&who) {
                        burst.writers.push(who);
                    }
                }
                e => {
                    self.stats.foreign_events += 1;
                    burst.note(now, describe(&e));
                }
            }
        }
        while let Some(e) = self.link_events.try_recv()? {
            let what = match &e {
                natkeeper_rtnl::Event::NewLink(l) => format!("link {} up/changed", l.name),
                natkeeper_rtnl::Event::DelLink(l) => format!("link {} deleted", l.name),
                natkeeper_rtnl::Event::NewAddress(a) => format!("address {} added", a.net),
                natkeeper_rtnl::Event::DelAddress(a) => format!("address {} removed", a.net),
                natkeeper_rtnl::Event::Resync => "link event overrun".into(),
                _ => continue,
            };
            burst.note(Instant::now(), what);
        }
        Ok(())
    }

    fn fighting(&mut self) -> bool {
        let now = Instant::now();
        let window = self.opts.fight_window;
        self.repairs.retain(|t| now.duration_since(*t) < window);
        if self.repairs.len() as u32 > self.opts.fight_repairs {
            self.backoff = (self.backoff * 2).clamp(Duration::from_secs(1), self.opts.max_backoff);
            tracing::error!(
                "someone keeps undoing natkeeper's rules: {} repairs in {:?}; waiting {:?} before the next repair",
                self.repairs.len(),
                window,
                self.backoff
            );
            true
        } else {
            self.backoff = Duration::ZERO;
            false
        }
    }

    /// Plans against the kernel and repairs what differs (one transaction, retried on ERESTART).
    fn reconcile(&mut self, reason: &str, burst: &Burst) -> Result<(), Error> {
        self.stats.checks += 1;
        let opts = Options { mode: Mode::Lenient };
        let applied = self.host.apply(&self.policy, &opts)?;
        for w in &applied.warnings {
            tracing::warn!("{w}");
        }
        if applied.plan.is_empty() {
            tracing::debug!("{reason}: nothing to repair");
            return Ok(());
        }
        self.stats.repairs += 1;
        self.repairs.push(Instant::now());
        // One line per repair: the first few changes, and how many more.
        let total = applied.plan.line_count();
        let mut changes: Vec<String> = applied.plan.lines().take(LOGGED_CHANGES).collect();
        if total > LOGGED_CHANGES {
            changes.push(format!("and {} more", total - LOGGED_CHANGES));
        }
        let by = if burst.writers.is_empty() {
            String::new()
        } else {
            format!(" by {}", burst.writers.join(", "))
        };
        let after = match (burst.first, burst.what.first()) {
            (Some(t), Some(w)) => format!(" {:?} after {w}{by}", t.elapsed()),
            _ => String::new(),
        };
        tracing::info!("repaired ({reason}{after}): {}", changes.join("; "));
        Ok(())
    }
}

impl Burst {
    fn note(&mut self, now: Instant, what: String) {
        self.first.get_or_insert(now);
        self.last = Some(now);
        if self.what.len() < 3 {
            self.what.push(what);
        }
    }

    /// When the burst should be handled: after it goes quiet, or at the latest `max_delay` after it began.
    fn due(&self, o: &WatchOptions) -> Option<Instant> {
        let (first, last) = (self.first?, self.last?);
        Some((last + o.quiet).min(first + o.max_delay))
    }
}

fn describe(e: &Event) -> String {
    match e {
        Event::NewTable(t) => format!("table {} {} added", t.family, t.name),
        Event::DelTable(t) => format!("table {} {} deleted", t.family, t.name),
        Event::NewChain(c) => format!("chain {} {} {} added", c.family, c.table, c.name),
        Event::DelChain(c) => format!("chain {} {} {} deleted", c.family, c.table, c.name),
        Event::NewRule(r) => format!("rule added to {} {} {}", r.family, r.table, r.chain),
        Event::DelRule(r) => format!("rule deleted from {} {} {}", r.family, r.table, r.chain),
        Event::NewSet(s) => format!("set {} {} {} added", s.family, s.table, s.name),
        Event::DelSet(s) => format!("set {} {} {} deleted", s.family, s.table, s.name),
        Event::NewElems(l) => format!("elements added to {} {} {}", l.family, l.table, l.set),
        Event::DelElems(l) => format!("elements deleted from {} {} {}", l.family, l.table, l.set),
        other => format!("{other:?}"),
    }
}

//! Ctrl-C and SIGTERM: the first one sets a flag that every wait of the run polls, so the run stops
//! where it is and cleans up; a second one ends the process at once.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use signal_hook::consts::{SIGINT, SIGTERM};

/// Exit status of the process when a second signal arrives before cleanup has finished.
const SECOND_SIGNAL_EXIT: i32 = 130;
/// Granularity of [`sleep`]: how late the run notices a signal at most.
const POLL: Duration = Duration::from_millis(50);

static FLAG: OnceLock<Arc<AtomicBool>> = OnceLock::new();

/// Installs the SIGINT and SIGTERM handlers (once per process).
pub(crate) fn install() -> Result<()> {
    let flag = FLAG.get_or_init(|| Arc::new(AtomicBool::new(false)));
    for sig in [SIGINT, SIGTERM] {
        // Registered first, so it sees the flag before the second handler sets it.
        signal_hook::flag::register_conditional_shutdown(sig, SECOND_SIGNAL_EXIT, Arc::clone(flag))
            .context("installing the signal handler")?;
        signal_hook::flag::register(sig, Arc::clone(flag)).context("installing the signal handler")?;
    }
    Ok(())
}

/// Whether Ctrl-C or SIGTERM arrived.
pub(crate) fn interrupted() -> bool {
    FLAG.get().is_some_and(|f| f.load(Ordering::Relaxed))
}

/// Fails with "interrupted" once a signal arrived.
pub(crate) fn check() -> Result<()> {
    if interrupted() {
        bail!("interrupted");
    }
    Ok(())
}

/// Sleeps for `d`, failing early when a signal arrives.
pub(crate) fn sleep(d: Duration) -> Result<()> {
    let end = Instant::now() + d;
    loop {
        check()?;
        let now = Instant::now();
        if now >= end {
            return Ok(());
        }
        thread::sleep(POLL.min(end - now));
    }
}

/// Polls `f` every `every` until it returns `Some`, the deadline passes (`Ok(None)`) or a signal
/// arrives (error).
pub(crate) fn poll<T>(
    timeout: Duration,
    every: Duration,
    mut f: impl FnMut() -> Option<T>,
) -> Result<Option<T>> {
    let end = Instant::now() + timeout;
    loop {
        if let Some(v) = f() {
            return Ok(Some(v));
        }
        if Instant::now() >= end {
            return Ok(None);
        }
        sleep(every)?;
    }
}

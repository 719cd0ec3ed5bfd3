//! The run's verdicts: one line per check (`PASS|FAIL|SKIP what (duration)`), and the summary line
//! `vmtest: N passed, M failed`.

use std::fmt::Display;
use std::time::{Duration, Instant};

/// Counts and prints verdicts.
#[derive(Debug)]
pub(crate) struct Report {
    passed: usize,
    failed: usize,
    skipped: usize,
    /// In CI (`CI=true`) a skip counts as a failure.
    ci: bool,
}

impl Report {
    /// An empty report; `ci` makes skips count as failures.
    pub(crate) fn new(ci: bool) -> Report {
        Report { passed: 0, failed: 0, skipped: 0, ci }
    }

    /// Runs one check and prints its verdict with how long it took. `f` returns `Err(reason)` on failure.
    pub(crate) fn check(&mut self, what: impl Display, f: impl FnOnce() -> Result<(), String>) -> bool {
        let start = Instant::now();
        let result = f();
        self.record(what, start.elapsed(), result)
    }

    /// Records a verdict reached elsewhere.
    pub(crate) fn record(&mut self, what: impl Display, took: Duration, result: Result<(), String>) -> bool {
        match result {
            Ok(()) => {
                self.passed += 1;
                println!("PASS {what} ({})", secs(took));
                true
            }
            Err(why) => {
                self.failed += 1;
                println!("FAIL {what} ({}): {why}", secs(took));
                false
            }
        }
    }

    /// Records a failure that has no duration of its own (a scenario that could not run).
    pub(crate) fn fail(&mut self, what: impl Display, why: impl Display) {
        self.record(what, Duration::ZERO, Err(why.to_string()));
    }

    /// Records a skip: a prerequisite is missing and cannot be installed.
    pub(crate) fn skip(&mut self, what: impl Display, why: impl Display) {
        if self.ci {
            self.failed += 1;
            println!("FAIL {what} (0.00s): skipped, and CI=true makes a skip a failure: {why}");
        } else {
            self.skipped += 1;
            println!("SKIP {what}: {why}");
        }
    }

    /// Number of failures so far.
    pub(crate) fn failed(&self) -> usize {
        self.failed
    }

    /// The closing line.
    pub(crate) fn summary(&self) -> String {
        let mut s = format!("vmtest: {} passed, {} failed", self.passed, self.failed);
        if self.skipped > 0 {
            s.push_str(&format!(", {} skipped", self.skipped));
        }
        s
    }
}

/// A duration as seconds with two decimals, `1.23s`.
pub(crate) fn secs(d: Duration) -> String {
    format!("{:.2}s", d.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_summary() {
        let mut r = Report::new(false);
        assert!(r.check("one", || Ok(())));
        assert!(!r.check("two", || Err("no".into())));
        r.skip("three", "missing");
        assert_eq!(r.failed(), 1);
        assert_eq!(r.summary(), "vmtest: 1 passed, 1 failed, 1 skipped");
    }

    #[test]
    fn in_ci_a_skip_is_a_failure() {
        let mut r = Report::new(true);
        r.skip("x", "missing");
        assert_eq!(r.failed(), 1);
        assert_eq!(r.summary(), "vmtest: 0 passed, 1 failed");
    }
}

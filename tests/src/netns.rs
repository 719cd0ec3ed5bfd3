//! Network namespaces made by a test, and running code or tools inside them.
//!
//! Every namespace is named `nk<pid>-<n>-<tag>` and lives under `/run/netns` (like `ip netns add`), so a
//! person debugging a kept lab can `ip netns exec` into it. It is deleted when the [`Netns`] is dropped.
//! Code runs inside a namespace on a thread of its own that has entered it ([`Netns::run`]); tools run with
//! `ip netns exec` ([`Netns::cmd`]). Nothing here ever changes the namespace of the calling thread.

use std::ffi::OsStr;
use std::fs::File;
use std::os::fd::AsFd;
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

use nix::sched::{CloneFlags, setns};

static NEXT: AtomicUsize = AtomicUsize::new(0);

/// A network namespace created for a test; deleted on drop.
#[derive(Debug)]
pub struct Netns {
    name: String,
    file: File,
}

impl Netns {
    /// Creates a fresh namespace with `lo` up. `tag` becomes part of its name (keep it short).
    pub fn new(tag: &str) -> Netns {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let mut name = format!("nk{}-{}-{}", std::process::id(), n, tag);
        name.truncate(30);
        run_ok(Command::new("ip").args(["netns", "add", &name]));
        let file = File::open(format!("/run/netns/{name}"))
            .unwrap_or_else(|e| panic!("open /run/netns/{name}: {e}"));
        let ns = Netns { name, file };
        ns.ip(&["link", "set", "lo", "up"]);
        ns
    }

    /// The namespace's name, as `ip netns` knows it.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Runs `f` on a new thread that has entered this namespace, and returns its result.
    /// A panic in `f` is propagated to the caller.
    pub fn run<T: Send, F: FnOnce() -> T + Send>(&self, f: F) -> T {
        std::thread::scope(|s| {
            s.spawn(|| {
                self.enter_current_thread();
                f()
            })
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p))
        })
    }

    /// Spawns `f` on a detached thread inside this namespace (for servers that outlive the call).
    pub fn spawn<T: Send + 'static, F: FnOnce() -> T + Send + 'static>(
        &self,
        f: F,
    ) -> std::thread::JoinHandle<T> {
        let file = self.file.try_clone().expect("dup netns fd");
        std::thread::spawn(move || {
            setns(file.as_fd(), CloneFlags::CLONE_NEWNET).expect("setns");
            f()
        })
    }

    fn enter_current_thread(&self) {
        setns(self.file.as_fd(), CloneFlags::CLONE_NEWNET).expect("setns into test namespace");
    }

    /// A command that runs `program` inside this namespace (`ip netns exec NAME program`).
    pub fn cmd(&self, program: impl AsRef<OsStr>) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.name]).arg(program);
        c
    }

    /// Runs `program args...` inside the namespace; returns its output whatever the exit status.
    pub fn exec(&self, program: &str, args: &[&str]) -> Output {
        self.cmd(program)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("run {program}: {e}"))
    }

    /// Runs `program args...` inside the namespace and returns stdout; panics with stderr on failure.
    pub fn exec_ok(&self, program: &str, args: &[&str]) -> String {
        let out = self.exec(program, args);
        check(&format!("{program} {}", args.join(" ")), &out);
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Runs `sh -c script` inside the namespace and returns stdout; panics with stderr on failure.
    pub fn sh(&self, script: &str) -> String {
        self.exec_ok("sh", &["-c", script])
    }

    /// Feeds `input` to `program args...` on stdin inside the namespace; returns the output.
    pub fn exec_stdin(&self, program: &str, args: &[&str], input: &[u8]) -> Output {
        use std::io::Write;
        let mut child = self
            .cmd(program)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("run {program}: {e}"));
        let mut stdin = child.stdin.take().expect("stdin");
        let data = input.to_vec();
        let writer = std::thread::spawn(move || {
            let _ = stdin.write_all(&data);
        });
        let out = child.wait_with_output().expect("wait");
        let _ = writer.join();
        out
    }

    /// `ip args...` inside the namespace; panics on failure.
    pub fn ip(&self, args: &[&str]) -> String {
        self.exec_ok("ip", args)
    }

    /// `nft -f -` with `ruleset` inside the namespace; panics on failure. (nft 1.0.6 needs the
    /// input to end with a newline; one is added.)
    pub fn nft_load(&self, ruleset: &str) {
        let out = self.exec_stdin("nft", &["-f", "-"], format!("{ruleset}\n").as_bytes());
        check("nft -f -", &out);
    }

    /// `nft list ruleset` inside the namespace.
    pub fn nft_list(&self) -> String {
        self.exec_ok("nft", &["list", "ruleset"])
    }

    /// `iptables-restore [args]` with `rules` inside the namespace; panics on failure.
    pub fn iptables_restore(&self, args: &[&str], rules: &str) {
        let out = self.exec_stdin("iptables-restore", args, rules.as_bytes());
        check("iptables-restore", &out);
    }

    /// `iptables-save` inside the namespace, without `#` comment lines (they carry timestamps).
    pub fn iptables_save(&self) -> String {
        strip_comments(&self.exec_ok("iptables-save", &[]))
    }

    /// Writes `value` to `/proc/sys/<key with dots as slashes>` inside the namespace.
    pub fn sysctl(&self, key: &str, value: &str) {
        let path = format!("/proc/sys/{}", key.replace('.', "/"));
        self.sh(&format!("echo {value} > {path}"));
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.name]).stderr(Stdio::null()).status();
    }
}

/// Drops `#` comment lines (iptables-save's timestamped header and footer).
pub fn strip_comments(text: &str) -> String {
    text.lines().filter(|l| !l.starts_with('#')).map(|l| format!("{l}\n")).collect()
}

fn run_ok(cmd: &mut Command) {
    let out = cmd.output().unwrap_or_else(|e| panic!("run {cmd:?}: {e}"));
    check(&format!("{cmd:?}"), &out);
}

fn check(what: &str, out: &Output) {
    assert!(
        out.status.success(),
        "`{what}` failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

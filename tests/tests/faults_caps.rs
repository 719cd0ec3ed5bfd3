//! natkeeper needs only `CAP_NET_ADMIN`, not root: run as `nobody` with that one capability (ambient,
//! through `setpriv`) inside a namespace of the test's own, `apply` programs the kernel and turns on
//! `net.ipv4.ip_forward`; without it, `apply` and `status` fail with one clear line and exit 1.
//!
//! Writing `/proc/sys/net/ipv4/ip_forward` works with `CAP_NET_ADMIN` alone because the kernel gives
//! a holder of `CAP_NET_ADMIN` over the namespace the owner's (root's) access to its `net.*` sysctls
//! (`net_ctl_permissions`, net/sysctl_net.c).

mod faults_common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;

use natkeeper_tests::Netns;

const NOBODY: &str = "65534";
const CONFIG: &str =
    "[[network]]\nbridge = \"virbr0\"\n\n[[forward]]\nport = 8080\nto = \"192.168.122.42:80\"\n";

/// A directory `nobody` can read, holding a copy of the binary and the configuration.
struct Files {
    dir: PathBuf,
}

impl Files {
    fn new(tag: &str) -> Files {
        let dir = std::env::temp_dir().join(format!("natkeeper-caps-{}-{tag}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        let bin = dir.join("natkeeper");
        std::fs::copy(faults_common::natkeeper(), &bin).unwrap();
        std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
        let config = dir.join("natkeeper.toml");
        std::fs::write(&config, CONFIG).unwrap();
        std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o644)).unwrap();
        Files { dir }
    }
    fn bin(&self) -> PathBuf {
        self.dir.join("natkeeper")
    }
    fn config(&self) -> PathBuf {
        self.dir.join("natkeeper.toml")
    }
}

impl Drop for Files {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A host with a guests' bridge and an uplink with a default route; `ip_forward` off.
fn host(tag: &str) -> Netns {
    let ns = Netns::new(tag);
    ns.ip(&["link", "add", "virbr0", "type", "bridge"]);
    ns.ip(&["addr", "add", "192.168.122.1/24", "dev", "virbr0"]);
    ns.ip(&["link", "set", "virbr0", "up"]);
    ns.ip(&["link", "add", "eth0", "type", "veth", "peer", "name", "eth0p"]);
    ns.ip(&["addr", "add", "192.168.1.201/24", "dev", "eth0"]);
    ns.ip(&["link", "set", "eth0", "up"]);
    ns.ip(&["route", "add", "default", "via", "192.168.1.1", "dev", "eth0"]);
    ns.sysctl("net.ipv4.ip_forward", "0");
    ns
}

/// Runs the binary as `nobody` in `ns`, with `CAP_NET_ADMIN` (ambient) or with no capability at all.
fn as_nobody(ns: &Netns, net_admin: bool, bin: &Path, args: &[&str]) -> Output {
    let mut setpriv = vec!["--reuid", NOBODY, "--regid", NOBODY, "--clear-groups"];
    if net_admin {
        setpriv.extend(["--inh-caps=+net_admin", "--ambient-caps=+net_admin"]);
    } else {
        setpriv.extend(["--inh-caps=-all", "--bounding-set=-all"]);
    }
    let bin = bin.to_str().unwrap();
    setpriv.push(bin);
    setpriv.extend(args);
    ns.exec("setpriv", &setpriv)
}

fn ip_forward(ns: &Netns) -> String {
    ns.exec_ok("cat", &["/proc/sys/net/ipv4/ip_forward"]).trim().to_string()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn cap_net_admin_alone_is_enough_to_apply_and_turn_on_forwarding() {
    if !natkeeper_tests::can_run() {
        return;
    }
    let files = Files::new("ok");
    let ns = host("capok");
    let config = files.config();
    let out = as_nobody(&ns, true, &files.bin(), &["apply", "-c", config.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "apply as nobody+CAP_NET_ADMIN: {}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert!(text(&out.stdout).contains("turned on net.ipv4.ip_forward"), "{}", text(&out.stdout));
    assert_eq!(ip_forward(&ns), "1", "CAP_NET_ADMIN must be enough to write the namespace's ip_forward");
    let rules = ns.nft_list();
    assert!(
        rules.contains("table ip natkeeper") && rules.contains("192.168.1.201 . tcp . 8080"),
        "the kernel must hold the forward:\n{rules}"
    );
    // Reading back and planning again need nothing more either.
    let status = as_nobody(&ns, true, &files.bin(), &["status"]);
    assert!(status.status.success(), "status: {}", text(&status.stderr));
    let plan = as_nobody(&ns, true, &files.bin(), &["plan", "--check", "-c", config.to_str().unwrap()]);
    assert_eq!(
        plan.status.code(),
        Some(0),
        "in sync after apply: {}{}",
        text(&plan.stdout),
        text(&plan.stderr)
    );
}

/// One line on stderr, `natkeeper: ...`, no panic, exit status 1.
fn assert_clear_failure(what: &str, out: &Output, expect: &[&str]) {
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{what}: exit status {:?}, stderr: {stderr}", out.status);
    assert_eq!(stderr.lines().count(), 1, "{what}: one line expected:\n{stderr}");
    assert!(stderr.starts_with("natkeeper: "), "{what}: {stderr}");
    assert!(!stderr.contains("panicked"), "{what}: {stderr}");
    assert!(expect.iter().any(|e| stderr.contains(e)), "{what}: expected one of {expect:?} in: {stderr}");
}

#[test]
fn without_cap_net_admin_apply_and_status_fail_with_one_clear_line() {
    if !natkeeper_tests::can_run() {
        return;
    }
    let files = Files::new("denied");
    let ns = host("capno");
    let config = files.config();
    let config = config.to_str().unwrap();
    let before = ns.nft_list();

    // Whichever comes first, the netlink request or the write to ip_forward, is refused.
    let denied = ["Operation not permitted", "Permission denied", "CAP_NET_ADMIN"];
    let out = as_nobody(&ns, false, &files.bin(), &["apply", "-c", config]);
    assert_clear_failure("apply, ip_forward off", &out, &denied);
    assert_eq!(ip_forward(&ns), "0");

    ns.sysctl("net.ipv4.ip_forward", "1");
    let out = as_nobody(&ns, false, &files.bin(), &["apply", "-c", config]);
    assert_clear_failure("apply, ip_forward on", &out, &denied);
    let out = as_nobody(&ns, false, &files.bin(), &["status"]);
    assert_clear_failure("status", &out, &denied);

    assert_eq!(ns.nft_list(), before, "nothing may change without the capability");
}

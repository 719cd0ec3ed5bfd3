//! Hostile configuration files given to the real binary (`natkeeper plan -c FILE`, and `apply` for
//! the biggest valid one): files over and just under the 16 MiB limit, deep nesting, 100,000
//! forwards, non-UTF-8, NUL bytes, duplicate keys, a device that never ends. Each ends in success
//! or in one clear line and exit status 2 — never a panic, a signal or unbounded memory: every run
//! has a 2 GiB address-space limit (`prlimit --as`) and its peak RSS is measured with GNU `time`
//! (Debian package `time`; without it the RSS check is skipped, the limit still applies).

mod faults_common;

use std::path::{Path, PathBuf};

use natkeeper_tests::lab::Lab;

/// natkeeper's limit on a configuration file (`natkeeper::config::MAX_CONFIG_BYTES`).
const LIMIT: usize = 16 * 1024 * 1024;
/// The address space every run gets.
const ADDRESS_SPACE: u64 = 2 << 30;
/// What a run may use at most (peak RSS). The biggest valid case, 100,000 forwards (a 7 MiB file),
/// peaks at about 310 MiB in a debug build.
const MAX_RSS_KIB: u64 = 512 * 1024;
/// The longest error line that is still a clear message.
const MAX_ERROR_LINE: usize = 1000;

const SMALL: &str =
    "[[network]]\nbridge = \"virbr0\"\n\n[[forward]]\nport = 8080\nto = \"192.168.122.42:80\"\n";

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    rss_kib: Option<u64>,
}

struct Files(PathBuf);

impl Files {
    fn new() -> Files {
        let dir = std::env::temp_dir().join(format!(
            "natkeeper-config-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        Files(dir)
    }
    fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let p = self.0.join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }
}

impl Drop for Files {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `natkeeper COMMAND -c CONFIG` in the lab's host namespace, bounded and measured.
fn natkeeper(lab: &Lab, command: &str, config: &Path) -> Run {
    let time = Path::new("/usr/bin/time");
    let rss_file = std::env::temp_dir().join(format!(
        "natkeeper-rss-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    let mut cmd = lab.host.cmd("prlimit");
    cmd.arg(format!("--as={ADDRESS_SPACE}")).arg("--");
    if time.is_file() {
        cmd.arg(time).arg("-o").arg(&rss_file).arg("-f").arg("%M");
    }
    cmd.arg(faults_common::natkeeper()).args([command, "-c"]).arg(config);
    let out = cmd.output().unwrap();
    let rss_kib = std::fs::read_to_string(&rss_file).ok().and_then(|s| s.lines().last()?.trim().parse().ok());
    let _ = std::fs::remove_file(&rss_file);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    // GNU time reports a signal in its own output file; the exit status says it too.
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr,
        rss_kib,
    }
}

/// The run ended in success (0) or a configuration error (2) with one line, and no panic.
fn assert_clean(what: &str, run: &Run, expect_code: i32, expect_text: &str) {
    eprintln!(
        "{what}: exit {:?}, peak RSS {} KiB, stderr {} bytes",
        run.code,
        run.rss_kib.map_or("?".into(), |k| k.to_string()),
        run.stderr.len()
    );
    assert!(!run.stderr.contains("panicked"), "{what} panicked: {}", head(&run.stderr));
    assert_eq!(run.code, Some(expect_code), "{what}: {}", head(&run.stderr));
    if expect_code != 0 {
        assert_eq!(run.stderr.lines().count(), 1, "{what}: one line expected: {}", head(&run.stderr));
        assert!(run.stderr.starts_with("natkeeper: "), "{what}: {}", head(&run.stderr));
    }
    assert!(run.stderr.contains(expect_text), "{what}: expected `{expect_text}` in: {}", head(&run.stderr));
    if let Some(kib) = run.rss_kib {
        assert!(kib <= MAX_RSS_KIB, "{what}: peak RSS {kib} KiB is over {MAX_RSS_KIB} KiB");
    }
}

fn head(s: &str) -> String {
    s.chars().take(300).collect()
}

/// `text` padded with comment lines to exactly `len` bytes.
fn padded(text: &str, len: usize) -> Vec<u8> {
    let mut out = text.as_bytes().to_vec();
    let line = format!("# {}\n", "x".repeat(77));
    while out.len() + line.len() <= len {
        out.extend_from_slice(line.as_bytes());
    }
    while out.len() < len {
        out.push(b'\n');
    }
    out
}

#[test]
fn files_at_the_size_limit() {
    if !natkeeper_tests::can_run() {
        return;
    }
    let lab = Lab::with_guests(&[]);
    let files = Files::new();
    let over = files.write("over.toml", &padded(SMALL, LIMIT + 1));
    assert_clean("16 MiB + 1 byte", &natkeeper(&lab, "plan", &over), 2, "limit");
    let under = files.write("under.toml", &padded(SMALL, LIMIT));
    let run = natkeeper(&lab, "plan", &under);
    assert_clean("16 MiB of comments around a valid config", &run, 0, "");
    assert!(run.stdout.contains("192.168.122.42"), "{}", run.stdout);
    // One string value as long as the limit allows.
    let mut big = b"[[network]]\nbridge = \"".to_vec();
    big.resize(LIMIT - 2, b'a');
    big.extend_from_slice(b"\"\n");
    let one_value = files.write("value.toml", &big);
    assert_clean("a 16 MiB string value", &natkeeper(&lab, "plan", &one_value), 2, "network");
}

#[test]
fn deep_nesting_non_utf8_nul_and_duplicate_keys() {
    if !natkeeper_tests::can_run() {
        return;
    }
    let lab = Lab::with_guests(&[]);
    let files = Files::new();
    let cases: [(&str, Vec<u8>, &str); 7] = [
        (
            "100,000 nested arrays",
            format!("x = {}{}\n", "[".repeat(100_000), "]".repeat(100_000)).into_bytes(),
            "TOML",
        ),
        (
            "10,000 nested inline tables",
            format!("x = {}1{}\n", "{a=".repeat(10_000), "}".repeat(10_000)).into_bytes(),
            "TOML",
        ),
        ("non-UTF-8", b"# caf\xe9\n[[forward]]\nport = 80\nto = \"192.168.122.41\"\n".to_vec(), "not UTF-8"),
        ("a NUL byte", b"[[forward]]\nport = 80\x00\nto = \"192.168.122.41\"\n".to_vec(), "TOML"),
        (
            "a duplicate key",
            b"[[forward]]\nport = 80\nport = 81\nto = \"192.168.122.41\"\n".to_vec(),
            "duplicate key",
        ),
        ("a duplicate table", b"[host]\ndrop_other_icmp = true\n[host]\n".to_vec(), "duplicate key"),
        (
            "a duplicate forward",
            format!("{SMALL}{}", &SMALL[SMALL.find("[[forward]]").unwrap()..]).into_bytes(),
            "already forwarded",
        ),
    ];
    for (what, bytes, expect) in cases {
        let path = files.write("case.toml", &bytes);
        assert_clean(what, &natkeeper(&lab, "plan", &path), 2, expect);
    }
}

#[test]
fn error_lines_stay_short_whatever_the_input() {
    if !natkeeper_tests::can_run() {
        return;
    }
    let lab = Lab::with_guests(&[]);
    let files = Files::new();
    let cases = [
        ("deep nesting on one line", format!("x = {}{}\n", "[".repeat(100_000), "]".repeat(100_000))),
        ("a 1 MB bad address", format!("[[forward]]\nport = 80\nto = \"{}\"\n", "a".repeat(1_000_000))),
        ("a 16 MiB bridge name", format!("[[network]]\nbridge = \"{}\"\n", "a".repeat(LIMIT - 30))),
    ];
    for (what, text) in cases {
        let run = natkeeper(&lab, "plan", &files.write("long.toml", text.as_bytes()));
        assert_clean(what, &run, 2, "");
        assert!(
            run.stderr.len() <= MAX_ERROR_LINE,
            "{what}: a {}-byte error line: {}…",
            run.stderr.len(),
            head(&run.stderr)
        );
    }
}

#[test]
fn a_device_that_never_ends_is_refused_without_reading_it_all() {
    if !natkeeper_tests::can_run() {
        return;
    }
    let lab = Lab::with_guests(&[]);
    let run = natkeeper(&lab, "plan", Path::new("/dev/zero"));
    assert_clean("/dev/zero", &run, 2, "/dev/zero");
}

#[test]
fn a_hundred_thousand_forwards_plan_and_apply() {
    if !natkeeper_tests::can_run() {
        return;
    }
    const N: usize = 100_000;
    let lab = Lab::with_guests(&[]);
    let files = Files::new();
    let mut text = String::from("[[network]]\nbridge = \"virbr0\"\n");
    for i in 0..N {
        let proto = if i % 2 == 0 { "tcp" } else { "udp" };
        text.push_str(&format!(
            "[[forward]]\nproto = \"{proto}\"\nport = {}\nto = \"192.168.122.{}:80\"\non = \"192.168.1.201\"\n",
            10_000 + i / 2,
            10 + i % 200
        ));
    }
    assert!(text.len() < LIMIT);
    let path = files.write("big.toml", text.as_bytes());
    assert_clean("plan of 100,000 forwards", &natkeeper(&lab, "plan", &path), 0, "");
    assert_clean("apply of 100,000 forwards", &natkeeper(&lab, "apply", &path), 0, "");
    let listed = lab.host.exec_ok("nft", &["list", "map", "ip", "natkeeper", "forwards"]);
    assert_eq!(listed.matches(" : 192.168.122.").count(), N);
}

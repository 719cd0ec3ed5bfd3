//! `SIGKILL` of `natkeeper apply` at random points while it applies a large configuration over a
//! smaller one: after each of 50 kills the kernel holds either the old ruleset or the new one,
//! never a mix — natkeeper changes the kernel in one transaction, and the kernel applies a batch
//! whole or not at all.

mod faults_common;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use natkeeper_nft::expr::Counter;
use natkeeper_nft::{Expr, Family, Ruleset, Socket};
use natkeeper_tests::lab::Lab;

const KILLS: usize = 50;

/// 100 forwards to .41.
const OLD: &str = r#"
[[network]]
bridge = "virbr0"

[[forward]]
port = "1000-1099"
to = "192.168.122.41"
on = "192.168.1.201"
"#;

/// The same ports now to .42, 20,000 more forwards (a range onto a range), two 1:1 NATs and host protection.
const NEW: &str = r#"
[[network]]
bridge = "virbr0"
egress = "masquerade"

[[forward]]
port = "1000-1099"
to = "192.168.122.42"
on = "192.168.1.201"

[[forward]]
proto = ["tcp", "udp"]
port = "20000-29999"
to = "192.168.122.41:40000-49999"
on = "192.168.1.201"

[[nat]]
public = "eth0:0"
guest = "192.168.122.43"

[[nat]]
public = "eth0:1"
guest = "192.168.122.44"

[host]
icmp_echo_rate = "1/second"
icmp_echo_max_size = 84
drop_other_icmp = true
"#;

/// What the kernel holds, without what legitimately differs between two equal rulesets (handles,
/// counters, use counts, element order).
fn fingerprint(rs: &Ruleset) -> String {
    let mut out = Vec::new();
    for t in &rs.tables {
        out.push(format!("table {} {} flags {}", t.family, t.name, t.flags));
    }
    for c in &rs.chains {
        out.push(format!(
            "chain {} {} {} {:?} {:?} {:?}",
            c.family, c.table, c.name, c.hook, c.policy, c.chain_type
        ));
        for r in rs.chain_rules(c.family, &c.table, &c.name) {
            let exprs: Vec<Expr> = r
                .exprs
                .iter()
                .map(|e| match e {
                    Expr::Counter(_) => Expr::Counter(Counter::default()),
                    other => other.clone(),
                })
                .collect();
            out.push(format!("  rule {exprs:?} {:?}", r.userdata));
        }
    }
    for (s, e) in rs.sets.iter().zip(&rs.elems) {
        out.push(format!(
            "set {} {} {} flags {} key {} {:?}",
            s.family, s.table, s.name, s.flags, s.key_type, s.data_type
        ));
        let mut elems: Vec<String> = e.elems.iter().map(|e| format!("  {:?} {:?}", e.key, e.data)).collect();
        elems.sort();
        out.extend(elems);
    }
    out.join("\n")
}

fn read(lab: &Lab) -> String {
    fingerprint(&lab.host.run(|| Ruleset::read(&mut Socket::open().unwrap(), Family::Ip).unwrap()))
}

fn apply(lab: &Lab, bin: &Path, config: &Path) {
    let out = lab.host.cmd(bin).arg("apply").arg("-q").arg("-c").arg(config).output().unwrap();
    assert!(
        out.status.success(),
        "natkeeper apply -c {}: {}",
        config.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A small deterministic generator (xorshift), seeded from the clock; the seed is printed.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[test]
fn fifty_kills_leave_the_old_or_the_new_ruleset_never_a_mix() {
    if !natkeeper_tests::can_run() {
        return;
    }
    let bin = faults_common::natkeeper();
    let dir: PathBuf = std::env::temp_dir().join(format!("natkeeper-kill-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (old, new) = (dir.join("old.toml"), dir.join("new.toml"));
    std::fs::write(&old, OLD).unwrap();
    std::fs::write(&new, NEW).unwrap();

    let lab = Lab::with_guests(&[]);
    apply(&lab, &bin, &old);
    let old_state = read(&lab);
    // One full apply of new over old: its duration spans the kill points.
    let started = Instant::now();
    apply(&lab, &bin, &new);
    let full = started.elapsed();
    let new_state = read(&lab);
    assert_ne!(old_state, new_state);
    assert!(new_state.matches("\n  [").count() > 20_000, "the new ruleset holds the 20,100 forwards");

    let seed = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos() as u64 | 1;
    let mut rng = Rng(seed);
    let (mut kept_old, mut got_new) = (0, 0);
    for kill in 0..KILLS {
        apply(&lab, &bin, &old);
        assert_eq!(read(&lab), old_state, "reset before kill {kill}");
        // Anywhere from the start to a little after a full apply takes.
        let delay = full.mul_f64((rng.next() % 1150) as f64 / 1000.0);
        let mut child = lab
            .host
            .cmd(&bin)
            .arg("apply")
            .arg("-q")
            .arg("-c")
            .arg(&new)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(delay);
        let _ = child.kill(); // SIGKILL; an error means it had exited already.
        let status = child.wait().unwrap();
        let now = read(&lab);
        if now == old_state {
            kept_old += 1;
        } else if now == new_state {
            got_new += 1;
        } else {
            panic!(
                "kill {kill} (seed {seed}, after {delay:?}, {status}) left a ruleset that is neither old nor new:\n{}",
                first_difference(&now, &old_state, &new_state)
            );
        }
    }
    eprintln!(
        "{KILLS} kills (seed {seed}, full apply {full:?}): {kept_old} left the old ruleset, {got_new} the new"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

fn first_difference(now: &str, old: &str, new: &str) -> String {
    let diff = |a: &str, b: &str| {
        a.lines()
            .zip(b.lines())
            .find(|(x, y)| x != y)
            .map(|(x, y)| format!("  now: {x}\n  was: {y}"))
            .unwrap_or_default()
    };
    format!("vs old:\n{}\nvs new:\n{}", diff(now, old), diff(now, new))
}

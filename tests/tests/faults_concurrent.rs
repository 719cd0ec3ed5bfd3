//! Another writer commits in a tight loop while natkeeper applies 10,000 forwards in one
//! generation-guarded transaction: the kernel refuses natkeeper's stale batches with `ERESTART`,
//! natkeeper re-reads, re-plans and retries, and ends complete — every element exactly once.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use natkeeper::{Host, Options, Policy};
use natkeeper_nft::{Family, SetElem, Socket, Table, Transaction};
use std::os::unix::process::CommandExt;

use natkeeper_tests::Netns;
use natkeeper_tests::lab::Lab;

const FORWARDS: usize = 10_000;

/// 10,000 forwards: tcp 192.168.1.201:(10000 + i) -> 192.168.122.(10 + i % 200):80.
fn big_policy() -> Policy {
    let mut text = String::from("[[network]]\nbridge = \"virbr0\"\n");
    for i in 0..FORWARDS {
        text.push_str(&format!(
            "[[forward]]\nport = {}\nto = \"192.168.122.{}:80\"\non = \"192.168.1.201\"\n",
            10_000 + i,
            10 + i % 200
        ));
    }
    Policy::parse(&text).unwrap()
}

fn forwards_map(ns: &Netns) -> Vec<SetElem> {
    ns.run(|| Socket::open().unwrap().elems(Family::Ip, "natkeeper", "forwards").unwrap())
}

/// The elements as (key, data) pairs, sorted, for comparison; counters left out.
fn content(elems: &[SetElem]) -> Vec<(Vec<u8>, String)> {
    let mut v: Vec<(Vec<u8>, String)> =
        elems.iter().map(|e| (e.key.clone(), format!("{:?}", e.data))).collect();
    v.sort();
    v
}

/// Who commits while natkeeper applies.
#[derive(Debug, Clone, Copy)]
enum Writer {
    /// `nft add table ip busy; nft delete table ip busy` in a shell loop (a few hundred commits a
    /// second: what libvirt, firewalld or a script restoring rules does in a burst).
    NftLoop,
    /// natkeeper-nft's own socket adding and deleting a table as fast as the kernel takes it (many
    /// thousand commits a second, without a pause).
    Socket,
}

/// Applies `policy` in a fresh lab while `writer` commits; returns the result and how many
/// commits the writer made.
fn apply_under(writer: Writer, policy: &Policy) -> (Lab, Result<natkeeper::Applied, natkeeper::Error>, u64) {
    let lab = Lab::with_guests(&[]);
    let stop = Arc::new(AtomicBool::new(false));
    let commits = Arc::new(AtomicU64::new(0));
    let count_events = {
        // The writer's commits, counted from the kernel's side: every NEWGEN that is not ours.
        let stop = stop.clone();
        let commits = commits.clone();
        let mut events = lab.host.run(|| natkeeper_nft::Events::subscribe().unwrap());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                while let Ok(Some(n)) = events.next_timeout(std::time::Duration::from_millis(50)) {
                    if matches!(n.event, natkeeper_nft::Event::NewGen(_)) {
                        commits.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        })
    };
    let mut shell = None;
    let mut thread = None;
    match writer {
        Writer::NftLoop => {
            let mut cmd = lab.host.cmd("sh");
            cmd.args(["-c", "while :; do nft add table ip busy; nft delete table ip busy; done"])
                .process_group(0);
            shell = Some(cmd.spawn().unwrap());
        }
        Writer::Socket => {
            let stop = stop.clone();
            thread = Some(lab.host.spawn(move || {
                let mut sock = Socket::open().unwrap();
                while !stop.load(Ordering::Relaxed) {
                    let mut add = Transaction::new(None);
                    add.add_table(&Table::new(Family::Ip, "busy"));
                    sock.commit(add).unwrap();
                    let mut del = Transaction::new(None);
                    del.delete_table(Family::Ip, "busy");
                    sock.commit(del).unwrap();
                }
            }));
        }
    }
    // Let the writer get going before natkeeper starts.
    while commits.load(Ordering::Relaxed) < 20 {
        std::thread::yield_now();
    }
    let started = std::time::Instant::now();
    let at_start = commits.load(Ordering::Relaxed);
    let result = lab.host.run(|| Host::open().unwrap().apply(policy, &Options::default()));
    eprintln!(
        "{writer:?}: apply returned after {:?}; the writer committed {} times meanwhile",
        started.elapsed(),
        commits.load(Ordering::Relaxed) - at_start
    );
    stop.store(true, Ordering::Relaxed);
    if let Some(mut child) = shell {
        let pgid = nix::unistd::Pid::from_raw(child.id() as i32);
        let _ = nix::sys::signal::killpg(pgid, nix::sys::signal::Signal::SIGKILL);
        let _ = child.wait();
    }
    if let Some(t) = thread {
        t.join().unwrap();
    }
    count_events.join().unwrap();
    let n = commits.load(Ordering::Relaxed);
    (lab, result, n)
}

/// The reference content: the policy applied with nobody else writing.
fn reference(policy: &Policy) -> Vec<(Vec<u8>, String)> {
    let quiet = Lab::with_guests(&[]);
    let applied = quiet.host.run(|| Host::open().unwrap().apply(policy, &Options::default()).unwrap());
    assert_eq!(applied.attempts, 1);
    let reference = content(&forwards_map(&quiet.host));
    assert_eq!(reference.len(), FORWARDS);
    reference
}

fn assert_complete(lab: &Lab, policy: &Policy, reference: &[(Vec<u8>, String)]) {
    let elems = forwards_map(&lab.host);
    let keys: HashSet<&[u8]> = elems.iter().map(|e| e.key.as_slice()).collect();
    assert_eq!(keys.len(), elems.len(), "duplicated elements");
    assert_eq!(content(&elems), reference, "the kernel must hold exactly the 10,000 forwards");
    // The oracle agrees on the count.
    let listed = lab.host.exec_ok("nft", &["list", "map", "ip", "natkeeper", "forwards"]);
    assert_eq!(listed.matches(" : 192.168.122.").count(), FORWARDS, "nft counts the elements");
    let again = lab.host.run(|| Host::open().unwrap().plan(policy, &Options::default()).unwrap().0);
    assert!(again.is_empty(), "second plan must be empty:\n{again}");
}

#[test]
fn ten_thousand_forwards_under_an_nft_loop_end_complete() {
    if !natkeeper_tests::can_run() {
        return;
    }
    let policy = big_policy();
    let reference = reference(&policy);
    let (lab, result, commits) = apply_under(Writer::NftLoop, &policy);
    let applied =
        result.unwrap_or_else(|e| panic!("apply under an nft loop ({commits} commits) failed: {e}"));
    eprintln!(
        "nft loop: {FORWARDS} forwards applied in {} attempts; {commits} commits meanwhile",
        applied.attempts
    );
    assert_complete(&lab, &policy, &reference);
}

#[test]
fn under_a_writer_that_never_pauses_apply_is_all_or_nothing() {
    if !natkeeper_tests::can_run() {
        return;
    }
    let policy = big_policy();
    let reference = reference(&policy);
    let (lab, result, commits) = apply_under(Writer::Socket, &policy);
    match result {
        Ok(applied) => {
            eprintln!("socket loop: applied in {} attempts; {commits} commits meanwhile", applied.attempts);
            assert_complete(&lab, &policy, &reference);
        }
        Err(e) => {
            // Bounded retries, then a clear error — and nothing of natkeeper's in the kernel.
            eprintln!("socket loop: gave up after {commits} commits: {e}");
            assert!(
                matches!(
                    e,
                    natkeeper::Error::Contended(_)
                        | natkeeper::Error::Nft(natkeeper_nft::Error::Unstable { .. })
                ),
                "{e:?}"
            );
            let tables = lab.host.run(|| Socket::open().unwrap().tables(Family::Ip).unwrap());
            assert!(tables.iter().all(|t| t.name != "natkeeper"), "a failed apply must leave nothing behind");
        }
    }
}

//! The checks scenarios are made of: real connections from the outside laptop through the host's
//! public addresses, real connections from guests to the outside, and natkeeper's own commands.

use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::{Duration, Instant};

use anyhow::Result;

use super::Session;
use crate::vmtest::cmd::{last_lines, output, run};
use crate::vmtest::http::Reply;
use crate::vmtest::interrupt;
use crate::vmtest::lab::{CLIENT, Lab};
use crate::vmtest::report::secs;

/// How long `watch` may take to repair after something rewrote the firewall.
pub(super) const REPAIR_TIMEOUT: Duration = Duration::from_secs(15);

/// A forward to check: `public` must reach `guest:port`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Forward {
    /// The address and port the outside connects to.
    pub(super) public: SocketAddrV4,
    /// The guest it must arrive at.
    pub(super) guest: Ipv4Addr,
    /// The port it must arrive at.
    pub(super) port: u16,
}

/// `public:port` → `guest:guest_port`.
pub(super) const fn fwd(public: Ipv4Addr, port: u16, guest: Ipv4Addr, guest_port: u16) -> Forward {
    Forward { public: SocketAddrV4::new(public, port), guest, port: guest_port }
}

impl Session<'_> {
    fn label(&self, what: &str) -> String {
        format!("{}: {what}", self.scenario.name())
    }

    /// A lab action (not a check): printed with its duration; an error cuts the scenario short.
    pub(super) fn step(&mut self, what: &str, f: impl FnOnce(&mut Lab) -> Result<()>) -> Result<()> {
        let start = Instant::now();
        f(self.lab)?;
        println!("vmtest: {}: {what} ({})", self.scenario.name(), secs(start.elapsed()));
        interrupt::check()
    }

    /// Check: `natkeeper apply -c CONFIG` exits 0.
    pub(super) fn apply(&mut self, when: &str) -> bool {
        let log = self.lab.dir.join(format!("{}-apply-{}.log", self.scenario.name(), when.replace(' ', "-")));
        let (nk, ns, config) = (self.natkeeper, self.lab.host_ns.clone(), self.config.clone());
        let what = self.label(&format!(
            "natkeeper apply -c {}{}",
            file_name(&config),
            if when.is_empty() { String::new() } else { format!(" {when}") }
        ));
        self.report.check(what, || nk.apply(&ns, &config, &log))
    }

    /// Check: `natkeeper watch -c CONFIG` starts and is still running a moment later. It stays running
    /// (in the lab) until the lab is reset or torn down.
    pub(super) fn start_watch(&mut self) -> bool {
        let log = self.lab.dir.join(format!("{}-watch.log", self.scenario.name()));
        let (nk, ns, config) = (self.natkeeper, self.lab.host_ns.clone(), self.config.clone());
        let what = self.label(&format!("natkeeper watch -c {} starts", file_name(&config)));
        let lab = &mut *self.lab;
        self.report.check(what, || {
            let watch = nk.watch(&ns, &config, &log)?;
            lab.set_watch(watch);
            interrupt::sleep(Duration::from_millis(500)).map_err(|e| e.to_string())?;
            lab.watch().map_or(Err("not started".into()), |w| w.running())
        })
    }

    /// Check: `natkeeper watch` is still running.
    pub(super) fn watch_still_running(&mut self) -> bool {
        let what = self.label("natkeeper watch is still running");
        let lab = &mut *self.lab;
        self.report
            .check(what, || lab.watch().map_or(Err("no natkeeper watch was started".into()), |w| w.running()))
    }

    /// Check: each forward reaches its guest, which sees the client's own address.
    pub(super) fn forwards(&mut self, when: &str, forwards: &[Forward]) {
        for f in forwards {
            let what = self.label(&format!("{} → {}:{} {when}", f.public, f.guest, f.port));
            let lab = &*self.lab;
            self.report.check(what, || expect_guest(&lab.get(f.public, "/cgi-bin/ip"), f));
        }
    }

    /// Check: each forward works again within [`REPAIR_TIMEOUT`] (retried while `natkeeper watch` runs,
    /// which is what repairs; one deadline for the whole group).
    pub(super) fn forwards_eventually(&mut self, when: &str, forwards: &[Forward]) {
        let end = Instant::now() + REPAIR_TIMEOUT;
        for f in forwards {
            let what = self.label(&format!("{} → {}:{} {when}", f.public, f.guest, f.port));
            let lab = &mut *self.lab;
            self.report.check(what, || {
                loop {
                    let result = expect_guest(&lab.get(f.public, "/cgi-bin/ip"), f);
                    let Err(e) = result else { return Ok(()) };
                    if let Err(dead) =
                        lab.watch().map_or(Err("no natkeeper watch runs".to_string()), |w| w.running())
                    {
                        return Err(format!("{e}; {dead}"));
                    }
                    if Instant::now() >= end {
                        return Err(format!("still after {}s: {e}", REPAIR_TIMEOUT.as_secs()));
                    }
                    interrupt::sleep(Duration::from_millis(200)).map_err(|e| e.to_string())?;
                }
            });
        }
    }

    /// Check: connections to `addr` from the outside are refused.
    pub(super) fn refused(&mut self, when: &str, addrs: &[SocketAddrV4]) {
        for &addr in addrs {
            let what = self.label(&format!("{addr} refused {when}"));
            let lab = &*self.lab;
            self.report.check(what, || match lab.get(addr, "/cgi-bin/ip") {
                Reply::Refused => Ok(()),
                other => Err(format!("expected connection refused, got {other}")),
            });
        }
    }

    /// Check: the outside sees guest `guest` (calling from its own address, or from `from`) as `seen`.
    pub(super) fn egress(&mut self, guest: Ipv4Addr, from: Option<Ipv4Addr>, seen: Ipv4Addr, why: &str) {
        let src = from.map(|f| format!(" from {f}")).unwrap_or_default();
        let what = self.label(&format!("guest {guest}{src} → outside seen as {seen} ({why})"));
        let lab = &mut *self.lab;
        self.report.check(what, || {
            let got = lab.egress_seen_as(guest, from).map_err(|e| format!("{e:#}"))?;
            if got == seen.to_string() { Ok(()) } else { Err(format!("the outside saw {got}")) }
        });
    }
}

impl Session<'_> {
    /// Check: a second `apply` changes nothing (`nft -s list ruleset` is the same before and after),
    /// and the ruleset holds natkeeper's own table `ip natkeeper`.
    pub(super) fn apply_again_changes_nothing(&mut self) {
        let what = self.label("a second natkeeper apply changes nothing");
        let (nk, config) = (self.natkeeper, self.config.clone());
        let lab = &*self.lab;
        let log = lab.dir.join(format!("{}-apply-again.log", self.scenario.name()));
        self.report.check(what, || {
            let ruleset =
                || run(lab.host("nft").args(["-s", "list", "ruleset"])).map_err(|e| format!("{e:#}"));
            let before = ruleset()?;
            if !before.contains("table ip natkeeper {") {
                return Err("there is no table ip natkeeper after the first apply".into());
            }
            nk.apply(&lab.host_ns, &config, &log)?;
            let after = ruleset()?;
            if before == after {
                Ok(())
            } else {
                Err(format!("the ruleset changed: {}", first_difference(&before, &after)))
            }
        });
    }

    /// Check: `iptables-save` (which libvirt's iptables backend and every iptables user relies on)
    /// still works, without warnings, and prints natkeeper's hole in FORWARD.
    pub(super) fn iptables_save_shows_hole(&mut self) {
        let what = self.label("iptables-save works and lists natkeeper's FORWARD rule");
        let lab = &*self.lab;
        self.report.check(what, || {
            let out = output(&mut lab.host("iptables-save")).map_err(|e| format!("{e:#}"))?;
            let (stdout, stderr) =
                (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
            if !out.status.success() || !stderr.trim().is_empty() || stdout.contains("incompatible") {
                return Err(format!(
                    "iptables-save: {}; {}",
                    out.status,
                    last_lines(&format!("{stderr}\n{stdout}"), 2)
                ));
            }
            let holes: Vec<&str> =
                stdout.lines().filter(|l| l.starts_with("-A FORWARD") && l.contains("natkeeper")).collect();
            if holes.is_empty() {
                Err("no `-A FORWARD ... natkeeper` rule in iptables-save".into())
            } else {
                Ok(())
            }
        });
    }
}

/// The first line that differs between two texts, for messages.
fn first_difference(a: &str, b: &str) -> String {
    let mut la = a.lines();
    let mut lb = b.lines();
    loop {
        match (la.next(), lb.next()) {
            (Some(x), Some(y)) if x == y => continue,
            (x, y) => return format!("`{}` became `{}`", x.unwrap_or("").trim(), y.unwrap_or("").trim()),
        }
    }
}

/// Checks that an echo reply comes from `f.guest` on `f.port` and shows the client's own address.
fn expect_guest(reply: &Reply, f: &Forward) -> Result<(), String> {
    let Reply::Ok(body) = reply else { return Err(format!("expected the guest's reply, got {reply}")) };
    let field = |k: &str| body.split_whitespace().find_map(|w| w.strip_prefix(k)).map(str::to_string);
    let (guest, port, remote) = (field("guest="), field("port="), field("remote="));
    let want = (Some(f.guest.to_string()), Some(f.port.to_string()), Some(CLIENT.to_string()));
    if (guest.clone(), port.clone(), remote.as_deref().map(normalize)) == want {
        Ok(())
    } else {
        Err(format!("wrong reply `{}`", body.trim()))
    }
}

/// `[::ffff:192.168.1.5]` → `192.168.1.5`.
fn normalize(addr: &str) -> String {
    let a = addr.trim_start_matches('[').trim_end_matches(']');
    a.strip_prefix("::ffff:").unwrap_or(a).to_string()
}

fn file_name(p: &std::path::Path) -> String {
    p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    const F: Forward = fwd(Ipv4Addr::new(192, 168, 1, 201), 8080, Ipv4Addr::new(192, 168, 122, 42), 80);

    #[test]
    fn accepts_only_the_right_guest_port_and_client() {
        let ok = Reply::Ok("guest=192.168.122.42 port=80 remote=192.168.1.5\n".into());
        assert_eq!(expect_guest(&ok, &F), Ok(()));
        let mapped = Reply::Ok("guest=192.168.122.42 port=80 remote=[::ffff:192.168.1.5]\n".into());
        assert_eq!(expect_guest(&mapped, &F), Ok(()));
        for wrong in [
            "guest=192.168.122.41 port=80 remote=192.168.1.5",
            "guest=192.168.122.42 port=8080 remote=192.168.1.5",
            "guest=192.168.122.42 port=80 remote=192.168.122.1",
            "guest=192.168.122.42 port=80",
        ] {
            assert!(expect_guest(&Reply::Ok(wrong.into()), &F).is_err(), "{wrong}");
        }
        assert!(expect_guest(&Reply::Refused, &F).is_err());
    }
}

//! Real TCP traffic between the lab's namespaces: a server in the guest that accepts and closes at
//! once, a client that opens short connections one after another, and a probe that waits for a
//! forward to work again.

use std::io::Read as _;
use std::net::{Ipv4Addr, SocketAddrV4, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, anyhow, bail};

use super::ns::{Netns, NsHandle};

/// How long one connection may take before the client gives up.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// How long a check of a forward waits for an answer.
const CHECK_TIMEOUT: Duration = Duration::from_millis(200);
/// How long one attempt of [`first_success`] waits: a rejected SYN comes back as ICMP at once, but
/// a SYN dropped instead (an ICMP error over the rate limit) would otherwise stall the probe; in the
/// lab a working connection opens in well under a millisecond.
pub(crate) const PROBE_TIMEOUT: Duration = Duration::from_millis(5);
/// Pause between failed attempts.
pub(crate) const PROBE_PAUSE: Duration = Duration::from_millis(1);

/// A server in a namespace: accepts every connection and closes it at once (so the client sees the
/// server's FIN). Stopped on [`Server::stop`] or drop.
#[derive(Debug)]
pub(crate) struct Server {
    stop: Arc<AtomicBool>,
    port: u16,
    ns: NsHandle,
    thread: Option<JoinHandle<u64>>,
}

impl Server {
    /// Listens on `0.0.0.0:port` in `ns`.
    pub(crate) fn start(ns: &Netns, port: u16) -> Result<Server> {
        let listener = ns.run(move || {
            TcpListener::bind((Ipv4Addr::UNSPECIFIED, port)).with_context(|| format!("binding port {port}"))
        })?;
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            let mut accepted = 0u64;
            for conn in listener.incoming() {
                if flag.load(Ordering::Relaxed) {
                    break;
                }
                if conn.is_ok() {
                    accepted += 1;
                }
            }
            accepted
        });
        Ok(Server { stop, port, ns: ns.handle()?, thread: Some(thread) })
    }

    /// Stops the server; returns how many connections it accepted.
    pub(crate) fn stop(mut self) -> Result<u64> {
        self.wake()?;
        let thread = self.thread.take().context("server already stopped")?;
        thread.join().map_err(|_| anyhow!("the server thread panicked"))
    }

    /// Sets the stop flag and wakes the blocking `accept` with one last connection from inside.
    fn wake(&self) -> Result<()> {
        self.stop.store(true, Ordering::Relaxed);
        let port = self.port;
        self.ns.run(move || {
            TcpStream::connect((Ipv4Addr::LOCALHOST, port)).map(drop).context("waking the server")
        })
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(t) = self.thread.take() {
            if self.wake().is_ok() {
                let _ = t.join();
            }
        }
    }
}

/// Opens `count` connections to `to`, one after another, each waiting for the server's close;
/// returns the seconds it took. Call inside the client's namespace.
pub(crate) fn connections(to: SocketAddrV4, count: usize) -> Result<f64> {
    let start = Instant::now();
    let mut buf = [0u8; 16];
    for i in 0..count {
        let mut s = TcpStream::connect_timeout(&to.into(), CONNECT_TIMEOUT)
            .with_context(|| format!("connection {i} to {to}"))?;
        s.set_read_timeout(Some(CONNECT_TIMEOUT))?;
        let n = s.read(&mut buf).with_context(|| format!("connection {i} to {to}: waiting for the close"))?;
        if n != 0 {
            bail!("connection {i} to {to}: the server sent data");
        }
    }
    Ok(start.elapsed().as_secs_f64())
}

/// One attempt: whether a connection to `to` opens. Call inside the client's namespace.
pub(crate) fn reachable(to: SocketAddrV4) -> bool {
    TcpStream::connect_timeout(&to.into(), CHECK_TIMEOUT).is_ok()
}

/// Tries to connect to `to` until it works (the instant it did) or `deadline` passes (`None`).
/// Call inside the client's namespace.
pub(crate) fn first_success(to: SocketAddrV4, deadline: Instant) -> Option<Instant> {
    loop {
        if TcpStream::connect_timeout(&to.into(), PROBE_TIMEOUT).is_ok() {
            return Some(Instant::now());
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(PROBE_PAUSE);
    }
}

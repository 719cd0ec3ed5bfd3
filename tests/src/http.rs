//! A tiny HTTP echo server and client for real-traffic checks between namespaces.
//!
//! The server answers every request with `hello from <its address:port> to <caller address:port>`, so a
//! check can tell which guest answered and which source address the guest saw (DNAT must keep the
//! client's address; SNAT must show the public one).

use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::netns::Netns;

/// An echo server running inside a namespace on one or more ports; stopped on drop.
#[derive(Debug)]
pub struct EchoServer {
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

impl EchoServer {
    /// Listens on `0.0.0.0:<port>` in `ns` for each of `ports`.
    pub fn start(ns: &Netns, ports: &[u16]) -> EchoServer {
        let stop = Arc::new(AtomicBool::new(false));
        let mut threads = Vec::new();
        for &port in ports {
            let listener = ns.run(move || {
                let l = TcpListener::bind((Ipv4Addr::UNSPECIFIED, port))
                    .unwrap_or_else(|e| panic!("bind :{port}: {e}"));
                l.set_nonblocking(true).expect("nonblocking");
                l
            });
            let stop = stop.clone();
            threads.push(std::thread::spawn(move || serve(listener, &stop)));
        }
        EchoServer { stop, threads }
    }
}

impl Drop for EchoServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

fn serve(listener: TcpListener, stop: &AtomicBool) {
    while !stop.load(Ordering::Relaxed) {
        match listener.accept() {
            Ok((mut conn, peer)) => {
                let _ = conn.set_nonblocking(false);
                let _ = conn.set_read_timeout(Some(Duration::from_secs(2)));
                let local = conn.local_addr().map(|a| a.to_string()).unwrap_or_default();
                let mut buf = [0u8; 1024];
                let _ = conn.read(&mut buf);
                let body = format!("hello from {local} to {peer}\n");
                let _ = write!(conn, "HTTP/1.0 200 OK\r\nContent-Length: {}\r\n\r\n{body}", body.len());
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => std::thread::sleep(Duration::from_millis(5)),
            Err(_) => std::thread::sleep(Duration::from_millis(5)),
        }
    }
}

/// What an echo server said: the address it answered on and the caller address it saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Echo {
    /// The server's own address and port (after DNAT: the guest's).
    pub server: SocketAddr,
    /// The caller's address and port as the server saw it (after SNAT: the public one).
    pub peer: SocketAddr,
}

/// Sends `GET /` to `to` from inside `ns` (optionally from source address `from`) and parses the echo.
pub fn get(ns: &Netns, from: Option<Ipv4Addr>, to: SocketAddrV4, timeout: Duration) -> io::Result<Echo> {
    ns.run(move || {
        let stream = match from {
            None => TcpStream::connect_timeout(&to.into(), timeout)?,
            Some(src) => connect_from(src, to, timeout)?,
        };
        exchange(stream, timeout)
    })
}

fn connect_from(src: Ipv4Addr, to: SocketAddrV4, timeout: Duration) -> io::Result<TcpStream> {
    // std has no bind-before-connect for TCP; a bound socket through libc would need unsafe code, which
    // the workspace denies. Instead use a connected socket from nix.
    use nix::sys::socket::{AddressFamily, SockFlag, SockType, SockaddrIn, bind, connect, socket};
    let fd = socket(AddressFamily::Inet, SockType::Stream, SockFlag::SOCK_CLOEXEC, None)
        .map_err(io::Error::from)?;
    bind(std::os::fd::AsRawFd::as_raw_fd(&fd), &SockaddrIn::from(SocketAddrV4::new(src, 0)))
        .map_err(io::Error::from)?;
    let stream = TcpStream::from(fd);
    stream.set_write_timeout(Some(timeout))?;
    connect(std::os::fd::AsRawFd::as_raw_fd(&stream), &SockaddrIn::from(to)).map_err(io::Error::from)?;
    Ok(stream)
}

fn exchange(mut stream: TcpStream, timeout: Duration) -> io::Result<Echo> {
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    stream.write_all(b"GET / HTTP/1.0\r\n\r\n")?;
    let mut reply = String::new();
    stream.read_to_string(&mut reply)?;
    parse_echo(&reply)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, format!("not an echo reply: {reply:?}")))
}

fn parse_echo(reply: &str) -> Option<Echo> {
    let body = reply.split("\r\n\r\n").nth(1)?;
    let rest = body.trim().strip_prefix("hello from ")?;
    let (server, peer) = rest.split_once(" to ")?;
    Some(Echo { server: server.parse().ok()?, peer: peer.parse().ok()? })
}

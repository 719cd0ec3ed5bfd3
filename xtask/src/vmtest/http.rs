//! A tiny HTTP/1.0 client that connects from inside a network namespace (its thread `setns`es into
//! it), so a check can tell a forwarded reply from a refused or unanswered connection.

use std::fmt;
use std::fs::File;
use std::io::{ErrorKind, Read as _, Write as _};
use std::net::{SocketAddr, SocketAddrV4, TcpStream};
use std::thread;
use std::time::Duration;

use nix::sched::{CloneFlags, setns};

/// How long a connection attempt may take (SYN retransmits after 1 s and 3 s).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(4);
/// How long the reply may take.
const READ_TIMEOUT: Duration = Duration::from_secs(5);

/// What a GET got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Reply {
    /// A `200` reply with this body.
    Ok(String),
    /// Another status line.
    Status(String),
    /// Connection refused (a TCP RST, or ICMP port unreachable from a REJECT).
    Refused,
    /// No answer within the timeout.
    Timeout,
    /// Anything else (host unreachable, reset mid-reply, ...).
    Error(String),
}

impl fmt::Display for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reply::Ok(body) => write!(f, "200 `{}`", body.trim()),
            Reply::Status(s) => write!(f, "status `{s}`"),
            Reply::Refused => f.write_str("connection refused"),
            Reply::Timeout => f.write_str("no answer (timeout)"),
            Reply::Error(e) => f.write_str(e),
        }
    }
}

/// `GET path` from `addr`, connecting from inside network namespace `ns` (a name under /run/netns).
pub(crate) fn get(ns: &str, addr: SocketAddrV4, path: &str) -> Reply {
    let ns_path = format!("/run/netns/{ns}");
    let request = format!("GET {path} HTTP/1.0\r\nHost: {}\r\nUser-Agent: vmtest\r\n\r\n", addr.ip());
    let worker = thread::spawn(move || -> Reply {
        let ns_file = match File::open(&ns_path) {
            Ok(f) => f,
            Err(e) => return Reply::Error(format!("opening {ns_path}: {e}")),
        };
        if let Err(e) = setns(&ns_file, CloneFlags::CLONE_NEWNET) {
            return Reply::Error(format!("setns {ns_path}: {e}"));
        }
        fetch(addr, &request)
    });
    worker.join().unwrap_or_else(|_| Reply::Error("HTTP client thread panicked".into()))
}

fn fetch(addr: SocketAddrV4, request: &str) -> Reply {
    let mut s = match TcpStream::connect_timeout(&SocketAddr::V4(addr), CONNECT_TIMEOUT) {
        Ok(s) => s,
        Err(e) => return classify(&e),
    };
    let _ = s.set_read_timeout(Some(READ_TIMEOUT));
    let _ = s.set_write_timeout(Some(READ_TIMEOUT));
    if let Err(e) = s.write_all(request.as_bytes()) {
        return classify(&e);
    }
    let mut raw = Vec::new();
    if let Err(e) = s.read_to_end(&mut raw) {
        return classify(&e);
    }
    parse(&String::from_utf8_lossy(&raw))
}

fn classify(e: &std::io::Error) -> Reply {
    match e.kind() {
        ErrorKind::ConnectionRefused => Reply::Refused,
        ErrorKind::TimedOut | ErrorKind::WouldBlock => Reply::Timeout,
        _ => Reply::Error(e.to_string()),
    }
}

/// Splits a reply at its first empty line (CGI output through busybox httpd ends header lines in a
/// bare `\n`).
fn parse(raw: &str) -> Reply {
    let status = raw.lines().next().unwrap_or_default().trim();
    let mut rest = raw;
    let mut body = "";
    while let Some((line, tail)) = rest.split_once('\n') {
        if line.trim_end_matches('\r').is_empty() {
            body = tail;
            break;
        }
        rest = tail;
    }
    let code = status.split_whitespace().nth(1);
    if code == Some("200") { Reply::Ok(body.to_string()) } else { Reply::Status(status.to_string()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_status_and_body() {
        let r = parse("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nguest=1 port=80\n");
        assert_eq!(r, Reply::Ok("guest=1 port=80\n".into()));
        assert_eq!(parse("HTTP/1.0 404 Not Found\r\n\r\n"), Reply::Status("HTTP/1.0 404 Not Found".into()));
        assert_eq!(parse(""), Reply::Status(String::new()));
        let cgi = parse("HTTP/1.0 200 OK\r\nContent-Type: text/plain\n\nREMOTE_ADDR=192.168.1.201\n");
        assert_eq!(cgi, Reply::Ok("REMOTE_ADDR=192.168.1.201\n".into()));
    }
}

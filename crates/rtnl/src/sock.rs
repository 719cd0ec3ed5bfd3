//! The blocking `NETLINK_ROUTE` socket underneath [`crate::Rtnl`] and [`crate::Events`]: open, send,
//! receive whole datagrams, wait for readability.

use std::io;
use std::os::fd::AsFd;
use std::time::{Duration, Instant};

use netlink_packet_core::{NetlinkHeader, NetlinkMessage, NetlinkPayload};
use netlink_packet_route::RouteNetlinkMessage;
use netlink_sys::protocols::NETLINK_ROUTE;
use netlink_sys::{Socket, SocketAddr};
use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};

use crate::error::Error;

/// Opens a `NETLINK_ROUTE` socket in the calling thread's network namespace, bound to a port the kernel
/// picks, and joins the multicast `groups` (`RTNLGRP_*` numbers).
pub(crate) fn open(groups: &[u32]) -> Result<Socket, Error> {
    let mut socket = Socket::new(NETLINK_ROUTE).map_err(|e| Error::io("socket", e))?;
    socket.bind_auto().map_err(|e| Error::io("bind", e))?;
    for &group in groups {
        socket.add_membership(group).map_err(|e| Error::io("add_membership", e))?;
    }
    Ok(socket)
}

/// Sends one request to the kernel.
pub(crate) fn send(socket: &Socket, request: RouteNetlinkMessage, flags: u16, seq: u32) -> Result<(), Error> {
    let mut header = NetlinkHeader::default();
    header.flags = flags;
    header.sequence_number = seq;
    let mut msg = NetlinkMessage::new(header, NetlinkPayload::from(request));
    msg.finalize();
    // `serialize` needs exactly `buffer_len()` bytes, which is what we give it.
    let mut buf = vec![0; msg.buffer_len()];
    msg.serialize(&mut buf);
    socket.send_to(&buf, &SocketAddr::new(0, 0), 0).map_err(|e| Error::io("send", e))?;
    Ok(())
}

/// Receives one datagram whole, however long (its length is peeked first). `Ok(None)` when `dontwait`
/// is set and nothing is queued. Errors keep their errno (`ENOBUFS` after an overrun).
pub(crate) fn recv(socket: &Socket, dontwait: bool) -> io::Result<Option<Vec<u8>>> {
    let wait = if dontwait { libc::MSG_DONTWAIT } else { 0 };
    loop {
        let mut probe: Vec<u8> = Vec::new();
        let len = match socket.recv_from(&mut probe, libc::MSG_PEEK | libc::MSG_TRUNC | wait) {
            Ok((len, _)) => len,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) if dontwait && e.kind() == io::ErrorKind::WouldBlock => return Ok(None),
            Err(e) => return Err(e),
        };
        let mut buf: Vec<u8> = Vec::with_capacity(len.max(1));
        match socket.recv_from(&mut buf, libc::MSG_TRUNC | wait) {
            Ok((got, _)) if got > buf.len() => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("datagram of {got} bytes truncated to {}", buf.len()),
                ));
            }
            Ok(_) => return Ok(Some(buf)),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) if dontwait && e.kind() == io::ErrorKind::WouldBlock => return Ok(None),
            Err(e) => return Err(e),
        }
    }
}

/// Waits until `socket` is readable (or has an error to report, such as `ENOBUFS`), at most `timeout`.
/// Returns whether it is.
pub(crate) fn wait_readable(socket: &Socket, timeout: Duration) -> Result<bool, Error> {
    let deadline = Instant::now().checked_add(timeout);
    loop {
        let left = match deadline {
            Some(d) => d.saturating_duration_since(Instant::now()),
            None => Duration::MAX,
        };
        let mut fds = [PollFd::new(socket.as_fd(), PollFlags::POLLIN)];
        // Whole milliseconds, rounded up so a sub-millisecond rest does not spin.
        let ms = left.as_micros().div_ceil(1000);
        let poll_timeout = PollTimeout::try_from(ms).unwrap_or(PollTimeout::MAX);
        match poll(&mut fds, poll_timeout) {
            Ok(0) if left.is_zero() => return Ok(false),
            Ok(0) | Err(Errno::EINTR) => continue,
            Ok(_) => return Ok(true),
            Err(e) => return Err(Error::io("poll", e.into())),
        }
    }
}

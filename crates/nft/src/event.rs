//! Ruleset change notifications (`NFNLGRP_NFTABLES`): who changed what, as typed events.
//!
//! A socket overrun (`ENOBUFS`: events were lost) is reported as [`Event::Overrun`] — a request to
//! re-read everything — and the stream goes on. The events still queued at that moment are older than
//! the loss and are dropped, so every event after `Overrun` is one that happened after it.

use std::collections::VecDeque;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::time::Duration;

use netlink_sys::Socket as NlSocket;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::socket::{setsockopt, sockopt};

use crate::chain::Chain;
use crate::error::{DecodeError, Error};
use crate::generation::Generation;
use crate::proto::{self, NETLINK_NETFILTER, NFNLGRP_NFTABLES, msg};
use crate::rule::Rule;
use crate::set::{ElemList, Set};
use crate::table::Table;

const RCVBUF: usize = 8 * 1024 * 1024;
const RECV_BUF: usize = 256 * 1024;
/// At most this many stale datagrams are discarded after an overrun, so a flood cannot keep
/// [`Events`] busy forever.
const MAX_DISCARD: usize = 1 << 16;

/// One change to the ruleset.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// A table was added (or updated).
    NewTable(Table),
    /// A table was deleted.
    DelTable(Table),
    /// A chain was added (or updated).
    NewChain(Chain),
    /// A chain was deleted.
    DelChain(Chain),
    /// A rule was added or replaced.
    NewRule(Rule),
    /// A rule was deleted.
    DelRule(Rule),
    /// A set or map was added.
    NewSet(Set),
    /// A set or map was deleted.
    DelSet(Set),
    /// Elements were added.
    NewElems(ElemList),
    /// Elements were deleted.
    DelElems(ElemList),
    /// A commit finished: the new generation and the process that made it.
    NewGen(Generation),
    /// Events were lost (`ENOBUFS`): re-read the whole ruleset.
    Overrun,
    /// A message this crate does not decode (`NFT_MSG_*` number).
    Other(u8),
    /// A message that did not decode; something changed, so treat it like an overrun.
    Undecodable {
        /// The `NFT_MSG_*` number.
        msg: u8,
        /// Why it did not decode.
        error: DecodeError,
    },
}

/// An event with the netlink port id of the socket whose commit caused it (0 for the kernel).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    /// The committing socket's port id ([`crate::Socket::portid`] tells your own).
    pub portid: u32,
    /// What changed.
    pub event: Event,
}

/// A subscription to ruleset changes in the caller's network namespace.
#[derive(Debug)]
pub struct Events {
    sock: NlSocket,
    queue: VecDeque<Notification>,
    buf: Vec<u8>,
}

impl Events {
    /// Subscribes to `NFNLGRP_NFTABLES` in the calling thread's network namespace.
    /// A big receive buffer (8 MiB) makes overruns rare.
    pub fn subscribe() -> Result<Events, Error> {
        Events::subscribe_with_buffer(RCVBUF)
    }

    /// Subscribes with a socket receive buffer of `bytes` (the kernel doubles it, and keeps a minimum).
    /// A small buffer overruns sooner: useful to test resync paths.
    pub fn subscribe_with_buffer(bytes: usize) -> Result<Events, Error> {
        let mut sock = NlSocket::new(NETLINK_NETFILTER)?;
        sock.bind_auto()?;
        sock.add_membership(NFNLGRP_NFTABLES)?;
        // Without CAP_NET_ADMIN SO_RCVBUFFORCE fails; SO_RCVBUF is then capped by rmem_max.
        if setsockopt(&sock, sockopt::RcvBufForce, &bytes).is_err() {
            setsockopt(&sock, sockopt::RcvBuf, &bytes).map_err(io::Error::from)?;
        }
        Ok(Events { sock, queue: VecDeque::new(), buf: Vec::with_capacity(RECV_BUF) })
    }

    /// Blocks until the next event.
    pub fn wait(&mut self) -> Result<Notification, Error> {
        loop {
            if let Some(n) = self.queue.pop_front() {
                return Ok(n);
            }
            self.fill(0)?;
        }
    }

    /// The next event, waiting at most `timeout`; `None` when none came.
    pub fn next_timeout(&mut self, timeout: Duration) -> Result<Option<Notification>, Error> {
        if let Some(n) = self.queue.pop_front() {
            return Ok(Some(n));
        }
        let ms = i32::try_from(timeout.as_millis()).unwrap_or(i32::MAX);
        let mut fds = [PollFd::new(self.sock.as_fd(), PollFlags::POLLIN)];
        let ready =
            poll(&mut fds, PollTimeout::try_from(ms).unwrap_or(PollTimeout::MAX)).map_err(io::Error::from)?;
        if ready == 0 {
            return Ok(None);
        }
        self.fill(libc::MSG_DONTWAIT)?;
        Ok(self.queue.pop_front())
    }

    /// Events already received and decoded, without blocking.
    pub fn try_next(&mut self) -> Result<Option<Notification>, Error> {
        if self.queue.is_empty() {
            self.fill(libc::MSG_DONTWAIT)?;
        }
        Ok(self.queue.pop_front())
    }

    fn fill(&mut self, flags: libc::c_int) -> Result<(), Error> {
        self.buf.clear();
        self.buf.reserve(RECV_BUF);
        match self.sock.recv(&mut self.buf, flags) {
            Ok(_) => {}
            Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => {
                // What the socket still holds predates the loss: a consumer that re-reads on
                // `Overrun` and then applied it would undo changes whose events were lost.
                self.discard_stale();
                self.queue.push_back(Notification { portid: 0, event: Event::Overrun });
                return Ok(());
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
            Err(e) => return Err(e.into()),
        }
        // One bad message must not end the stream: it becomes an event of its own.
        for m in proto::messages(&self.buf) {
            let Ok((h, body)) = m else {
                self.queue.push_back(Notification { portid: 0, event: Event::Overrun });
                break;
            };
            let Some(kind) = h.nft_msg() else { continue };
            let event = proto::nft_attrs(body)
                .and_then(|a| decode(kind, h.family, a))
                .unwrap_or_else(|error| Event::Undecodable { msg: kind, error });
            self.queue.push_back(Notification { portid: h.pid, event });
        }
        Ok(())
    }

    /// Drops every datagram queued on the socket (bounded by [`MAX_DISCARD`]).
    fn discard_stale(&mut self) {
        for _ in 0..MAX_DISCARD {
            self.buf.clear();
            match self.sock.recv(&mut self.buf, libc::MSG_DONTWAIT) {
                Ok(_) => {}
                Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => {}
                // Empty (`EAGAIN`); anything else, the next read reports.
                Err(_) => return,
            }
        }
    }
}

/// Decodes a buffer of nf_tables netlink messages (as a receive on an event socket returns them) into
/// notifications; messages of other subsystems are skipped. Never panics, whatever the bytes.
pub fn parse_notifications(buf: &[u8]) -> Result<Vec<Notification>, DecodeError> {
    let mut out = Vec::new();
    for m in proto::messages(buf) {
        let (h, body) = m?;
        let Some(kind) = h.nft_msg() else { continue };
        let attrs = proto::nft_attrs(body)?;
        out.push(Notification { portid: h.pid, event: decode(kind, h.family, attrs)? });
    }
    Ok(out)
}

fn decode(kind: u8, family: crate::Family, a: &[u8]) -> Result<Event, DecodeError> {
    Ok(match kind {
        msg::NEWTABLE => Event::NewTable(Table::parse(family, a)?),
        msg::DELTABLE => Event::DelTable(Table::parse(family, a)?),
        msg::NEWCHAIN => Event::NewChain(Chain::parse(family, a)?),
        msg::DELCHAIN => Event::DelChain(Chain::parse(family, a)?),
        msg::NEWRULE => Event::NewRule(Rule::parse(family, a)?),
        msg::DELRULE => Event::DelRule(Rule::parse(family, a)?),
        msg::NEWSET => Event::NewSet(Set::parse(family, a)?),
        msg::DELSET => Event::DelSet(Set::parse(family, a)?),
        msg::NEWSETELEM => Event::NewElems(ElemList::parse(family, a)?),
        msg::DELSETELEM => Event::DelElems(ElemList::parse(family, a)?),
        msg::NEWGEN => Event::NewGen(Generation::parse(a)?),
        other => Event::Other(other),
    })
}

impl AsFd for Events {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.sock.as_fd()
    }
}

impl AsRawFd for Events {
    fn as_raw_fd(&self) -> RawFd {
        self.sock.as_raw_fd()
    }
}

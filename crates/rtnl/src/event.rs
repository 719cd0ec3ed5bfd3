//! Change notifications: a socket subscribed to rtnetlink multicast groups, yielding typed events.

use std::collections::VecDeque;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::time::Duration;

use netlink_sys::Socket;

use crate::address::Address;
use crate::decode::{self, Body};
use crate::error::Error;
use crate::link::Link;
use crate::route::Route;
use crate::sock;

// include/uapi/linux/rtnetlink.h: enum rtnetlink_groups
const RTNLGRP_LINK: u32 = 1;
const RTNLGRP_IPV4_IFADDR: u32 = 5;
const RTNLGRP_IPV4_ROUTE: u32 = 7;
const RTNLGRP_IPV6_IFADDR: u32 = 9;
const RTNLGRP_IPV6_ROUTE: u32 = 11;

/// At most this many stale datagrams are discarded after an overrun, so a flood cannot keep
/// [`Events`] busy forever.
const MAX_DISCARD: usize = 1 << 16;

/// A change the kernel announced, or the news that some were lost.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// `RTM_NEWLINK`: an interface appeared or changed (state, flags, controller, name, ...).
    NewLink(Link),
    /// `RTM_DELLINK`: an interface was deleted (or moved to another namespace). The kernel does not
    /// always include `IFLA_LINKINFO` here (it does not for a veth on Linux 6.18), so `kind` may be
    /// `None`; name and index are always there.
    DelLink(Link),
    /// `RTM_NEWADDR`: an address was added (or its flags or lifetimes changed).
    NewAddress(Address),
    /// `RTM_DELADDR`: an address was removed.
    DelAddress(Address),
    /// `RTM_NEWROUTE` (only with [`Group::Ipv4Route`] / [`Group::Ipv6Route`]).
    NewRoute(Route),
    /// `RTM_DELROUTE` (only with [`Group::Ipv4Route`] / [`Group::Ipv6Route`]).
    DelRoute(Route),
    /// A message this crate does not model, by its `nlmsg_type` (also link, address and route messages
    /// of families other than IPv4/IPv6, and netlink control messages).
    Other {
        /// The message's `nlmsg_type`.
        message_type: u16,
    },
    /// The socket's receive buffer overflowed (`ENOBUFS`): notifications were lost, and those still
    /// queued were discarded as stale. Re-read the state you care about; every change after this event
    /// is reported again.
    Resync,
}

impl Event {
    /// Decodes one datagram as read from an rtnetlink socket into its events, in order.
    ///
    /// This is the path [`Events`] and every dump of [`crate::Rtnl`] take. Malformed bytes give
    /// [`Error::Decode`]; no input makes it panic.
    pub fn decode(datagram: &[u8]) -> Result<Vec<Event>, Error> {
        Ok(decode::frames(datagram)?
            .into_iter()
            .map(|f| match f.body {
                Body::Event(e) => e,
                Body::Done(_) | Body::Error(_) => Event::Other { message_type: f.message_type },
            })
            .collect())
    }
}

/// An rtnetlink multicast group to subscribe to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Group {
    /// `RTNLGRP_LINK`: interfaces.
    Link,
    /// `RTNLGRP_IPV4_IFADDR`: IPv4 addresses.
    Ipv4Address,
    /// `RTNLGRP_IPV6_IFADDR`: IPv6 addresses.
    Ipv6Address,
    /// `RTNLGRP_IPV4_ROUTE`: IPv4 routes.
    Ipv4Route,
    /// `RTNLGRP_IPV6_ROUTE`: IPv6 routes.
    Ipv6Route,
}

impl Group {
    fn number(self) -> u32 {
        match self {
            Group::Link => RTNLGRP_LINK,
            Group::Ipv4Address => RTNLGRP_IPV4_IFADDR,
            Group::Ipv6Address => RTNLGRP_IPV6_IFADDR,
            Group::Ipv4Route => RTNLGRP_IPV4_ROUTE,
            Group::Ipv6Route => RTNLGRP_IPV6_ROUTE,
        }
    }
}

/// A subscription to link and address changes in the calling thread's network namespace.
///
/// [`Events::recv`] (and the [`Iterator`] impl) blocks; [`Events::recv_timeout`] waits at most so
/// long; [`Events::try_recv`] never blocks. To wait on this and other descriptors at once, poll [`AsFd::as_fd`] for readability, then
/// call [`Events::try_recv`] until it returns `Ok(None)`: one datagram can carry several events, and
/// those already read are not visible to `poll`.
#[derive(Debug)]
pub struct Events {
    socket: Socket,
    queue: VecDeque<Event>,
}

impl Events {
    /// Subscribes to `RTNLGRP_LINK`, `RTNLGRP_IPV4_IFADDR` and `RTNLGRP_IPV6_IFADDR`.
    pub fn open() -> Result<Events, Error> {
        Events::open_groups(&[Group::Link, Group::Ipv4Address, Group::Ipv6Address])
    }

    /// Subscribes to the given groups.
    pub fn open_groups(groups: &[Group]) -> Result<Events, Error> {
        let numbers: Vec<u32> = groups.iter().map(|g| g.number()).collect();
        Ok(Events { socket: sock::open(&numbers)?, queue: VecDeque::new() })
    }

    /// Sets the socket's receive buffer (`SO_RCVBUF`; the kernel doubles it and applies its limits).
    /// A larger buffer rides out bigger bursts (libvirt sends dozens of changes at once) before
    /// [`Event::Resync`].
    pub fn set_receive_buffer(&self, bytes: usize) -> Result<(), Error> {
        self.socket.set_rx_buf_sz(bytes).map_err(|e| Error::io("setsockopt SO_RCVBUF", e))
    }

    /// The next event, waiting as long as it takes.
    ///
    /// An [`Error::Decode`] loses the rest of that datagram's events (handle it like
    /// [`Event::Resync`]); the subscription goes on either way.
    pub fn recv(&mut self) -> Result<Event, Error> {
        loop {
            if let Some(e) = self.queue.pop_front() {
                return Ok(e);
            }
            if let Some(e) = self.read(false)? {
                return Ok(e);
            }
        }
    }

    /// The next event, waiting at most `timeout`; `Ok(None)` if none came.
    pub fn recv_timeout(&mut self, timeout: Duration) -> Result<Option<Event>, Error> {
        if let Some(e) = self.queue.pop_front() {
            return Ok(Some(e));
        }
        if !sock::wait_readable(&self.socket, timeout)? {
            return Ok(None);
        }
        self.try_recv()
    }

    /// The next event if one is already there; never blocks.
    pub fn try_recv(&mut self) -> Result<Option<Event>, Error> {
        loop {
            if let Some(e) = self.queue.pop_front() {
                return Ok(Some(e));
            }
            match self.read(true)? {
                Some(e) => return Ok(Some(e)),
                None if self.queue.is_empty() => return Ok(None),
                None => {}
            }
        }
    }

    /// Reads one datagram into the queue. Returns [`Event::Resync`] at once on `ENOBUFS`, else `None`
    /// (also when `dontwait` and nothing was there).
    fn read(&mut self, dontwait: bool) -> Result<Option<Event>, Error> {
        match sock::recv(&self.socket, dontwait) {
            Ok(Some(datagram)) => {
                self.queue.extend(Event::decode(&datagram)?);
                Ok(None)
            }
            Ok(None) => Ok(None),
            Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => {
                self.discard_stale();
                Ok(Some(Event::Resync))
            }
            Err(e) => Err(Error::io("recv", e)),
        }
    }

    /// After an overrun: drops what is queued, here and in the socket. The kernel reports `ENOBUFS`
    /// before the notifications still queued, and while they are queued it drops new ones without
    /// saying so; emptying the queue ends that, so everything after the [`Event::Resync`] is seen.
    fn discard_stale(&mut self) {
        self.queue.clear();
        for _ in 0..MAX_DISCARD {
            match sock::recv(&self.socket, true) {
                Ok(None) => return,
                Ok(Some(_)) => {}
                Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => {}
                // Whatever it is, the next read reports it.
                Err(_) => return,
            }
        }
    }
}

/// Never ends: each `next()` blocks for the next event, as [`Events::recv`].
impl Iterator for Events {
    type Item = Result<Event, Error>;

    fn next(&mut self) -> Option<Result<Event, Error>> {
        Some(self.recv())
    }
}

impl AsFd for Events {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.socket.as_fd()
    }
}

impl AsRawFd for Events {
    fn as_raw_fd(&self) -> RawFd {
        self.socket.as_raw_fd()
    }
}

//! Splitting a datagram from an rtnetlink socket into its messages and decoding each: the one decode
//! path shared by dumps ([`crate::Rtnl`]) and notifications ([`crate::Events`]).
//!
//! Fixed headers (`ifinfomsg`, `ifaddrmsg`, `rtmsg`) are read with `netlink-packet-route`; attributes
//! are walked with `netlink-packet-core`'s checked iterator, and only those this crate models are
//! decoded. Handing whole messages to `netlink-packet-route` 0.34 is not safe: it parses every
//! attribute, and not all of its parsers check lengths (fuzzing found `IFLA_BAREUDP_SRCPORT_MIN` of a
//! length other than 2 panicking in `link/link_info/bareudp.rs`); with `panic = "abort"` in release,
//! a panic cannot be caught. Skipping what is not needed also keeps an odd attribute of some exotic
//! link kind from failing a whole dump.

use netlink_packet_core::{NetlinkBuffer, NlasIterator};

use crate::address::Address;
use crate::error::Error;
use crate::event::Event;
use crate::link::Link;
use crate::route::Route;

// include/uapi/linux/netlink.h
const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
// include/uapi/linux/rtnetlink.h
const RTM_NEWLINK: u16 = 16;
const RTM_DELLINK: u16 = 17;
const RTM_NEWADDR: u16 = 20;
const RTM_DELADDR: u16 = 21;
const RTM_NEWROUTE: u16 = 24;
const RTM_DELROUTE: u16 = 25;

/// One decoded message with the `nlmsghdr` fields a dump needs.
#[derive(Debug)]
pub(crate) struct Frame {
    /// `nlmsg_type`.
    pub(crate) message_type: u16,
    /// `nlmsg_flags` (`NLM_F_MULTI`, `NLM_F_DUMP_INTR`, ...).
    pub(crate) flags: u16,
    /// `nlmsg_seq`.
    pub(crate) seq: u32,
    /// What the message says.
    pub(crate) body: Body,
}

/// A message's content.
#[derive(Debug)]
pub(crate) enum Body {
    /// A link, address or route message, or a message this crate does not model.
    Event(Event),
    /// `NLMSG_DONE`: the end of a dump, with the kernel's status (0, or a negative errno).
    Done(i32),
    /// `NLMSG_ERROR`: 0 for an ACK, else a negative errno.
    Error(i32),
}

/// Splits `datagram` into messages and decodes each. Fails on the first message that is malformed;
/// never panics, whatever the bytes.
pub(crate) fn frames(datagram: &[u8]) -> Result<Vec<Frame>, Error> {
    let mut frames = Vec::new();
    let mut rest = datagram;
    while !rest.is_empty() {
        let buf = NetlinkBuffer::new_checked(rest).map_err(|e| Error::decode("nlmsghdr", e))?;
        let len = buf.length() as usize; // new_checked: NETLINK_HEADER_LEN <= len <= rest.len()
        let message_type = buf.message_type();
        let body = buf.payload();
        frames.push(Frame {
            message_type,
            flags: buf.flags(),
            seq: buf.sequence_number(),
            body: decode_body(message_type, body)?,
        });
        // Messages are aligned to 4 bytes; the last one's padding may be missing.
        let next = len.saturating_add(3) & !3;
        rest = rest.get(next..).unwrap_or_default();
    }
    Ok(frames)
}

fn decode_body(message_type: u16, body: &[u8]) -> Result<Body, Error> {
    let other = Event::Other { message_type };
    Ok(match message_type {
        NLMSG_ERROR => Body::Error(status(body, "NLMSG_ERROR")?),
        // The kernel may send NLMSG_DONE without a status.
        NLMSG_DONE if body.is_empty() => Body::Done(0),
        NLMSG_DONE => Body::Done(status(body, "NLMSG_DONE")?),
        RTM_NEWLINK => Body::Event(Event::NewLink(Link::parse(body, "RTM_NEWLINK")?)),
        RTM_DELLINK => Body::Event(Event::DelLink(Link::parse(body, "RTM_DELLINK")?)),
        RTM_NEWADDR => Body::Event(Address::parse(body, "RTM_NEWADDR")?.map_or(other, Event::NewAddress)),
        RTM_DELADDR => Body::Event(Address::parse(body, "RTM_DELADDR")?.map_or(other, Event::DelAddress)),
        RTM_NEWROUTE => Body::Event(Route::parse(body, "RTM_NEWROUTE")?.map_or(other, Event::NewRoute)),
        RTM_DELROUTE => Body::Event(Route::parse(body, "RTM_DELROUTE")?.map_or(other, Event::DelRoute)),
        _ => Body::Event(other),
    })
}

/// The leading `int error` of `struct nlmsgerr` / the status of `NLMSG_DONE`.
fn status(body: &[u8], what: &'static str) -> Result<i32, Error> {
    body.first_chunk::<4>()
        .map(|b| i32::from_ne_bytes(*b))
        .ok_or_else(|| Error::decode(what, format!("{} bytes, need 4", body.len())))
}

/// Calls `visit(type, value)` for each attribute in `buf` (a run of `struct nlattr`), the type without
/// the `NLA_F_NESTED`/`NLA_F_NET_BYTEORDER` bits. A malformed attribute is an [`Error::Decode`].
pub(crate) fn attributes(
    buf: &[u8],
    what: &'static str,
    mut visit: impl FnMut(u16, &[u8]) -> Result<(), Error>,
) -> Result<(), Error> {
    for nla in NlasIterator::new(buf) {
        let nla = nla.map_err(|e| Error::decode(what, e))?;
        visit(nla.kind(), nla.value())?;
    }
    Ok(())
}

/// What follows a fixed header of `len` bytes (the header itself is checked by its parser).
pub(crate) fn after_header(body: &[u8], len: usize) -> &[u8] {
    body.get(len..).unwrap_or_default()
}

/// Wraps a `netlink-packet-core` value parser's error with the message and attribute it was for.
pub(crate) fn value<T>(
    what: &'static str,
    attr: &'static str,
    parsed: Result<T, netlink_packet_core::DecodeError>,
) -> Result<T, Error> {
    parsed.map_err(|e| Error::decode(what, format!("{attr}: {e}")))
}

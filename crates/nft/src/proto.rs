//! The netlink framing of nf_tables: `nlmsghdr` + `nfgenmsg`, message types, flags.
//!
//! This is the one module that uses `netlink-packet-netfilter` (its `nfgenmsg` codec); everything above
//! it sees only [`Header`] and the typed objects of this crate.

use netlink_packet_core::Emitable;
use netlink_packet_netfilter::{NetfilterHeader, NetfilterProtoFamily};

use crate::error::DecodeError;
use crate::family::Family;

/// `NETLINK_NETFILTER`.
pub(crate) const NETLINK_NETFILTER: isize = 12;
/// `NFNLGRP_NFTABLES`: the multicast group of ruleset changes.
pub(crate) const NFNLGRP_NFTABLES: u32 = 7;
/// `NFNL_SUBSYS_NFTABLES`.
pub(crate) const NFNL_SUBSYS_NFTABLES: u16 = 10;
/// `NFNL_MSG_BATCH_BEGIN`.
pub(crate) const NFNL_MSG_BATCH_BEGIN: u16 = 0x10;
/// `NFNL_MSG_BATCH_END`.
pub(crate) const NFNL_MSG_BATCH_END: u16 = 0x11;
/// `NFNL_BATCH_GENID`: the generation a batch is valid for.
pub(crate) const NFNL_BATCH_GENID: u16 = 1;

pub(crate) const NLMSG_ERROR: u16 = 2;
pub(crate) const NLMSG_DONE: u16 = 3;

pub(crate) const NLM_F_REQUEST: u16 = 0x1;
pub(crate) const NLM_F_ACK: u16 = 0x4;
pub(crate) const NLM_F_DUMP_INTR: u16 = 0x10;
pub(crate) const NLM_F_DUMP: u16 = 0x300;
pub(crate) const NLM_F_REPLACE: u16 = 0x100;
pub(crate) const NLM_F_EXCL: u16 = 0x200;
pub(crate) const NLM_F_CREATE: u16 = 0x400;
pub(crate) const NLM_F_APPEND: u16 = 0x800;
pub(crate) const NLM_F_NONREC: u16 = 0x100;
/// `NLM_F_CAPPED` on an error message: the original payload is not echoed.
pub(crate) const NLM_F_CAPPED: u16 = 0x100;
/// `NLM_F_ACK_TLVS` on an error message: extended-ack attributes follow.
pub(crate) const NLM_F_ACK_TLVS: u16 = 0x200;
/// `NLMSGERR_ATTR_MSG`: the extended-ack text.
pub(crate) const NLMSGERR_ATTR_MSG: u16 = 1;

/// `NFT_MSG_*`: nf_tables message types.
#[allow(missing_docs)]
pub(crate) mod msg {
    pub(crate) const NEWTABLE: u8 = 0;
    pub(crate) const GETTABLE: u8 = 1;
    pub(crate) const DELTABLE: u8 = 2;
    pub(crate) const NEWCHAIN: u8 = 3;
    pub(crate) const GETCHAIN: u8 = 4;
    pub(crate) const DELCHAIN: u8 = 5;
    pub(crate) const NEWRULE: u8 = 6;
    pub(crate) const GETRULE: u8 = 7;
    pub(crate) const DELRULE: u8 = 8;
    pub(crate) const NEWSET: u8 = 9;
    pub(crate) const GETSET: u8 = 10;
    pub(crate) const DELSET: u8 = 11;
    pub(crate) const NEWSETELEM: u8 = 12;
    pub(crate) const GETSETELEM: u8 = 13;
    pub(crate) const DELSETELEM: u8 = 14;
    pub(crate) const NEWGEN: u8 = 15;
    pub(crate) const GETGEN: u8 = 16;
}

/// Length of `struct nlmsghdr`.
pub(crate) const NLMSG_HDRLEN: usize = 16;
/// Length of `struct nfgenmsg`.
pub(crate) const NFGENMSG_LEN: usize = 4;

/// The fixed part of an nf_tables message: netlink header fields plus the `nfgenmsg` family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Header {
    /// Full netlink message type (`subsys << 8 | msg`, or a control type).
    pub(crate) kind: u16,
    pub(crate) flags: u16,
    pub(crate) seq: u32,
    pub(crate) pid: u32,
    pub(crate) family: Family,
    /// `nfgenmsg.res_id` in host order (the generation id in events and dumps).
    pub(crate) res_id: u16,
}

impl Header {
    /// The nf_tables message type, when this is one.
    pub(crate) fn nft_msg(&self) -> Option<u8> {
        (self.kind >> 8 == NFNL_SUBSYS_NFTABLES).then_some((self.kind & 0xff) as u8)
    }
}

/// Starts a message in `buf`: header with a zero length (patched by [`finish`]) and `nfgenmsg`.
pub(crate) fn begin(
    buf: &mut Vec<u8>,
    kind: u16,
    flags: u16,
    seq: u32,
    family: Family,
    res_id: u16,
) -> usize {
    let start = buf.len();
    buf.extend_from_slice(&0u32.to_ne_bytes());
    buf.extend_from_slice(&kind.to_ne_bytes());
    buf.extend_from_slice(&(flags | NLM_F_REQUEST).to_ne_bytes());
    buf.extend_from_slice(&seq.to_ne_bytes());
    buf.extend_from_slice(&0u32.to_ne_bytes());
    let header = NetfilterHeader::new(NetfilterProtoFamily::from(u8::from(family)), 0, res_id);
    let at = buf.len();
    buf.resize(at + header.buffer_len(), 0);
    header.emit(&mut buf[at..]);
    start
}

/// Patches the length of the message that starts at `start`.
pub(crate) fn finish(buf: &mut [u8], start: usize) {
    let len = (buf.len() - start) as u32;
    buf[start..start + 4].copy_from_slice(&len.to_ne_bytes());
}

/// The type of an nf_tables message.
pub(crate) fn nft_type(msg: u8) -> u16 {
    (NFNL_SUBSYS_NFTABLES << 8) | u16::from(msg)
}

/// Splits a receive buffer into messages: header and the bytes after `nlmsghdr`.
pub(crate) fn messages(buf: &[u8]) -> impl Iterator<Item = Result<(Header, &[u8]), DecodeError>> {
    let mut rest = buf;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        match split_one(rest) {
            Ok((hdr, body, next)) => {
                rest = next;
                Some(Ok((hdr, body)))
            }
            Err(e) => {
                rest = &[];
                Some(Err(e))
            }
        }
    })
}

fn split_one(buf: &[u8]) -> Result<(Header, &[u8], &[u8]), DecodeError> {
    if buf.len() < NLMSG_HDRLEN {
        return Err(DecodeError::truncated("nlmsghdr"));
    }
    let len = u32::from_ne_bytes([buf[0], buf[1], buf[2], buf[3]]) as usize;
    if len < NLMSG_HDRLEN || len > buf.len() {
        return Err(DecodeError::bad_length("nlmsghdr", len));
    }
    let kind = u16::from_ne_bytes([buf[4], buf[5]]);
    let flags = u16::from_ne_bytes([buf[6], buf[7]]);
    let seq = u32::from_ne_bytes([buf[8], buf[9], buf[10], buf[11]]);
    let pid = u32::from_ne_bytes([buf[12], buf[13], buf[14], buf[15]]);
    let body = &buf[NLMSG_HDRLEN..len];
    let (family, res_id) = if kind >> 8 == NFNL_SUBSYS_NFTABLES {
        let h = NetfilterHeader::parse(body).map_err(|_| DecodeError::truncated("nfgenmsg"))?;
        (Family::from(u8::from(h.family)), h.res_id)
    } else {
        (Family::Unspec, 0)
    };
    let aligned = (len + 3) & !3;
    let next = buf.get(aligned..).unwrap_or(&[]);
    Ok((Header { kind, flags, seq, pid, family, res_id }, body, next))
}

/// The attributes of an nf_tables message body (after `nfgenmsg`).
pub(crate) fn nft_attrs(body: &[u8]) -> Result<&[u8], DecodeError> {
    body.get(NFGENMSG_LEN..).ok_or_else(|| DecodeError::truncated("nfgenmsg"))
}

//! The blocking `NETLINK_NETFILTER` socket: commit transactions, read the generation, dump objects.
//!
//! The socket lives in the network namespace of the thread that opened it. One request at a time
//! (`&mut self`); no background thread, no hidden state besides the sequence counter.

use std::io;

use netlink_sys::{Socket as NlSocket, SocketAddr};
use nix::sys::socket::{setsockopt, sockopt};

use crate::attr::Writer;
use crate::chain::Chain;
use crate::error::{DecodeError, Errno, Error};
use crate::family::Family;
use crate::generation::Generation;
use crate::proto::{
    self, Header, NETLINK_NETFILTER, NLM_F_ACK_TLVS, NLM_F_CAPPED, NLM_F_DUMP, NLM_F_DUMP_INTR, NLMSG_DONE,
    NLMSG_ERROR, NLMSGERR_ATTR_MSG, msg,
};
use crate::rule::Rule;
use crate::set::{ElemList, Set, SetElem, has_repeats};
use crate::table::Table;
use crate::txn::{Batch, Transaction};

/// How often a dump is retried when concurrent commits interrupt it.
const DUMP_ATTEMPTS: u32 = 20;
/// Receive buffer for replies (the kernel's dump messages are at most 32 KiB).
const RECV_BUF: usize = 256 * 1024;
/// Default socket send buffer; larger batches raise it for themselves.
const DEFAULT_SNDBUF: usize = 256 * 1024;

/// A netlink socket for nf_tables in the caller's network namespace.
#[derive(Debug)]
pub struct Socket {
    sock: NlSocket,
    portid: u32,
    seq: u32,
    buf: Vec<u8>,
    sndbuf: usize,
}

impl Socket {
    /// Opens a socket in the calling thread's network namespace. Needs `CAP_NET_ADMIN` for writes.
    pub fn open() -> Result<Socket, Error> {
        let mut sock = NlSocket::new(NETLINK_NETFILTER)?;
        let addr = sock.bind_auto()?;
        // Errors without the echoed request; extended-ack text when the kernel has one.
        sock.set_cap_ack(true)?;
        sock.set_ext_ack(true)?;
        Ok(Socket {
            portid: addr.port_number(),
            sock,
            seq: 0x4e4b_0000,
            buf: Vec::with_capacity(RECV_BUF),
            sndbuf: 0,
        })
    }

    /// This socket's netlink port id: events caused by its commits carry it.
    pub fn portid(&self) -> u32 {
        self.portid
    }

    fn next_seq(&mut self) -> u32 {
        self.seq = self.seq.wrapping_add(1);
        self.seq
    }

    /// The current ruleset generation (`NFT_MSG_GETGEN`), for [`Transaction::new`]'s guard.
    pub fn generation(&mut self) -> Result<u32, Error> {
        let seq = self.next_seq();
        let mut buf = Vec::with_capacity(32);
        let start = proto::begin(&mut buf, proto::nft_type(msg::GETGEN), 0, seq, Family::Unspec, 0);
        proto::finish(&mut buf, start);
        self.send(&buf)?;
        loop {
            self.recv(0)?;
            for m in proto::messages(&self.buf) {
                let (h, body) = m?;
                if h.seq != seq {
                    continue;
                }
                if h.kind == NLMSG_ERROR {
                    let (code, _) = parse_error(&h, body)?;
                    if code != 0 {
                        return Err(Error::Request { what: "read generation", errno: Errno(code) });
                    }
                } else if h.nft_msg() == Some(msg::NEWGEN) {
                    return Ok(Generation::parse(proto::nft_attrs(body)?)?.id);
                }
            }
        }
    }

    /// Sends `txn` as one batch. All of it is applied, or — on any error — none of it.
    ///
    /// A stale generation guard yields [`Error::Restart`]; a refused message yields
    /// [`Error::Kernel`] naming its object and errno.
    pub fn commit(&mut self, txn: Transaction) -> Result<(), Error> {
        let batch = txn.finish();
        self.ensure_sndbuf(batch.bytes.len())?;
        self.send(&batch.bytes)?;
        // The kernel processes a batch synchronously inside sendmsg(): every reply is queued now.
        let mut first_error: Option<(u32, i32, Option<String>)> = None;
        loop {
            match self.recv(libc::MSG_DONTWAIT) {
                Ok(()) => {}
                Err(Error::Io(e)) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => return Err(e),
            }
            let buf = std::mem::take(&mut self.buf);
            let mut done = false;
            for m in proto::messages(&buf) {
                let (h, body) = m?;
                if h.kind != NLMSG_ERROR || h.seq < batch.begin_seq || h.seq > batch.end_seq {
                    continue;
                }
                let (code, text) = parse_error(&h, body)?;
                if code != 0 && first_error.as_ref().is_none_or(|(s, _, _)| h.seq < *s) {
                    first_error = Some((h.seq, code, text));
                }
                if h.seq == batch.end_seq {
                    done = true;
                }
            }
            self.buf = buf;
            if done {
                break;
            }
        }
        match first_error {
            None => Ok(()),
            Some((seq, code, message)) => Err(batch_error(&batch, seq, code, message)),
        }
    }

    fn ensure_sndbuf(&mut self, len: usize) -> Result<(), Error> {
        let want = (len + 64 * 1024).max(DEFAULT_SNDBUF);
        if want > self.sndbuf {
            // SO_SNDBUFFORCE needs CAP_NET_ADMIN (which committing needs anyway); fall back to SO_SNDBUF.
            if setsockopt(&self.sock, sockopt::SndBufForce, &want).is_err() {
                setsockopt(&self.sock, sockopt::SndBuf, &want).map_err(io::Error::from)?;
            }
            self.sndbuf = want;
        }
        Ok(())
    }

    fn send(&self, bytes: &[u8]) -> Result<(), Error> {
        let kernel = SocketAddr::new(0, 0);
        self.sock.send_to(bytes, &kernel, 0)?;
        Ok(())
    }

    fn recv(&mut self, flags: libc::c_int) -> Result<(), Error> {
        self.buf.clear();
        if self.buf.capacity() < RECV_BUF {
            self.buf.reserve(RECV_BUF);
        }
        self.sock.recv(&mut self.buf, flags)?;
        Ok(())
    }

    /// Runs one dump request and decodes each reply with `parse`; retried when interrupted.
    fn dump<T>(
        &mut self,
        what: &'static str,
        m: u8,
        family: Family,
        key: impl Fn(&mut Writer),
        parse: impl Fn(Family, &[u8]) -> Result<T, DecodeError>,
    ) -> Result<Vec<T>, Error> {
        for _ in 0..DUMP_ATTEMPTS {
            let seq = self.next_seq();
            let mut w = Writer::new(Vec::with_capacity(64));
            let start = proto::begin(w.buf_mut(), proto::nft_type(m), NLM_F_DUMP, seq, family, 0);
            key(&mut w);
            let mut req = w.into_inner();
            proto::finish(&mut req, start);
            self.send(&req)?;

            let mut out = Vec::new();
            let mut interrupted = false;
            'recv: loop {
                self.recv(0)?;
                let buf = std::mem::take(&mut self.buf);
                let mut result = Ok(false);
                for msg in proto::messages(&buf) {
                    let (h, body) = match msg {
                        Ok(x) => x,
                        Err(e) => {
                            result = Err(Error::from(e));
                            break;
                        }
                    };
                    if h.seq != seq {
                        continue;
                    }
                    if h.flags & NLM_F_DUMP_INTR != 0 {
                        interrupted = true;
                    }
                    match h.kind {
                        NLMSG_DONE => {
                            result = Ok(true);
                            break;
                        }
                        NLMSG_ERROR => {
                            let code = parse_error(&h, body).map(|(c, _)| c);
                            result = match code {
                                Ok(0) => Ok(true),
                                Ok(c) => Err(Error::Request { what, errno: Errno(c) }),
                                Err(e) => Err(e.into()),
                            };
                            break;
                        }
                        _ if h.nft_msg().is_some() => {
                            match proto::nft_attrs(body).and_then(|a| parse(h.family, a)) {
                                Ok(v) => out.push(v),
                                Err(e) => {
                                    result = Err(e.into());
                                    break;
                                }
                            }
                        }
                        _ => {}
                    }
                }
                self.buf = buf;
                match result {
                    Ok(true) => break 'recv,
                    Ok(false) => {}
                    Err(e) => {
                        self.drain(seq);
                        return Err(e);
                    }
                }
            }
            if !interrupted {
                return Ok(out);
            }
        }
        Err(Error::Unstable { what, attempts: DUMP_ATTEMPTS })
    }

    /// Reads and drops what is left of the dump with `seq` after a decode failure.
    fn drain(&mut self, seq: u32) {
        while self.recv(libc::MSG_DONTWAIT).is_ok() {
            let done = proto::messages(&self.buf)
                .filter_map(Result::ok)
                .any(|(h, _)| h.seq == seq && (h.kind == NLMSG_DONE || h.kind == NLMSG_ERROR));
            if done {
                break;
            }
        }
    }

    /// Every table of `family` ([`Family::Unspec`] for all).
    pub fn tables(&mut self, family: Family) -> Result<Vec<Table>, Error> {
        self.dump("list tables", msg::GETTABLE, family, |_| {}, Table::parse)
    }

    /// The chains of `family`, of one table when `table` is given.
    pub fn chains(&mut self, family: Family, table: Option<&str>) -> Result<Vec<Chain>, Error> {
        let mut chains = self.dump("list chains", msg::GETCHAIN, family, |_| {}, Chain::parse)?;
        if let Some(t) = table {
            chains.retain(|c| c.table == t);
        }
        Ok(chains)
    }

    /// The rules of `family`, optionally of one table and chain, in chain order.
    pub fn rules(
        &mut self,
        family: Family,
        table: Option<&str>,
        chain: Option<&str>,
    ) -> Result<Vec<Rule>, Error> {
        let rules = self.dump(
            "list rules",
            msg::GETRULE,
            family,
            |w| {
                if let Some(t) = table {
                    Rule::emit_key(t, chain, None, w);
                }
            },
            Rule::parse,
        )?;
        Ok(rules
            .into_iter()
            .filter(|r| table.is_none_or(|t| r.table == t) && chain.is_none_or(|c| r.chain == c))
            .collect())
    }

    /// The sets and maps of `family`, of one table when `table` is given.
    pub fn sets(&mut self, family: Family, table: Option<&str>) -> Result<Vec<Set>, Error> {
        let mut sets = self.dump(
            "list sets",
            msg::GETSET,
            family,
            |w| {
                if let Some(t) = table {
                    w.str(1, t); // NFTA_SET_TABLE
                }
            },
            Set::parse,
        )?;
        if let Some(t) = table {
            sets.retain(|s| s.table == t);
        }
        Ok(sets)
    }

    /// The elements of one set or map, exactly as the kernel holds them.
    ///
    /// An element dump spans several messages, and the kernel builds each one by walking the set
    /// from its start and skipping what it already sent. The resizable hash (`rhash`, what a set
    /// without a size gets) rehashes in the background after a commit that grows or shrinks it, and
    /// a walk across a rehash comes in another order: that dump repeats some elements and leaves out
    /// as many, without `NLM_F_DUMP_INTR` and without a generation change. Every walk sees every
    /// element at least once, so a dump without a repeated element is the whole set; one with a
    /// repeat is read again (after a pause, growing, for the rehash to finish).
    pub fn elems(&mut self, family: Family, table: &str, set: &str) -> Result<Vec<SetElem>, Error> {
        for attempt in 0..DUMP_ATTEMPTS {
            let lists = self.dump(
                "list elements",
                msg::GETSETELEM,
                family,
                |w| ElemList::emit_key(table, set, w),
                ElemList::parse,
            )?;
            // One allocation of the final size; each message's list is freed as it is moved over.
            let mut out = Vec::with_capacity(lists.iter().map(|l| l.elems.len()).sum());
            for l in lists {
                out.extend(l.elems);
            }
            if !has_repeats(&out) {
                return Ok(out);
            }
            std::thread::sleep(std::time::Duration::from_micros(200 << attempt.min(5)));
        }
        Err(Error::Unstable { what: "list elements", attempts: DUMP_ATTEMPTS })
    }
}

/// Splits an `NLMSG_ERROR` body into the (positive) errno and the extended-ack text.
fn parse_error(h: &Header, body: &[u8]) -> Result<(i32, Option<String>), DecodeError> {
    let code = body
        .get(..4)
        .map(|b| i32::from_ne_bytes([b[0], b[1], b[2], b[3]]))
        .ok_or_else(|| DecodeError::truncated("nlmsgerr"))?;
    let mut text = None;
    if h.flags & NLM_F_ACK_TLVS != 0 {
        // After the code: the request's header (and, uncapped, its payload), then TLVs.
        let orig_len =
            body.get(4..8).map(|b| u32::from_ne_bytes([b[0], b[1], b[2], b[3]]) as usize).unwrap_or(0);
        let skip = 4 + if h.flags & NLM_F_CAPPED != 0 { proto::NLMSG_HDRLEN } else { orig_len };
        if let Some(tlvs) = body.get(skip..) {
            for a in crate::attr::Attrs::new(tlvs).flatten() {
                if a.kind() == NLMSGERR_ATTR_MSG {
                    text = a.str("NLMSGERR_ATTR_MSG").ok();
                }
            }
        }
    }
    Ok((-code, text))
}

fn batch_error(batch: &Batch, seq: u32, code: i32, message: Option<String>) -> Error {
    let errno = Errno(code);
    if seq == batch.begin_seq {
        if errno == Errno::ERESTART {
            return Error::Restart { expected: batch.genid.unwrap_or(0) };
        }
        return Error::Request { what: "begin batch", errno };
    }
    match batch.object(seq) {
        Some(object) => Error::Kernel { object: object.clone(), errno, message },
        None => Error::Request { what: "commit batch", errno },
    }
}

//! Transactions: a batch of changes the kernel applies all together or not at all.
//!
//! A [`Transaction`] owns its bytes and knows, for every message, which object it is about, so a
//! kernel error can name it. It holds no socket: [`crate::Socket::commit`] sends it.

use crate::attr::Writer;
use crate::chain::Chain;
use crate::error::ObjectRef;
use crate::family::Family;
use crate::proto::{
    self, NFNL_BATCH_GENID, NFNL_MSG_BATCH_BEGIN, NFNL_MSG_BATCH_END, NFNL_SUBSYS_NFTABLES, NLM_F_ACK,
    NLM_F_APPEND, NLM_F_CREATE, NLM_F_EXCL, NLM_F_NONREC, NLM_F_REPLACE, msg,
};
use crate::rule::Rule;
use crate::set::{ElemList, Set, SetElem};
use crate::table::Table;

/// Element messages are split so each `NFTA_SET_ELEM_LIST_ELEMENTS` stays below the 64 KiB limit of
/// a netlink attribute.
const MAX_ELEMS_BYTES: usize = 60 * 1024;

/// Where a new rule goes in its chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Position {
    /// At the end (`nft add rule`, `iptables -A`).
    Append,
    /// At the head (`nft insert rule`, `iptables -I`).
    Head,
    /// Just before the rule with this handle.
    Before(u64),
    /// Just after the rule with this handle.
    After(u64),
}

/// A batch of nf_tables changes, optionally guarded by the generation it was planned against.
#[derive(Debug)]
pub struct Transaction {
    buf: Vec<u8>,
    ops: Vec<(u32, ObjectRef)>,
    next_seq: u32,
    next_set_id: u32,
    genid: Option<u32>,
}

impl Default for Transaction {
    fn default() -> Self {
        Transaction::new(None)
    }
}

impl Transaction {
    /// A new batch. With `Some(genid)` the kernel refuses the whole batch with `ERESTART` if any other
    /// commit happened since `genid` was read ([`crate::Socket::generation`]).
    pub fn new(genid: Option<u32>) -> Transaction {
        let mut t = Transaction {
            buf: Vec::with_capacity(4096),
            ops: Vec::new(),
            next_seq: 1,
            next_set_id: 0,
            genid,
        };
        let seq = t.seq();
        let start =
            proto::begin(&mut t.buf, NFNL_MSG_BATCH_BEGIN, 0, seq, Family::Unspec, NFNL_SUBSYS_NFTABLES);
        if let Some(g) = genid {
            let mut w = Writer::new(std::mem::take(&mut t.buf));
            w.be32(NFNL_BATCH_GENID, g);
            t.buf = w.into_inner();
        }
        proto::finish(&mut t.buf, start);
        t
    }

    fn seq(&mut self) -> u32 {
        let s = self.next_seq;
        self.next_seq += 1;
        s
    }

    fn push(&mut self, m: u8, flags: u16, family: Family, object: ObjectRef, f: impl FnOnce(&mut Writer)) {
        let seq = self.seq();
        let start = proto::begin(&mut self.buf, proto::nft_type(m), flags, seq, family, 0);
        let mut w = Writer::new(std::mem::take(&mut self.buf));
        f(&mut w);
        self.buf = w.into_inner();
        proto::finish(&mut self.buf, start);
        self.ops.push((seq, object));
    }

    /// Number of object messages (without the batch framing).
    pub fn len(&self) -> usize {
        self.ops.len()
    }

    /// True when the batch changes nothing.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// The batch encoded so far: `BATCH_BEGIN` and one netlink message per change, exactly as they
    /// will be sent (`BATCH_END` is added on commit). For inspection and golden tests.
    pub fn wire(&self) -> &[u8] {
        &self.buf
    }

    /// The generation guard, if any.
    pub fn genid(&self) -> Option<u32> {
        self.genid
    }

    /// Adds a table (no error if it exists).
    pub fn add_table(&mut self, t: &Table) {
        let o = obj("add table", t.family, &t.name, None, None);
        self.push(msg::NEWTABLE, NLM_F_CREATE, t.family, o, |w| t.emit(w));
    }

    /// Deletes a table with everything in it.
    pub fn delete_table(&mut self, family: Family, name: &str) {
        let o = obj("delete table", family, name, None, None);
        self.push(msg::DELTABLE, 0, family, o, |w| Table::emit_key(name, w));
    }

    /// Adds a chain; for an existing base chain this updates its policy (and counters if given).
    pub fn add_chain(&mut self, c: &Chain) {
        let o = obj("add chain", c.family, &c.table, Some(&c.name), None);
        self.push(msg::NEWCHAIN, NLM_F_CREATE, c.family, o, |w| c.emit(w));
    }

    /// Creates a chain that must not exist yet (`iptables -N`).
    pub fn create_chain(&mut self, c: &Chain) {
        let o = obj("create chain", c.family, &c.table, Some(&c.name), None);
        self.push(msg::NEWCHAIN, NLM_F_CREATE | NLM_F_EXCL, c.family, o, |w| c.emit(w));
    }

    /// Deletes an empty chain nothing jumps to.
    pub fn delete_chain(&mut self, family: Family, table: &str, name: &str) {
        let o = obj("delete chain", family, table, Some(name), None);
        self.push(msg::DELCHAIN, NLM_F_NONREC, family, o, |w| Chain::emit_key(table, name, w));
    }

    /// Deletes every rule of a chain (`iptables -F CHAIN`, `nft flush chain`).
    pub fn flush_chain(&mut self, family: Family, table: &str, chain: &str) {
        let o = obj("flush chain", family, table, Some(chain), None);
        self.push(msg::DELRULE, 0, family, o, |w| Rule::emit_key(table, Some(chain), None, w));
    }

    /// Adds a rule at `pos`.
    pub fn add_rule(&mut self, r: &Rule, pos: Position) {
        let (action, flags, position) = match pos {
            Position::Append => ("append rule", NLM_F_CREATE | NLM_F_APPEND, None),
            Position::Head => ("insert rule", NLM_F_CREATE, None),
            Position::Before(h) => ("insert rule", NLM_F_CREATE, Some(h)),
            Position::After(h) => ("append rule", NLM_F_CREATE | NLM_F_APPEND, Some(h)),
        };
        let o = obj(action, r.family, &r.table, Some(&r.chain), position);
        self.push(msg::NEWRULE, flags, r.family, o, |w| r.emit(w, None, position));
    }

    /// Replaces the rule with `handle` by `r`, in place.
    pub fn replace_rule(&mut self, r: &Rule, handle: u64) {
        let o = obj("replace rule", r.family, &r.table, Some(&r.chain), Some(handle));
        self.push(msg::NEWRULE, NLM_F_REPLACE, r.family, o, |w| r.emit(w, Some(handle), None));
    }

    /// Deletes the rule with `handle`.
    pub fn delete_rule(&mut self, family: Family, table: &str, chain: &str, handle: u64) {
        let o = obj("delete rule", family, table, Some(chain), Some(handle));
        self.push(msg::DELRULE, 0, family, o, |w| Rule::emit_key(table, Some(chain), Some(handle), w));
    }

    /// Adds a set or map (no error if an identical one exists).
    /// The kernel requires `NFTA_SET_ID`; a set without one gets a batch-unique id.
    pub fn add_set(&mut self, s: &Set) {
        let o = obj("add set", s.family, &s.table, Some(&s.name), None);
        let id = s.id.unwrap_or_else(|| {
            self.next_set_id += 1;
            self.next_set_id
        });
        self.push(msg::NEWSET, NLM_F_CREATE, s.family, o, |w| s.emit(w, id));
    }

    /// Deletes a set or map.
    pub fn delete_set(&mut self, family: Family, table: &str, name: &str) {
        let o = obj("delete set", family, table, Some(name), None);
        self.push(msg::DELSET, 0, family, o, |w| Set::emit_key(table, name, w));
    }

    /// Adds elements to a set or map (split over as many messages as needed).
    pub fn add_elems(&mut self, family: Family, table: &str, set: &str, elems: &[SetElem]) {
        self.elems(msg::NEWSETELEM, "add element", NLM_F_CREATE, family, table, set, elems, true);
    }

    /// Deletes elements (by key) from a set or map.
    pub fn delete_elems(&mut self, family: Family, table: &str, set: &str, elems: &[SetElem]) {
        self.elems(msg::DELSETELEM, "delete element", 0, family, table, set, elems, false);
    }

    /// Deletes every element of a set or map.
    pub fn flush_set(&mut self, family: Family, table: &str, set: &str) {
        let o = obj("flush set", family, table, Some(set), None);
        self.push(msg::DELSETELEM, 0, family, o, |w| ElemList::emit_key(table, set, w));
    }

    #[allow(clippy::too_many_arguments)]
    fn elems(
        &mut self,
        m: u8,
        action: &'static str,
        flags: u16,
        family: Family,
        table: &str,
        set: &str,
        elems: &[SetElem],
        with_data: bool,
    ) {
        let mut start = 0;
        while start < elems.len() {
            let mut end = start;
            let mut bytes = 0;
            while end < elems.len()
                && (end == start || bytes + elems[end].wire_len_estimate() <= MAX_ELEMS_BYTES)
            {
                bytes += elems[end].wire_len_estimate();
                end += 1;
            }
            let chunk = &elems[start..end];
            let o = obj(action, family, table, Some(set), None);
            self.push(m, flags, family, o, |w| ElemList::emit(table, set, chunk, with_data, w));
            start = end;
        }
    }

    /// Closes the batch: the bytes to send and the object of every sequence number.
    pub(crate) fn finish(mut self) -> Batch {
        let seq = self.seq();
        let start = proto::begin(
            &mut self.buf,
            NFNL_MSG_BATCH_END,
            NLM_F_ACK,
            seq,
            Family::Unspec,
            NFNL_SUBSYS_NFTABLES,
        );
        proto::finish(&mut self.buf, start);
        Batch { bytes: self.buf, ops: self.ops, begin_seq: 1, end_seq: seq, genid: self.genid }
    }
}

/// A finished transaction, ready to send.
#[derive(Debug)]
pub(crate) struct Batch {
    pub(crate) bytes: Vec<u8>,
    pub(crate) ops: Vec<(u32, ObjectRef)>,
    pub(crate) begin_seq: u32,
    pub(crate) end_seq: u32,
    pub(crate) genid: Option<u32>,
}

impl Batch {
    /// The object a sequence number was about.
    pub(crate) fn object(&self, seq: u32) -> Option<&ObjectRef> {
        self.ops.binary_search_by_key(&seq, |(s, _)| *s).ok().map(|i| &self.ops[i].1)
    }
}

fn obj(
    action: &'static str,
    family: Family,
    table: &str,
    name: Option<&str>,
    handle: Option<u64>,
) -> ObjectRef {
    ObjectRef { action, family, table: table.to_string(), name: name.map(str::to_string), handle }
}

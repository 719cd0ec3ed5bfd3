//! Sets and maps (`NFTA_SET_*`) and their elements (`NFTA_SET_ELEM_*`): keyed lookups such as
//! `map fwd { type ipv4_addr . inet_proto . inet_service : ipv4_addr . inet_service }`.

use crate::attr::{Attrs, RawAttr, Writer};
use crate::data::Data;
use crate::error::DecodeError;
use crate::expr::{Expr, emit_list, field, parse_list};
use crate::family::Family;

const NFTA_SET_TABLE: u16 = 1;
const NFTA_SET_NAME: u16 = 2;
const NFTA_SET_FLAGS: u16 = 3;
const NFTA_SET_KEY_TYPE: u16 = 4;
const NFTA_SET_KEY_LEN: u16 = 5;
const NFTA_SET_DATA_TYPE: u16 = 6;
const NFTA_SET_DATA_LEN: u16 = 7;
const NFTA_SET_POLICY: u16 = 8;
const NFTA_SET_DESC: u16 = 9;
const NFTA_SET_ID: u16 = 10;
const NFTA_SET_TIMEOUT: u16 = 11;
const NFTA_SET_GC_INTERVAL: u16 = 12;
const NFTA_SET_USERDATA: u16 = 13;
const NFTA_SET_PAD: u16 = 14;
const NFTA_SET_HANDLE: u16 = 16;
const NFTA_SET_EXPR: u16 = 17;
const NFTA_SET_EXPRESSIONS: u16 = 18;
const NFTA_SET_TYPE: u16 = 19;
const NFTA_SET_COUNT: u16 = 20;

const NFTA_SET_DESC_SIZE: u16 = 1;
const NFTA_SET_DESC_CONCAT: u16 = 2;
const NFTA_LIST_ELEM: u16 = 1;
const NFTA_SET_FIELD_LEN: u16 = 1;

const NFTA_SET_ELEM_LIST_TABLE: u16 = 1;
const NFTA_SET_ELEM_LIST_SET: u16 = 2;
const NFTA_SET_ELEM_LIST_ELEMENTS: u16 = 3;

const NFTA_SET_ELEM_KEY: u16 = 1;
const NFTA_SET_ELEM_DATA: u16 = 2;
const NFTA_SET_ELEM_FLAGS: u16 = 3;
const NFTA_SET_ELEM_TIMEOUT: u16 = 4;
const NFTA_SET_ELEM_USERDATA: u16 = 6;
const NFTA_SET_ELEM_EXPR: u16 = 7;
const NFTA_SET_ELEM_EXPRESSIONS: u16 = 10;
const NFTA_SET_ELEM_KEY_END: u16 = 9;
const NFTA_SET_ELEM_PAD: u16 = 8;

/// `NFT_SET_ANONYMOUS`.
pub const NFT_SET_ANONYMOUS: u32 = 0x1;
/// `NFT_SET_CONSTANT`.
pub const NFT_SET_CONSTANT: u32 = 0x2;
/// `NFT_SET_INTERVAL`: elements are ranges (`flags interval`).
pub const NFT_SET_INTERVAL: u32 = 0x4;
/// `NFT_SET_MAP`: elements carry data.
pub const NFT_SET_MAP: u32 = 0x8;
/// `NFT_SET_TIMEOUT`.
pub const NFT_SET_TIMEOUT: u32 = 0x10;
/// `NFT_SET_EVAL`: dynamic set.
pub const NFT_SET_EVAL: u32 = 0x20;
/// `NFT_SET_CONCAT`: concatenated ranges.
pub const NFT_SET_CONCAT: u32 = 0x80;

/// `NFT_SET_ELEM_INTERVAL_END`: this element closes an interval.
pub const NFT_SET_ELEM_INTERVAL_END: u32 = 0x1;

/// `NFT_DATA_VERDICT`: the data type of verdict maps.
pub const NFT_DATA_VERDICT: u32 = 0xffff_ff00;

/// nft's datatype numbers for set keys and data (`enum datatypes` in nftables' `datatype.h`); the
/// kernel stores them for `nft` to print.
pub mod datatype {
    /// `verdict`.
    pub const VERDICT: u32 = 1;
    /// `integer`.
    pub const INTEGER: u32 = 4;
    /// `ipv4_addr`.
    pub const IPV4_ADDR: u32 = 7;
    /// `ipv6_addr`.
    pub const IPV6_ADDR: u32 = 8;
    /// `inet_proto`.
    pub const INET_PROTO: u32 = 12;
    /// `inet_service`.
    pub const INET_SERVICE: u32 = 13;
    /// `mark`.
    pub const MARK: u32 = 19;
    /// `ifname`.
    pub const IFNAME: u32 = 41;

    /// The datatype number of a concatenation `a . b . c` (6 bits per member, first member highest).
    pub fn concat(types: &[u32]) -> u32 {
        types.iter().fold(0, |acc, t| (acc << 6) | t)
    }
}

/// `NFTA_SET_DESC`: size hint and the field lengths of a concatenated key.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct SetDesc {
    /// Expected number of elements.
    pub size: Option<u32>,
    /// Length in bytes of each concatenated field (e.g. `[4, 1, 2]` for addr . proto . port).
    pub concat: Vec<u32>,
}

/// A set or a map.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Set {
    /// Family of its table.
    pub family: Family,
    /// Table name.
    pub table: String,
    /// Set name.
    pub name: String,
    /// Kernel handle (dumps only).
    pub handle: Option<u64>,
    /// `NFT_SET_*` flags.
    pub flags: u32,
    /// nft datatype of the key (see [`datatype`]).
    pub key_type: u32,
    /// Key length in bytes (concatenations: each field padded to 4 bytes).
    pub key_len: u32,
    /// For maps: datatype of the data ([`NFT_DATA_VERDICT`] for verdict maps).
    pub data_type: Option<u32>,
    /// For maps: data length in bytes.
    pub data_len: Option<u32>,
    /// `NFT_SET_POL_*`.
    pub policy: Option<u32>,
    /// Size and concatenation description.
    pub desc: Option<SetDesc>,
    /// Transaction-local id (`NFTA_SET_ID`, mandatory on creation: [`crate::Transaction::add_set`]
    /// assigns one when this is `None`), to refer to the set from rules in the same batch.
    pub id: Option<u32>,
    /// Default element timeout (ms).
    pub timeout: Option<u64>,
    /// Garbage-collection interval (ms).
    pub gc_interval: Option<u32>,
    /// `NFTA_SET_USERDATA` (nft keeps byte orders and typeof expressions here).
    pub userdata: Option<Vec<u8>>,
    /// Expressions every element gets (`NFTA_SET_EXPR(ESSIONS)`), e.g. a `counter` per element.
    pub exprs: Vec<Expr>,
    /// The kernel's set backend (`NFTA_SET_TYPE`, dumps only; never sent).
    pub backend: Option<String>,
    /// Number of elements (`NFTA_SET_COUNT`, dumps only; never sent).
    pub count: Option<u32>,
    /// Attributes this crate does not know, kept verbatim.
    pub other: Vec<RawAttr>,
}

impl Set {
    /// A set named `name` with a key of `key_type`/`key_len`.
    pub fn new(
        family: Family,
        table: impl Into<String>,
        name: impl Into<String>,
        key_type: u32,
        key_len: u32,
    ) -> Set {
        Set {
            family,
            table: table.into(),
            name: name.into(),
            handle: None,
            flags: 0,
            key_type,
            key_len,
            data_type: None,
            data_len: None,
            policy: None,
            desc: None,
            id: None,
            timeout: None,
            gc_interval: None,
            userdata: None,
            exprs: Vec::new(),
            backend: None,
            count: None,
            other: Vec::new(),
        }
    }

    /// Makes it a map with values of `data_type`/`data_len` (sets [`NFT_SET_MAP`]).
    pub fn map_to(mut self, data_type: u32, data_len: u32) -> Set {
        self.flags |= NFT_SET_MAP;
        self.data_type = Some(data_type);
        self.data_len = Some(data_len);
        self
    }

    /// True for maps.
    pub fn is_map(&self) -> bool {
        self.flags & NFT_SET_MAP != 0
    }

    pub(crate) fn emit(&self, w: &mut Writer, id: u32) {
        w.str(NFTA_SET_TABLE, &self.table);
        w.str(NFTA_SET_NAME, &self.name);
        w.be32(NFTA_SET_FLAGS, self.flags);
        w.be32(NFTA_SET_KEY_TYPE, self.key_type);
        w.be32(NFTA_SET_KEY_LEN, self.key_len);
        if let Some(t) = self.data_type {
            w.be32(NFTA_SET_DATA_TYPE, t);
        }
        if let Some(l) = self.data_len {
            w.be32(NFTA_SET_DATA_LEN, l);
        }
        w.be32(NFTA_SET_ID, id);
        if let Some(p) = self.policy {
            w.be32(NFTA_SET_POLICY, p);
        }
        if let Some(d) = &self.desc {
            w.nest(NFTA_SET_DESC, |w| {
                if let Some(s) = d.size {
                    w.be32(NFTA_SET_DESC_SIZE, s);
                }
                if !d.concat.is_empty() {
                    w.nest(NFTA_SET_DESC_CONCAT, |w| {
                        for len in &d.concat {
                            w.nest(NFTA_LIST_ELEM, |w| w.be32(NFTA_SET_FIELD_LEN, *len));
                        }
                    });
                }
            });
        }
        if let Some(t) = self.timeout {
            w.be64(NFTA_SET_TIMEOUT, t);
        }
        if let Some(g) = self.gc_interval {
            w.be32(NFTA_SET_GC_INTERVAL, g);
        }
        if let Some(u) = &self.userdata {
            w.bytes(NFTA_SET_USERDATA, u);
        }
        emit_exprs(&self.exprs, NFTA_SET_EXPR, NFTA_SET_EXPRESSIONS, w);
        for a in &self.other {
            w.raw(a);
        }
    }

    pub(crate) fn emit_key(table: &str, name: &str, w: &mut Writer) {
        w.str(NFTA_SET_TABLE, table);
        w.str(NFTA_SET_NAME, name);
    }

    pub(crate) fn parse(family: Family, buf: &[u8]) -> Result<Set, DecodeError> {
        let mut s = Set::new(family, String::new(), String::new(), 0, 0);
        let (mut table, mut name, mut key_type, mut key_len) = (None, None, None, None);
        for a in Attrs::new(buf) {
            let a = a?;
            match a.kind() {
                NFTA_SET_TABLE => table = Some(a.str("NFTA_SET_TABLE")?),
                NFTA_SET_NAME => name = Some(a.str("NFTA_SET_NAME")?),
                NFTA_SET_HANDLE => s.handle = Some(a.be64("NFTA_SET_HANDLE")?),
                NFTA_SET_FLAGS => s.flags = a.be32("NFTA_SET_FLAGS")?,
                NFTA_SET_KEY_TYPE => key_type = Some(a.be32("NFTA_SET_KEY_TYPE")?),
                NFTA_SET_KEY_LEN => key_len = Some(a.be32("NFTA_SET_KEY_LEN")?),
                NFTA_SET_DATA_TYPE => s.data_type = Some(a.be32("NFTA_SET_DATA_TYPE")?),
                NFTA_SET_DATA_LEN => s.data_len = Some(a.be32("NFTA_SET_DATA_LEN")?),
                NFTA_SET_POLICY => s.policy = Some(a.be32("NFTA_SET_POLICY")?),
                NFTA_SET_DESC => s.desc = Some(parse_desc(a.value())?),
                NFTA_SET_ID => s.id = Some(a.be32("NFTA_SET_ID")?),
                NFTA_SET_TIMEOUT => s.timeout = Some(a.be64("NFTA_SET_TIMEOUT")?),
                NFTA_SET_GC_INTERVAL => s.gc_interval = Some(a.be32("NFTA_SET_GC_INTERVAL")?),
                NFTA_SET_USERDATA => s.userdata = Some(a.value().to_vec()),
                NFTA_SET_EXPR => s.exprs = vec![Expr::parse_elem(a.value())?],
                NFTA_SET_EXPRESSIONS => s.exprs = parse_list(a.value())?,
                NFTA_SET_TYPE => s.backend = Some(a.str("NFTA_SET_TYPE")?),
                NFTA_SET_COUNT => s.count = Some(a.be32("NFTA_SET_COUNT")?),
                NFTA_SET_PAD => {}
                _ => s.other.push(a.to_raw()),
            }
        }
        s.table = field(table, "NFTA_SET_TABLE")?;
        s.name = field(name, "NFTA_SET_NAME")?;
        // Delete notifications carry only the table and the name.
        s.key_type = key_type.unwrap_or(0);
        s.key_len = key_len.unwrap_or(0);
        Ok(s)
    }
}

fn parse_desc(buf: &[u8]) -> Result<SetDesc, DecodeError> {
    let mut d = SetDesc::default();
    for a in Attrs::new(buf) {
        let a = a?;
        match a.kind() {
            NFTA_SET_DESC_SIZE => d.size = Some(a.be32("NFTA_SET_DESC_SIZE")?),
            NFTA_SET_DESC_CONCAT => {
                for f in a.nested() {
                    for len in f?.nested() {
                        let len = len?;
                        if len.kind() == NFTA_SET_FIELD_LEN {
                            d.concat.push(len.be32("NFTA_SET_FIELD_LEN")?);
                        }
                    }
                }
            }
            _ => {}
        }
    }
    Ok(d)
}

/// One element of a set or map.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SetElem {
    /// Key bytes (concatenations: fields padded to 4 bytes each).
    pub key: Vec<u8>,
    /// End of a range, for concatenated interval sets (`NFTA_SET_ELEM_KEY_END`).
    pub key_end: Option<Vec<u8>>,
    /// Value, for maps.
    pub data: Option<Data>,
    /// `NFT_SET_ELEM_*` flags.
    pub flags: u32,
    /// Timeout (ms).
    pub timeout: Option<u64>,
    /// `NFTA_SET_ELEM_USERDATA`.
    pub userdata: Option<Vec<u8>>,
    /// The element's own expressions (`NFTA_SET_ELEM_EXPR(ESSIONS)`), e.g. its counter with values.
    pub exprs: Vec<Expr>,
    /// Attributes this crate does not know (expiration...), kept verbatim.
    pub other: Vec<RawAttr>,
}

impl SetElem {
    /// A set element.
    pub fn key(key: impl Into<Vec<u8>>) -> SetElem {
        SetElem {
            key: key.into(),
            key_end: None,
            data: None,
            flags: 0,
            timeout: None,
            userdata: None,
            exprs: Vec::new(),
            other: Vec::new(),
        }
    }

    /// A map element `key : data`.
    pub fn mapping(key: impl Into<Vec<u8>>, data: Data) -> SetElem {
        SetElem { data: Some(data), ..SetElem::key(key) }
    }

    /// The element that closes an interval (`NFT_SET_ELEM_INTERVAL_END`).
    pub fn interval_end(key: impl Into<Vec<u8>>) -> SetElem {
        SetElem { flags: NFT_SET_ELEM_INTERVAL_END, ..SetElem::key(key) }
    }

    /// Bytes this element takes in a message (for splitting large element lists).
    pub(crate) fn wire_len_estimate(&self) -> usize {
        64 + self.key.len()
            + self.key_end.as_ref().map_or(0, Vec::len)
            + match &self.data {
                Some(Data::Value(v)) => v.len(),
                Some(Data::Verdict(_)) => 64,
                None => 0,
            }
            + self.userdata.as_ref().map_or(0, Vec::len)
            + self.exprs.len() * 64
            + self.other.iter().map(|a| a.value.len() + 4).sum::<usize>()
    }

    fn emit(&self, w: &mut Writer, with_data: bool) {
        w.nest(NFTA_LIST_ELEM, |w| {
            if self.flags != 0 {
                w.be32(NFTA_SET_ELEM_FLAGS, self.flags);
            }
            if let Some(t) = self.timeout {
                w.be64(NFTA_SET_ELEM_TIMEOUT, t);
            }
            w.nest(NFTA_SET_ELEM_KEY, |w| Data::Value(self.key.clone()).emit(w));
            if let Some(k) = &self.key_end {
                w.nest(NFTA_SET_ELEM_KEY_END, |w| Data::Value(k.clone()).emit(w));
            }
            if with_data {
                if let Some(d) = &self.data {
                    w.nest(NFTA_SET_ELEM_DATA, |w| d.emit(w));
                }
                if let Some(u) = &self.userdata {
                    w.bytes(NFTA_SET_ELEM_USERDATA, u);
                }
                emit_exprs(&self.exprs, NFTA_SET_ELEM_EXPR, NFTA_SET_ELEM_EXPRESSIONS, w);
                for a in &self.other {
                    w.raw(a);
                }
            }
        });
    }

    fn parse(buf: &[u8]) -> Result<SetElem, DecodeError> {
        let mut e = SetElem::key(Vec::new());
        let mut key = None;
        for a in Attrs::new(buf) {
            let a = a?;
            match a.kind() {
                NFTA_SET_ELEM_KEY => key = Some(Data::parse_value(a.value(), "NFTA_SET_ELEM_KEY")?),
                NFTA_SET_ELEM_KEY_END => {
                    e.key_end = Some(Data::parse_value(a.value(), "NFTA_SET_ELEM_KEY_END")?)
                }
                NFTA_SET_ELEM_DATA => e.data = Some(Data::parse(a.value())?),
                NFTA_SET_ELEM_FLAGS => e.flags = a.be32("NFTA_SET_ELEM_FLAGS")?,
                NFTA_SET_ELEM_TIMEOUT => e.timeout = Some(a.be64("NFTA_SET_ELEM_TIMEOUT")?),
                NFTA_SET_ELEM_USERDATA => e.userdata = Some(a.value().to_vec()),
                NFTA_SET_ELEM_EXPR => e.exprs = vec![Expr::parse_elem(a.value())?],
                NFTA_SET_ELEM_EXPRESSIONS => e.exprs = parse_list(a.value())?,
                NFTA_SET_ELEM_PAD => {}
                _ => e.other.push(a.to_raw()),
            }
        }
        // The catch-all element (`*`) has no key.
        e.key = key.unwrap_or_default();
        Ok(e)
    }
}

/// True when two elements of `elems` are the same element of a set: the same key, the same end
/// of range, and both opening or both closing an interval. A set never holds such a pair, so a dump
/// that shows one is inconsistent (see [`crate::Socket::elems`]).
pub(crate) fn has_repeats(elems: &[SetElem]) -> bool {
    let mut seen = std::collections::HashSet::with_capacity(elems.len());
    !elems
        .iter()
        .all(|e| seen.insert((e.key.as_slice(), e.key_end.as_deref(), e.flags & NFT_SET_ELEM_INTERVAL_END)))
}

/// One expression as a single nest (`one`), several as a list (`many`), as the kernel dumps them.
fn emit_exprs(exprs: &[Expr], one: u16, many: u16, w: &mut Writer) {
    match exprs {
        [] => {}
        [e] => w.nest(one, |w| e.emit_inner(w)),
        _ => w.nest(many, |w| emit_list(exprs, w)),
    }
}

/// The elements of one set, as NEWSETELEM/DELSETELEM messages and element dumps carry them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElemList {
    /// Family of the table.
    pub family: Family,
    /// Table name.
    pub table: String,
    /// Set name.
    pub set: String,
    /// Elements.
    pub elems: Vec<SetElem>,
}

impl ElemList {
    /// Writes the attributes of a (NEW|DEL)SETELEM message for `elems`.
    pub(crate) fn emit(table: &str, set: &str, elems: &[SetElem], with_data: bool, w: &mut Writer) {
        w.str(NFTA_SET_ELEM_LIST_TABLE, table);
        w.str(NFTA_SET_ELEM_LIST_SET, set);
        w.nest(NFTA_SET_ELEM_LIST_ELEMENTS, |w| {
            for e in elems {
                e.emit(w, with_data);
            }
        });
    }

    pub(crate) fn emit_key(table: &str, set: &str, w: &mut Writer) {
        w.str(NFTA_SET_ELEM_LIST_TABLE, table);
        w.str(NFTA_SET_ELEM_LIST_SET, set);
    }

    pub(crate) fn parse(family: Family, buf: &[u8]) -> Result<ElemList, DecodeError> {
        let (mut table, mut set) = (None, None);
        let mut elems = Vec::new();
        for a in Attrs::new(buf) {
            let a = a?;
            match a.kind() {
                NFTA_SET_ELEM_LIST_TABLE => table = Some(a.str("NFTA_SET_ELEM_LIST_TABLE")?),
                NFTA_SET_ELEM_LIST_SET => set = Some(a.str("NFTA_SET_ELEM_LIST_SET")?),
                NFTA_SET_ELEM_LIST_ELEMENTS => {
                    for e in a.nested() {
                        elems.push(SetElem::parse(e?.value())?);
                    }
                }
                // NFTA_SET_ELEM_LIST_SET_ID and the like identify the set; nothing to keep.
                _ => {}
            }
        }
        Ok(ElemList {
            family,
            table: field(table, "NFTA_SET_ELEM_LIST_TABLE")?,
            set: field(set, "NFTA_SET_ELEM_LIST_SET")?,
            elems,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repeated_element_is_a_repeat_and_distinct_ones_are_not() {
        let a = SetElem::mapping(vec![1, 2], Data::Value(vec![9]));
        let b = SetElem::mapping(vec![1, 3], Data::Value(vec![9]));
        assert!(!has_repeats(&[a.clone(), b.clone()]));
        assert!(has_repeats(&[a.clone(), b, a.clone()]));
        // The same key with other data or counters is still the same element of the set.
        let mut a2 = a.clone();
        a2.data = Some(Data::Value(vec![7]));
        assert!(has_repeats(&[a, a2]));
    }

    #[test]
    fn an_interval_end_and_the_next_start_on_the_same_key_are_two_elements() {
        // 10.0.0.0/24 and 10.0.1.0/24 kept apart: the first closes where the second opens.
        let end = SetElem::interval_end(vec![10, 0, 1, 0]);
        let start = SetElem::key(vec![10, 0, 1, 0]);
        assert!(!has_repeats(&[end.clone(), start]));
        assert!(has_repeats(&[end.clone(), end]));
        // Concatenated ranges differ by their ends.
        let r1 = SetElem { key_end: Some(vec![1]), ..SetElem::key(vec![0]) };
        let r2 = SetElem { key_end: Some(vec![2]), ..SetElem::key(vec![0]) };
        assert!(!has_repeats(&[r1, r2]));
    }
}

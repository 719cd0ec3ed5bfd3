//! `NFTA_DATA_*`: immediate data, either bytes (`NFTA_DATA_VALUE`) or a verdict (`NFTA_DATA_VERDICT`).

use std::fmt;

use crate::attr::{Attrs, Writer};
use crate::error::DecodeError;

const NFTA_DATA_VALUE: u16 = 1;
const NFTA_DATA_VERDICT: u16 = 2;

const NFTA_VERDICT_CODE: u16 = 1;
const NFTA_VERDICT_CHAIN: u16 = 2;

const NF_DROP: i32 = 0;
const NF_ACCEPT: i32 = 1;
const NF_QUEUE: i32 = 3;
const NFT_CONTINUE: i32 = -1;
const NFT_BREAK: i32 = -2;
const NFT_JUMP: i32 = -3;
const NFT_GOTO: i32 = -4;
const NFT_RETURN: i32 = -5;

/// A verdict: `accept`, `drop`, `jump CHAIN`, ...
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Verdict {
    /// `accept` (`NF_ACCEPT`).
    Accept,
    /// `drop` (`NF_DROP`).
    Drop,
    /// `queue` (`NF_QUEUE`).
    Queue,
    /// `continue` (`NFT_CONTINUE`).
    Continue,
    /// `break` (`NFT_BREAK`).
    Break,
    /// `return` (`NFT_RETURN`).
    Return,
    /// `jump CHAIN` (`NFT_JUMP`).
    Jump(String),
    /// `goto CHAIN` (`NFT_GOTO`).
    Goto(String),
    /// Any other code, kept as it came.
    Other(i32),
}

impl Verdict {
    fn code(&self) -> i32 {
        match self {
            Verdict::Accept => NF_ACCEPT,
            Verdict::Drop => NF_DROP,
            Verdict::Queue => NF_QUEUE,
            Verdict::Continue => NFT_CONTINUE,
            Verdict::Break => NFT_BREAK,
            Verdict::Return => NFT_RETURN,
            Verdict::Jump(_) => NFT_JUMP,
            Verdict::Goto(_) => NFT_GOTO,
            Verdict::Other(c) => *c,
        }
    }

    /// Writes `NFTA_VERDICT_CODE` (and `NFTA_VERDICT_CHAIN`) into an `NFTA_DATA_VERDICT` nest.
    pub(crate) fn emit(&self, w: &mut Writer) {
        w.be32(NFTA_VERDICT_CODE, self.code() as u32);
        if let Verdict::Jump(c) | Verdict::Goto(c) = self {
            w.str(NFTA_VERDICT_CHAIN, c);
        }
    }

    /// Parses the content of an `NFTA_DATA_VERDICT` nest.
    pub(crate) fn parse(buf: &[u8]) -> Result<Verdict, DecodeError> {
        let mut code = None;
        let mut chain = None;
        for a in Attrs::new(buf) {
            let a = a?;
            match a.kind() {
                NFTA_VERDICT_CODE => code = Some(a.be32("NFTA_VERDICT_CODE")? as i32),
                NFTA_VERDICT_CHAIN => chain = Some(a.str("NFTA_VERDICT_CHAIN")?),
                _ => return Err(DecodeError::bad_value("NFTA_DATA_VERDICT")),
            }
        }
        let code = code.ok_or_else(|| DecodeError::missing("NFTA_VERDICT_CODE"))?;
        Ok(match (code, chain) {
            (NF_ACCEPT, None) => Verdict::Accept,
            (NF_DROP, None) => Verdict::Drop,
            (NF_QUEUE, None) => Verdict::Queue,
            (NFT_CONTINUE, None) => Verdict::Continue,
            (NFT_BREAK, None) => Verdict::Break,
            (NFT_RETURN, None) => Verdict::Return,
            (NFT_JUMP, Some(c)) => Verdict::Jump(c),
            (NFT_GOTO, Some(c)) => Verdict::Goto(c),
            (other, None) => Verdict::Other(other),
            (_, Some(_)) => return Err(DecodeError::bad_value("NFTA_VERDICT_CHAIN")),
        })
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Verdict::Accept => f.write_str("accept"),
            Verdict::Drop => f.write_str("drop"),
            Verdict::Queue => f.write_str("queue"),
            Verdict::Continue => f.write_str("continue"),
            Verdict::Break => f.write_str("break"),
            Verdict::Return => f.write_str("return"),
            Verdict::Jump(c) => write!(f, "jump {c}"),
            Verdict::Goto(c) => write!(f, "goto {c}"),
            Verdict::Other(c) => write!(f, "verdict {c}"),
        }
    }
}

/// Data carried by `immediate`, `cmp`, `range` and set elements.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Data {
    /// Bytes in wire order (`NFTA_DATA_VALUE`).
    Value(Vec<u8>),
    /// A verdict (`NFTA_DATA_VERDICT`).
    Verdict(Verdict),
}

impl Data {
    /// Writes the `NFTA_DATA_*` attribute (the caller opens the enclosing nest).
    pub(crate) fn emit(&self, w: &mut Writer) {
        match self {
            Data::Value(v) => w.bytes(NFTA_DATA_VALUE, v),
            Data::Verdict(v) => w.nest(NFTA_DATA_VERDICT, |w| v.emit(w)),
        }
    }

    /// Parses the content of a nest holding one `NFTA_DATA_*` attribute.
    pub(crate) fn parse(buf: &[u8]) -> Result<Data, DecodeError> {
        let mut out = None;
        for a in Attrs::new(buf) {
            let a = a?;
            let d = match a.kind() {
                NFTA_DATA_VALUE => Data::Value(a.value().to_vec()),
                NFTA_DATA_VERDICT => Data::Verdict(Verdict::parse(a.value())?),
                _ => return Err(DecodeError::bad_value("NFTA_DATA")),
            };
            if out.replace(d).is_some() {
                return Err(DecodeError::bad_value("NFTA_DATA"));
            }
        }
        out.ok_or_else(|| DecodeError::missing("NFTA_DATA"))
    }

    /// Parses a nest that must hold bytes.
    pub(crate) fn parse_value(buf: &[u8], at: &'static str) -> Result<Vec<u8>, DecodeError> {
        match Data::parse(buf)? {
            Data::Value(v) => Ok(v),
            Data::Verdict(_) => Err(DecodeError::bad_value(at)),
        }
    }
}

/// Writes bytes as a `NFTA_DATA_VALUE` inside a nest of type `kind`.
pub(crate) fn emit_value(w: &mut Writer, kind: u16, value: &[u8]) {
    w.nest(kind, |w| w.bytes(NFTA_DATA_VALUE, value));
}

//! `bitwise`: `dreg = (sreg & mask) ^ xor`, or a shift. nft: `ip saddr 10.0.0.0/20`;
//! iptables-nft: non-byte-aligned prefixes and `-f`. (`NFTA_BITWISE_*`)

use crate::attr::{Attrs, Writer};
use crate::data::{Data, emit_value};
use crate::error::DecodeError;
use crate::expr::{Register, field, unknown_attr};

const NFTA_BITWISE_SREG: u16 = 1;
const NFTA_BITWISE_DREG: u16 = 2;
const NFTA_BITWISE_LEN: u16 = 3;
const NFTA_BITWISE_MASK: u16 = 4;
const NFTA_BITWISE_XOR: u16 = 5;
const NFTA_BITWISE_OP: u16 = 6;
const NFTA_BITWISE_DATA: u16 = 7;

const NFT_BITWISE_BOOL: u32 = 0;

/// What the expression computes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum BitwiseOp {
    /// `(sreg & mask) ^ xor` (`NFT_BITWISE_BOOL`, the kernel's default when no op is sent).
    Bool {
        /// Mask bytes.
        mask: Vec<u8>,
        /// Xor bytes.
        xor: Vec<u8>,
    },
    /// Another operation (`NFT_BITWISE_LSHIFT`, `RSHIFT`, ...) with its `NFTA_BITWISE_DATA`.
    Shift {
        /// `NFTA_BITWISE_OP`.
        op: u32,
        /// `NFTA_BITWISE_DATA` value bytes.
        data: Vec<u8>,
    },
}

/// The `bitwise` expression.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Bitwise {
    /// Source register.
    pub sreg: Register,
    /// Destination register.
    pub dreg: Register,
    /// Operand length in bytes.
    pub len: u32,
    /// The operation.
    pub op: BitwiseOp,
}

impl Bitwise {
    /// `reg 1 = reg 1 & mask` (xor zero), as iptables-nft writes prefix masks.
    pub fn mask(mask: impl Into<Vec<u8>>) -> Bitwise {
        let mask = mask.into();
        Bitwise {
            sreg: Register::R1,
            dreg: Register::R1,
            len: mask.len() as u32,
            op: BitwiseOp::Bool { xor: vec![0; mask.len()], mask },
        }
    }

    pub(crate) fn emit(&self, w: &mut Writer) {
        w.be32(NFTA_BITWISE_SREG, self.sreg.0);
        w.be32(NFTA_BITWISE_DREG, self.dreg.0);
        w.be32(NFTA_BITWISE_LEN, self.len);
        match &self.op {
            BitwiseOp::Bool { mask, xor } => {
                emit_value(w, NFTA_BITWISE_MASK, mask);
                emit_value(w, NFTA_BITWISE_XOR, xor);
            }
            BitwiseOp::Shift { op, data } => {
                w.be32(NFTA_BITWISE_OP, *op);
                emit_value(w, NFTA_BITWISE_DATA, data);
            }
        }
    }

    pub(crate) fn parse(buf: &[u8]) -> Result<Bitwise, DecodeError> {
        let (mut sreg, mut dreg, mut len, mut mask, mut xor) = (None, None, None, None, None);
        let (mut op, mut data) = (None, None);
        for a in Attrs::new(buf) {
            let a = a?;
            match a.kind() {
                NFTA_BITWISE_SREG => sreg = Some(Register(a.be32("NFTA_BITWISE_SREG")?)),
                NFTA_BITWISE_DREG => dreg = Some(Register(a.be32("NFTA_BITWISE_DREG")?)),
                NFTA_BITWISE_LEN => len = Some(a.be32("NFTA_BITWISE_LEN")?),
                NFTA_BITWISE_MASK => mask = Some(Data::parse_value(a.value(), "NFTA_BITWISE_MASK")?),
                NFTA_BITWISE_XOR => xor = Some(Data::parse_value(a.value(), "NFTA_BITWISE_XOR")?),
                NFTA_BITWISE_OP => op = Some(a.be32("NFTA_BITWISE_OP")?),
                NFTA_BITWISE_DATA => data = Some(Data::parse_value(a.value(), "NFTA_BITWISE_DATA")?),
                _ => return Err(unknown_attr("bitwise")),
            }
        }
        let op = match (op.unwrap_or(NFT_BITWISE_BOOL), mask, xor, data) {
            (NFT_BITWISE_BOOL, Some(mask), Some(xor), None) => BitwiseOp::Bool { mask, xor },
            (op, None, None, Some(data)) if op != NFT_BITWISE_BOOL => BitwiseOp::Shift { op, data },
            _ => return Err(DecodeError::bad_value("bitwise operands")),
        };
        Ok(Bitwise {
            sreg: field(sreg, "NFTA_BITWISE_SREG")?,
            dreg: field(dreg, "NFTA_BITWISE_DREG")?,
            len: field(len, "NFTA_BITWISE_LEN")?,
            op,
        })
    }
}

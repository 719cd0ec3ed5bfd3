//! `range`: test a register against an inclusive range. iptables-nft: `--sport 1024:65535`.
//! (`NFTA_RANGE_*`)

use crate::attr::{Attrs, Writer};
use crate::data::{Data, emit_value};
use crate::error::DecodeError;
use crate::expr::{CmpOp, Register, field, unknown_attr};

const NFTA_RANGE_SREG: u16 = 1;
const NFTA_RANGE_OP: u16 = 2;
const NFTA_RANGE_FROM_DATA: u16 = 3;
const NFTA_RANGE_TO_DATA: u16 = 4;

/// The `range` expression; `op` is `Eq` (inside) or `Neq` (outside).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Range {
    /// Register tested.
    pub sreg: Register,
    /// `NFT_RANGE_EQ` (as [`CmpOp::Eq`]) or `NFT_RANGE_NEQ` ([`CmpOp::Neq`]).
    pub op: CmpOp,
    /// Lower bound, wire order.
    pub from: Vec<u8>,
    /// Upper bound, wire order.
    pub to: Vec<u8>,
}

impl Range {
    pub(crate) fn emit(&self, w: &mut Writer) {
        w.be32(NFTA_RANGE_SREG, self.sreg.0);
        w.be32(NFTA_RANGE_OP, self.op.into());
        emit_value(w, NFTA_RANGE_FROM_DATA, &self.from);
        emit_value(w, NFTA_RANGE_TO_DATA, &self.to);
    }

    pub(crate) fn parse(buf: &[u8]) -> Result<Range, DecodeError> {
        let (mut sreg, mut op, mut from, mut to) = (None, None, None, None);
        for a in Attrs::new(buf) {
            let a = a?;
            match a.kind() {
                NFTA_RANGE_SREG => sreg = Some(Register(a.be32("NFTA_RANGE_SREG")?)),
                NFTA_RANGE_OP => op = Some(a.be32("NFTA_RANGE_OP")?.into()),
                NFTA_RANGE_FROM_DATA => from = Some(Data::parse_value(a.value(), "NFTA_RANGE_FROM_DATA")?),
                NFTA_RANGE_TO_DATA => to = Some(Data::parse_value(a.value(), "NFTA_RANGE_TO_DATA")?),
                _ => return Err(unknown_attr("range")),
            }
        }
        Ok(Range {
            sreg: field(sreg, "NFTA_RANGE_SREG")?,
            op: field(op, "NFTA_RANGE_OP")?,
            from: field(from, "NFTA_RANGE_FROM_DATA")?,
            to: field(to, "NFTA_RANGE_TO_DATA")?,
        })
    }
}

//! `cmp`: compare a register with immediate bytes. nft: `tcp dport 22`; iptables-nft: every match
//! on an address, interface, protocol or port. (`NFTA_CMP_*`)

use crate::attr::{Attrs, Writer};
use crate::data::{Data, emit_value};
use crate::error::DecodeError;
use crate::expr::{Register, field, unknown_attr};

const NFTA_CMP_SREG: u16 = 1;
const NFTA_CMP_OP: u16 = 2;
const NFTA_CMP_DATA: u16 = 3;

/// Comparison operators (`NFT_CMP_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CmpOp {
    /// `==` (`NFT_CMP_EQ`).
    Eq,
    /// `!=` (`NFT_CMP_NEQ`).
    Neq,
    /// `<` (`NFT_CMP_LT`).
    Lt,
    /// `<=` (`NFT_CMP_LTE`).
    Lte,
    /// `>` (`NFT_CMP_GT`).
    Gt,
    /// `>=` (`NFT_CMP_GTE`).
    Gte,
    /// Any other operator, kept as its number.
    Other(u32),
}

impl From<u32> for CmpOp {
    fn from(v: u32) -> Self {
        match v {
            0 => CmpOp::Eq,
            1 => CmpOp::Neq,
            2 => CmpOp::Lt,
            3 => CmpOp::Lte,
            4 => CmpOp::Gt,
            5 => CmpOp::Gte,
            o => CmpOp::Other(o),
        }
    }
}

impl From<CmpOp> for u32 {
    fn from(o: CmpOp) -> u32 {
        match o {
            CmpOp::Eq => 0,
            CmpOp::Neq => 1,
            CmpOp::Lt => 2,
            CmpOp::Lte => 3,
            CmpOp::Gt => 4,
            CmpOp::Gte => 5,
            CmpOp::Other(o) => o,
        }
    }
}

/// The `cmp` expression.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Cmp {
    /// Register compared.
    pub sreg: Register,
    /// Operator.
    pub op: CmpOp,
    /// Bytes compared against, in wire order.
    pub data: Vec<u8>,
}

impl Cmp {
    /// `reg 1 == data`.
    pub fn eq(data: impl Into<Vec<u8>>) -> Cmp {
        Cmp { sreg: Register::R1, op: CmpOp::Eq, data: data.into() }
    }

    /// `reg 1 != data`.
    pub fn neq(data: impl Into<Vec<u8>>) -> Cmp {
        Cmp { sreg: Register::R1, op: CmpOp::Neq, data: data.into() }
    }

    pub(crate) fn emit(&self, w: &mut Writer) {
        w.be32(NFTA_CMP_SREG, self.sreg.0);
        w.be32(NFTA_CMP_OP, self.op.into());
        emit_value(w, NFTA_CMP_DATA, &self.data);
    }

    pub(crate) fn parse(buf: &[u8]) -> Result<Cmp, DecodeError> {
        let (mut sreg, mut op, mut data) = (None, None, None);
        for a in Attrs::new(buf) {
            let a = a?;
            match a.kind() {
                NFTA_CMP_SREG => sreg = Some(Register(a.be32("NFTA_CMP_SREG")?)),
                NFTA_CMP_OP => op = Some(a.be32("NFTA_CMP_OP")?.into()),
                NFTA_CMP_DATA => data = Some(Data::parse_value(a.value(), "NFTA_CMP_DATA")?),
                _ => return Err(unknown_attr("cmp")),
            }
        }
        Ok(Cmp {
            sreg: field(sreg, "NFTA_CMP_SREG")?,
            op: field(op, "NFTA_CMP_OP")?,
            data: field(data, "NFTA_CMP_DATA")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// NFTA_EXPR_DATA of `cmp eq reg 1 0x06`, as iptables-nft 1.8.9 sends it for `-p tcp`
    /// (reference/iptables-nft-1.8.9.md, capture nat04_dnat_port).
    const CMP_L4PROTO_TCP: &[u8] = &[
        0x08, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x01, // SREG = 1
        0x08, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, // OP = EQ
        0x0c, 0x00, 0x03, 0x80, 0x05, 0x00, 0x01, 0x00, // DATA (nested) > VALUE, len 5
        0x06, 0x00, 0x00, 0x00, // 6 + 3 pad
    ];

    #[test]
    fn cmp_matches_capture() {
        let cmp = Cmp::parse(CMP_L4PROTO_TCP).unwrap();
        assert_eq!(cmp, Cmp::eq([6u8]));
        let mut w = Writer::default();
        cmp.emit(&mut w);
        assert_eq!(w.into_inner(), CMP_L4PROTO_TCP);
    }
}

//! `immediate`: put data or a verdict into a register. nft: `accept`, `jump X`; iptables-nft: `-j ACCEPT`.
//! (`NFTA_IMMEDIATE_*`)

use crate::attr::{Attrs, Writer};
use crate::data::{Data, Verdict};
use crate::error::DecodeError;
use crate::expr::{Register, field, unknown_attr};

const NFTA_IMMEDIATE_DREG: u16 = 1;
const NFTA_IMMEDIATE_DATA: u16 = 2;

/// The `immediate` expression.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Immediate {
    /// Destination register (`Register::VERDICT` for verdicts).
    pub dreg: Register,
    /// The data.
    pub data: Data,
}

impl Immediate {
    /// A verdict statement (`accept`, `drop`, `jump CHAIN`...).
    pub fn verdict(v: Verdict) -> Immediate {
        Immediate { dreg: Register::VERDICT, data: Data::Verdict(v) }
    }

    /// Loads `value` into `dreg`.
    pub fn value(dreg: Register, value: impl Into<Vec<u8>>) -> Immediate {
        Immediate { dreg, data: Data::Value(value.into()) }
    }

    pub(crate) fn emit(&self, w: &mut Writer) {
        w.be32(NFTA_IMMEDIATE_DREG, self.dreg.0);
        w.nest(NFTA_IMMEDIATE_DATA, |w| self.data.emit(w));
    }

    pub(crate) fn parse(buf: &[u8]) -> Result<Immediate, DecodeError> {
        let (mut dreg, mut data) = (None, None);
        for a in Attrs::new(buf) {
            let a = a?;
            match a.kind() {
                NFTA_IMMEDIATE_DREG => dreg = Some(Register(a.be32("NFTA_IMMEDIATE_DREG")?)),
                NFTA_IMMEDIATE_DATA => data = Some(Data::parse(a.value())?),
                _ => return Err(unknown_attr("immediate")),
            }
        }
        Ok(Immediate { dreg: field(dreg, "NFTA_IMMEDIATE_DREG")?, data: field(data, "NFTA_IMMEDIATE_DATA")? })
    }
}

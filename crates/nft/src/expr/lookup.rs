//! `lookup`: look a register up in a set or map. nft: `ip daddr @public`, `... map @fwd`.
//! (`NFTA_LOOKUP_*`)

use crate::attr::{Attrs, Writer};
use crate::error::DecodeError;
use crate::expr::{Register, field, unknown_attr};

const NFTA_LOOKUP_SET: u16 = 1;
const NFTA_LOOKUP_SREG: u16 = 2;
const NFTA_LOOKUP_DREG: u16 = 3;
const NFTA_LOOKUP_SET_ID: u16 = 4;
const NFTA_LOOKUP_FLAGS: u16 = 5;

/// `NFT_LOOKUP_F_INV`: match when the key is absent.
pub const NFT_LOOKUP_F_INV: u32 = 1;

/// The `lookup` expression.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Lookup {
    /// Set or map name.
    pub set: String,
    /// Register holding the key (for concatenations: the first of consecutive registers).
    pub sreg: Register,
    /// For maps: register receiving the value (`Register::VERDICT` for verdict maps).
    pub dreg: Option<Register>,
    /// `NFTA_LOOKUP_SET_ID`, to refer to a set created in the same batch.
    pub set_id: Option<u32>,
    /// `NFT_LOOKUP_F_*` flags, when sent.
    pub flags: Option<u32>,
}

impl Lookup {
    /// Membership test of `sreg` in `set`.
    pub fn set(set: impl Into<String>, sreg: Register) -> Lookup {
        Lookup { set: set.into(), sreg, dreg: None, set_id: None, flags: None }
    }

    /// Map `sreg` through `map` into `dreg`.
    pub fn map(map: impl Into<String>, sreg: Register, dreg: Register) -> Lookup {
        Lookup { set: map.into(), sreg, dreg: Some(dreg), set_id: None, flags: None }
    }

    pub(crate) fn emit(&self, w: &mut Writer) {
        w.be32(NFTA_LOOKUP_SREG, self.sreg.0);
        if let Some(d) = self.dreg {
            w.be32(NFTA_LOOKUP_DREG, d.0);
        }
        w.str(NFTA_LOOKUP_SET, &self.set);
        if let Some(id) = self.set_id {
            w.be32(NFTA_LOOKUP_SET_ID, id);
        }
        if let Some(f) = self.flags {
            w.be32(NFTA_LOOKUP_FLAGS, f);
        }
    }

    pub(crate) fn parse(buf: &[u8]) -> Result<Lookup, DecodeError> {
        let (mut set, mut sreg, mut dreg, mut set_id, mut flags) = (None, None, None, None, None);
        for a in Attrs::new(buf) {
            let a = a?;
            match a.kind() {
                NFTA_LOOKUP_SET => set = Some(a.str("NFTA_LOOKUP_SET")?),
                NFTA_LOOKUP_SREG => sreg = Some(Register(a.be32("NFTA_LOOKUP_SREG")?)),
                NFTA_LOOKUP_DREG => dreg = Some(Register(a.be32("NFTA_LOOKUP_DREG")?)),
                NFTA_LOOKUP_SET_ID => set_id = Some(a.be32("NFTA_LOOKUP_SET_ID")?),
                NFTA_LOOKUP_FLAGS => flags = Some(a.be32("NFTA_LOOKUP_FLAGS")?),
                _ => return Err(unknown_attr("lookup")),
            }
        }
        Ok(Lookup {
            set: field(set, "NFTA_LOOKUP_SET")?,
            sreg: field(sreg, "NFTA_LOOKUP_SREG")?,
            dreg,
            set_id,
            flags,
        })
    }
}

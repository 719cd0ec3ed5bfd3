//! `fib`: a routing lookup. nft: `fib daddr type local` (is the destination one of the host's own
//! addresses). (`NFTA_FIB_*`)

use crate::attr::{Attrs, Writer};
use crate::error::DecodeError;
use crate::expr::{Register, field, unknown_attr};

const NFTA_FIB_DREG: u16 = 1;
const NFTA_FIB_RESULT: u16 = 2;
const NFTA_FIB_FLAGS: u16 = 3;

/// `NFT_FIB_RESULT_OIF`.
pub const NFT_FIB_RESULT_OIF: u32 = 1;
/// `NFT_FIB_RESULT_OIFNAME`.
pub const NFT_FIB_RESULT_OIFNAME: u32 = 2;
/// `NFT_FIB_RESULT_ADDRTYPE`: the route type (`RTN_LOCAL` = 2 for the host's own addresses).
pub const NFT_FIB_RESULT_ADDRTYPE: u32 = 3;
/// `NFTA_FIB_F_SADDR`.
pub const NFTA_FIB_F_SADDR: u32 = 1;
/// `NFTA_FIB_F_DADDR`.
pub const NFTA_FIB_F_DADDR: u32 = 2;
/// `NFTA_FIB_F_MARK`.
pub const NFTA_FIB_F_MARK: u32 = 4;
/// `NFTA_FIB_F_IIF`.
pub const NFTA_FIB_F_IIF: u32 = 8;
/// `NFTA_FIB_F_OIF`.
pub const NFTA_FIB_F_OIF: u32 = 16;
/// `RTN_LOCAL`: the address type of the host's own addresses.
pub const RTN_LOCAL: u32 = 2;

/// The `fib` expression.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fib {
    /// Destination register.
    pub dreg: Register,
    /// `NFT_FIB_RESULT_*`.
    pub result: u32,
    /// `NFTA_FIB_F_*`.
    pub flags: u32,
}

impl Fib {
    /// `fib daddr type` into register 1.
    pub fn daddr_type() -> Fib {
        Fib { dreg: Register::R1, result: NFT_FIB_RESULT_ADDRTYPE, flags: NFTA_FIB_F_DADDR }
    }

    pub(crate) fn emit(&self, w: &mut Writer) {
        w.be32(NFTA_FIB_FLAGS, self.flags);
        w.be32(NFTA_FIB_RESULT, self.result);
        w.be32(NFTA_FIB_DREG, self.dreg.0);
    }

    pub(crate) fn parse(buf: &[u8]) -> Result<Fib, DecodeError> {
        let (mut dreg, mut result, mut flags) = (None, None, None);
        for a in Attrs::new(buf) {
            let a = a?;
            match a.kind() {
                NFTA_FIB_DREG => dreg = Some(Register(a.be32("NFTA_FIB_DREG")?)),
                NFTA_FIB_RESULT => result = Some(a.be32("NFTA_FIB_RESULT")?),
                NFTA_FIB_FLAGS => flags = Some(a.be32("NFTA_FIB_FLAGS")?),
                _ => return Err(unknown_attr("fib")),
            }
        }
        Ok(Fib {
            dreg: field(dreg, "NFTA_FIB_DREG")?,
            result: field(result, "NFTA_FIB_RESULT")?,
            flags: field(flags, "NFTA_FIB_FLAGS")?,
        })
    }
}

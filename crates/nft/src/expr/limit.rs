//! `limit`: token-bucket rate limit. nft: `limit rate 1/second burst 5 packets`; iptables-nft:
//! `-m limit --limit 1/s`. (`NFTA_LIMIT_*`)

use crate::attr::{Attrs, Writer};
use crate::error::DecodeError;
use crate::expr::{field, unknown_attr};

const NFTA_LIMIT_RATE: u16 = 1;
const NFTA_LIMIT_UNIT: u16 = 2;
const NFTA_LIMIT_BURST: u16 = 3;
const NFTA_LIMIT_TYPE: u16 = 4;
const NFTA_LIMIT_FLAGS: u16 = 5;
const NFTA_LIMIT_PAD: u16 = 6;

/// `NFT_LIMIT_PKTS`: the rate counts packets.
pub const NFT_LIMIT_PKTS: u32 = 0;
/// `NFT_LIMIT_PKT_BYTES`: the rate counts bytes.
pub const NFT_LIMIT_PKT_BYTES: u32 = 1;
/// `NFT_LIMIT_F_INV`: match when over the limit.
pub const NFT_LIMIT_F_INV: u32 = 1;

/// The `limit` expression: `rate` per `unit` seconds, with `burst`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Limit {
    /// Packets (or bytes) per unit.
    pub rate: u64,
    /// Unit in seconds (1, 60, 3600, 86400).
    pub unit: u64,
    /// Burst.
    pub burst: u32,
    /// [`NFT_LIMIT_PKTS`] or [`NFT_LIMIT_PKT_BYTES`].
    pub kind: u32,
    /// `NFT_LIMIT_F_*` flags.
    pub flags: u32,
}

impl Limit {
    /// `limit rate <rate>/<unit seconds> burst <burst> packets`.
    pub fn packets(rate: u64, unit: u64, burst: u32) -> Limit {
        Limit { rate, unit, burst, kind: NFT_LIMIT_PKTS, flags: 0 }
    }

    pub(crate) fn emit(&self, w: &mut Writer) {
        w.be64(NFTA_LIMIT_RATE, self.rate);
        w.be64(NFTA_LIMIT_UNIT, self.unit);
        w.be32(NFTA_LIMIT_BURST, self.burst);
        w.be32(NFTA_LIMIT_TYPE, self.kind);
        w.be32(NFTA_LIMIT_FLAGS, self.flags);
    }

    pub(crate) fn parse(buf: &[u8]) -> Result<Limit, DecodeError> {
        let (mut rate, mut unit, mut burst, mut kind, mut flags) = (None, None, None, None, None);
        for a in Attrs::new(buf) {
            let a = a?;
            match a.kind() {
                NFTA_LIMIT_RATE => rate = Some(a.be64("NFTA_LIMIT_RATE")?),
                NFTA_LIMIT_UNIT => unit = Some(a.be64("NFTA_LIMIT_UNIT")?),
                NFTA_LIMIT_BURST => burst = Some(a.be32("NFTA_LIMIT_BURST")?),
                NFTA_LIMIT_TYPE => kind = Some(a.be32("NFTA_LIMIT_TYPE")?),
                NFTA_LIMIT_FLAGS => flags = Some(a.be32("NFTA_LIMIT_FLAGS")?),
                NFTA_LIMIT_PAD => {}
                _ => return Err(unknown_attr("limit")),
            }
        }
        Ok(Limit {
            rate: field(rate, "NFTA_LIMIT_RATE")?,
            unit: field(unit, "NFTA_LIMIT_UNIT")?,
            burst: burst.unwrap_or(0),
            kind: kind.unwrap_or(NFT_LIMIT_PKTS),
            flags: flags.unwrap_or(0),
        })
    }
}

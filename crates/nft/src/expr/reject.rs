//! `reject`: drop and answer with an ICMP error or a TCP reset. nft: `reject`,
//! `reject with tcp reset`. (`NFTA_REJECT_*`)

use crate::attr::{Attrs, Writer};
use crate::error::DecodeError;
use crate::expr::{field, unknown_attr};

const NFTA_REJECT_TYPE: u16 = 1;
const NFTA_REJECT_ICMP_CODE: u16 = 2;

/// `NFT_REJECT_ICMP_UNREACH`.
pub const NFT_REJECT_ICMP_UNREACH: u32 = 0;
/// `NFT_REJECT_TCP_RST`.
pub const NFT_REJECT_TCP_RST: u32 = 1;
/// `NFT_REJECT_ICMPX_UNREACH`.
pub const NFT_REJECT_ICMPX_UNREACH: u32 = 2;

/// The `reject` expression.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Reject {
    /// `NFT_REJECT_*`.
    pub kind: u32,
    /// ICMP code, when sent.
    pub icmp_code: Option<u8>,
}

impl Reject {
    pub(crate) fn emit(&self, w: &mut Writer) {
        w.be32(NFTA_REJECT_TYPE, self.kind);
        if let Some(c) = self.icmp_code {
            w.u8(NFTA_REJECT_ICMP_CODE, c);
        }
    }

    pub(crate) fn parse(buf: &[u8]) -> Result<Reject, DecodeError> {
        let (mut kind, mut icmp_code) = (None, None);
        for a in Attrs::new(buf) {
            let a = a?;
            match a.kind() {
                NFTA_REJECT_TYPE => kind = Some(a.be32("NFTA_REJECT_TYPE")?),
                NFTA_REJECT_ICMP_CODE => icmp_code = Some(a.u8("NFTA_REJECT_ICMP_CODE")?),
                _ => return Err(unknown_attr("reject")),
            }
        }
        Ok(Reject { kind: field(kind, "NFTA_REJECT_TYPE")?, icmp_code })
    }
}

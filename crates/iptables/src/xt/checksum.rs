//! `struct xt_CHECKSUM_info` (linux/netfilter/xt_CHECKSUM.h): target `CHECKSUM` rev 0, 8 bytes.

use super::{DecodeError, Rd, Wr, xt_align};

/// Extension name.
pub const NAME: &str = "CHECKSUM";
/// Revision.
pub const REV: u32 = 0;
/// `XT_ALIGN(sizeof(struct xt_CHECKSUM_info))`.
pub const SIZE: usize = xt_align(1);

/// `XT_CHECKSUM_OP_FILL`.
pub const XT_CHECKSUM_OP_FILL: u8 = 0x01;

/// `struct xt_CHECKSUM_info`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct XtChecksumInfo {
    /// `XT_CHECKSUM_OP_*`.
    pub operation: u8,
    /// Alignment bytes 1..8.
    pub pad: [u8; 7],
}

impl XtChecksumInfo {
    /// `--checksum-fill`.
    pub const FILL: XtChecksumInfo = XtChecksumInfo { operation: XT_CHECKSUM_OP_FILL, pad: [0; 7] };

    /// The blob.
    pub fn encode(&self) -> Vec<u8> {
        Wr::new(SIZE).u8(0, self.operation).bytes(1, &self.pad).finish()
    }

    /// Reads a blob.
    pub fn decode(b: &[u8]) -> Result<Self, DecodeError> {
        let r = Rd::new(NAME, REV, b, SIZE)?;
        Ok(XtChecksumInfo { operation: r.u8(0), pad: r.arr(1) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Target;
    use crate::xt::testutil::{hex, rule};

    #[test]
    fn capture() {
        // Reference Appendix B x25_mangle_raw.
        let r = rule("-t mangle -A POSTROUTING -p udp --dport 68 -j CHECKSUM --checksum-fill");
        assert_eq!(r.target, Some(Target::ChecksumFill));
        assert_eq!(XtChecksumInfo::FILL.encode(), hex("0100000000000000"));
        assert_eq!(XtChecksumInfo::decode(&hex("0100000000000000")).unwrap(), XtChecksumInfo::FILL);
    }
}

//! `struct xt_mark_mtinfo1` (linux/netfilter/xt_mark.h): match `mark` rev 1, 16 bytes. iptables-nft
//! 1.8.9 writes `-m mark` natively (`meta mark`); this decodes rules written by others.

use super::{DecodeError, Rd, Unrepresentable, Wr, exact, xt_align};
use crate::matches::MarkMatch;

/// Extension name.
pub const NAME: &str = "mark";
/// Revision.
pub const REV: u32 = 1;
/// `XT_ALIGN(sizeof(struct xt_mark_mtinfo1))`.
pub const SIZE: usize = xt_align(12);

/// `struct xt_mark_mtinfo1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct XtMarkMtinfo1 {
    /// Value.
    pub mark: u32,
    /// Mask.
    pub mask: u32,
    /// Non-zero: negated.
    pub invert: u8,
    /// Struct and alignment padding, bytes 9..16.
    pub pad: [u8; 7],
}

impl XtMarkMtinfo1 {
    /// The blob.
    pub fn encode(&self) -> Vec<u8> {
        Wr::new(SIZE).u32(0, self.mark).u32(4, self.mask).u8(8, self.invert).bytes(9, &self.pad).finish()
    }

    /// Reads a blob.
    pub fn decode(b: &[u8]) -> Result<Self, DecodeError> {
        let r = Rd::new(NAME, REV, b, SIZE)?;
        Ok(XtMarkMtinfo1 { mark: r.u32(0), mask: r.u32(4), invert: r.u8(8), pad: r.arr(9) })
    }
}

impl From<&MarkMatch> for XtMarkMtinfo1 {
    fn from(m: &MarkMatch) -> Self {
        XtMarkMtinfo1 { mark: m.mark, mask: m.mask, invert: u8::from(m.invert), pad: [0; 7] }
    }
}

impl TryFrom<&XtMarkMtinfo1> for MarkMatch {
    type Error = Unrepresentable;

    /// `--mark VALUE[/MASK]`; refused unless it encodes back to the struct.
    fn try_from(x: &XtMarkMtinfo1) -> Result<Self, Unrepresentable> {
        let m = MarkMatch { mark: x.mark, mask: x.mask, invert: x.invert != 0 };
        exact(x, m, NAME, REV, XtMarkMtinfo1::encode)
    }
}

#[cfg(all(test, target_endian = "little"))]
mod tests {
    use super::*;
    use crate::xt::testutil::hex;

    #[test]
    fn layout() {
        // Same layout as connmark rev 1 (captured there); iptables-nft never sends this one.
        let x = XtMarkMtinfo1 { mark: 0x10, mask: 0xf0, invert: 1, pad: [0; 7] };
        assert_eq!(x.encode(), hex("10000000f00000000100000000000000"));
        assert_eq!(XtMarkMtinfo1::decode(&x.encode()).unwrap(), x);
    }
}

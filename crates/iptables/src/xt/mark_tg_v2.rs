//! `struct xt_mark_tginfo2` (linux/netfilter/xt_mark.h): target `MARK` rev 2, 8 bytes.

use super::{DecodeError, Rd, Unrepresentable, Wr, exact};
use crate::targets::MarkTarget;

/// Extension name.
pub const NAME: &str = "MARK";
/// Revision.
pub const REV: u32 = 2;
/// `sizeof(struct xt_mark_tginfo2)` (already aligned).
pub const SIZE: usize = 8;

/// `struct xt_mark_tginfo2`: `mark = (mark & ~mask) ^ value`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct XtMarkTginfo2 {
    /// Value XORed in.
    pub mark: u32,
    /// Bits cleared first.
    pub mask: u32,
}

impl XtMarkTginfo2 {
    /// The blob.
    pub fn encode(&self) -> Vec<u8> {
        Wr::new(SIZE).u32(0, self.mark).u32(4, self.mask).finish()
    }

    /// Reads a blob.
    pub fn decode(b: &[u8]) -> Result<Self, DecodeError> {
        let r = Rd::new(NAME, REV, b, SIZE)?;
        Ok(XtMarkTginfo2 { mark: r.u32(0), mask: r.u32(4) })
    }
}

impl From<&MarkTarget> for XtMarkTginfo2 {
    fn from(t: &MarkTarget) -> Self {
        XtMarkTginfo2 { mark: t.mark, mask: t.mask }
    }
}

impl TryFrom<&XtMarkTginfo2> for MarkTarget {
    type Error = Unrepresentable;

    /// `--set-xmark VALUE/MASK`.
    fn try_from(x: &XtMarkTginfo2) -> Result<Self, Unrepresentable> {
        exact(x, MarkTarget { mark: x.mark, mask: x.mask }, NAME, REV, XtMarkTginfo2::encode)
    }
}

#[cfg(all(test, target_endian = "little"))]
mod tests {
    use super::*;
    use crate::Target;
    use crate::xt::testutil::{hex, rule};

    #[test]
    fn capture() {
        // Reference Appendix B x25_mangle_raw.
        let r = rule("-t mangle -A PREROUTING -j MARK --set-mark 1");
        let Some(Target::Mark(t)) = &r.target else { panic!() };
        assert_eq!(XtMarkTginfo2::from(t).encode(), hex("01000000ffffffff"));
        assert_eq!(XtMarkTginfo2::decode(&hex("01000000ffffffff")).unwrap(), XtMarkTginfo2::from(t));
    }
}

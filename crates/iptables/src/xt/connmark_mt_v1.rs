//! `struct xt_connmark_mtinfo1` (linux/netfilter/xt_connmark.h): match `connmark` rev 1, 16 bytes.

use super::{DecodeError, Rd, Unrepresentable, Wr, exact, xt_align};
use crate::matches::MarkMatch;

/// Extension name.
pub const NAME: &str = "connmark";
/// Revision.
pub const REV: u32 = 1;
/// `XT_ALIGN(sizeof(struct xt_connmark_mtinfo1))`.
pub const SIZE: usize = xt_align(12);

/// `struct xt_connmark_mtinfo1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct XtConnmarkMtinfo1 {
    /// Value.
    pub mark: u32,
    /// Mask.
    pub mask: u32,
    /// Non-zero: negated.
    pub invert: u8,
    /// Struct and alignment padding, bytes 9..16.
    pub pad: [u8; 7],
}

impl XtConnmarkMtinfo1 {
    /// The blob.
    pub fn encode(&self) -> Vec<u8> {
        Wr::new(SIZE).u32(0, self.mark).u32(4, self.mask).u8(8, self.invert).bytes(9, &self.pad).finish()
    }

    /// Reads a blob.
    pub fn decode(b: &[u8]) -> Result<Self, DecodeError> {
        let r = Rd::new(NAME, REV, b, SIZE)?;
        Ok(XtConnmarkMtinfo1 { mark: r.u32(0), mask: r.u32(4), invert: r.u8(8), pad: r.arr(9) })
    }
}

impl From<&MarkMatch> for XtConnmarkMtinfo1 {
    fn from(m: &MarkMatch) -> Self {
        XtConnmarkMtinfo1 { mark: m.mark, mask: m.mask, invert: u8::from(m.invert), pad: [0; 7] }
    }
}

impl TryFrom<&XtConnmarkMtinfo1> for MarkMatch {
    type Error = Unrepresentable;

    /// `--mark VALUE[/MASK]`; refused unless it encodes back to the struct.
    fn try_from(x: &XtConnmarkMtinfo1) -> Result<Self, Unrepresentable> {
        let m = MarkMatch { mark: x.mark, mask: x.mask, invert: x.invert != 0 };
        exact(x, m, NAME, REV, XtConnmarkMtinfo1::encode)
    }
}

#[cfg(all(test, target_endian = "little"))]
mod tests {
    use super::*;
    use crate::Match;
    use crate::xt::testutil::{hex, rule};

    #[test]
    fn captures() {
        // `iptables-nft -vvv -A FORWARD <rule>` (iptables 1.8.9, Linux 6.18): connmark rev 1.
        for (cmd, blob) in [
            ("-A FORWARD -m connmark --mark 0x10/0xf0 -j ACCEPT", "10000000f00000000000000000000000"),
            ("-A FORWARD -m connmark ! --mark 0x1 -j ACCEPT", "01000000ffffffff0100000000000000"),
        ] {
            let r = rule(cmd);
            let Some(Match::Connmark(m)) = r.matches.first() else { panic!("{cmd}") };
            assert_eq!(XtConnmarkMtinfo1::from(m).encode(), hex(blob), "{cmd}");
            assert_eq!(XtConnmarkMtinfo1::decode(&hex(blob)).unwrap(), XtConnmarkMtinfo1::from(m));
        }
    }
}

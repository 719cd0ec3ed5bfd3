//! `struct xt_length_info` (linux/netfilter/xt_length.h): match `length` rev 0, 8 bytes.

use super::{DecodeError, Rd, Unrepresentable, Wr, exact, xt_align};
use crate::matches::LengthMatch;

/// Extension name.
pub const NAME: &str = "length";
/// Revision.
pub const REV: u32 = 0;
/// `XT_ALIGN(sizeof(struct xt_length_info))`.
pub const SIZE: usize = xt_align(6);

/// `struct xt_length_info`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct XtLengthInfo {
    /// Shortest length (host order).
    pub min: u16,
    /// Longest length.
    pub max: u16,
    /// Non-zero: negated.
    pub invert: u8,
    /// Struct and alignment padding, bytes 5..8.
    pub pad: [u8; 3],
}

impl XtLengthInfo {
    /// The blob.
    pub fn encode(&self) -> Vec<u8> {
        Wr::new(SIZE).u16(0, self.min).u16(2, self.max).u8(4, self.invert).bytes(5, &self.pad).finish()
    }

    /// Reads a blob.
    pub fn decode(b: &[u8]) -> Result<Self, DecodeError> {
        let r = Rd::new(NAME, REV, b, SIZE)?;
        Ok(XtLengthInfo { min: r.u16(0), max: r.u16(2), invert: r.u8(4), pad: r.arr(5) })
    }
}

impl From<&LengthMatch> for XtLengthInfo {
    fn from(m: &LengthMatch) -> Self {
        XtLengthInfo { min: m.min, max: m.max, invert: u8::from(m.invert), pad: [0; 3] }
    }
}

impl TryFrom<&XtLengthInfo> for LengthMatch {
    type Error = Unrepresentable;

    /// The option `length_save` prints; refused unless it encodes back to the struct.
    fn try_from(x: &XtLengthInfo) -> Result<Self, Unrepresentable> {
        let m = LengthMatch { min: x.min, max: x.max, invert: x.invert != 0 };
        exact(x, m, NAME, REV, XtLengthInfo::encode)
    }
}

#[cfg(all(test, target_endian = "little"))]
mod tests {
    use super::*;
    use crate::Match;
    use crate::xt::testutil::{hex, rule};

    #[test]
    fn captures() {
        // Reference Appendix A f06 and x22.
        for (cmd, blob) in [
            ("-A INPUT -p icmp --icmp-type echo-request -m length --length 85: -j DROP", "5500ffff00000000"),
            ("-A INPUT -m length --length 100 -j DROP", "6400640000000000"),
            ("-A INPUT -m length ! --length 20:40 -j DROP", "1400280001000000"),
        ] {
            let r = rule(cmd);
            let Some(Match::Length(m)) = r.matches.last() else { panic!("{cmd}") };
            assert_eq!(XtLengthInfo::from(m).encode(), hex(blob), "{cmd}");
            assert_eq!(XtLengthInfo::decode(&hex(blob)).unwrap(), XtLengthInfo::from(m));
        }
    }
}

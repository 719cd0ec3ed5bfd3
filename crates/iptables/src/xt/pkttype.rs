//! `struct xt_pkttype_info` (linux/netfilter/xt_pkttype.h): match `pkttype` rev 0, 8 bytes.

use super::{DecodeError, Rd, Unrepresentable, Wr, exact};
use crate::matches::PkttypeMatch;

/// Extension name.
pub const NAME: &str = "pkttype";
/// Revision.
pub const REV: u32 = 0;
/// `sizeof(struct xt_pkttype_info)` (already aligned).
pub const SIZE: usize = 8;

/// `struct xt_pkttype_info`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct XtPkttypeInfo {
    /// `PACKET_*` (`int`).
    pub pkttype: i32,
    /// Non-zero: negated (`int`).
    pub invert: i32,
}

impl XtPkttypeInfo {
    /// The blob.
    pub fn encode(&self) -> Vec<u8> {
        Wr::new(SIZE).bytes(0, &self.pkttype.to_ne_bytes()).bytes(4, &self.invert.to_ne_bytes()).finish()
    }

    /// Reads a blob.
    pub fn decode(b: &[u8]) -> Result<Self, DecodeError> {
        let r = Rd::new(NAME, REV, b, SIZE)?;
        Ok(XtPkttypeInfo { pkttype: i32::from_ne_bytes(r.arr(0)), invert: i32::from_ne_bytes(r.arr(4)) })
    }
}

impl From<&PkttypeMatch> for XtPkttypeInfo {
    fn from(m: &PkttypeMatch) -> Self {
        XtPkttypeInfo { pkttype: i32::from(m.pkttype), invert: i32::from(m.invert) }
    }
}

impl TryFrom<&XtPkttypeInfo> for PkttypeMatch {
    type Error = Unrepresentable;

    /// `--pkt-type TYPE`; refused unless it encodes back to the struct.
    fn try_from(x: &XtPkttypeInfo) -> Result<Self, Unrepresentable> {
        let pkttype = u8::try_from(x.pkttype).map_err(|_| Unrepresentable::new(NAME, REV, &x.encode()))?;
        exact(x, PkttypeMatch { pkttype, invert: x.invert != 0 }, NAME, REV, XtPkttypeInfo::encode)
    }
}

#[cfg(all(test, target_endian = "little"))]
mod tests {
    use super::*;
    use crate::Match;
    use crate::xt::testutil::{hex, rule};

    #[test]
    fn captures() {
        // `iptables-nft -vvv -A INPUT <rule>` (iptables 1.8.9, Linux 6.18): pkttype rev 0.
        for (cmd, blob) in [
            ("-A INPUT -m pkttype --pkt-type broadcast", "0100000000000000"),
            ("-A INPUT -m pkttype ! --pkt-type multicast", "0200000001000000"),
        ] {
            let r = rule(cmd);
            let Some(Match::Pkttype(m)) = r.matches.first() else { panic!("{cmd}") };
            assert_eq!(XtPkttypeInfo::from(m).encode(), hex(blob), "{cmd}");
            assert_eq!(XtPkttypeInfo::decode(&hex(blob)).unwrap(), XtPkttypeInfo::from(m));
        }
    }
}

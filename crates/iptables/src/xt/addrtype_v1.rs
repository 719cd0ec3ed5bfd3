//! `struct xt_addrtype_info_v1` (linux/netfilter/xt_addrtype.h): match `addrtype` rev 1,
//! 8 bytes (the revision iptables 1.8.9 picks, checked with `iptables-nft -vvv`).

use super::{DecodeError, Rd, Unrepresentable, Wr, exact};
use crate::matches::{AddrTypes, AddrtypeMatch, LimitIface, Negatable};

/// Extension name.
pub const NAME: &str = "addrtype";
/// Revision.
pub const REV: u32 = 1;
/// `sizeof(struct xt_addrtype_info_v1)` (already aligned).
pub const SIZE: usize = 8;

/// `XT_ADDRTYPE_INVERT_SOURCE`.
pub const XT_ADDRTYPE_INVERT_SOURCE: u32 = 0x1;
/// `XT_ADDRTYPE_INVERT_DEST`.
pub const XT_ADDRTYPE_INVERT_DEST: u32 = 0x2;
/// `XT_ADDRTYPE_LIMIT_IFACE_IN`.
pub const XT_ADDRTYPE_LIMIT_IFACE_IN: u32 = 0x4;
/// `XT_ADDRTYPE_LIMIT_IFACE_OUT`.
pub const XT_ADDRTYPE_LIMIT_IFACE_OUT: u32 = 0x8;

/// `struct xt_addrtype_info_v1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct XtAddrtypeInfoV1 {
    /// Source types (`1 << RTN_*`).
    pub source: u16,
    /// Destination types.
    pub dest: u16,
    /// `XT_ADDRTYPE_*` flags.
    pub flags: u32,
}

impl XtAddrtypeInfoV1 {
    /// The blob.
    pub fn encode(&self) -> Vec<u8> {
        Wr::new(SIZE).u16(0, self.source).u16(2, self.dest).u32(4, self.flags).finish()
    }

    /// Reads a blob.
    pub fn decode(b: &[u8]) -> Result<Self, DecodeError> {
        let r = Rd::new(NAME, REV, b, SIZE)?;
        Ok(XtAddrtypeInfoV1 { source: r.u16(0), dest: r.u16(2), flags: r.u32(4) })
    }
}

impl From<&AddrtypeMatch> for XtAddrtypeInfoV1 {
    fn from(m: &AddrtypeMatch) -> Self {
        let mut x = XtAddrtypeInfoV1::default();
        if let Some(s) = m.src {
            x.source = s.value.0;
            x.flags |= if s.invert { XT_ADDRTYPE_INVERT_SOURCE } else { 0 };
        }
        if let Some(d) = m.dst {
            x.dest = d.value.0;
            x.flags |= if d.invert { XT_ADDRTYPE_INVERT_DEST } else { 0 };
        }
        x.flags |= match m.limit_iface {
            Some(LimitIface::In) => XT_ADDRTYPE_LIMIT_IFACE_IN,
            Some(LimitIface::Out) => XT_ADDRTYPE_LIMIT_IFACE_OUT,
            None => 0,
        };
        x
    }
}

impl TryFrom<&XtAddrtypeInfoV1> for AddrtypeMatch {
    type Error = Unrepresentable;

    /// The options `addrtype_save_v1` prints; refused unless they encode back to the struct.
    fn try_from(x: &XtAddrtypeInfoV1) -> Result<Self, Unrepresentable> {
        let types = |v: u16, inv: u32| {
            (v != 0).then_some(Negatable { value: AddrTypes(v), invert: x.flags & inv != 0 })
        };
        let limit_iface = match x.flags & (XT_ADDRTYPE_LIMIT_IFACE_IN | XT_ADDRTYPE_LIMIT_IFACE_OUT) {
            XT_ADDRTYPE_LIMIT_IFACE_IN => Some(LimitIface::In),
            XT_ADDRTYPE_LIMIT_IFACE_OUT => Some(LimitIface::Out),
            _ => None,
        };
        let m = AddrtypeMatch {
            src: types(x.source, XT_ADDRTYPE_INVERT_SOURCE),
            dst: types(x.dest, XT_ADDRTYPE_INVERT_DEST),
            limit_iface,
        };
        exact(x, m, NAME, REV, XtAddrtypeInfoV1::encode)
    }
}

#[cfg(all(test, target_endian = "little"))]
mod tests {
    use super::*;
    use crate::Match;
    use crate::xt::testutil::{hex, rule};

    #[test]
    fn captures() {
        // `iptables-nft -vvv -A CHAIN <rule>` (iptables 1.8.9, Debian 12, Linux 6.18, unshare -n):
        // the match is addrtype rev 1.
        for (cmd, blob) in [
            ("-A INPUT -m addrtype --src-type LOCAL --limit-iface-in -j ACCEPT", "0400000004000000"),
            ("-A INPUT -m addrtype --src-type LOCAL --dst-type UNICAST,BROADCAST", "04000a0000000000"),
            ("-A OUTPUT -m addrtype ! --dst-type LOCAL --limit-iface-out", "000004000a000000"),
        ] {
            let r = rule(cmd);
            let Some(Match::Addrtype(m)) = r.matches.first() else { panic!("{cmd}") };
            assert_eq!(XtAddrtypeInfoV1::from(m).encode(), hex(blob), "{cmd}");
            assert_eq!(XtAddrtypeInfoV1::decode(&hex(blob)).unwrap(), XtAddrtypeInfoV1::from(m));
        }
    }
}

//! `struct xt_physdev_info` (linux/netfilter/xt_physdev.h): match `physdev` rev 0, 72 bytes.

use super::{DecodeError, Rd, Unrepresentable, Wr, cstr_text, exact, xt_align};
use crate::iface::Interface;
use crate::matches::{Negatable, PhysdevMatch};

/// Extension name.
pub const NAME: &str = "physdev";
/// Revision.
pub const REV: u32 = 0;
/// `XT_ALIGN(sizeof(struct xt_physdev_info))`.
pub const SIZE: usize = xt_align(66);

/// `XT_PHYSDEV_OP_IN`.
pub const XT_PHYSDEV_OP_IN: u8 = 0x01;
/// `XT_PHYSDEV_OP_OUT`.
pub const XT_PHYSDEV_OP_OUT: u8 = 0x02;
/// `XT_PHYSDEV_OP_BRIDGED`.
pub const XT_PHYSDEV_OP_BRIDGED: u8 = 0x04;
/// `XT_PHYSDEV_OP_ISIN`.
pub const XT_PHYSDEV_OP_ISIN: u8 = 0x08;
/// `XT_PHYSDEV_OP_ISOUT`.
pub const XT_PHYSDEV_OP_ISOUT: u8 = 0x10;

/// `struct xt_physdev_info`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct XtPhysdevInfo {
    /// `physindev[IFNAMSIZ]`, `+` kept for wildcards.
    pub physindev: [u8; 16],
    /// Compare mask of the input name.
    pub in_mask: [u8; 16],
    /// `physoutdev[IFNAMSIZ]`.
    pub physoutdev: [u8; 16],
    /// Compare mask of the output name.
    pub out_mask: [u8; 16],
    /// `XT_PHYSDEV_OP_*` negated.
    pub invert: u8,
    /// `XT_PHYSDEV_OP_*` given.
    pub bitmask: u8,
    /// Alignment bytes 66..72.
    pub pad: [u8; 6],
}

impl XtPhysdevInfo {
    /// The input device name.
    pub fn physindev_name(&self) -> String {
        cstr_text(&self.physindev)
    }

    /// The output device name.
    pub fn physoutdev_name(&self) -> String {
        cstr_text(&self.physoutdev)
    }

    /// The blob.
    pub fn encode(&self) -> Vec<u8> {
        Wr::new(SIZE)
            .bytes(0, &self.physindev)
            .bytes(16, &self.in_mask)
            .bytes(32, &self.physoutdev)
            .bytes(48, &self.out_mask)
            .u8(64, self.invert)
            .u8(65, self.bitmask)
            .bytes(66, &self.pad)
            .finish()
    }

    /// Reads a blob.
    pub fn decode(b: &[u8]) -> Result<Self, DecodeError> {
        let r = Rd::new(NAME, REV, b, SIZE)?;
        Ok(XtPhysdevInfo {
            physindev: r.arr(0),
            in_mask: r.arr(16),
            physoutdev: r.arr(32),
            out_mask: r.arr(48),
            invert: r.u8(64),
            bitmask: r.u8(65),
            pad: r.arr(66),
        })
    }
}

/// `xtables_parse_interface`: the name as given and a mask of 0xff over `len + 1` bytes, or
/// `len - 1` bytes for `name+`.
pub(crate) fn iface_and_mask(i: &Interface) -> ([u8; 16], [u8; 16]) {
    let mut name = [0u8; 16];
    let s = i.as_str().as_bytes();
    let n = s.len().min(15);
    name[..n].copy_from_slice(&s[..n]);
    let ones = if i.is_wildcard() { n - 1 } else { n + 1 };
    let mut mask = [0u8; 16];
    mask[..ones.min(16)].fill(0xff);
    (name, mask)
}

impl From<&PhysdevMatch> for XtPhysdevInfo {
    fn from(m: &PhysdevMatch) -> Self {
        let mut x = XtPhysdevInfo::default();
        if let Some(i) = &m.physdev_in {
            (x.physindev, x.in_mask) = iface_and_mask(&i.value);
            x.bitmask |= XT_PHYSDEV_OP_IN;
            x.invert |= if i.invert { XT_PHYSDEV_OP_IN } else { 0 };
        }
        if let Some(o) = &m.physdev_out {
            (x.physoutdev, x.out_mask) = iface_and_mask(&o.value);
            x.bitmask |= XT_PHYSDEV_OP_OUT;
            x.invert |= if o.invert { XT_PHYSDEV_OP_OUT } else { 0 };
        }
        for (flag, bit) in [
            (m.is_in, XT_PHYSDEV_OP_ISIN),
            (m.is_out, XT_PHYSDEV_OP_ISOUT),
            (m.is_bridged, XT_PHYSDEV_OP_BRIDGED),
        ] {
            if let Some(inv) = flag {
                x.bitmask |= bit;
                x.invert |= if inv { bit } else { 0 };
            }
        }
        x
    }
}

impl TryFrom<&XtPhysdevInfo> for PhysdevMatch {
    type Error = Unrepresentable;

    /// The options `physdev_save` prints; refused unless they encode back to the struct.
    fn try_from(x: &XtPhysdevInfo) -> Result<Self, Unrepresentable> {
        let refused = || Unrepresentable::new(NAME, REV, &x.encode());
        let iface = |bit: u8, name: String| -> Result<Option<Negatable<Interface>>, Unrepresentable> {
            if x.bitmask & bit == 0 {
                return Ok(None);
            }
            let value = Interface::parse(&name).map_err(|_| refused())?;
            Ok(Some(Negatable { value, invert: x.invert & bit != 0 }))
        };
        let flag = |bit: u8| (x.bitmask & bit != 0).then_some(x.invert & bit != 0);
        let m = PhysdevMatch {
            physdev_in: iface(XT_PHYSDEV_OP_IN, x.physindev_name())?,
            physdev_out: iface(XT_PHYSDEV_OP_OUT, x.physoutdev_name())?,
            is_in: flag(XT_PHYSDEV_OP_ISIN),
            is_out: flag(XT_PHYSDEV_OP_ISOUT),
            is_bridged: flag(XT_PHYSDEV_OP_BRIDGED),
        };
        exact(x, m, NAME, REV, XtPhysdevInfo::encode)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Match;
    use crate::xt::testutil::{rule, zero_except};

    #[test]
    fn captures() {
        // Reference Appendix B f10, x20; the last from `iptables-nft -vvv -A INPUT -m physdev
        // --physdev-is-in ! --physdev-is-out ! --physdev-is-bridged` (iptables 1.8.9, Linux 6.18).
        for (cmd, blob) in [
            (
                "-A FORWARD -m physdev --physdev-in vif1.0 -j ACCEPT",
                zero_except(72, &[(0, "766966312e30"), (16, "ffffffffffffff"), (65, "01")]),
            ),
            ("-A FORWARD -m physdev --physdev-is-bridged -j ACCEPT", zero_except(72, &[(65, "04")])),
            (
                "-A FORWARD -m physdev --physdev-out vnet+ ! --physdev-in eth1 -j ACCEPT",
                zero_except(
                    72,
                    &[
                        (0, "65746831"),
                        (16, "ffffffffff"),
                        (32, "766e65742b"),
                        (48, "ffffffff"),
                        (64, "0103"),
                    ],
                ),
            ),
            (
                "-A INPUT -m physdev --physdev-is-in ! --physdev-is-out ! --physdev-is-bridged",
                zero_except(72, &[(64, "141c")]),
            ),
        ] {
            let r = rule(cmd);
            let Some(Match::Physdev(m)) = r.matches.first() else { panic!("{cmd}") };
            assert_eq!(XtPhysdevInfo::from(m).encode(), blob, "{cmd}");
            assert_eq!(XtPhysdevInfo::decode(&blob).unwrap(), XtPhysdevInfo::from(m), "{cmd}");
        }
    }
}

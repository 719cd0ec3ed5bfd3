//! `struct xt_connmark_tginfo2` (linux/netfilter/xt_connmark.h): target `CONNMARK` rev 2,
//! 16 bytes (the revision iptables 1.8.9 picks on Linux 6.x, checked with `iptables-nft -vvv`).

use super::{DecodeError, Rd, Unrepresentable, Wr, exact};
use crate::targets::{ConnmarkMode, ConnmarkTarget, ShiftDir};

/// Extension name.
pub const NAME: &str = "CONNMARK";
/// Revision.
pub const REV: u32 = 2;
/// `XT_ALIGN(sizeof(struct xt_connmark_tginfo2))`.
pub const SIZE: usize = 16;

/// `XT_CONNMARK_SET`.
pub const XT_CONNMARK_SET: u8 = 0;
/// `XT_CONNMARK_SAVE`.
pub const XT_CONNMARK_SAVE: u8 = 1;
/// `XT_CONNMARK_RESTORE`.
pub const XT_CONNMARK_RESTORE: u8 = 2;
/// `D_SHIFT_LEFT`.
pub const D_SHIFT_LEFT: u8 = 0;
/// `D_SHIFT_RIGHT`.
pub const D_SHIFT_RIGHT: u8 = 1;

/// `struct xt_connmark_tginfo2`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct XtConnmarkTginfo2 {
    /// Value.
    pub ctmark: u32,
    /// Connection-mark mask.
    pub ctmask: u32,
    /// Packet-mark mask.
    pub nfmask: u32,
    /// `D_SHIFT_*`.
    pub shift_dir: u8,
    /// Shift bits.
    pub shift_bits: u8,
    /// `XT_CONNMARK_*`.
    pub mode: u8,
    /// Struct padding, byte 15.
    pub pad: [u8; 1],
}

impl XtConnmarkTginfo2 {
    /// The blob.
    pub fn encode(&self) -> Vec<u8> {
        Wr::new(SIZE)
            .u32(0, self.ctmark)
            .u32(4, self.ctmask)
            .u32(8, self.nfmask)
            .u8(12, self.shift_dir)
            .u8(13, self.shift_bits)
            .u8(14, self.mode)
            .bytes(15, &self.pad)
            .finish()
    }

    /// Reads a blob.
    pub fn decode(b: &[u8]) -> Result<Self, DecodeError> {
        let r = Rd::new(NAME, REV, b, SIZE)?;
        Ok(XtConnmarkTginfo2 {
            ctmark: r.u32(0),
            ctmask: r.u32(4),
            nfmask: r.u32(8),
            shift_dir: r.u8(12),
            shift_bits: r.u8(13),
            mode: r.u8(14),
            pad: r.arr(15),
        })
    }
}

impl From<&ConnmarkTarget> for XtConnmarkTginfo2 {
    fn from(t: &ConnmarkTarget) -> Self {
        XtConnmarkTginfo2 {
            ctmark: t.ctmark,
            ctmask: t.ctmask,
            nfmask: t.nfmask,
            shift_dir: match t.shift_dir {
                ShiftDir::Left => D_SHIFT_LEFT,
                ShiftDir::Right => D_SHIFT_RIGHT,
            },
            shift_bits: t.shift_bits,
            mode: match t.mode {
                ConnmarkMode::Set => XT_CONNMARK_SET,
                ConnmarkMode::Save => XT_CONNMARK_SAVE,
                ConnmarkMode::Restore => XT_CONNMARK_RESTORE,
            },
            pad: [0],
        }
    }
}

impl TryFrom<&XtConnmarkTginfo2> for ConnmarkTarget {
    type Error = Unrepresentable;

    /// The options `connmark_tg_save_v2` prints; refused unless they encode back to the struct.
    fn try_from(x: &XtConnmarkTginfo2) -> Result<Self, Unrepresentable> {
        let refused = || Unrepresentable::new(NAME, REV, &x.encode());
        let mode = match x.mode {
            XT_CONNMARK_SET => ConnmarkMode::Set,
            XT_CONNMARK_SAVE => ConnmarkMode::Save,
            XT_CONNMARK_RESTORE => ConnmarkMode::Restore,
            _ => return Err(refused()),
        };
        let shift_dir = match x.shift_dir {
            D_SHIFT_LEFT => ShiftDir::Left,
            D_SHIFT_RIGHT => ShiftDir::Right,
            _ => return Err(refused()),
        };
        let t = ConnmarkTarget {
            mode,
            ctmark: x.ctmark,
            ctmask: x.ctmask,
            nfmask: x.nfmask,
            shift_dir,
            shift_bits: x.shift_bits,
        };
        exact(x, t, NAME, REV, XtConnmarkTginfo2::encode)
    }
}

#[cfg(all(test, target_endian = "little"))]
mod tests {
    use super::*;
    use crate::Target;
    use crate::xt::testutil::{hex, rule};

    #[test]
    fn captures() {
        // `iptables-nft -vvv -t mangle -A PREROUTING <rule>` (iptables 1.8.9, Debian 12,
        // Linux 6.18, unshare -n): CONNMARK rev 2.
        for (cmd, blob) in [
            ("-t mangle -A PREROUTING -j CONNMARK --set-xmark 0x1/0xff", "01000000ff000000ffffffff00000000"),
            ("-t mangle -A PREROUTING -j CONNMARK --save-mark", "00000000ffffffffffffffff00000100"),
            (
                "-t mangle -A PREROUTING -j CONNMARK --restore-mark --nfmask 0xff --ctmask 0xf0",
                "00000000f0000000ff00000000000200",
            ),
            (
                "-t mangle -A PREROUTING -j CONNMARK --set-mark 0x4/0x4 --left-shift-mark 3",
                "0400000004000000ffffffff00030000",
            ),
        ] {
            let r = rule(cmd);
            let Some(Target::Connmark(t)) = &r.target else { panic!("{cmd}") };
            assert_eq!(XtConnmarkTginfo2::from(t).encode(), hex(blob), "{cmd}");
            assert_eq!(XtConnmarkTginfo2::decode(&hex(blob)).unwrap(), XtConnmarkTginfo2::from(t));
        }
    }
}

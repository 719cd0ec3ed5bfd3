//! `-j CONNMARK` (libxt_CONNMARK, revision 2: [`crate::xt::connmark_tg_v2`]).

use std::fmt;

use crate::error::ErrorKind;
use crate::ext::{Args, Ctx, OptSpec, TargetParser, bad};
use crate::num;
use crate::targets::mark::mark_op;

/// What `-j CONNMARK` does (`XT_CONNMARK_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConnmarkMode {
    /// `--set-xmark` and friends: `ctmark = (ctmark & ~ctmask) ^ ctmark_value` (`XT_CONNMARK_SET`).
    Set,
    /// `--save-mark`: copy the packet mark to the connection (`XT_CONNMARK_SAVE`).
    Save,
    /// `--restore-mark`: copy the connection mark to the packet (`XT_CONNMARK_RESTORE`).
    Restore,
}

/// Shift direction of `--left-shift-mark`/`--right-shift-mark`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ShiftDir {
    /// `D_SHIFT_LEFT`.
    Left,
    /// `D_SHIFT_RIGHT`.
    Right,
}

/// `-j CONNMARK`: the fields of `struct xt_connmark_tginfo2` as the options left them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ConnmarkTarget {
    /// Operation.
    pub mode: ConnmarkMode,
    /// Value XORed in (`Set`).
    pub ctmark: u32,
    /// Connection-mark mask.
    pub ctmask: u32,
    /// Packet-mark mask.
    pub nfmask: u32,
    /// Shift direction.
    pub shift_dir: ShiftDir,
    /// Shift bits (0-32).
    pub shift_bits: u8,
}

impl Default for ConnmarkTarget {
    /// `connmark_tg_init_v2`: masks all ones, no shift.
    fn default() -> Self {
        ConnmarkTarget {
            mode: ConnmarkMode::Set,
            ctmark: 0,
            ctmask: u32::MAX,
            nfmask: u32::MAX,
            shift_dir: ShiftDir::Left,
            shift_bits: 0,
        }
    }
}

impl ConnmarkTarget {
    /// Writes the options as `connmark_tg_save_v2` prints them.
    pub(crate) fn fmt_opts(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.mode {
            ConnmarkMode::Set => write!(f, " --set-xmark 0x{:x}/0x{:x}", self.ctmark, self.ctmask)?,
            ConnmarkMode::Save => {
                write!(f, " --save-mark --nfmask 0x{:x} --ctmask 0x{:x}", self.nfmask, self.ctmask)?
            }
            ConnmarkMode::Restore => {
                write!(f, " --restore-mark --nfmask 0x{:x} --ctmask 0x{:x}", self.nfmask, self.ctmask)?
            }
        }
        if self.shift_bits != 0 {
            let op = match self.shift_dir {
                ShiftDir::Left => "left-shift-mark",
                ShiftDir::Right => "right-shift-mark",
            };
            write!(f, " --{op} {}", self.shift_bits)?;
        }
        Ok(())
    }
}

const O_SAVE: u8 = 5;
const O_RESTORE: u8 = 6;
const O_CTMASK: u8 = 7;
const O_NFMASK: u8 = 8;
const O_MASK: u8 = 9;
const O_LEFT: u8 = 10;
const O_RIGHT: u8 = 11;
/// The operations 0-6 exclude each other.
const OP_ANY: u32 = 0b111_1111;

/// `connmark_tg_opts_v2` (libxt_CONNMARK.c); ids 0-4 as in [`crate::targets::mark`].
const OPTIONS: &[OptSpec] = &[
    OptSpec::value("set-xmark", 0).excl(OP_ANY),
    OptSpec::value("set-mark", 1).excl(OP_ANY),
    OptSpec::value("and-mark", 2).excl(OP_ANY),
    OptSpec::value("or-mark", 3).excl(OP_ANY),
    OptSpec::value("xor-mark", 4).excl(OP_ANY),
    OptSpec::flag("save-mark", O_SAVE).excl(OP_ANY),
    OptSpec::flag("restore-mark", O_RESTORE).excl(OP_ANY),
    OptSpec::value("left-shift-mark", O_LEFT),
    OptSpec::value("right-shift-mark", O_RIGHT),
    OptSpec::value("ctmask", O_CTMASK).excl(1 << O_MASK),
    OptSpec::value("nfmask", O_NFMASK).excl(1 << O_MASK),
    OptSpec::value("mask", O_MASK).excl((1 << O_CTMASK) | (1 << O_NFMASK)),
];

/// Parser state of `-j CONNMARK`.
#[derive(Default)]
pub(crate) struct Parser(ConnmarkTarget);

impl Parser {
    pub(crate) fn boxed() -> Box<dyn TargetParser> {
        Box::<Parser>::default()
    }
}

impl TargetParser for Parser {
    fn options(&self) -> &'static [OptSpec] {
        OPTIONS
    }

    fn parse(
        &mut self,
        _ctx: &Ctx<'_>,
        spec: &OptSpec,
        args: Args<'_>,
        _invert: bool,
    ) -> Result<(), ErrorKind> {
        let v = args.value();
        let t = &mut self.0;
        let word = || {
            num::strtoul_full(v, 0, u64::from(u32::MAX))
                .map(|n| n as u32)
                .ok_or_else(|| bad(spec, v, "bad integer value, or out of range"))
        };
        match spec.id {
            0..=4 => {
                let (mark, mask) = mark_op(spec, v, 0)?;
                t.mode = ConnmarkMode::Set;
                t.ctmark = mark;
                t.ctmask = mask;
            }
            O_SAVE => t.mode = ConnmarkMode::Save,
            O_RESTORE => t.mode = ConnmarkMode::Restore,
            O_CTMASK => t.ctmask = word()?,
            O_NFMASK => t.nfmask = word()?,
            O_MASK => {
                let m = word()?;
                t.ctmask = m;
                t.nfmask = m;
            }
            id => {
                let bits = num::strtoul_full(v, 0, 32).ok_or_else(|| bad(spec, v, "out of range (0-32)"))?;
                t.shift_dir = if id == O_LEFT { ShiftDir::Left } else { ShiftDir::Right };
                t.shift_bits = bits as u8;
            }
        }
        Ok(())
    }

    fn finish(self: Box<Self>, _ctx: &Ctx<'_>, seen: u32) -> Result<crate::Target, ErrorKind> {
        if seen & OP_ANY == 0 {
            return Err(ErrorKind::NoOption { extension: "CONNMARK" });
        }
        Ok(crate::Target::Connmark(self.0))
    }
}

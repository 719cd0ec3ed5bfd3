//! `-j MARK` (libxt_MARK, revision 2: [`crate::xt::mark_tg_v2`]).

use std::fmt;

use crate::error::ErrorKind;
use crate::ext::{Args, Ctx, OptSpec, TargetParser, bad};
use crate::matches::mark::parse_mark_mask;
use crate::num;

/// `-j MARK`: the new mark is `(mark & ~mask) ^ value`, the form all `--*-mark` options reduce
/// to and the only one iptables-save prints (`--set-xmark VALUE/MASK`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MarkTarget {
    /// Bits to XOR in.
    pub mark: u32,
    /// Bits to clear first.
    pub mask: u32,
}

impl MarkTarget {
    /// Writes the option as `mark_tg_save` prints it.
    pub(crate) fn fmt_opts(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, " --set-xmark 0x{:x}/0x{:x}", self.mark, self.mask)
    }
}

const O_SET_XMARK: u8 = 0;
const O_SET_MARK: u8 = 1;
const O_AND_MARK: u8 = 2;
const O_OR_MARK: u8 = 3;
const O_XOR_MARK: u8 = 4;
const ANY: u32 = 0b11111;

/// `mark_tg_opts` (libxt_MARK.c): one operation.
const OPTIONS: &[OptSpec] = &[
    OptSpec::value("set-xmark", O_SET_XMARK).excl(ANY),
    OptSpec::value("set-mark", O_SET_MARK).excl(ANY),
    OptSpec::value("and-mark", O_AND_MARK).excl(ANY),
    OptSpec::value("or-mark", O_OR_MARK).excl(ANY),
    OptSpec::value("xor-mark", O_XOR_MARK).excl(ANY),
];

/// The `(mark, mask)` an operation option sets, as `mark_tg_parse`/`connmark_tg_parse_v2` do.
pub(crate) fn mark_op(spec: &OptSpec, v: &str, id_base: u8) -> Result<(u32, u32), ErrorKind> {
    let word = || {
        num::strtoul_full(v, 0, u64::from(u32::MAX))
            .map(|n| n as u32)
            .ok_or_else(|| bad(spec, v, "bad integer value, or out of range"))
    };
    let mm = || parse_mark_mask(v).map_err(|r| bad(spec, v, r));
    Ok(match spec.id - id_base {
        O_SET_XMARK => mm()?,
        O_SET_MARK => {
            let (m, k) = mm()?;
            (m, m | k)
        }
        O_AND_MARK => (0, !word()?),
        O_OR_MARK => {
            let x = word()?;
            (x, x)
        }
        _ => (word()?, 0),
    })
}

/// Parser state of `-j MARK`.
#[derive(Default)]
pub(crate) struct Parser(Option<MarkTarget>);

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
        let (mark, mask) = mark_op(spec, args.value(), 0)?;
        self.0 = Some(MarkTarget { mark, mask });
        Ok(())
    }

    fn finish(self: Box<Self>, _ctx: &Ctx<'_>, _seen: u32) -> Result<crate::Target, ErrorKind> {
        self.0.map(crate::Target::Mark).ok_or(ErrorKind::NoOption { extension: "MARK" })
    }
}

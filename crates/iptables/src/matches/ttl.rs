//! `-m ttl` (libipt_ttl): IP time to live. The xt `ttl` match, rev 0 ([`crate::xt::ttl`]).

use std::fmt;

use crate::error::ErrorKind;
use crate::ext::{Args, Ctx, MatchParser, OptSpec, bad};
use crate::num;

/// How the TTL is compared (`IPT_TTL_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TtlMode {
    /// `--ttl-eq` (`IPT_TTL_EQ`, 0).
    Eq,
    /// `! --ttl-eq` (`IPT_TTL_NE`, 1).
    Ne,
    /// `--ttl-lt` (`IPT_TTL_LT`, 2).
    Lt,
    /// `--ttl-gt` (`IPT_TTL_GT`, 3).
    Gt,
}

/// `-m ttl`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TtlMatch {
    /// Comparison.
    pub mode: TtlMode,
    /// TTL value.
    pub ttl: u8,
}

impl TtlMatch {
    /// Writes the option as `ttl_save` prints it.
    pub(crate) fn fmt_opts(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let op = match self.mode {
            TtlMode::Eq => " --ttl-eq",
            TtlMode::Ne => " ! --ttl-eq",
            TtlMode::Lt => " --ttl-lt",
            TtlMode::Gt => " --ttl-gt",
        };
        write!(f, "{op} {}", self.ttl)
    }
}

const O_EQ: u8 = 0;
const O_LT: u8 = 1;
const O_GT: u8 = 2;
const ANY: u32 = 0b111;

/// `ttl_opts` (libipt_ttl.c): only `--ttl-eq` may be negated; `--ttl` is an alias without `!`.
const OPTIONS: &[OptSpec] = &[
    OptSpec::value("ttl-lt", O_LT).excl(ANY),
    OptSpec::value("ttl-gt", O_GT).excl(ANY),
    OptSpec::value("ttl-eq", O_EQ).inv().excl(ANY),
    OptSpec::value("ttl", O_EQ).excl(ANY),
];

/// Parser state of one `-m ttl`.
#[derive(Default)]
pub(crate) struct Parser(Option<TtlMatch>);

impl Parser {
    pub(crate) fn boxed() -> Box<dyn MatchParser> {
        Box::<Parser>::default()
    }
}

impl MatchParser for Parser {
    fn options(&self) -> &'static [OptSpec] {
        OPTIONS
    }

    fn parse(
        &mut self,
        _ctx: &Ctx<'_>,
        spec: &OptSpec,
        args: Args<'_>,
        invert: bool,
    ) -> Result<(), ErrorKind> {
        let v = args.value();
        let ttl = num::strtoul_full(v, 0, 255).ok_or_else(|| bad(spec, v, "out of range (0-255)"))? as u8;
        let mode = match spec.id {
            O_EQ if invert => TtlMode::Ne,
            O_EQ => TtlMode::Eq,
            O_LT => TtlMode::Lt,
            _ => TtlMode::Gt,
        };
        self.0 = Some(TtlMatch { mode, ttl });
        Ok(())
    }

    fn finish(self: Box<Self>, _ctx: &Ctx<'_>, _seen: u32) -> Result<crate::Match, ErrorKind> {
        self.0.map(crate::Match::Ttl).ok_or(ErrorKind::MissingOption {
            extension: "ttl".into(),
            option: "--ttl-eq, --ttl-lt or --ttl-gt".into(),
        })
    }
}

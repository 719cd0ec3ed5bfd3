//! `-m length` (libxt_length): IP packet length. The xt `length` match, rev 0
//! ([`crate::xt::length`]).

use std::fmt;

use crate::error::ErrorKind;
use crate::ext::{Args, Ctx, MatchParser, OptSpec, bad};
use crate::num;

/// `-m length --length MIN[:MAX]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LengthMatch {
    /// Shortest length.
    pub min: u16,
    /// Longest length.
    pub max: u16,
    /// `! --length`.
    pub invert: bool,
}

impl LengthMatch {
    /// Writes the option as `length_save` prints it.
    pub(crate) fn fmt_opts(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.invert {
            f.write_str(" !")?;
        }
        if self.min == self.max {
            write!(f, " --length {}", self.min)
        } else {
            write!(f, " --length {}:{}", self.min, self.max)
        }
    }
}

/// `XTTYPE_UINT16RC`: `A`, `A:B`, `:B`, `A:`; C integers 0-65535.
fn range(s: &str) -> Result<(u16, u16), &'static str> {
    let parts: Vec<&str> = s.split(':').collect();
    if parts.len() > 2 {
        return Err("too many components (max 2)");
    }
    let mut v = [0u16, u16::MAX];
    for (i, p) in parts.iter().enumerate() {
        if !p.is_empty() {
            v[i] = num::strtoul_full(p, 0, u64::from(u16::MAX))
                .ok_or("bad value, or out of range (0-65535)")? as u16;
        }
    }
    if parts.len() == 1 {
        v[1] = v[0];
    }
    Ok((v[0], v[1]))
}

const OPTIONS: &[OptSpec] = &[OptSpec::value("length", 0).inv().mand()];

/// Parser state of one `-m length`.
#[derive(Default)]
pub(crate) struct Parser(Option<LengthMatch>);

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
        let (min, max) = range(v).map_err(|r| bad(spec, v, r))?;
        self.0 = Some(LengthMatch { min, max, invert });
        Ok(())
    }

    fn finish(self: Box<Self>, _ctx: &Ctx<'_>, _seen: u32) -> Result<crate::Match, ErrorKind> {
        self.0
            .map(crate::Match::Length)
            .ok_or(ErrorKind::MissingOption { extension: "length".into(), option: "--length".into() })
    }
}

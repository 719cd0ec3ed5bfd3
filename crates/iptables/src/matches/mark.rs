//! `-m mark` (libxt_mark, written natively by iptables-nft 1.8.9 as `meta mark`) and
//! `-m connmark` (libxt_connmark rev 1, [`crate::xt::connmark_mt_v1`]).

use std::fmt;

use crate::error::ErrorKind;
use crate::ext::{Args, Ctx, MatchParser, OptSpec, bad};
use crate::num;

/// `VALUE[/MASK]` of a 32-bit mark: the packet matches when `mark & mask == value`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MarkMatch {
    /// Value.
    pub mark: u32,
    /// Mask (`0xffffffff` when not given).
    pub mask: u32,
    /// `! --mark`.
    pub invert: bool,
}

impl MarkMatch {
    /// Writes ` [!] --mark 0xV[/0xM]` as `mark_mt_save`/`connmark_mt_save` print it.
    pub(crate) fn fmt_opts(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.invert {
            f.write_str(" !")?;
        }
        f.write_str(" --mark")?;
        fmt_mark_mask(f, self.mark, self.mask)
    }
}

/// `xtables_print_val_mask`: ` 0xV` or ` 0xV/0xM`.
pub(crate) fn fmt_mark_mask(f: &mut fmt::Formatter<'_>, mark: u32, mask: u32) -> fmt::Result {
    if mask == u32::MAX { write!(f, " 0x{mark:x}") } else { write!(f, " 0x{mark:x}/0x{mask:x}") }
}

/// `XTTYPE_MARKMASK32` (`xtables_parse_val_mask`): C integers `VALUE[/MASK]`.
pub(crate) fn parse_mark_mask(s: &str) -> Result<(u32, u32), &'static str> {
    let max = u64::from(u32::MAX);
    let (v, rest) = num::strtoul_prefix(s, 0, max).ok_or("bad integer value, or out of range")?;
    if rest.is_empty() {
        return Ok((v as u32, u32::MAX));
    }
    let m = rest.strip_prefix('/').ok_or("trailing garbage after value")?;
    let m = num::strtoul_full(m, 0, max).ok_or("bad integer value, or out of range")?;
    Ok((v as u32, m as u32))
}

const OPTIONS: &[OptSpec] = &[OptSpec::value("mark", 0).inv().mand()];

/// Parser state of one `-m mark` or `-m connmark`.
pub(crate) struct Parser {
    connmark: bool,
    value: Option<MarkMatch>,
}

impl Parser {
    pub(crate) fn boxed_mark() -> Box<dyn MatchParser> {
        Box::new(Parser { connmark: false, value: None })
    }

    pub(crate) fn boxed_connmark() -> Box<dyn MatchParser> {
        Box::new(Parser { connmark: true, value: None })
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
        let (mark, mask) = parse_mark_mask(v).map_err(|r| bad(spec, v, r))?;
        self.value = Some(MarkMatch { mark, mask, invert });
        Ok(())
    }

    fn finish(self: Box<Self>, _ctx: &Ctx<'_>, _seen: u32) -> Result<crate::Match, ErrorKind> {
        let extension = if self.connmark { "connmark" } else { "mark" };
        let m = self
            .value
            .ok_or(ErrorKind::MissingOption { extension: extension.into(), option: "--mark".into() })?;
        Ok(if self.connmark { crate::Match::Connmark(m) } else { crate::Match::Mark(m) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mark_masks() {
        assert_eq!(parse_mark_mask("0x10/0xff"), Ok((0x10, 0xff)));
        assert_eq!(parse_mark_mask("4294967295"), Ok((u32::MAX, u32::MAX)));
        assert!(parse_mark_mask("4294967296").is_err());
        assert!(parse_mark_mask("-1").is_err());
        assert!(parse_mark_mask("1x").is_err());
    }
}

//! `-m comment` (libxt_comment). The xt `comment` match, rev 0 ([`crate::xt::comment`]).

use std::fmt;

use crate::error::ErrorKind;
use crate::ext::{Args, Ctx, MatchParser, OptSpec, bad, write_save_string};

/// `XT_MAX_COMMENT_LEN` - 1: longest comment.
pub const MAX_COMMENT_LEN: usize = 255;

/// `-m comment --comment TEXT`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CommentMatch {
    /// The comment, at most 255 bytes, no NUL.
    pub comment: String,
}

impl CommentMatch {
    /// Writes the option as `comment_save` prints it (quoted when needed).
    pub(crate) fn fmt_opts(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(" --comment")?;
        write_save_string(f, &self.comment)
    }
}

const OPTIONS: &[OptSpec] = &[OptSpec::value("comment", 0).mand()];

/// Checks a string option that iptables copies into a fixed-size C buffer. iptables truncates
/// silently; natkeeper refuses instead so that a rule never differs from what was written.
pub(crate) fn bounded(
    spec: &OptSpec,
    v: &str,
    max: usize,
    too_long: &'static str,
) -> Result<String, ErrorKind> {
    if v.len() > max {
        return Err(bad(spec, v, too_long));
    }
    if v.contains('\0') {
        return Err(bad(spec, v, "NUL byte not allowed"));
    }
    Ok(v.to_owned())
}

/// Parser state of one `-m comment`.
#[derive(Default)]
pub(crate) struct Parser(Option<CommentMatch>);

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
        _invert: bool,
    ) -> Result<(), ErrorKind> {
        let comment = bounded(
            spec,
            args.value(),
            MAX_COMMENT_LEN,
            "longer than 255 bytes (iptables would truncate it)",
        )?;
        self.0 = Some(CommentMatch { comment });
        Ok(())
    }

    fn finish(self: Box<Self>, _ctx: &Ctx<'_>, _seen: u32) -> Result<crate::Match, ErrorKind> {
        self.0
            .map(crate::Match::Comment)
            .ok_or(ErrorKind::MissingOption { extension: "comment".into(), option: "--comment".into() })
    }
}

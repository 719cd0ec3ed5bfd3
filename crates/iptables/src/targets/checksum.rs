//! `-j CHECKSUM` (libxt_CHECKSUM, revision 0: [`crate::xt::checksum`]).

use crate::error::ErrorKind;
use crate::ext::{Args, Ctx, OptSpec, TargetParser};
use crate::table::Table;
use crate::targets::check_place;

const OPTIONS: &[OptSpec] = &[OptSpec::flag("checksum-fill", 0).mand()];

/// Parser state of `-j CHECKSUM`; `--checksum-fill` is its only (mandatory) option.
#[derive(Default)]
pub(crate) struct Parser;

impl Parser {
    pub(crate) fn boxed() -> Box<dyn TargetParser> {
        Box::new(Parser)
    }
}

impl TargetParser for Parser {
    fn options(&self) -> &'static [OptSpec] {
        OPTIONS
    }

    fn parse(
        &mut self,
        _ctx: &Ctx<'_>,
        _spec: &OptSpec,
        _args: Args<'_>,
        _invert: bool,
    ) -> Result<(), ErrorKind> {
        Ok(())
    }

    fn finish(self: Box<Self>, ctx: &Ctx<'_>, _seen: u32) -> Result<crate::Target, ErrorKind> {
        check_place(ctx, "CHECKSUM", Table::Mangle, &[])?;
        Ok(crate::Target::ChecksumFill)
    }
}

//! `-j DNAT` (libxt_NAT, revision 2: [`crate::xt::nat_range2`]).

use std::fmt;

use crate::error::ErrorKind;
use crate::ext::{Args, Ctx, OptSpec, TargetParser, bad};
use crate::table::{Hook, Table};
use crate::targets::{NatRange, check_place};

/// `-j DNAT --to-destination RANGE [--random] [--persistent]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DnatTarget {
    /// Where to.
    pub to: NatRange,
    /// `--random` (`NF_NAT_RANGE_PROTO_RANDOM`).
    pub random: bool,
    /// `--persistent` (`NF_NAT_RANGE_PERSISTENT`).
    pub persistent: bool,
}

impl DnatTarget {
    /// Writes the options as `DNATv2_save` prints them.
    pub(crate) fn fmt_opts(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.to.is_empty() {
            f.write_str(" --to-destination ")?;
            self.to.fmt_range(f, false)?;
        }
        if self.random {
            f.write_str(" --random")?;
        }
        if self.persistent {
            f.write_str(" --persistent")?;
        }
        Ok(())
    }
}

const O_TO: u8 = 0;
const O_RANDOM: u8 = 1;
const O_PERSISTENT: u8 = 2;
const OPTIONS: &[OptSpec] = &[
    OptSpec::value("to-destination", O_TO).mand(),
    OptSpec::flag("random", O_RANDOM),
    OptSpec::flag("persistent", O_PERSISTENT),
];

/// Parser state of `-j DNAT`.
#[derive(Default)]
pub(crate) struct Parser {
    to: NatRange,
    random: bool,
    persistent: bool,
}

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
        ctx: &Ctx<'_>,
        spec: &OptSpec,
        args: Args<'_>,
        _invert: bool,
    ) -> Result<(), ErrorKind> {
        match spec.id {
            O_TO => {
                let v = args.value();
                self.to =
                    NatRange::parse_to(v, NatRange::ports_allowed(ctx), true).map_err(|r| bad(spec, v, r))?;
            }
            O_RANDOM => self.random = true,
            _ => self.persistent = true,
        }
        Ok(())
    }

    fn finish(self: Box<Self>, ctx: &Ctx<'_>, _seen: u32) -> Result<crate::Target, ErrorKind> {
        check_place(ctx, "DNAT", Table::Nat, &[Hook::Prerouting, Hook::Output])?;
        Ok(crate::Target::Dnat(DnatTarget { to: self.to, random: self.random, persistent: self.persistent }))
    }
}

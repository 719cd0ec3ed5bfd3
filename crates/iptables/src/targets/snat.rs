//! `-j SNAT` (libxt_NAT, revision 0: [`crate::xt::nat_ipv4_multi_range_compat`]).

use std::fmt;

use crate::error::ErrorKind;
use crate::ext::{Args, Ctx, OptSpec, TargetParser, bad};
use crate::table::{Hook, Table};
use crate::targets::{NatRange, check_place};

/// `-j SNAT --to-source RANGE [--random] [--random-fully] [--persistent]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SnatTarget {
    /// Where to (no base port: revision 0 has no field for it).
    pub to: NatRange,
    /// `--random` (`NF_NAT_RANGE_PROTO_RANDOM`).
    pub random: bool,
    /// `--random-fully` (`NF_NAT_RANGE_PROTO_RANDOM_FULLY`).
    pub random_fully: bool,
    /// `--persistent` (`NF_NAT_RANGE_PERSISTENT`).
    pub persistent: bool,
}

impl SnatTarget {
    /// Writes the options as `SNAT_save` prints them.
    pub(crate) fn fmt_opts(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.to.is_empty() {
            f.write_str(" --to-source ")?;
            self.to.fmt_range(f, false)?;
        }
        if self.random {
            f.write_str(" --random")?;
        }
        if self.random_fully {
            f.write_str(" --random-fully")?;
        }
        if self.persistent {
            f.write_str(" --persistent")?;
        }
        Ok(())
    }
}

const O_TO: u8 = 0;
const O_RANDOM: u8 = 1;
const O_RANDOM_FULLY: u8 = 2;
const O_PERSISTENT: u8 = 3;
const OPTIONS: &[OptSpec] = &[
    OptSpec::value("to-source", O_TO).mand(),
    OptSpec::flag("random", O_RANDOM),
    OptSpec::flag("random-fully", O_RANDOM_FULLY),
    OptSpec::flag("persistent", O_PERSISTENT),
];

/// Parser state of `-j SNAT`.
#[derive(Default)]
pub(crate) struct Parser(Option<NatRange>, [bool; 3]);

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
                self.0 = Some(
                    NatRange::parse_to(v, NatRange::ports_allowed(ctx), false)
                        .map_err(|r| bad(spec, v, r))?,
                );
            }
            O_RANDOM => self.1[0] = true,
            O_RANDOM_FULLY => self.1[1] = true,
            _ => self.1[2] = true,
        }
        Ok(())
    }

    fn finish(self: Box<Self>, ctx: &Ctx<'_>, _seen: u32) -> Result<crate::Target, ErrorKind> {
        check_place(ctx, "SNAT", Table::Nat, &[Hook::Postrouting, Hook::Input])?;
        Ok(crate::Target::Snat(SnatTarget {
            to: self.0.unwrap_or_default(),
            random: self.1[0],
            random_fully: self.1[1],
            persistent: self.1[2],
        }))
    }
}

//! `-j MASQUERADE` (libxt_NAT, revision 0: [`crate::xt::nat_ipv4_multi_range_compat`]).

use std::fmt;

use crate::error::ErrorKind;
use crate::ext::{Args, Ctx, OptSpec, TargetParser, bad};
use crate::port::PortRange;
use crate::table::{Hook, Table};
use crate::targets::{NatRange, check_place};

/// `-j MASQUERADE [--to-ports PORT[-PORT]] [--random] [--random-fully]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct MasqueradeTarget {
    /// Source port range.
    pub ports: Option<PortRange>,
    /// `--random`.
    pub random: bool,
    /// `--random-fully`.
    pub random_fully: bool,
}

impl MasqueradeTarget {
    /// Writes the options as `MASQUERADE_save` prints them.
    pub(crate) fn fmt_opts(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt_to_ports(f, self.ports)?;
        if self.random {
            f.write_str(" --random")?;
        }
        if self.random_fully {
            f.write_str(" --random-fully")?;
        }
        Ok(())
    }
}

/// ` --to-ports P[-Q]` (`sprint_range` with `skip_colon`).
pub(crate) fn fmt_to_ports(f: &mut fmt::Formatter<'_>, ports: Option<PortRange>) -> fmt::Result {
    if ports.is_some() {
        f.write_str(" --to-ports ")?;
        NatRange { ports, ..NatRange::default() }.fmt_range(f, true)?;
    }
    Ok(())
}

const O_PORTS: u8 = 0;
const O_RANDOM: u8 = 1;
const O_RANDOM_FULLY: u8 = 2;
const OPTIONS: &[OptSpec] = &[
    OptSpec::value("to-ports", O_PORTS),
    OptSpec::flag("random", O_RANDOM),
    OptSpec::flag("random-fully", O_RANDOM_FULLY),
];

/// Parser state of `-j MASQUERADE`.
#[derive(Default)]
pub(crate) struct Parser(MasqueradeTarget);

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
            O_PORTS => {
                let v = args.value();
                self.0.ports = Some(
                    NatRange::parse_to_ports(v, NatRange::ports_allowed(ctx)).map_err(|r| bad(spec, v, r))?,
                );
            }
            O_RANDOM => self.0.random = true,
            _ => self.0.random_fully = true,
        }
        Ok(())
    }

    fn finish(self: Box<Self>, ctx: &Ctx<'_>, _seen: u32) -> Result<crate::Target, ErrorKind> {
        check_place(ctx, "MASQUERADE", Table::Nat, &[Hook::Postrouting])?;
        Ok(crate::Target::Masquerade(self.0))
    }
}

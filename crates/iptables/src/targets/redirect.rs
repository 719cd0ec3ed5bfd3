//! `-j REDIRECT` (libxt_NAT, revision 0: [`crate::xt::nat_ipv4_multi_range_compat`]).

use std::fmt;

use crate::error::ErrorKind;
use crate::ext::{Args, Ctx, OptSpec, TargetParser, bad};
use crate::port::PortRange;
use crate::table::{Hook, Table};
use crate::targets::masquerade::fmt_to_ports;
use crate::targets::{NatRange, check_place};

/// `-j REDIRECT [--to-ports PORT[-PORT]] [--random]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct RedirectTarget {
    /// Destination port range on the local host.
    pub ports: Option<PortRange>,
    /// `--random`.
    pub random: bool,
}

impl RedirectTarget {
    /// Writes the options as `REDIRECT_save` prints them.
    pub(crate) fn fmt_opts(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt_to_ports(f, self.ports)?;
        if self.random {
            f.write_str(" --random")?;
        }
        Ok(())
    }
}

const O_PORTS: u8 = 0;
const O_RANDOM: u8 = 1;
const OPTIONS: &[OptSpec] = &[OptSpec::value("to-ports", O_PORTS), OptSpec::flag("random", O_RANDOM)];

/// Parser state of `-j REDIRECT`.
#[derive(Default)]
pub(crate) struct Parser(RedirectTarget);

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
        if spec.id == O_PORTS {
            let v = args.value();
            self.0.ports =
                Some(NatRange::parse_to_ports(v, NatRange::ports_allowed(ctx)).map_err(|r| bad(spec, v, r))?);
        } else {
            self.0.random = true;
        }
        Ok(())
    }

    fn finish(self: Box<Self>, ctx: &Ctx<'_>, _seen: u32) -> Result<crate::Target, ErrorKind> {
        check_place(ctx, "REDIRECT", Table::Nat, &[Hook::Prerouting, Hook::Output])?;
        Ok(crate::Target::Redirect(self.0))
    }
}

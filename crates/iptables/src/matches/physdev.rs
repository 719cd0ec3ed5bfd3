//! `-m physdev` (libxt_physdev): bridge ports. The xt `physdev` match, rev 0
//! ([`crate::xt::physdev`]).

use std::fmt;

use crate::error::ErrorKind;
use crate::ext::{Args, Ctx, MatchParser, OptSpec, bad};
use crate::iface::Interface;
use crate::matches::conntrack::Negatable;
use crate::table::Hook;

/// `-m physdev`. The `is_*` flags hold `Some(invert)` when given.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct PhysdevMatch {
    /// `--physdev-in`.
    pub physdev_in: Option<Negatable<Interface>>,
    /// `--physdev-out`.
    pub physdev_out: Option<Negatable<Interface>>,
    /// `--physdev-is-in`.
    pub is_in: Option<bool>,
    /// `--physdev-is-out`.
    pub is_out: Option<bool>,
    /// `--physdev-is-bridged`.
    pub is_bridged: Option<bool>,
}

fn neg(invert: bool) -> &'static str {
    if invert { " !" } else { "" }
}

impl PhysdevMatch {
    /// Writes the options as `physdev_save` prints them.
    pub(crate) fn fmt_opts(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(inv) = self.is_in {
            write!(f, "{} --physdev-is-in", neg(inv))?;
        }
        if let Some(i) = &self.physdev_in {
            write!(f, "{} --physdev-in {}", neg(i.invert), i.value)?;
        }
        if let Some(inv) = self.is_out {
            write!(f, "{} --physdev-is-out", neg(inv))?;
        }
        if let Some(o) = &self.physdev_out {
            write!(f, "{} --physdev-out {}", neg(o.invert), o.value)?;
        }
        if let Some(inv) = self.is_bridged {
            write!(f, "{} --physdev-is-bridged", neg(inv))?;
        }
        Ok(())
    }
}

const O_IN: u8 = 0;
const O_OUT: u8 = 1;
const O_IS_IN: u8 = 2;
const O_IS_OUT: u8 = 3;
const O_IS_BRIDGED: u8 = 4;

/// `physdev_opts` (libxt_physdev.c): all invertible.
const OPTIONS: &[OptSpec] = &[
    OptSpec::value("physdev-in", O_IN).inv(),
    OptSpec::value("physdev-out", O_OUT).inv(),
    OptSpec::flag("physdev-is-in", O_IS_IN).inv(),
    OptSpec::flag("physdev-is-out", O_IS_OUT).inv(),
    OptSpec::flag("physdev-is-bridged", O_IS_BRIDGED).inv(),
];

/// Parser state of one `-m physdev`.
#[derive(Default)]
pub(crate) struct Parser(PhysdevMatch);

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
        let iface = |v: &str| {
            Interface::parse(v).map(|value| Some(Negatable { value, invert })).map_err(|r| bad(spec, v, r))
        };
        match spec.id {
            O_IN => self.0.physdev_in = iface(args.value())?,
            O_OUT => self.0.physdev_out = iface(args.value())?,
            O_IS_IN => self.0.is_in = Some(invert),
            O_IS_OUT => self.0.is_out = Some(invert),
            _ => self.0.is_bridged = Some(invert),
        }
        Ok(())
    }

    fn finish(self: Box<Self>, ctx: &Ctx<'_>, seen: u32) -> Result<crate::Match, ErrorKind> {
        if seen == 0 {
            return Err(ErrorKind::NoOption { extension: "physdev" });
        }
        let m = self.0;
        // xt_physdev's checkentry: output-port tests need bridged traffic in OUTPUT.
        let out_test = m.physdev_out.is_some() || m.is_out.is_some();
        let bridged = m.is_bridged == Some(false);
        if out_test && !bridged && ctx.hook() == Some(Hook::Output) {
            return Err(ErrorKind::NotValidInChain {
                what: "--physdev-out/--physdev-is-out without --physdev-is-bridged".into(),
                chain: "OUTPUT".into(),
            });
        }
        Ok(crate::Match::Physdev(m))
    }
}

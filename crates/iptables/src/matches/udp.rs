//! `-m udp` (libxt_udp): ports.
//!
//! iptables-nft 1.8.9 writes ports as native payload expressions and falls back to the xt `udp`
//! match (rev 0, [`crate::xt::udp`]) only when no option is given.

use std::fmt;

use crate::error::ErrorKind;
use crate::ext::{Args, Ctx, MatchParser, OptSpec};
use crate::matches::PortMatch;
use crate::matches::tcp::port_match;
use crate::port;
use crate::protocol::Protocol;

/// `-m udp`. A port range `0:65535` is stored as `None`, as iptables-save does not print it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct UdpMatch {
    /// `--sport`.
    pub sport: Option<PortMatch>,
    /// `--dport`.
    pub dport: Option<PortMatch>,
}

impl UdpMatch {
    /// Whether iptables-nft 1.8.9 writes this match as native expressions (any port test)
    /// rather than as the xt `udp` match (no option).
    pub fn is_native(&self) -> bool {
        self.sport.is_some() || self.dport.is_some()
    }

    /// Writes the options as `udp_save` prints them.
    pub(crate) fn fmt_opts(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (name, p) in [("--sport", &self.sport), ("--dport", &self.dport)] {
            if let Some(p) = p {
                write!(f, "{} {name} {}", if p.invert { " !" } else { "" }, p.ports)?;
            }
        }
        Ok(())
    }
}

const O_SPORT: u8 = 0;
const O_DPORT: u8 = 1;

/// `udp_opts` (libxt_udp.c): `XTTYPE_PORTRC`, invertible.
const OPTIONS: &[OptSpec] = &[
    OptSpec::value("source-port", O_SPORT).inv(),
    OptSpec::value("sport", O_SPORT).inv(),
    OptSpec::value("destination-port", O_DPORT).inv(),
    OptSpec::value("dport", O_DPORT).inv(),
];

/// Parser state of one `-m udp`.
#[derive(Default)]
pub(crate) struct Parser(UdpMatch);

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
        let p = port_match(spec, args.value(), invert, port::portrc_range)?;
        if spec.id == O_SPORT {
            self.0.sport = p;
        } else {
            self.0.dport = p;
        }
        Ok(())
    }

    fn finish(self: Box<Self>, ctx: &Ctx<'_>, _seen: u32) -> Result<crate::Match, ErrorKind> {
        if ctx.plain_proto() != Some(Protocol::UDP) {
            return Err(ErrorKind::RequiresProtocol { extension: "udp", protocols: "`-p udp'" });
        }
        Ok(crate::Match::Udp(self.0))
    }
}

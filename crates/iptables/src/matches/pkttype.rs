//! `-m pkttype` (libxt_pkttype): link-layer packet type. The xt `pkttype` match, rev 0
//! ([`crate::xt::pkttype`]).

use std::fmt;

use crate::error::ErrorKind;
use crate::ext::{Args, Ctx, MatchParser, OptSpec, bad};

/// `supported_types` (libxt_pkttype.c): names and aliases with their `PACKET_*` value; the first
/// name of a value is the one printed.
const TYPES: [(&str, u8); 7] = [
    ("unicast", 0),
    ("broadcast", 1),
    ("multicast", 2),
    ("otherhost", 3),
    ("bcast", 1),
    ("mcast", 2),
    ("host", 0),
];

/// `-m pkttype --pkt-type TYPE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PkttypeMatch {
    /// `PACKET_HOST` (0, `unicast`), `PACKET_BROADCAST` (1), `PACKET_MULTICAST` (2),
    /// `PACKET_OTHERHOST` (3).
    pub pkttype: u8,
    /// `! --pkt-type`.
    pub invert: bool,
}

impl PkttypeMatch {
    /// Writes the option as `pkttype_save` prints it.
    pub(crate) fn fmt_opts(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.invert {
            f.write_str(" !")?;
        }
        match TYPES.iter().find(|(_, v)| *v == self.pkttype) {
            Some((name, _)) => write!(f, " --pkt-type {name}"),
            None => write!(f, " --pkt-type {}", self.pkttype),
        }
    }
}

const OPTIONS: &[OptSpec] = &[OptSpec::value("pkt-type", 0).inv().mand()];

/// Parser state of one `-m pkttype`.
#[derive(Default)]
pub(crate) struct Parser(Option<PkttypeMatch>);

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
        let pkttype = TYPES
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(v))
            .map(|(_, t)| *t)
            .ok_or_else(|| bad(spec, v, "unicast, broadcast, multicast or otherhost"))?;
        self.0 = Some(PkttypeMatch { pkttype, invert });
        Ok(())
    }

    fn finish(self: Box<Self>, _ctx: &Ctx<'_>, _seen: u32) -> Result<crate::Match, ErrorKind> {
        self.0
            .map(crate::Match::Pkttype)
            .ok_or(ErrorKind::MissingOption { extension: "pkttype".into(), option: "--pkt-type".into() })
    }
}

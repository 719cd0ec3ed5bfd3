//! `-m iprange` (libxt_iprange, revision 1): address ranges. The xt `iprange` match, rev 1
//! ([`crate::xt::iprange_v1`]).

use std::fmt;
use std::net::Ipv4Addr;

use crate::addr;
use crate::error::ErrorKind;
use crate::ext::{Args, Ctx, MatchParser, OptSpec, bad};
use crate::matches::conntrack::Negatable;

/// An inclusive IPv4 address range. A reversed range is accepted (iptables only warns) and
/// never matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ipv4Range {
    /// First address.
    pub first: Ipv4Addr,
    /// Last address.
    pub last: Ipv4Addr,
}

impl fmt::Display for Ipv4Range {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.first, self.last)
    }
}

/// `-m iprange`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct IprangeMatch {
    /// `--src-range`.
    pub src: Option<Negatable<Ipv4Range>>,
    /// `--dst-range`.
    pub dst: Option<Negatable<Ipv4Range>>,
}

impl IprangeMatch {
    /// Writes the options as `iprange_mt4_save` prints them.
    pub(crate) fn fmt_opts(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (name, r) in [("--src-range", &self.src), ("--dst-range", &self.dst)] {
            if let Some(r) = r {
                write!(f, "{} {name} {}", if r.invert { " !" } else { "" }, r.value)?;
            }
        }
        Ok(())
    }
}

/// `iprange_parse_range`: `A-B` or `A` (meaning `A-A`), numeric addresses as
/// `xtables_numeric_to_ipaddr` reads them.
fn range(s: &str) -> Result<Ipv4Range, &'static str> {
    let (a, b) = s.split_once('-').unwrap_or((s, s));
    let p = |x: &str| addr::dotted_autocomplete(x).ok_or("not a numeric IPv4 address");
    Ok(Ipv4Range { first: p(a)?, last: p(b)? })
}

const O_SRC: u8 = 0;
const O_DST: u8 = 1;
const OPTIONS: &[OptSpec] =
    &[OptSpec::value("src-range", O_SRC).inv(), OptSpec::value("dst-range", O_DST).inv()];

/// Parser state of one `-m iprange`.
#[derive(Default)]
pub(crate) struct Parser(IprangeMatch);

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
        let value = range(v).map_err(|r| bad(spec, v, r))?;
        let r = Some(Negatable { value, invert });
        if spec.id == O_SRC {
            self.0.src = r;
        } else {
            self.0.dst = r;
        }
        Ok(())
    }

    fn finish(self: Box<Self>, _ctx: &Ctx<'_>, seen: u32) -> Result<crate::Match, ErrorKind> {
        if seen == 0 {
            return Err(ErrorKind::MissingOption {
                extension: "iprange".into(),
                option: "--src-range or --dst-range".into(),
            });
        }
        Ok(crate::Match::Iprange(self.0))
    }
}

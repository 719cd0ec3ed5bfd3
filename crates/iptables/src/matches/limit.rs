//! `-m limit` (libxt_limit). iptables-nft 1.8.9 writes it as a native nf_tables `limit`
//! expression (type packets, flags 0); the typed value keeps that expression's rate, unit and
//! burst. Captured: `-m limit --limit 1000/day --limit-burst 9` sends rate `1000`, unit `86400`,
//! burst `9` (`iptables-nft -vvv`, iptables 1.8.9, Linux 6.18).

use std::fmt;

use crate::error::ErrorKind;
use crate::ext::{Args, Ctx, MatchParser, OptSpec, bad};
use crate::num;

/// `XT_LIMIT_SCALE`: `avg` is in 1/10000 s per packet.
const XT_LIMIT_SCALE: u64 = 10_000;
/// `XT_LIMIT_BURST`: default burst.
pub const DEFAULT_BURST: u32 = 5;

/// Period lengths in `XT_LIMIT_SCALE` units, longest first (`rates[]` in libxt_limit.c,
/// `mult[]` in nft.c `add_nft_limit`).
const MULT: [(u64, &str); 4] = [
    (XT_LIMIT_SCALE * 24 * 60 * 60, "day"),
    (XT_LIMIT_SCALE * 60 * 60, "hour"),
    (XT_LIMIT_SCALE * 60, "min"),
    (XT_LIMIT_SCALE, "sec"),
];

/// `-m limit`: at most `rate` packets per `unit` seconds, with bursts of `burst`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LimitMatch {
    /// Packets per unit (`NFTA_LIMIT_RATE`).
    pub rate: u64,
    /// Unit in seconds (`NFTA_LIMIT_UNIT`: 1, 60, 3600 or 86400 from iptables).
    pub unit: u64,
    /// Burst (`NFTA_LIMIT_BURST`).
    pub burst: u32,
}

impl Default for LimitMatch {
    /// `-m limit` without options: 3/hour, burst 5.
    fn default() -> Self {
        LimitMatch::from_avg(avg_of(3, 3600).unwrap_or(0), DEFAULT_BURST)
    }
}

/// `parse_rate`: `XT_LIMIT_SCALE * seconds / packets`, 0 when the rate is too fast.
fn avg_of(packets: u64, seconds: u64) -> Option<u32> {
    u32::try_from(XT_LIMIT_SCALE * seconds / packets).ok()
}

/// The index `add_nft_limit`/`print_rate` choose for `avg`.
fn period_index(avg: u64) -> usize {
    let mut i = 1;
    while i < MULT.len() {
        let m = MULT[i].0;
        if avg > m || m / avg < m % avg {
            break;
        }
        i += 1;
    }
    i - 1
}

impl LimitMatch {
    /// Converts the xt `avg` (1/10000 s per packet) to the native rate and unit the way
    /// `add_nft_limit` (iptables/nft.c) does. `avg` must not be 0. A burst of 0 becomes 5, as
    /// the kernel's `nft_limit_pkts_init` makes it (`NFT_LIMIT_PKT_BURST_DEFAULT`).
    pub fn from_avg(avg: u32, burst: u32) -> Self {
        let avg = u64::from(avg.max(1));
        let m = MULT[period_index(avg)].0;
        LimitMatch {
            rate: m / avg,
            unit: m / XT_LIMIT_SCALE,
            burst: if burst == 0 { DEFAULT_BURST } else { burst },
        }
    }

    /// The xt `avg` iptables-save computes back from the native expression
    /// (`nft_parse_limit`: `XT_LIMIT_SCALE * unit / rate`), truncated to 32 bits as there.
    pub fn avg(&self) -> u32 {
        if self.rate == 0 {
            return 0;
        }
        (XT_LIMIT_SCALE.saturating_mul(self.unit) / self.rate) as u32
    }

    /// Parses `--limit RATE[/second|/minute|/hour|/day]` (unit names may be abbreviated) into
    /// the xt `avg`, as `parse_rate` does.
    fn parse_avg(s: &str) -> Result<u32, &'static str> {
        let seconds = match s.split_once('/') {
            None => 1,
            Some((_, unit)) => {
                let fits = |full: &str| {
                    !unit.is_empty() && full.get(..unit.len()).is_some_and(|p| p.eq_ignore_ascii_case(unit))
                };
                if fits("second") {
                    1
                } else if fits("minute") {
                    60
                } else if fits("hour") {
                    3600
                } else if fits("day") {
                    86400
                } else {
                    return Err("bad rate unit (second, minute, hour or day)");
                }
            }
        };
        let packets = num::atoi(s).ok_or("bad rate")?;
        if packets == 0 {
            return Err("bad rate");
        }
        // atoi's negative results wrap to huge unsigned values in parse_rate: "too fast".
        let packets = u64::try_from(packets).map_err(|_| "rate too fast")?;
        match avg_of(packets, seconds) {
            Some(avg) if avg > 0 => Ok(avg),
            _ => Err("rate too fast"),
        }
    }

    /// Writes the options as `limit_save` prints the value read back from the kernel.
    pub(crate) fn fmt_opts(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let avg = u64::from(self.avg());
        if avg == 0 {
            f.write_str(" --limit inf")?;
        } else {
            let (m, name) = MULT[period_index(avg)];
            write!(f, " --limit {}/{name}", m / avg)?;
        }
        if self.burst != DEFAULT_BURST {
            write!(f, " --limit-burst {}", self.burst)?;
        }
        Ok(())
    }
}

const O_LIMIT: u8 = 0;
const O_BURST: u8 = 1;
const OPTIONS: &[OptSpec] = &[OptSpec::value("limit", O_LIMIT), OptSpec::value("limit-burst", O_BURST)];

/// Parser state of one `-m limit`.
pub(crate) struct Parser {
    avg: u32,
    burst: u32,
}

impl Parser {
    pub(crate) fn boxed() -> Box<dyn MatchParser> {
        let d = LimitMatch::default();
        Box::new(Parser { avg: d.avg(), burst: d.burst })
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
        let v = args.value();
        if spec.id == O_LIMIT {
            self.avg = LimitMatch::parse_avg(v).map_err(|r| bad(spec, v, r))?;
        } else {
            self.burst =
                num::strtoul_full(v, 0, 10_000).ok_or_else(|| bad(spec, v, "out of range (0-10000)"))? as u32;
        }
        Ok(())
    }

    fn finish(self: Box<Self>, _ctx: &Ctx<'_>, _seen: u32) -> Result<crate::Match, ErrorKind> {
        Ok(crate::Match::Limit(LimitMatch::from_avg(self.avg, self.burst)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn native(s: &str) -> (u64, u64) {
        let l = LimitMatch::from_avg(LimitMatch::parse_avg(s).unwrap(), 5);
        (l.rate, l.unit)
    }

    #[test]
    fn native_rate_and_unit_as_add_nft_limit() {
        // Appendix A f07/x16 of the reference: rate/unit iptables-nft sends.
        assert_eq!(native("1/s"), (1, 1));
        assert_eq!(native("3/min"), (3, 60));
        assert_eq!(native("100/hour"), (100, 3600));
        assert_eq!(native("7/day"), (7, 86400));
        assert_eq!((LimitMatch::default().rate, LimitMatch::default().unit), (3, 3600));
        assert!(LimitMatch::parse_avg("0/s").is_err());
        assert!(LimitMatch::parse_avg("1/seconds").is_err());
        assert!(LimitMatch::parse_avg("20000/s").is_err());
    }
}

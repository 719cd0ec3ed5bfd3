//! `-j NFLOG` (libxt_NFLOG). iptables-nft 1.8.9 writes it as the native nf_tables `log`
//! expression, not as an xt target (`add_log`, iptables/nft.c): `NFTA_LOG_GROUP` (be16, always),
//! `NFTA_LOG_PREFIX` (when set), `NFTA_LOG_SNAPLEN` (be32, for `--nflog-size`) and
//! `NFTA_LOG_QTHRESHOLD` (be16, when not 0). Captured with `iptables-nft -vvv -A INPUT -j NFLOG
//! --nflog-group 5 --nflog-prefix 'nat keeper' --nflog-size 128 --nflog-threshold 3`
//! (iptables 1.8.9, Linux 6.18): prefix `6e6174206b656570657200`, group `0005`, snaplen
//! `00000080`, qthreshold `0003`; plain `-j NFLOG` sends only group `0000`.

use std::fmt;

use crate::error::ErrorKind;
use crate::ext::{Args, Ctx, OptSpec, TargetParser, bad, write_save_string};
use crate::num;
use crate::targets::log::log_prefix;

/// Longest prefix (`NF_LOG_PREFIXLEN` - 1).
pub const MAX_PREFIX_LEN: usize = 127;

/// `-j NFLOG`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct NflogTarget {
    /// `--nflog-group` (netlink group).
    pub group: u16,
    /// `--nflog-prefix`, at most 127 bytes.
    pub prefix: Option<String>,
    /// `--nflog-size`: bytes to copy (snaplen).
    pub size: Option<u32>,
    /// `--nflog-threshold` (0, the default, is not sent).
    pub threshold: u16,
}

impl NflogTarget {
    /// Writes the options as `NFLOG_save` prints what it reads back from the native expression.
    pub(crate) fn fmt_opts(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(p) = self.prefix.as_deref().filter(|p| !p.is_empty()) {
            f.write_str(" --nflog-prefix")?;
            write_save_string(f, p)?;
        }
        if self.group != 0 {
            write!(f, " --nflog-group {}", self.group)?;
        }
        if let Some(s) = self.size {
            write!(f, " --nflog-size {s}")?;
        }
        if self.threshold != 0 {
            write!(f, " --nflog-threshold {}", self.threshold)?;
        }
        Ok(())
    }
}

const O_GROUP: u8 = 0;
const O_PREFIX: u8 = 1;
const O_RANGE: u8 = 2;
const O_SIZE: u8 = 3;
const O_THRESHOLD: u8 = 4;

/// `NFLOG_opts` (libxt_NFLOG.c).
const OPTIONS: &[OptSpec] = &[
    OptSpec::value("nflog-group", O_GROUP),
    OptSpec::value("nflog-prefix", O_PREFIX),
    OptSpec::value("nflog-range", O_RANGE).excl(1 << O_SIZE),
    OptSpec::value("nflog-size", O_SIZE).excl(1 << O_RANGE),
    OptSpec::value("nflog-threshold", O_THRESHOLD),
];

/// Parser state of `-j NFLOG`.
#[derive(Default)]
pub(crate) struct Parser(NflogTarget);

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
        _ctx: &Ctx<'_>,
        spec: &OptSpec,
        args: Args<'_>,
        _invert: bool,
    ) -> Result<(), ErrorKind> {
        let v = args.value();
        let u16_ = || {
            num::strtoul_full(v, 0, u64::from(u16::MAX))
                .map(|n| n as u16)
                .ok_or_else(|| bad(spec, v, "out of range (0-65535)"))
        };
        let u32_ = || {
            num::strtoul_full(v, 0, u64::from(u32::MAX))
                .map(|n| n as u32)
                .ok_or_else(|| bad(spec, v, "out of range (0-4294967295)"))
        };
        match spec.id {
            O_GROUP => self.0.group = u16_()?,
            O_PREFIX => self.0.prefix = Some(log_prefix(spec, v, MAX_PREFIX_LEN)?),
            // `--nflog-range` "has never worked"; iptables-nft 1.8.9 accepts it and drops it.
            O_RANGE => {
                u32_()?;
            }
            O_SIZE => self.0.size = Some(u32_()?),
            _ => self.0.threshold = u16_()?,
        }
        Ok(())
    }

    fn finish(self: Box<Self>, _ctx: &Ctx<'_>, _seen: u32) -> Result<crate::Target, ErrorKind> {
        Ok(crate::Target::Nflog(self.0))
    }
}

//! `-j LOG` (libxt_LOG, revision 0: [`crate::xt::log`]).

use std::fmt;

use crate::error::ErrorKind;
use crate::ext::{Args, Ctx, OptSpec, TargetParser, bad, write_save_string};
use crate::matches::comment::bounded;
use crate::num;

/// `LOG_WARNING`: the default level, not printed by iptables-save.
pub const DEFAULT_LEVEL: u8 = 4;
/// Longest `--log-prefix` (`prefix[30]` with its NUL).
pub const MAX_PREFIX_LEN: usize = 29;

/// `--log-*` flags (`XT_LOG_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct LogFlags(pub u8);

impl LogFlags {
    /// `--log-tcp-sequence` (`XT_LOG_TCPSEQ`).
    pub const TCP_SEQUENCE: LogFlags = LogFlags(0x01);
    /// `--log-tcp-options` (`XT_LOG_TCPOPT`).
    pub const TCP_OPTIONS: LogFlags = LogFlags(0x02);
    /// `--log-ip-options` (`XT_LOG_IPOPT`).
    pub const IP_OPTIONS: LogFlags = LogFlags(0x04);
    /// `--log-uid` (`XT_LOG_UID`).
    pub const UID: LogFlags = LogFlags(0x08);
    /// `--log-macdecode` (`XT_LOG_MACDECODE`).
    pub const MACDECODE: LogFlags = LogFlags(0x20);
}

/// `-j LOG`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LogTarget {
    /// Syslog level 0-7.
    pub level: u8,
    /// `--log-prefix`, at most 29 bytes.
    pub prefix: Option<String>,
    /// Flags.
    pub flags: LogFlags,
}

impl Default for LogTarget {
    fn default() -> Self {
        LogTarget { level: DEFAULT_LEVEL, prefix: None, flags: LogFlags::default() }
    }
}

impl LogTarget {
    /// Writes the options as `LOG_save` prints them.
    pub(crate) fn fmt_opts(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(p) = self.prefix.as_deref().filter(|p| !p.is_empty()) {
            f.write_str(" --log-prefix")?;
            write_save_string(f, p)?;
        }
        if self.level != DEFAULT_LEVEL {
            write!(f, " --log-level {}", self.level)?;
        }
        for (bit, name) in [
            (LogFlags::TCP_SEQUENCE, "--log-tcp-sequence"),
            (LogFlags::TCP_OPTIONS, "--log-tcp-options"),
            (LogFlags::IP_OPTIONS, "--log-ip-options"),
            (LogFlags::UID, "--log-uid"),
            (LogFlags::MACDECODE, "--log-macdecode"),
        ] {
            if self.flags.0 & bit.0 != 0 {
                write!(f, " {name}")?;
            }
        }
        Ok(())
    }
}

/// `xtopt_parse_sysloglevel`: 0-7 or a syslog name (case-sensitive).
pub(crate) fn parse_level(s: &str) -> Option<u8> {
    if let Some(n) = num::strtoul_full(s, 0, 7) {
        return Some(n as u8);
    }
    const NAMES: [(&str, u8); 9] = [
        ("alert", 1),
        ("crit", 2),
        ("debug", 7),
        ("emerg", 0),
        ("error", 3),
        ("info", 6),
        ("notice", 5),
        ("panic", 0),
        ("warning", 4),
    ];
    NAMES.iter().find(|(n, _)| *n == s).map(|(_, l)| *l)
}

const O_TCPSEQ: u8 = 0;
const O_TCPOPTS: u8 = 1;
const O_IPOPTS: u8 = 2;
const O_UID: u8 = 3;
const O_MAC: u8 = 5;
const O_LEVEL: u8 = 6;
const O_PREFIX: u8 = 7;

/// `LOG_opts` (libxt_LOG.c); flag ids are the `XT_LOG_*` bit positions.
const OPTIONS: &[OptSpec] = &[
    OptSpec::value("log-level", O_LEVEL),
    OptSpec::value("log-prefix", O_PREFIX),
    OptSpec::flag("log-tcp-sequence", O_TCPSEQ),
    OptSpec::flag("log-tcp-options", O_TCPOPTS),
    OptSpec::flag("log-ip-options", O_IPOPTS),
    OptSpec::flag("log-uid", O_UID),
    OptSpec::flag("log-macdecode", O_MAC),
];

/// Parser state of `-j LOG`.
#[derive(Default)]
pub(crate) struct Parser(LogTarget);

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
        match spec.id {
            O_LEVEL => {
                self.0.level = parse_level(v).ok_or_else(|| bad(spec, v, "unknown log level"))?;
            }
            O_PREFIX => self.0.prefix = Some(log_prefix(spec, v, MAX_PREFIX_LEN)?),
            bit => self.0.flags.0 |= 1 << bit,
        }
        Ok(())
    }

    fn finish(self: Box<Self>, _ctx: &Ctx<'_>, _seen: u32) -> Result<crate::Target, ErrorKind> {
        Ok(crate::Target::Log(self.0))
    }
}

/// A log prefix: not empty, no newline, at most `max` bytes.
pub(crate) fn log_prefix(spec: &OptSpec, v: &str, max: usize) -> Result<String, ErrorKind> {
    if v.is_empty() {
        return Err(bad(spec, v, "must have at least 1 character"));
    }
    if v.contains('\n') {
        return Err(bad(spec, v, "newlines not allowed"));
    }
    let too_long = if max == MAX_PREFIX_LEN {
        "longer than 29 bytes (iptables would truncate it)"
    } else {
        "longer than 127 bytes (iptables would truncate it)"
    };
    bounded(spec, v, max, too_long)
}

//! `-j CT` and `-j NOTRACK` (libxt_CT, revision 2: [`crate::xt::ct_v2`]).

use std::fmt;

use crate::error::ErrorKind;
use crate::ext::{Args, Ctx, OptSpec, TargetParser, bad};
use crate::matches::comment::bounded;
use crate::num;
use crate::table::Table;
use crate::targets::check_place;

/// `ct_event_tbl` (libxt_CT.c): name and `IPCT_*` bit number, in print order.
const CT_EVENTS: [(&str, u8); 10] = [
    ("new", 0),
    ("related", 1),
    ("destroy", 2),
    ("reply", 3),
    ("assured", 4),
    ("protoinfo", 5),
    ("helper", 6),
    ("mark", 7),
    ("natseqinfo", 8),
    ("secmark", 9),
];
/// `exp_event_tbl`.
const EXP_EVENTS: [(&str, u8); 1] = [("new", 0)];

/// `XT_CT_ZONE_DIR_ORIG`.
pub const XT_CT_ZONE_DIR_ORIG: u16 = 1 << 2;
/// `XT_CT_ZONE_DIR_REPL`.
pub const XT_CT_ZONE_DIR_REPL: u16 = 1 << 3;
/// `XT_CT_ZONE_MARK`.
pub const XT_CT_ZONE_MARK: u16 = 1 << 4;

/// `-j CT` (`struct xt_ct_target_info_v1`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct CtTarget {
    /// `--notrack` (`XT_CT_NOTRACK`).
    pub notrack: bool,
    /// `--helper NAME` (at most 15 bytes; the kernel must know it).
    pub helper: Option<String>,
    /// `--timeout NAME` (at most 31 bytes; the kernel must know it).
    pub timeout: Option<String>,
    /// `--ctevents`: bit `1 << IPCT_*`.
    pub ct_events: u32,
    /// `--expevents`: bit `1 << IPEXP_*`.
    pub exp_events: u32,
    /// Zone id (`--zone`, `--zone-orig`, `--zone-reply`).
    pub zone: u16,
    /// Zone flags: `XT_CT_ZONE_DIR_ORIG`, `XT_CT_ZONE_DIR_REPL`, `XT_CT_ZONE_MARK`.
    pub zone_flags: u16,
}

fn fmt_events(f: &mut fmt::Formatter<'_>, opt: &str, tbl: &[(&str, u8)], mask: u32) -> fmt::Result {
    write!(f, " {opt} ")?;
    let mut sep = "";
    for (name, bit) in tbl {
        if mask & (1 << bit) != 0 {
            write!(f, "{sep}{name}")?;
            sep = ",";
        }
    }
    Ok(())
}

impl CtTarget {
    /// Writes the options as `ct_save_v1` prints them.
    pub(crate) fn fmt_opts(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.notrack {
            f.write_str(" --notrack")?;
        }
        if let Some(h) = self.helper.as_deref().filter(|h| !h.is_empty()) {
            write!(f, " --helper {h}")?;
        }
        if let Some(t) = self.timeout.as_deref().filter(|t| !t.is_empty()) {
            write!(f, " --timeout {t}")?;
        }
        if self.ct_events != 0 {
            fmt_events(f, "--ctevents", &CT_EVENTS, self.ct_events)?;
        }
        if self.exp_events != 0 {
            fmt_events(f, "--expevents", &EXP_EVENTS, self.exp_events)?;
        }
        if self.zone_flags & XT_CT_ZONE_MARK != 0 || self.zone != 0 {
            f.write_str(" --zone")?;
            match self.zone_flags & (XT_CT_ZONE_DIR_ORIG | XT_CT_ZONE_DIR_REPL) {
                XT_CT_ZONE_DIR_ORIG => f.write_str("-orig")?,
                XT_CT_ZONE_DIR_REPL => f.write_str("-reply")?,
                _ => {}
            }
            if self.zone_flags & XT_CT_ZONE_MARK != 0 {
                f.write_str(" mark")?;
            } else {
                write!(f, " {}", self.zone)?;
            }
        }
        Ok(())
    }
}

const O_NOTRACK: u8 = 0;
const O_HELPER: u8 = 1;
const O_TIMEOUT: u8 = 2;
const O_CTEVENTS: u8 = 3;
const O_EXPEVENTS: u8 = 4;
const O_ZONE: u8 = 5;
const O_ZONE_ORIG: u8 = 6;
const O_ZONE_REPLY: u8 = 7;

/// `ct_opts_v1` (libxt_CT.c).
const OPTIONS: &[OptSpec] = &[
    OptSpec::flag("notrack", O_NOTRACK),
    OptSpec::value("helper", O_HELPER),
    OptSpec::value("timeout", O_TIMEOUT),
    OptSpec::value("ctevents", O_CTEVENTS),
    OptSpec::value("expevents", O_EXPEVENTS),
    OptSpec::value("zone-orig", O_ZONE_ORIG),
    OptSpec::value("zone-reply", O_ZONE_REPLY),
    OptSpec::value("zone", O_ZONE),
];

/// `ct_parse_events`: comma-separated exact names.
fn events(s: &str, tbl: &[(&str, u8)]) -> Result<u32, &'static str> {
    let mut v = 0;
    for item in s.split(',') {
        let bit = tbl.iter().find(|(n, _)| *n == item).map(|(_, b)| *b).ok_or("unknown event type")?;
        v |= 1 << bit;
    }
    Ok(v)
}

/// A helper or timeout policy name: printed unquoted, so no white space or `"`.
fn object_name(spec: &OptSpec, v: &str, max: usize) -> Result<String, ErrorKind> {
    if v.is_empty() || v.chars().any(|c| c.is_whitespace() || c == '"') {
        return Err(bad(spec, v, "not a helper/timeout name"));
    }
    bounded(spec, v, max, "name too long")
}

/// Parser state of `-j CT`.
#[derive(Default)]
pub(crate) struct Parser(CtTarget);

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
        let t = &mut self.0;
        match spec.id {
            O_NOTRACK => t.notrack = true,
            O_HELPER => t.helper = Some(object_name(spec, v, 15)?),
            O_TIMEOUT => t.timeout = Some(object_name(spec, v, 31)?),
            O_CTEVENTS => t.ct_events = events(v, &CT_EVENTS).map_err(|r| bad(spec, v, r))?,
            O_EXPEVENTS => t.exp_events = events(v, &EXP_EVENTS).map_err(|r| bad(spec, v, r))?,
            id => {
                // ct_parse_zone_id
                if id == O_ZONE_ORIG {
                    t.zone_flags |= XT_CT_ZONE_DIR_ORIG;
                }
                if id == O_ZONE_REPLY {
                    t.zone_flags |= XT_CT_ZONE_DIR_REPL;
                }
                if v.eq_ignore_ascii_case("mark") {
                    t.zone = 0;
                    t.zone_flags |= XT_CT_ZONE_MARK;
                } else {
                    t.zone = num::strtoul_full(v, 0, u64::from(u16::MAX))
                        .ok_or_else(|| bad(spec, v, "zone id must be 0-65535 or `mark'"))?
                        as u16;
                }
            }
        }
        Ok(())
    }

    fn finish(self: Box<Self>, ctx: &Ctx<'_>, _seen: u32) -> Result<crate::Target, ErrorKind> {
        check_place(ctx, "CT", Table::Raw, &[])?;
        Ok(crate::Target::Ct(self.0))
    }
}

/// Parser state of `-j NOTRACK` (no options).
#[derive(Default)]
pub(crate) struct NotrackParser;

impl NotrackParser {
    pub(crate) fn boxed() -> Box<dyn TargetParser> {
        Box::new(NotrackParser)
    }
}

impl TargetParser for NotrackParser {
    fn options(&self) -> &'static [OptSpec] {
        &[]
    }

    fn parse(
        &mut self,
        _ctx: &Ctx<'_>,
        _spec: &OptSpec,
        _args: Args<'_>,
        _invert: bool,
    ) -> Result<(), ErrorKind> {
        Ok(())
    }

    fn finish(self: Box<Self>, ctx: &Ctx<'_>, _seen: u32) -> Result<crate::Target, ErrorKind> {
        check_place(ctx, "NOTRACK", Table::Raw, &[])?;
        Ok(crate::Target::Notrack)
    }
}

//! The contract between the rule parser and one match or target extension.
//!
//! libxtables describes an extension's options with `struct xt_option_entry` and checks the
//! generic rules itself (`xtables_option_parse`, `xtables_options_fcheck` in
//! libxtables/xtoptions.c): an option may be given once (none here is `XTOPT_MULTI`), `!` only
//! before `XTOPT_INVERT` options, options listed in `excl` exclude each other, `XTOPT_MAND`
//! options must be present. [`OptSpec`] carries the same facts and [`crate::parse`] enforces
//! them, so an extension module only turns values into typed fields.

use crate::error::ErrorKind;
use crate::protocol::Protocol;
use crate::table::{Hook, Table};

/// How many words an option takes after its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Arity {
    /// A flag (`--syn`).
    None,
    /// One value (`--dport 22`, `--dport=22`).
    One,
    /// Two values (`--tcp-flags MASK COMP`); the second must not start with `-` or `!`.
    Two,
}

/// One long option of an extension (`struct xt_option_entry`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct OptSpec {
    /// Name without the leading `--`.
    pub(crate) name: &'static str,
    /// Identifier; aliases (`--sport`/`--source-port`) share it.
    pub(crate) id: u8,
    pub(crate) arity: Arity,
    /// `XTOPT_INVERT`: `!` may precede the option.
    pub(crate) invert: bool,
    /// `XTOPT_MAND`: the option must be given.
    pub(crate) mand: bool,
    /// Bit mask of option ids this one excludes (`excl`).
    pub(crate) excl: u32,
}

impl OptSpec {
    /// A flag without value.
    pub(crate) const fn flag(name: &'static str, id: u8) -> Self {
        OptSpec { name, id, arity: Arity::None, invert: false, mand: false, excl: 0 }
    }

    /// An option with one value.
    pub(crate) const fn value(name: &'static str, id: u8) -> Self {
        OptSpec { arity: Arity::One, ..OptSpec::flag(name, id) }
    }

    /// An option with two values.
    pub(crate) const fn pair(name: &'static str, id: u8) -> Self {
        OptSpec { arity: Arity::Two, ..OptSpec::flag(name, id) }
    }

    /// Allows `!` before the option.
    pub(crate) const fn inv(self) -> Self {
        OptSpec { invert: true, ..self }
    }

    /// Makes the option mandatory.
    pub(crate) const fn mand(self) -> Self {
        OptSpec { mand: true, ..self }
    }

    /// Sets the exclusion mask (option ids as bits).
    pub(crate) const fn excl(self, excl: u32) -> Self {
        OptSpec { excl, ..self }
    }

    /// The bit of this option's id in a `seen` mask.
    pub(crate) const fn bit(&self) -> u32 {
        1 << self.id
    }
}

/// `-p` as it stands in a rule: the protocol and whether it is negated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ProtoCtx {
    pub(crate) proto: Protocol,
    pub(crate) invert: bool,
}

/// What an extension may look at while it parses: the rule around it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ctx<'a> {
    /// `-p` given so far (at option time) or in the whole rule (at finish time).
    pub(crate) proto: Option<ProtoCtx>,
    /// The table of the rule.
    pub(crate) table: Table,
    /// The chain of the rule, when the command names one.
    pub(crate) chain: Option<&'a str>,
}

impl Ctx<'_> {
    /// The `-p` protocol if given and not negated.
    pub(crate) fn plain_proto(&self) -> Option<Protocol> {
        self.proto.filter(|p| !p.invert).map(|p| p.proto)
    }

    /// The protocol number the kernel sees in `NFTA_RULE_COMPAT_PROTO` (negated or not).
    pub(crate) fn compat_proto(&self) -> Option<Protocol> {
        self.proto.map(|p| p.proto)
    }

    /// The hook of the rule's chain when it is a builtin chain of the table.
    pub(crate) fn hook(&self) -> Option<Hook> {
        self.chain.and_then(|c| self.table.builtin_hook(c))
    }
}

/// The values after an option name.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Args<'a> {
    first: Option<&'a str>,
    second: Option<&'a str>,
}

impl<'a> Args<'a> {
    pub(crate) fn new(first: Option<&'a str>, second: Option<&'a str>) -> Self {
        Args { first, second }
    }

    /// The value of a one-value option (empty for flags, which never ask).
    pub(crate) fn value(&self) -> &'a str {
        self.first.unwrap_or("")
    }

    /// The second value of a two-value option.
    pub(crate) fn second(&self) -> &'a str {
        self.second.unwrap_or("")
    }
}

/// A match extension being parsed (`-m NAME` or loaded implicitly by `-p`).
pub(crate) trait MatchParser {
    /// The options this extension adds to the command line.
    fn options(&self) -> &'static [OptSpec];
    /// Handles one option; `spec` is the matched entry of [`MatchParser::options`].
    fn parse(&mut self, ctx: &Ctx<'_>, spec: &OptSpec, args: Args<'_>, invert: bool)
    -> Result<(), ErrorKind>;
    /// Final check (`x6_fcheck`) and the typed result. `seen` has the bits of the options given.
    fn finish(self: Box<Self>, ctx: &Ctx<'_>, seen: u32) -> Result<crate::Match, ErrorKind>;
}

/// A target extension being parsed (`-j NAME`).
pub(crate) trait TargetParser {
    /// The options this extension adds to the command line.
    fn options(&self) -> &'static [OptSpec];
    /// Handles one option.
    fn parse(&mut self, ctx: &Ctx<'_>, spec: &OptSpec, args: Args<'_>, invert: bool)
    -> Result<(), ErrorKind>;
    /// Final check and the typed result.
    fn finish(self: Box<Self>, ctx: &Ctx<'_>, seen: u32) -> Result<crate::Target, ErrorKind>;
}

/// Helper for option-value errors.
pub(crate) fn bad(spec: &OptSpec, value: &str, reason: &'static str) -> ErrorKind {
    ErrorKind::InvalidValue { option: format!("--{}", spec.name), value: value.to_owned(), reason }
}

/// Writes `s` as `xtables_save_string` does: bare when it is non-empty and only `[A-Za-z0-9_-]`,
/// otherwise in double quotes with `"`, `\` and `'` escaped by a backslash.
pub(crate) fn write_save_string(f: &mut std::fmt::Formatter<'_>, s: &str) -> std::fmt::Result {
    use std::fmt::Write;
    let plain = !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if plain {
        return write!(f, " {s}");
    }
    f.write_str(" \"")?;
    for c in s.chars() {
        if matches!(c, '"' | '\\' | '\'') {
            f.write_char('\\')?;
        }
        f.write_char(c)?;
    }
    f.write_char('"')
}

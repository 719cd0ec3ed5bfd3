//! `-j REJECT` (libipt_REJECT, revision 0: [`crate::xt::reject`]).

use std::fmt;

use crate::error::ErrorKind;
use crate::ext::{Args, Ctx, OptSpec, TargetParser, bad};
use crate::protocol::Protocol;
use crate::table::{Hook, Table};
use crate::targets::check_place;

/// `--reject-with` (`enum ipt_reject_with`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RejectWith {
    /// `icmp-net-unreachable` (0).
    NetUnreachable,
    /// `icmp-host-unreachable` (1).
    HostUnreachable,
    /// `icmp-proto-unreachable` (2).
    ProtoUnreachable,
    /// `icmp-port-unreachable` (3), the default.
    PortUnreachable,
    /// `icmp-net-prohibited` (5).
    NetProhibited,
    /// `icmp-host-prohibited` (6).
    HostProhibited,
    /// `tcp-reset` (7); needs `-p tcp`.
    TcpReset,
    /// `icmp-admin-prohibited` (8).
    AdminProhibited,
}

/// `reject_table` (libipt_REJECT.c): value, name, alias, in table order.
const REJECT_TABLE: [(RejectWith, &str, &str); 8] = [
    (RejectWith::NetUnreachable, "icmp-net-unreachable", "net-unreach"),
    (RejectWith::HostUnreachable, "icmp-host-unreachable", "host-unreach"),
    (RejectWith::ProtoUnreachable, "icmp-proto-unreachable", "proto-unreach"),
    (RejectWith::PortUnreachable, "icmp-port-unreachable", "port-unreach"),
    (RejectWith::NetProhibited, "icmp-net-prohibited", "net-prohib"),
    (RejectWith::HostProhibited, "icmp-host-prohibited", "host-prohib"),
    (RejectWith::TcpReset, "tcp-reset", "tcp-rst"),
    (RejectWith::AdminProhibited, "icmp-admin-prohibited", "admin-prohib"),
];

impl RejectWith {
    /// The `ipt_reject_with` value.
    pub fn value(self) -> u32 {
        match self {
            RejectWith::NetUnreachable => 0,
            RejectWith::HostUnreachable => 1,
            RejectWith::ProtoUnreachable => 2,
            RejectWith::PortUnreachable => 3,
            RejectWith::NetProhibited => 5,
            RejectWith::HostProhibited => 6,
            RejectWith::TcpReset => 7,
            RejectWith::AdminProhibited => 8,
        }
    }

    /// The variant of an `ipt_reject_with` value (4, echo-reply, is obsolete).
    pub fn from_value(v: u32) -> Option<RejectWith> {
        REJECT_TABLE.iter().map(|e| e.0).find(|w| w.value() == v)
    }

    /// The name iptables-save prints.
    pub fn name(self) -> &'static str {
        REJECT_TABLE.iter().find(|e| e.0 == self).map(|e| e.1).unwrap_or("icmp-port-unreachable")
    }

    /// `REJECT_parse`: a case-insensitive prefix of a name or alias, first in table order.
    /// The empty string, which iptables takes as the first entry, is refused.
    fn parse(s: &str) -> Option<RejectWith> {
        if s.is_empty() {
            return None;
        }
        let prefix = |n: &str| n.get(..s.len()).is_some_and(|p| p.eq_ignore_ascii_case(s));
        REJECT_TABLE.iter().find(|(_, name, alias)| prefix(name) || prefix(alias)).map(|e| e.0)
    }
}

/// `-j REJECT [--reject-with TYPE]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RejectTarget {
    /// What to answer with.
    pub with: RejectWith,
}

impl RejectTarget {
    /// Writes the option as `REJECT_save` prints it (always, the default included).
    pub(crate) fn fmt_opts(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, " --reject-with {}", self.with.name())
    }
}

const OPTIONS: &[OptSpec] = &[OptSpec::value("reject-with", 0)];

/// Parser state of `-j REJECT`.
pub(crate) struct Parser(RejectWith);

impl Parser {
    pub(crate) fn boxed() -> Box<dyn TargetParser> {
        Box::new(Parser(RejectWith::PortUnreachable))
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
        self.0 = RejectWith::parse(v).ok_or_else(|| bad(spec, v, "unknown reject type"))?;
        Ok(())
    }

    fn finish(self: Box<Self>, ctx: &Ctx<'_>, _seen: u32) -> Result<crate::Target, ErrorKind> {
        check_place(ctx, "REJECT", Table::Filter, &[Hook::Input, Hook::Forward, Hook::Output])?;
        // ipt_REJECT's checkentry: a TCP reset only for `-p tcp`.
        if self.0 == RejectWith::TcpReset && ctx.plain_proto() != Some(Protocol::TCP) {
            return Err(ErrorKind::RequiresProtocol {
                extension: "REJECT --reject-with tcp-reset",
                protocols: "`-p tcp'",
            });
        }
        Ok(crate::Target::Reject(RejectTarget { with: self.0 }))
    }
}

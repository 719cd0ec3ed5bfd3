//! Targets (`-j`, `-g`): verdicts, chain jumps and one module per target extension, with the
//! only name → parser table.

use std::fmt;

use crate::error::ErrorKind;
use crate::ext::{Ctx, TargetParser};
use crate::table::{Hook, Table};

pub mod checksum;
pub mod connmark;
pub mod ct;
pub mod dnat;
pub mod log;
pub mod mark;
pub mod masquerade;
pub mod nat_range;
pub mod nflog;
pub mod redirect;
pub mod reject;
pub mod snat;

pub use connmark::{ConnmarkMode, ConnmarkTarget, ShiftDir};
pub use ct::CtTarget;
pub use dnat::DnatTarget;
pub use log::{LogFlags, LogTarget};
pub use mark::MarkTarget;
pub use masquerade::MasqueradeTarget;
pub use nat_range::NatRange;
pub use nflog::NflogTarget;
pub use redirect::RedirectTarget;
pub use reject::{RejectTarget, RejectWith};
pub use snat::SnatTarget;

/// What a rule does with a matching packet.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Target {
    /// `-j ACCEPT`.
    Accept,
    /// `-j DROP`.
    Drop,
    /// `-j RETURN`.
    Return,
    /// `-j CHAIN`: jump to a user chain.
    Jump(String),
    /// `-g CHAIN`: go to a user chain (no return here).
    Goto(String),
    /// `-j DNAT`.
    Dnat(DnatTarget),
    /// `-j SNAT`.
    Snat(SnatTarget),
    /// `-j MASQUERADE`.
    Masquerade(MasqueradeTarget),
    /// `-j REDIRECT`.
    Redirect(RedirectTarget),
    /// `-j REJECT`.
    Reject(RejectTarget),
    /// `-j LOG`.
    Log(LogTarget),
    /// `-j NFLOG` (a native `log` expression in nf_tables).
    Nflog(NflogTarget),
    /// `-j MARK`.
    Mark(MarkTarget),
    /// `-j CONNMARK`.
    Connmark(ConnmarkTarget),
    /// `-j CHECKSUM --checksum-fill`.
    ChecksumFill,
    /// `-j CT`.
    Ct(CtTarget),
    /// `-j NOTRACK` (CT revision 2 with the notrack alias flag).
    Notrack,
}

impl Target {
    /// The name printed after `-j`/`-g`.
    pub fn name(&self) -> &str {
        match self {
            Target::Accept => "ACCEPT",
            Target::Drop => "DROP",
            Target::Return => "RETURN",
            Target::Jump(c) | Target::Goto(c) => c,
            Target::Dnat(_) => "DNAT",
            Target::Snat(_) => "SNAT",
            Target::Masquerade(_) => "MASQUERADE",
            Target::Redirect(_) => "REDIRECT",
            Target::Reject(_) => "REJECT",
            Target::Log(_) => "LOG",
            Target::Nflog(_) => "NFLOG",
            Target::Mark(_) => "MARK",
            Target::Connmark(_) => "CONNMARK",
            Target::ChecksumFill => "CHECKSUM",
            Target::Ct(_) => "CT",
            Target::Notrack => "NOTRACK",
        }
    }

    fn fmt_opts(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Accept
            | Target::Drop
            | Target::Return
            | Target::Jump(_)
            | Target::Goto(_)
            | Target::Notrack => Ok(()),
            Target::Dnat(t) => t.fmt_opts(f),
            Target::Snat(t) => t.fmt_opts(f),
            Target::Masquerade(t) => t.fmt_opts(f),
            Target::Redirect(t) => t.fmt_opts(f),
            Target::Reject(t) => t.fmt_opts(f),
            Target::Log(t) => t.fmt_opts(f),
            Target::Nflog(t) => t.fmt_opts(f),
            Target::Mark(t) => t.fmt_opts(f),
            Target::Connmark(t) => t.fmt_opts(f),
            Target::ChecksumFill => f.write_str(" --checksum-fill"),
            Target::Ct(t) => t.fmt_opts(f),
        }
    }
}

impl fmt::Display for Target {
    /// `-j NAME OPTIONS` (or `-g CHAIN`) as iptables-save prints it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let flag = if matches!(self, Target::Goto(_)) { "-g" } else { "-j" };
        write!(f, "{flag} {}", self.name())?;
        self.fmt_opts(f)
    }
}

/// What `-j NAME` is.
pub(crate) enum Jump {
    /// A verdict or extension target.
    Ext(Box<dyn TargetParser>),
    /// A standard verdict without options.
    Verdict(Target),
    /// A user chain.
    Chain,
}

/// Resolves `-j NAME`: a standard verdict, a supported extension, or a chain. Target names
/// iptables 1.8.9 has but natkeeper does not model are an error, never a chain jump.
pub(crate) fn resolve(name: &str) -> Result<Jump, ErrorKind> {
    Ok(match name {
        "ACCEPT" => Jump::Verdict(Target::Accept),
        "DROP" => Jump::Verdict(Target::Drop),
        "RETURN" => Jump::Verdict(Target::Return),
        "DNAT" => Jump::Ext(dnat::Parser::boxed()),
        "SNAT" => Jump::Ext(snat::Parser::boxed()),
        "MASQUERADE" => Jump::Ext(masquerade::Parser::boxed()),
        "REDIRECT" => Jump::Ext(redirect::Parser::boxed()),
        "REJECT" => Jump::Ext(reject::Parser::boxed()),
        "LOG" => Jump::Ext(log::Parser::boxed()),
        "NFLOG" => Jump::Ext(nflog::Parser::boxed()),
        "MARK" => Jump::Ext(mark::Parser::boxed()),
        "CONNMARK" => Jump::Ext(connmark::Parser::boxed()),
        "CHECKSUM" => Jump::Ext(checksum::Parser::boxed()),
        "CT" => Jump::Ext(ct::Parser::boxed()),
        "NOTRACK" => Jump::Ext(ct::NotrackParser::boxed()),
        n if IPTABLES_TARGETS.contains(&n) => {
            return Err(ErrorKind::UnsupportedExtension {
                kind: crate::error::ExtensionKind::Target,
                name: n.to_owned(),
            });
        }
        _ => Jump::Chain,
    })
}

/// Whether `name` is a target iptables knows (a user chain may not have such a name).
pub(crate) fn is_target_name(name: &str) -> bool {
    matches!(
        name,
        "ACCEPT"
            | "DROP"
            | "RETURN"
            | "DNAT"
            | "SNAT"
            | "MASQUERADE"
            | "REDIRECT"
            | "REJECT"
            | "LOG"
            | "NFLOG"
            | "MARK"
            | "CONNMARK"
            | "CHECKSUM"
            | "CT"
            | "NOTRACK"
    ) || IPTABLES_TARGETS.contains(&name)
}

/// IPv4 targets of iptables 1.8.9 that natkeeper does not model (`extensions/lib{xt,ipt}_*.c`).
const IPTABLES_TARGETS: &[&str] = &[
    "AUDIT",
    "CLASSIFY",
    "CLUSTERIP",
    "CONNSECMARK",
    "DSCP",
    "ECN",
    "HMARK",
    "IDLETIMER",
    "LED",
    "NETMAP",
    "NFQUEUE",
    "QUEUE",
    "RATEEST",
    "SECMARK",
    "SET",
    "SYNPROXY",
    "TCPMSS",
    "TCPOPTSTRIP",
    "TEE",
    "TOS",
    "TPROXY",
    "TRACE",
    "TTL",
    "ULOG",
];

/// The kernel's table and hook restrictions of an xt target (`.table`, `.hooks` of its
/// `xt_target`). Hooks are checked for builtin chains only; for a user chain the kernel checks
/// them when a base chain jumps to it. An empty `hooks` allows every hook of the table.
pub(crate) fn check_place(ctx: &Ctx<'_>, what: &str, table: Table, hooks: &[Hook]) -> Result<(), ErrorKind> {
    if ctx.table != table {
        return Err(ErrorKind::NotValidInTable { what: format!("target {what}"), table: ctx.table.name() });
    }
    if let Some(hook) = ctx.hook() {
        if !hooks.is_empty() && !hooks.contains(&hook) {
            return Err(ErrorKind::NotValidInChain {
                what: format!("target {what}"),
                chain: hook.chain_name().to_owned(),
            });
        }
    }
    Ok(())
}

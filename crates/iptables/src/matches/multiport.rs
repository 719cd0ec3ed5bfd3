//! `-m multiport` (libxt_multiport, revision 1): up to 15 ports or port ranges. Always the xt
//! `multiport` match, rev 1 ([`crate::xt::multiport_v1`]).

use std::fmt;

use crate::error::ErrorKind;
use crate::ext::{Args, Ctx, MatchParser, OptSpec, bad};
use crate::port::{self, PortRange};
use crate::protocol::Protocol;
use crate::services::ServiceProto;

/// `XT_MULTI_PORTS`: slots in the kernel struct; a range takes two.
pub const XT_MULTI_PORTS: usize = 15;

/// Which ports `-m multiport` compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MultiportKind {
    /// `--sports` (`XT_MULTIPORT_SOURCE`).
    Source,
    /// `--dports` (`XT_MULTIPORT_DESTINATION`).
    Destination,
    /// `--ports`: source or destination (`XT_MULTIPORT_EITHER`).
    Either,
}

/// `-m multiport`: the packet's port is one of `ports`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MultiportMatch {
    /// Which port.
    pub kind: MultiportKind,
    /// Ports and ranges in the order given; at most [`XT_MULTI_PORTS`] slots (a range takes two).
    pub ports: Vec<PortRange>,
    /// `! --dports`.
    pub invert: bool,
}

impl MultiportMatch {
    /// Writes the option as `__multiport_save_v1` prints it.
    pub(crate) fn fmt_opts(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.invert {
            f.write_str(" !")?;
        }
        f.write_str(match self.kind {
            MultiportKind::Source => " --sports ",
            MultiportKind::Destination => " --dports ",
            MultiportKind::Either => " --ports ",
        })?;
        for (i, r) in self.ports.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{r}")?;
        }
        Ok(())
    }

    /// `parse_multi_ports_v1`: comma-separated ports or `lo:hi` ranges (`lo < hi`), port names
    /// resolved for `proto`.
    fn parse_ports(s: &str, proto: ServiceProto) -> Result<Vec<PortRange>, &'static str> {
        let mut out = Vec::new();
        let mut slots = 0;
        for item in s.split(',') {
            if slots >= XT_MULTI_PORTS {
                return Err("too many ports specified (15 slots, a range takes two)");
            }
            let p = |x: &str| port::xt_port(x, Some(proto)).ok_or("invalid port/service");
            match item.split_once(':') {
                None => {
                    out.push(PortRange::single(p(item)?));
                    slots += 1;
                }
                Some((a, b)) => {
                    if slots == XT_MULTI_PORTS - 1 {
                        return Err("too many ports specified (15 slots, a range takes two)");
                    }
                    let (a, b) = (p(a)?, p(b)?);
                    if a >= b {
                        return Err("invalid port range (first must be below last)");
                    }
                    out.push(PortRange::new(a, b));
                    slots += 2;
                }
            }
        }
        Ok(out)
    }
}

const O_SOURCE: u8 = 0;
const O_DEST: u8 = 1;
const O_EITHER: u8 = 2;
const ANY: u32 = 0b111;

/// `multiport_opts` (libxt_multiport.c): all invertible, each excludes the others.
const OPTIONS: &[OptSpec] = &[
    OptSpec::value("source-ports", O_SOURCE).inv().excl(ANY),
    OptSpec::value("sports", O_SOURCE).inv().excl(ANY),
    OptSpec::value("destination-ports", O_DEST).inv().excl(ANY),
    OptSpec::value("dports", O_DEST).inv().excl(ANY),
    OptSpec::value("ports", O_EITHER).inv().excl(ANY),
];

/// Parser state of one `-m multiport`.
#[derive(Default)]
pub(crate) struct Parser(Option<MultiportMatch>);

impl Parser {
    pub(crate) fn boxed() -> Box<dyn MatchParser> {
        Box::<Parser>::default()
    }
}

const NEEDS: &str = "`-p tcp', `-p udp', `-p udplite', `-p sctp' or `-p dccp' (not negated)";

/// `check_proto`: the service table for the rule's protocol, checked when the option is read
/// (so `-p` must come first, as in iptables).
fn service_proto(ctx: &Ctx<'_>) -> Result<ServiceProto, ErrorKind> {
    let err = ErrorKind::RequiresProtocol { extension: "multiport", protocols: NEEDS };
    match ctx.plain_proto().ok_or(err.clone())? {
        Protocol::TCP => Ok(ServiceProto::Tcp),
        Protocol::UDP => Ok(ServiceProto::Udp),
        Protocol::UDPLITE => Ok(ServiceProto::Udplite),
        Protocol::SCTP => Ok(ServiceProto::Sctp),
        Protocol::DCCP => Ok(ServiceProto::Dccp),
        _ => Err(err),
    }
}

impl MatchParser for Parser {
    fn options(&self) -> &'static [OptSpec] {
        OPTIONS
    }

    fn parse(
        &mut self,
        ctx: &Ctx<'_>,
        spec: &OptSpec,
        args: Args<'_>,
        invert: bool,
    ) -> Result<(), ErrorKind> {
        let proto = service_proto(ctx)?;
        let v = args.value();
        let ports = MultiportMatch::parse_ports(v, proto).map_err(|r| bad(spec, v, r))?;
        let kind = match spec.id {
            O_SOURCE => MultiportKind::Source,
            O_DEST => MultiportKind::Destination,
            _ => MultiportKind::Either,
        };
        self.0 = Some(MultiportMatch { kind, ports, invert });
        Ok(())
    }

    fn finish(self: Box<Self>, ctx: &Ctx<'_>, _seen: u32) -> Result<crate::Match, ErrorKind> {
        let m = self.0.ok_or(ErrorKind::NoOption { extension: "multiport" })?;
        service_proto(ctx)?;
        Ok(crate::Match::Multiport(m))
    }
}

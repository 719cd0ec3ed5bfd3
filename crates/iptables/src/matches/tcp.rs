//! `-m tcp` (libxt_tcp): ports, TCP flags, TCP option.
//!
//! iptables-nft 1.8.9 writes ports and flags as native payload expressions and falls back to
//! the xt `tcp` match (rev 0, [`crate::xt::tcp`]) for `--tcp-option`, or when no option is given.

use std::fmt;

use crate::error::ErrorKind;
use crate::ext::{Args, Ctx, MatchParser, OptSpec, bad};
use crate::matches::PortMatch;
use crate::port;
use crate::protocol::Protocol;

/// TCP header flags as `--tcp-flags` names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TcpFlags(pub u8);

/// `tcp_flag_names` (libxt_tcp.c), in print order.
const FLAG_NAMES: [(&str, u8); 6] =
    [("FIN", 0x01), ("SYN", 0x02), ("RST", 0x04), ("PSH", 0x08), ("ACK", 0x10), ("URG", 0x20)];

impl TcpFlags {
    /// FIN.
    pub const FIN: TcpFlags = TcpFlags(0x01);
    /// SYN.
    pub const SYN: TcpFlags = TcpFlags(0x02);
    /// RST.
    pub const RST: TcpFlags = TcpFlags(0x04);
    /// PSH.
    pub const PSH: TcpFlags = TcpFlags(0x08);
    /// ACK.
    pub const ACK: TcpFlags = TcpFlags(0x10);
    /// URG.
    pub const URG: TcpFlags = TcpFlags(0x20);

    /// Parses a comma-separated flag list (`SYN,ACK`, `ALL`, `NONE`), case-insensitive, as
    /// `parse_tcp_flag` does; empty list items are skipped like `strtok` skips them.
    fn parse(s: &str) -> Result<TcpFlags, &'static str> {
        let mut v = 0u8;
        for item in s.split(',').filter(|i| !i.is_empty()) {
            v |= match item.to_ascii_uppercase().as_str() {
                "ALL" => 0x3f,
                "NONE" => 0,
                up => FLAG_NAMES.iter().find(|(n, _)| *n == up).map(|(_, b)| *b).ok_or("unknown TCP flag")?,
            };
        }
        Ok(TcpFlags(v))
    }
}

impl fmt::Display for TcpFlags {
    /// As `print_tcpf`: names in FIN,SYN,RST,PSH,ACK,URG order, `NONE` for no flag. Bits
    /// iptables has no name for (ECE, CWR) follow in hex.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut sep = "";
        for (name, bit) in FLAG_NAMES {
            if self.0 & bit != 0 {
                write!(f, "{sep}{name}")?;
                sep = ",";
            }
        }
        let unknown = self.0 & 0xc0;
        if unknown != 0 {
            write!(f, "{sep}0x{unknown:02x}")?;
        } else if self.0 == 0 {
            f.write_str("NONE")?;
        }
        Ok(())
    }
}

/// `--tcp-flags MASK COMP`: the flags in `mask` must equal `comp`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TcpFlagsMatch {
    /// Flags examined.
    pub mask: TcpFlags,
    /// Flags that must be set among them.
    pub comp: TcpFlags,
    /// `! --tcp-flags`.
    pub invert: bool,
}

/// `--tcp-option N`: the TCP option of kind `N` is present.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TcpOptionMatch {
    /// Option kind (1-255).
    pub kind: u8,
    /// `! --tcp-option`.
    pub invert: bool,
}

/// `-m tcp`. A `None` field is not matched. A port range `0:65535` is stored as `None`, as
/// iptables-save does not print it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct TcpMatch {
    /// `--sport`.
    pub sport: Option<PortMatch>,
    /// `--dport`.
    pub dport: Option<PortMatch>,
    /// `--tcp-option`.
    pub option: Option<TcpOptionMatch>,
    /// `--tcp-flags` / `--syn`.
    pub flags: Option<TcpFlagsMatch>,
}

impl TcpMatch {
    /// `--syn`: `--tcp-flags FIN,SYN,RST,ACK SYN`.
    pub const SYN: TcpFlagsMatch = TcpFlagsMatch { mask: TcpFlags(0x17), comp: TcpFlags::SYN, invert: false };

    /// Whether iptables-nft 1.8.9 writes this match as native expressions (ports and flags)
    /// rather than as the xt `tcp` match (`--tcp-option`, or no option at all).
    pub fn is_native(&self) -> bool {
        self.option.is_none() && (self.sport.is_some() || self.dport.is_some() || self.flags.is_some())
    }

    /// Writes the options as `tcp_save` prints them.
    pub(crate) fn fmt_opts(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (name, p) in [("--sport", &self.sport), ("--dport", &self.dport)] {
            if let Some(p) = p {
                write!(f, "{} {name} {}", if p.invert { " !" } else { "" }, p.ports)?;
            }
        }
        if let Some(o) = &self.option {
            write!(f, "{} --tcp-option {}", if o.invert { " !" } else { "" }, o.kind)?;
        }
        if let Some(fl) = &self.flags {
            write!(f, "{} --tcp-flags {} {}", if fl.invert { " !" } else { "" }, fl.mask, fl.comp)?;
        }
        Ok(())
    }
}

const O_SPORT: u8 = 0;
const O_DPORT: u8 = 1;
const O_SYN: u8 = 2;
const O_FLAGS: u8 = 3;
const O_OPTION: u8 = 4;

/// `tcp_opts` (libxt_tcp.c). Every option may be negated; `--syn` and `--tcp-flags` exclude
/// each other.
const OPTIONS: &[OptSpec] = &[
    OptSpec::value("source-port", O_SPORT).inv(),
    OptSpec::value("sport", O_SPORT).inv(),
    OptSpec::value("destination-port", O_DPORT).inv(),
    OptSpec::value("dport", O_DPORT).inv(),
    OptSpec::flag("syn", O_SYN).inv().excl(1 << O_FLAGS),
    OptSpec::pair("tcp-flags", O_FLAGS).inv().excl(1 << O_SYN),
    OptSpec::value("tcp-option", O_OPTION).inv(),
];

/// Parser state of one `-m tcp`.
#[derive(Default)]
pub(crate) struct Parser(TcpMatch);

impl Parser {
    pub(crate) fn boxed() -> Box<dyn MatchParser> {
        Box::<Parser>::default()
    }
}

/// Parses a port option shared by tcp and udp; refuses `! 0:65535`, which iptables-nft 1.8.9
/// silently turns into "any port".
pub(crate) fn port_match(
    spec: &OptSpec,
    value: &str,
    invert: bool,
    parse: fn(&str) -> Result<port::PortRange, &'static str>,
) -> Result<Option<PortMatch>, ErrorKind> {
    let ports = parse(value).map_err(|r| bad(spec, value, r))?;
    if ports.is_any() {
        if invert {
            return Err(ErrorKind::NeverMatches {
                what: "negated port range 0:65535 (iptables-nft 1.8.9 would install it as any port)",
            });
        }
        return Ok(None);
    }
    Ok(Some(PortMatch { ports, invert }))
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
        match spec.id {
            O_SPORT => self.0.sport = port_match(spec, v, invert, port::tcp_range)?,
            O_DPORT => self.0.dport = port_match(spec, v, invert, port::tcp_range)?,
            O_SYN => self.0.flags = flags_match(TcpMatch::SYN.mask, TcpMatch::SYN.comp, invert)?,
            O_FLAGS => {
                let mask = TcpFlags::parse(v).map_err(|r| bad(spec, v, r))?;
                let second = args.second();
                let comp = TcpFlags::parse(second).map_err(|r| bad(spec, second, r))?;
                self.0.flags = flags_match(mask, comp, invert)?;
            }
            _ => {
                let kind = crate::num::strtoul_full(v, 1, 255)
                    .ok_or_else(|| bad(spec, v, "TCP option kind must be 1-255"))?;
                self.0.option = Some(TcpOptionMatch { kind: kind as u8, invert });
            }
        }
        Ok(())
    }

    fn finish(self: Box<Self>, ctx: &Ctx<'_>, _seen: u32) -> Result<crate::Match, ErrorKind> {
        if ctx.plain_proto() != Some(Protocol::TCP) {
            return Err(ErrorKind::RequiresProtocol { extension: "tcp", protocols: "`-p tcp'" });
        }
        Ok(crate::Match::Tcp(self.0))
    }
}

/// A flags test; mask 0 matches every packet (not printed), `!` with mask 0 none.
fn flags_match(mask: TcpFlags, comp: TcpFlags, invert: bool) -> Result<Option<TcpFlagsMatch>, ErrorKind> {
    if mask.0 == 0 {
        if invert {
            return Err(ErrorKind::NeverMatches {
                what: "`! --tcp-flags NONE ...' (iptables-nft 1.8.9 would install it as any packet)",
            });
        }
        return Ok(None);
    }
    Ok(Some(TcpFlagsMatch { mask, comp, invert }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_names() {
        assert_eq!(TcpFlags::parse("syn,ACK").unwrap(), TcpFlags(0x12));
        assert_eq!(TcpFlags::parse("ALL").unwrap().to_string(), "FIN,SYN,RST,PSH,ACK,URG");
        assert_eq!(TcpFlags::parse("NONE").unwrap().to_string(), "NONE");
        assert_eq!(TcpFlags(0x17).to_string(), "FIN,SYN,RST,ACK");
        assert!(TcpFlags::parse("SYNN").is_err());
    }
}

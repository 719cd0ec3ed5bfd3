//! nf_tables rules in iptables' tables read back as typed [`Rule`]s, the way iptables-nft 1.8.9
//! reads them (nft-shared.c `nft_rule_to_iptables_command_state`, nft-ipv4.c), so that a rule
//! prints exactly as `iptables-save` prints it.
//!
//! The walk keeps iptables' register model: loads (`meta`, `payload`, `immediate`) fill a
//! register, `bitwise` records a mask, and each `cmp`/`range` is read against what its register
//! holds. Native port tests of a rule merge into one `tcp` (or `udp`) match, created where the
//! first of them stands; `-m mark`, `-m limit`, `--pkt-type`, `--ttl` and ICMP tests become
//! matches where they stand; a userdata comment comes last.
//!
//! Where iptables 1.8.9 would fail ("unknown payload offset", ...), this fails with the same
//! reason. Where it would silently skip an expression and so print a broader rule (sets,
//! unknown transport offsets, non-`==` operators it reads as `==`, a second verdict...), this
//! refuses with [`DecodeErrorKind::WouldDiffer`] instead.

use std::fmt;

use natkeeper_nft::expr::{BitwiseOp, CmpOp, MetaKey, NFT_LIMIT_PKTS, PayloadBase, PayloadOp, Register};
use natkeeper_nft::{Data, Expr, Family, Verdict};

use crate::addr::AddrMask;
use crate::encode::{INVALID_IFNAME, IPHDR_DADDR, IPHDR_SADDR};
use crate::error::ExtensionKind;
use crate::iface::Interface;
use crate::matches::{CommentMatch, LimitMatch, Match};
use crate::protocol::Protocol;
use crate::rule::{AddrMatch, Counters, IfaceMatch, ProtoMatch, Rule};
use crate::table::Table;
use crate::targets::{NflogTarget, Target};
use crate::xt::icmp::IptIcmp;
use crate::xt::mark_mt_v1::XtMarkMtinfo1;
use crate::xt::pkttype::XtPkttypeInfo;
use crate::xt::tcp::{XT_TCP_INV_DSTPT, XT_TCP_INV_FLAGS, XT_TCP_INV_SRCPT, XtTcp};
use crate::xt::ttl::{IPT_TTL_EQ, IPT_TTL_GT, IPT_TTL_LT, IPT_TTL_NE, IptTtlInfo};
use crate::xt::udp::{XT_UDP_INV_DSTPT, XT_UDP_INV_SRCPT, XtUdp};
use crate::xt::{Unrepresentable, XtMatch, XtTarget};

/// `offsetof(struct iphdr, frag_off)`.
const IPHDR_FRAG_OFF: u32 = 6;
/// `offsetof(struct iphdr, ttl)`.
const IPHDR_TTL: u32 = 8;
/// `offsetof(struct iphdr, protocol)`.
const IPHDR_PROTOCOL: u32 = 9;
/// `NFTNL_UDATA_RULE_COMMENT`.
const UDATA_TYPE_COMMENT: u8 = 0;
/// `XT_LIMIT_SCALE`.
const XT_LIMIT_SCALE: u64 = 10_000;
/// `IFNAMSIZ`.
const IFNAMSIZ: usize = 16;
/// The longest comment the xt comment match holds (`XT_MAX_COMMENT_LEN - 1`).
const MAX_COMMENT: usize = 255;
/// The longest NFLOG prefix iptables-nft reads back (`NF_LOG_PREFIXLEN - 1`).
const MAX_NFLOG_PREFIX: usize = 127;

/// Why a rule does not read back as an iptables rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeErrorKind {
    /// The rule is not in one of iptables' tables (`ip filter`, `ip nat`, ...).
    #[error("not in an iptables table")]
    NotIptables,
    /// An expression iptables-nft 1.8.9 does not accept in its tables at all: iptables-save
    /// declares the whole table incompatible.
    #[error("expression `{expr}' is not one iptables-nft 1.8.9 accepts (the table is incompatible)")]
    Incompatible {
        /// The expression's name.
        expr: String,
    },
    /// iptables-save 1.8.9 itself fails on this rule, with this reason ("Parsing nftables rule
    /// failed").
    #[error("{reason} (iptables-save 1.8.9 fails on this rule too)")]
    Unreadable {
        /// iptables' error message.
        reason: &'static str,
    },
    /// iptables-save 1.8.9 would print this rule without a test it contains (or otherwise not
    /// as the kernel applies it); natkeeper refuses rather than print a broader rule.
    #[error("{what}: iptables-save 1.8.9 would print a rule the kernel does not apply")]
    WouldDiffer {
        /// The part iptables would skip or misread.
        what: &'static str,
    },
    /// An xt extension natkeeper does not model.
    #[error("{kind} extension `{name}' rev {rev} is not supported by natkeeper")]
    UnsupportedExtension {
        /// Match or target.
        kind: ExtensionKind,
        /// Its name.
        name: String,
        /// Its revision.
        rev: u32,
    },
    /// An xt blob of the wrong size for its extension.
    #[error(transparent)]
    BadBlob(Box<crate::xt::DecodeError>),
    /// An xt blob no typed option describes exactly.
    #[error(transparent)]
    Unrepresentable(Box<Unrepresentable>),
    /// Something iptables reads but the typed rule cannot hold (a target or an interface
    /// natkeeper does not model).
    #[error("{what} is not supported by natkeeper")]
    Unsupported {
        /// What.
        what: &'static str,
    },
}

/// A rule that does not read back: where it is, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct DecodeError {
    /// Table name.
    pub table: String,
    /// Chain name.
    pub chain: String,
    /// The rule's kernel handle, when it has one.
    pub handle: Option<u64>,
    /// Index of the offending expression in the rule, when one is to blame.
    pub expr: Option<u32>,
    /// What is wrong.
    pub kind: DecodeErrorKind,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "rule in {} {}", self.table, self.chain)?;
        if let Some(h) = self.handle {
            write!(f, " (handle {h})")?;
        }
        if let Some(i) = self.expr {
            write!(f, ", expression {}", i + 1)?;
        }
        write!(f, ": {}", self.kind)
    }
}

/// Whether iptables-nft 1.8.9 accepts `expr` in its tables (nft.c `nft_is_expr_compatible`):
/// `match target payload meta cmp bitwise counter immediate lookup range`, a packet `limit`
/// without flags, a `log` with a group. One other expression anywhere makes iptables-save
/// declare the whole table incompatible.
pub fn is_compatible(expr: &Expr) -> bool {
    match expr {
        Expr::Match(_)
        | Expr::Target(_)
        | Expr::Payload(_)
        | Expr::Meta(_)
        | Expr::Cmp(_)
        | Expr::Bitwise(_)
        | Expr::Counter(_)
        | Expr::Immediate(_)
        | Expr::Lookup(_)
        | Expr::Range(_) => true,
        Expr::Limit(l) => l.kind == NFT_LIMIT_PKTS && l.flags == 0,
        Expr::Log(l) => l.group.is_some(),
        Expr::Unknown(u) => {
            // Decoded as unknown because of an attribute natkeeper does not know: judge by name.
            matches!(
                u.name.as_str(),
                "match"
                    | "target"
                    | "payload"
                    | "meta"
                    | "cmp"
                    | "bitwise"
                    | "counter"
                    | "immediate"
                    | "lookup"
                    | "range"
            )
        }
        _ => false,
    }
}

/// Reads an nf_tables rule of an iptables table as iptables-nft 1.8.9 reads it, into the typed
/// rule whose `Display` is the line `iptables-save` prints (counters, when the rule has a
/// `counter`, in [`Rule::counters`]).
///
/// ```
/// use natkeeper_iptables::{Command, decode, encode};
///
/// let cmd: Command = "-A FORWARD -i eth0 -o virbr0 -p tcp -m state --state NEW -j ACCEPT".parse()?;
/// let written = encode(cmd.rule().unwrap())?;
/// let read = decode(&written)?;
/// assert_eq!(read.to_string(), "-A FORWARD -i eth0 -o virbr0 -p tcp -m state --state NEW -j ACCEPT");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn decode(rule: &natkeeper_nft::Rule) -> Result<Rule, DecodeError> {
    let err = |expr: Option<u32>, kind: DecodeErrorKind| DecodeError {
        table: rule.table.clone(),
        chain: rule.chain.clone(),
        handle: rule.handle,
        expr,
        kind,
    };
    let table = Table::parse(&rule.table)
        .filter(|_| rule.family == Family::Ip)
        .ok_or_else(|| err(None, DecodeErrorKind::NotIptables))?;
    let mut ctx = Ctx::default();
    for (i, e) in (0u32..).zip(&rule.exprs) {
        ctx.expr(e).map_err(|k| err(Some(i), k))?;
    }
    let comment = udata_comment(rule.userdata.as_deref()).map_err(|k| err(None, k))?;
    ctx.into_rule(table, &rule.chain, comment).map_err(|k| err(None, k))
}

/// The comment iptables reads from rule userdata (`get_comment`): TLV type 0, NUL-terminated;
/// userdata that does not parse is ignored, as iptables ignores it.
fn udata_comment(udata: Option<&[u8]>) -> Result<Option<String>, DecodeErrorKind> {
    let Some(mut u) = udata else { return Ok(None) };
    let mut comment = None;
    while let [kind, len, rest @ ..] = u {
        let Some(value) = rest.get(..usize::from(*len)) else { return Ok(None) };
        if *kind == UDATA_TYPE_COMMENT {
            let [text @ .., 0] = value else { return Ok(None) };
            comment = Some(text);
        }
        u = &rest[usize::from(*len)..];
    }
    let Some(text) = comment else { return Ok(None) };
    // strcpy stops at the first NUL; strncpy cuts at 255 bytes.
    let text = text.split(|&b| b == 0).next().unwrap_or_default();
    if text.len() > MAX_COMMENT {
        return Err(DecodeErrorKind::WouldDiffer { what: "a comment longer than 255 bytes" });
    }
    let text = std::str::from_utf8(text)
        .map_err(|_| DecodeErrorKind::Unsupported { what: "a comment that is not UTF-8" })?;
    Ok(Some(text.to_owned()))
}

/// What a register holds (`struct nft_xt_ctx_reg`).
#[derive(Debug, Clone, Default)]
enum Held {
    #[default]
    Undef,
    Meta(MetaKey),
    Payload {
        base: PayloadBase,
        offset: u32,
        len: u32,
    },
    /// Data from an `immediate` (only `-j TRACE` uses it).
    Immediate,
}

#[derive(Debug, Clone, Default)]
struct Reg {
    held: Held,
    /// The mask of a `bitwise` applied to it.
    mask: Option<Vec<u8>>,
}

/// A match of the rule being read, in the form iptables keeps it until it prints.
#[derive(Debug, Clone)]
enum Slot {
    /// Where the rule's native tcp tests stand ([`Ctx::tcp`]).
    NativeTcp,
    /// Where the rule's native udp tests stand ([`Ctx::udp`]).
    NativeUdp,
    Mark(XtMarkMtinfo1),
    Pkttype(XtPkttypeInfo),
    Icmp(IptIcmp),
    Ttl(IptTtlInfo),
    Limit {
        avg: u32,
        burst: u32,
    },
    Xt(Box<XtMatch>),
}

/// The rule being read (`struct iptables_command_state` and `struct nft_xt_ctx`).
#[derive(Debug, Default)]
struct Ctx {
    regs: [Reg; 17],
    src: Option<(AddrMask, bool)>,
    dst: Option<(AddrMask, bool)>,
    iniface: Option<(String, bool)>,
    outiface: Option<(String, bool)>,
    proto: Option<(u8, bool)>,
    frag: Option<bool>,
    slots: Vec<Slot>,
    /// The one `tcp` match all native tcp tests of the rule go into (`ctx->tcpudp`).
    tcp: Option<XtTcp>,
    /// The same for udp.
    udp: Option<XtUdp>,
    target: Option<Target>,
    counters: Option<Counters>,
}

type Step = Result<(), DecodeErrorKind>;

fn unreadable(reason: &'static str) -> DecodeErrorKind {
    DecodeErrorKind::Unreadable { reason }
}

fn differ(what: &'static str) -> DecodeErrorKind {
    DecodeErrorKind::WouldDiffer { what }
}

/// `nft_xt_ctx_get_sreg`: iptables' register slots.
fn slot(r: Register) -> Result<usize, DecodeErrorKind> {
    match r.0 {
        0 => Ok(0),
        1 => Ok(1),
        2 => Ok(5),
        3 => Ok(9),
        4 => Ok(13),
        n @ 8..=23 => Ok(n as usize - 8),
        _ => Err(unreadable("Unknown register requested")),
    }
}

/// `==` or `!=` (the only operators iptables reads for most tests).
fn inv(op: CmpOp) -> Result<bool, DecodeErrorKind> {
    match op {
        CmpOp::Eq => Ok(false),
        CmpOp::Neq => Ok(true),
        _ => Err(differ("an ordering comparison iptables would read as `==`")),
    }
}

/// Sets a field iptables keeps once. A second, different test of the same field would print
/// as the last one only (narrower or broader than the kernel's rule); the same test twice (nft
/// adds its own `meta l4proto` before a port test) reads as itself.
fn set_once<T: PartialEq>(field: &mut Option<T>, value: T, what: &'static str) -> Step {
    match field {
        Some(old) if *old != value => Err(differ(what)),
        _ => {
            *field = Some(value);
            Ok(())
        }
    }
}

impl Ctx {
    fn reg(&mut self, r: Register) -> Result<&mut Reg, DecodeErrorKind> {
        let i = slot(r)?;
        self.regs.get_mut(i).ok_or_else(|| unreadable("Unknown register requested"))
    }

    /// A destination register: cleared first (`nft_xt_ctx_get_dreg`).
    fn dreg(&mut self, r: Register) -> Result<&mut Reg, DecodeErrorKind> {
        let reg = self.reg(r)?;
        *reg = Reg::default();
        Ok(reg)
    }

    fn expr(&mut self, e: &Expr) -> Step {
        if !is_compatible(e) {
            return Err(DecodeErrorKind::Incompatible { expr: e.name().to_owned() });
        }
        match e {
            Expr::Counter(c) => {
                self.counters = Some(Counters { packets: c.packets, bytes: c.bytes });
                Ok(())
            }
            Expr::Payload(p) => match p.op {
                PayloadOp::Load { dreg } => {
                    self.dreg(dreg)?.held = Held::Payload { base: p.base, offset: p.offset, len: p.len };
                    Ok(())
                }
                PayloadOp::Store { .. } => Err(differ("a payload store (packet mangling)")),
            },
            Expr::Meta(m) => match *m {
                natkeeper_nft::expr::Meta::Load { key, dreg } => {
                    self.dreg(dreg)?.held = Held::Meta(key);
                    Ok(())
                }
                natkeeper_nft::expr::Meta::Store { key: MetaKey::NfTrace, .. } => {
                    Err(DecodeErrorKind::Unsupported { what: "`-j TRACE'" })
                }
                natkeeper_nft::expr::Meta::Store { .. } => Err(unreadable("meta sreg key not supported")),
            },
            Expr::Bitwise(b) => {
                let BitwiseOp::Bool { mask, xor } = &b.op else {
                    return Err(differ("a shift"));
                };
                if xor.iter().any(|&x| x != 0) || mask.len() > 16 {
                    return Err(differ("a bitwise xor"));
                }
                let mut reg = self.reg(b.sreg)?.clone();
                reg.mask = Some(mask.clone());
                *self.reg(b.dreg)? = reg;
                Ok(())
            }
            Expr::Cmp(c) => {
                let reg = self.reg(c.sreg)?.clone();
                match reg.held {
                    Held::Undef => Err(unreadable("cmp sreg undef")),
                    Held::Meta(key) => self.meta(key, reg.mask.as_deref(), c.op, &c.data),
                    Held::Payload { base: PayloadBase::Network, offset, len } => {
                        self.network(offset, len, reg.mask.as_deref(), c.op, &c.data)
                    }
                    Held::Payload { base: PayloadBase::Transport, offset, len } => {
                        self.transport(offset, len, reg.mask.as_deref(), c.op, &c.data)
                    }
                    Held::Payload { .. } => Err(differ("a link-layer payload test")),
                    Held::Immediate => Err(unreadable("cmp sreg has unknown type")),
                }
            }
            Expr::Range(r) => {
                let reg = self.reg(r.sreg)?.clone();
                match reg.held {
                    Held::Undef => Err(unreadable("range sreg undef")),
                    Held::Payload { base: PayloadBase::Transport, offset, len } => {
                        if reg.mask.is_some() || len != 2 || r.from.len() != 2 || r.to.len() != 2 {
                            return Err(differ("a port range iptables would skip"));
                        }
                        let lo = u16::from_be_bytes([r.from[0], r.from[1]]);
                        let hi = u16::from_be_bytes([r.to[0], r.to[1]]);
                        self.port_range(offset, lo, hi, inv(r.op)?)
                    }
                    Held::Payload { .. } => Err(unreadable("range with unknown payload base")),
                    _ => Err(unreadable("range sreg type unsupported")),
                }
            }
            Expr::Immediate(imm) => match &imm.data {
                Data::Value(v) => {
                    if v.len() > 16 {
                        return Err(unreadable("oversized immediate data"));
                    }
                    self.dreg(imm.dreg)?.held = Held::Immediate;
                    Ok(())
                }
                Data::Verdict(v) => {
                    let t = match v {
                        Verdict::Accept => Target::Accept,
                        Verdict::Drop => Target::Drop,
                        Verdict::Return => Target::Return,
                        Verdict::Jump(c) => Target::Jump(c.clone()),
                        Verdict::Goto(c) => Target::Goto(c.clone()),
                        _ => return Err(differ("a verdict iptables ignores (queue, continue, ...)")),
                    };
                    set_once(&mut self.target, t, "a second target")
                }
            },
            Expr::Match(x) => {
                let m = XtMatch::decode(&x.name, x.rev, &x.info)?;
                if let XtMatch::Unknown { name, rev, .. } = m {
                    return Err(DecodeErrorKind::UnsupportedExtension {
                        kind: ExtensionKind::Match,
                        name,
                        rev,
                    });
                }
                self.slots.push(Slot::Xt(Box::new(m)));
                Ok(())
            }
            Expr::Target(x) => {
                let t = XtTarget::decode(&x.name, x.rev, &x.info)?;
                if let XtTarget::Unknown { name, rev, .. } = t {
                    return Err(DecodeErrorKind::UnsupportedExtension {
                        kind: ExtensionKind::Target,
                        name,
                        rev,
                    });
                }
                set_once(&mut self.target, t.to_target()?, "a second target")
            }
            Expr::Limit(l) => {
                if l.rate == 0 {
                    return Err(differ("a limit of rate 0"));
                }
                let avg = u32::try_from(XT_LIMIT_SCALE.saturating_mul(l.unit) / l.rate)
                    .map_err(|_| differ("a limit iptables cannot express"))?;
                self.slots.push(Slot::Limit { avg, burst: l.burst });
                Ok(())
            }
            Expr::Log(l) => {
                if l.level.is_some() || l.flags.is_some() {
                    return Err(differ("log level or flags with a group"));
                }
                let prefix = l.prefix.clone().filter(|p| !p.is_empty());
                if prefix.as_ref().is_some_and(|p| p.len() > MAX_NFLOG_PREFIX) {
                    return Err(differ("an NFLOG prefix longer than 127 bytes"));
                }
                let t = Target::Nflog(NflogTarget {
                    group: l.group.unwrap_or_default(),
                    prefix,
                    size: l.snaplen,
                    threshold: l.qthreshold.unwrap_or(0),
                });
                set_once(&mut self.target, t, "a second target")
            }
            Expr::Lookup(_) => Err(differ("a set lookup (iptables-save 1.8.9 drops it silently)")),
            Expr::Unknown(_) => {
                Err(DecodeErrorKind::Unsupported { what: "an expression attribute natkeeper does not know" })
            }
            _ => Err(DecodeErrorKind::Incompatible { expr: e.name().to_owned() }),
        }
    }

    /// `nft_ipv4_parse_meta` / `parse_meta`.
    fn meta(&mut self, key: MetaKey, mask: Option<&[u8]>, op: CmpOp, data: &[u8]) -> Step {
        if mask.is_some() && key != MetaKey::Mark {
            return Err(differ("a masked interface or protocol test"));
        }
        match key {
            MetaKey::L4Proto => {
                let [p] = data else { return Err(differ("a protocol test of the wrong size")) };
                set_once(&mut self.proto, (*p, inv(op)?), "a second protocol test")
            }
            MetaKey::IifName | MetaKey::BriIifName => {
                let name = ifname(data, inv(op)?)?;
                set_once(&mut self.iniface, name, "a second input interface test")
            }
            MetaKey::OifName | MetaKey::BriOifName => {
                let name = ifname(data, inv(op)?)?;
                set_once(&mut self.outiface, name, "a second output interface test")
            }
            MetaKey::Mark => {
                let Ok(v) = <[u8; 4]>::try_from(data) else { return Err(differ("a mark of the wrong size")) };
                let mask = match mask {
                    None => u32::MAX,
                    Some(m) => match m.get(..4).and_then(|m| <[u8; 4]>::try_from(m).ok()) {
                        Some(m) => u32::from_ne_bytes(m),
                        None => return Err(differ("a mark mask of the wrong size")),
                    },
                };
                let x = XtMarkMtinfo1 {
                    mark: u32::from_ne_bytes(v),
                    mask,
                    invert: u8::from(inv(op)?),
                    pad: [0; 7],
                };
                self.slots.push(Slot::Mark(x));
                Ok(())
            }
            MetaKey::PktType => {
                let [t] = data else { return Err(differ("a packet type of the wrong size")) };
                let x = XtPkttypeInfo { pkttype: i32::from(*t), invert: i32::from(inv(op)?) };
                self.slots.push(Slot::Pkttype(x));
                Ok(())
            }
            MetaKey::Iif | MetaKey::Oif => {
                // `if_indextoname` in the namespace reading the rule, as iptables does.
                let Ok(index) = <[u8; 4]>::try_from(data) else {
                    return Err(differ("an interface index of the wrong size"));
                };
                let name = nix::net::if_::if_indextoname(u32::from_ne_bytes(index))
                    .ok()
                    .and_then(|n| n.into_string().ok())
                    .ok_or_else(|| differ("an interface index no interface has"))?;
                let v = (name, inv(op)?);
                if key == MetaKey::Iif {
                    set_once(&mut self.iniface, v, "a second input interface test")
                } else {
                    set_once(&mut self.outiface, v, "a second output interface test")
                }
            }
            _ => Err(unreadable("unknown ipv4 meta key")),
        }
    }

    /// `nft_ipv4_parse_payload`.
    fn network(&mut self, offset: u32, len: u32, mask: Option<&[u8]>, op: CmpOp, data: &[u8]) -> Step {
        match offset {
            IPHDR_SADDR | IPHDR_DADDR => {
                let len = len as usize;
                if !(1..=4).contains(&len) || data.len() != len {
                    return Err(differ("an address test of an odd size"));
                }
                let mut a = [0u8; 4];
                a[..len].copy_from_slice(data);
                let m = match mask {
                    Some(m) => match m.get(..4).and_then(|m| <[u8; 4]>::try_from(m).ok()) {
                        Some(m) if len == 4 => m,
                        _ => return Err(differ("an address mask of an odd size")),
                    },
                    None => {
                        let mut m = [0u8; 4];
                        m[..len].fill(0xff);
                        m
                    }
                };
                let net = AddrMask { addr: a.into(), mask: m.into() };
                if u32::from(net.addr) & !u32::from(net.mask) != 0 {
                    return Err(differ("an address with bits outside its mask"));
                }
                let v = (net, inv(op)?);
                if offset == IPHDR_SADDR {
                    set_once(&mut self.src, v, "a second source address test")
                } else {
                    set_once(&mut self.dst, v, "a second destination address test")
                }
            }
            IPHDR_PROTOCOL => {
                let [p] = data else { return Err(differ("a protocol test of the wrong size")) };
                if mask.is_some() || len != 1 {
                    return Err(differ("a masked protocol test"));
                }
                set_once(&mut self.proto, (*p, inv(op)?), "a second protocol test")
            }
            IPHDR_FRAG_OFF => {
                // iptables assumes the mask and the data; natkeeper checks them.
                if len != 2 || mask != Some(&[0x1f, 0xff][..]) || data != [0, 0] {
                    return Err(differ("a fragment test other than -f"));
                }
                // `!= 0` is a fragment (`-f`); `== 0` is not (`! -f`).
                set_once(&mut self.frag, !inv(op)?, "a second fragment test")
            }
            IPHDR_TTL => {
                let [ttl] = data else { return Err(unreadable("invalid ttl field match")) };
                if mask.is_some() || len != 1 {
                    return Err(differ("a masked ttl test"));
                }
                let (mode, ttl) = match op {
                    CmpOp::Neq => (IPT_TTL_NE, *ttl),
                    CmpOp::Eq => (IPT_TTL_EQ, *ttl),
                    CmpOp::Lt => (IPT_TTL_LT, *ttl),
                    CmpOp::Gt => (IPT_TTL_GT, *ttl),
                    CmpOp::Lte if *ttl < u8::MAX => (IPT_TTL_LT, ttl + 1),
                    CmpOp::Gte if *ttl > 0 => (IPT_TTL_GT, ttl - 1),
                    _ => return Err(unreadable("invalid ttl field match")),
                };
                self.slots.push(Slot::Ttl(IptTtlInfo { mode, ttl, pad: [0; 6] }));
                Ok(())
            }
            _ => Err(unreadable("unknown payload offset")),
        }
    }

    /// The `-p` protocol transport tests depend on (`cs->fw.ip.proto`).
    fn l4(&self) -> Result<Protocol, DecodeErrorKind> {
        match self.proto {
            Some((p, false)) => Ok(Protocol(p)),
            Some((_, true)) => Err(differ("a transport test under a negated protocol")),
            None => Err(unreadable("unsupported layer 4 protocol value")),
        }
    }

    /// `nft_parse_transport`.
    fn transport(&mut self, offset: u32, len: u32, mask: Option<&[u8]>, op: CmpOp, data: &[u8]) -> Step {
        let proto = self.l4()?;
        if proto == Protocol::ICMP {
            return self.icmp(offset, mask, op, data);
        }
        if proto != Protocol::TCP && proto != Protocol::UDP {
            return Err(unreadable("unsupported layer 4 protocol value"));
        }
        if data.len() != len as usize {
            return Err(differ("a transport test of an odd size"));
        }
        if offset == 13 && proto == Protocol::TCP {
            let [flags] = data else { return Err(differ("a TCP flags test iptables would skip")) };
            let flg_mask = match mask {
                None => u8::MAX,
                Some([m]) => *m,
                Some(_) => return Err(differ("a TCP flags mask of an odd size")),
            };
            let invert = inv(op)?;
            let t = self.tcp_slot();
            if invert {
                t.invflags |= XT_TCP_INV_FLAGS;
            }
            t.flg_cmp = *flags;
            t.flg_mask = flg_mask;
            return Ok(());
        }
        if mask.is_some() {
            return Err(differ("a masked port test"));
        }
        match (offset, data) {
            (0, [a, b]) => self.port(proto, Some(u16::from_be_bytes([*a, *b])), None, op),
            (0, [a, b, c, d]) => {
                self.port(proto, Some(u16::from_be_bytes([*a, *b])), Some(u16::from_be_bytes([*c, *d])), op)
            }
            (2, [a, b]) => self.port(proto, None, Some(u16::from_be_bytes([*a, *b])), op),
            _ => Err(differ("a transport header test iptables would skip")),
        }
    }

    fn tcp_slot(&mut self) -> &mut XtTcp {
        if self.tcp.is_none() {
            self.slots.push(Slot::NativeTcp);
        }
        self.tcp.get_or_insert(XtTcp { spts: [0, u16::MAX], dpts: [0, u16::MAX], ..XtTcp::default() })
    }

    fn udp_slot(&mut self) -> &mut XtUdp {
        if self.udp.is_none() {
            self.slots.push(Slot::NativeUdp);
        }
        self.udp.get_or_insert(XtUdp { spts: [0, u16::MAX], dpts: [0, u16::MAX], ..XtUdp::default() })
    }

    /// `nft_parse_tcp`/`nft_parse_udp` with `port_match_single_to_range`.
    fn port(&mut self, proto: Protocol, sport: Option<u16>, dport: Option<u16>, op: CmpOp) -> Step {
        let single = |ports: &mut [u16; 2], invflags: &mut u8, port: Option<u16>, flag: u8| -> Step {
            let Some(p) = port else { return Ok(()) };
            let p32 = i32::from(p);
            match op {
                CmpOp::Neq => {
                    *invflags |= flag;
                    *ports = [p, p];
                }
                CmpOp::Eq => *ports = [p, p],
                CmpOp::Lt => ports[1] = (p32 - 1).max(1) as u16,
                CmpOp::Lte => ports[1] = p,
                CmpOp::Gt => ports[0] = (p32 + 1).min(i32::from(u16::MAX)) as u16,
                CmpOp::Gte => ports[0] = p,
                CmpOp::Other(_) => return Err(differ("a port comparison iptables would skip")),
            }
            Ok(())
        };
        if proto == Protocol::TCP {
            let t = self.tcp_slot();
            single(&mut t.spts, &mut t.invflags, sport, XT_TCP_INV_SRCPT)?;
            single(&mut t.dpts, &mut t.invflags, dport, XT_TCP_INV_DSTPT)
        } else {
            let u = self.udp_slot();
            single(&mut u.spts, &mut u.invflags, sport, XT_UDP_INV_SRCPT)?;
            single(&mut u.dpts, &mut u.invflags, dport, XT_UDP_INV_DSTPT)
        }
    }

    /// `nft_parse_transport_range`.
    fn port_range(&mut self, offset: u32, lo: u16, hi: u16, invert: bool) -> Step {
        let proto = self.l4()?;
        let (sport, flag_tcp, flag_udp) = match offset {
            0 => (true, XT_TCP_INV_SRCPT, XT_UDP_INV_SRCPT),
            2 => (false, XT_TCP_INV_DSTPT, XT_UDP_INV_DSTPT),
            _ => return Err(differ("a port range iptables would skip")),
        };
        if proto == Protocol::TCP {
            let t = self.tcp_slot();
            *(if sport { &mut t.spts } else { &mut t.dpts }) = [lo, hi];
            if invert {
                t.invflags |= flag_tcp;
            }
        } else if proto == Protocol::UDP {
            let u = self.udp_slot();
            *(if sport { &mut u.spts } else { &mut u.dpts }) = [lo, hi];
            if invert {
                u.invflags |= flag_udp;
            }
        } else {
            return Err(differ("a port range under a protocol iptables would skip"));
        }
        Ok(())
    }

    /// `nft_parse_icmp`: a type (offset 0, with the code when two bytes), or a code (offset 1).
    fn icmp(&mut self, offset: u32, mask: Option<&[u8]>, op: CmpOp, data: &[u8]) -> Step {
        if mask.is_some() || op != CmpOp::Eq {
            return Err(differ("an ICMP test other than `==`"));
        }
        let mut x = IptIcmp { icmp_type: u8::MAX, code: [0, u8::MAX], invflags: 0, pad: [0; 4] };
        match (offset, data) {
            (0, [t]) => x.icmp_type = *t,
            (0, [t, c]) => (x.icmp_type, x.code) = (*t, [*c, *c]),
            (1, [c]) => x.code = [*c, *c],
            (0 | 1, _) => return Err(unreadable("unexpected RHS data length")),
            _ => return Err(unreadable("unexpected payload offset")),
        }
        self.slots.push(Slot::Icmp(x));
        Ok(())
    }

    fn into_rule(self, table: Table, chain: &str, comment: Option<String>) -> Result<Rule, DecodeErrorKind> {
        let iface = |i: Option<(String, bool)>| -> Result<Option<IfaceMatch>, DecodeErrorKind> {
            let Some((name, invert)) = i else { return Ok(None) };
            let iface = Interface::parse(&name).map_err(|_| DecodeErrorKind::Unsupported {
                what: "an interface name iptables cannot write",
            })?;
            Ok(Some(IfaceMatch { iface, invert }))
        };
        let addr = |a: Option<(AddrMask, bool)>| a.map(|(net, invert)| AddrMatch { net, invert });
        let protocol = match self.proto {
            None => None,
            Some((0, _)) => return Err(differ("a test for protocol 0 (printed as no test)")),
            Some((p, invert)) => Some(ProtoMatch { proto: Protocol(p), invert }),
        };
        let mut matches = Vec::with_capacity(self.slots.len() + 1);
        for s in self.slots {
            matches.push(match s {
                Slot::NativeTcp => match &self.tcp {
                    Some(x) => Match::Tcp(x.try_into()?),
                    None => continue,
                },
                Slot::NativeUdp => match &self.udp {
                    Some(x) => Match::Udp(x.try_into()?),
                    None => continue,
                },
                Slot::Mark(x) => Match::Mark((&x).try_into()?),
                Slot::Pkttype(x) => Match::Pkttype((&x).try_into()?),
                Slot::Icmp(x) => Match::Icmp((&x).try_into()?),
                Slot::Ttl(x) => Match::Ttl((&x).try_into()?),
                Slot::Limit { burst: 0, .. } => return Err(differ("a limit with burst 0")),
                Slot::Limit { avg, burst } => Match::Limit(LimitMatch::from_avg(avg, burst)),
                Slot::Xt(x) => x.to_match()?,
            });
        }
        if let Some(comment) = comment {
            matches.push(Match::Comment(CommentMatch { comment }));
        }
        Ok(Rule {
            table,
            chain: chain.to_owned(),
            source: addr(self.src),
            destination: addr(self.dst),
            in_interface: iface(self.iniface)?,
            out_interface: iface(self.outiface)?,
            protocol,
            fragment: self.frag,
            matches,
            target: self.target,
            counters: self.counters,
        })
    }
}

/// `parse_ifname` + `parse_invalid_iface`: data ending in NUL is an exact name, other data a
/// prefix (`name+`); `"INVAL/D"` compared `==` is iptables' own `! -i +`.
fn ifname(data: &[u8], invert: bool) -> Result<(String, bool), DecodeErrorKind> {
    let (name, exact) = match data.iter().position(|&b| b == 0) {
        Some(nul) if data[nul..].iter().all(|&b| b == 0) => (&data[..nul], true),
        Some(_) => return Err(differ("an interface name with bytes after its NUL")),
        None => (data, false),
    };
    if name.is_empty() && exact || data.is_empty() {
        return Err(differ("an empty interface name"));
    }
    if !exact && data.len() >= IFNAMSIZ {
        return Err(differ("an interface prefix of 16 bytes"));
    }
    let name = std::str::from_utf8(name)
        .map_err(|_| DecodeErrorKind::Unsupported { what: "an interface name that is not UTF-8" })?;
    if exact && !invert && name.as_bytes() == &INVALID_IFNAME[..INVALID_IFNAME.len() - 1] {
        return Ok(("+".to_owned(), true));
    }
    Ok((if exact { name.to_owned() } else { format!("{name}+") }, invert))
}

impl From<crate::xt::DecodeError> for DecodeErrorKind {
    fn from(e: crate::xt::DecodeError) -> Self {
        DecodeErrorKind::BadBlob(Box::new(e))
    }
}

impl From<Unrepresentable> for DecodeErrorKind {
    fn from(e: Unrepresentable) -> Self {
        DecodeErrorKind::Unrepresentable(Box::new(e))
    }
}

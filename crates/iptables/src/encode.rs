//! A typed [`Rule`] as the nf_tables rule iptables-nft 1.8.9 writes for it, expression for
//! expression (nft-ipv4.c `nft_ipv4_add`, nft.c `add_match`/`add_action`, nft-shared.c `add_*`):
//!
//! 1. `-i`, 2. `-o` (`meta iifname/oifname` + `cmp`), 3. `-p` (`meta l4proto` + `cmp`),
//! 4. `-s`, 5. `-d` (`payload` [+ `bitwise`] + `cmp`), 6. `-f`,
//! 7. the matches in order: tcp and udp ports and flags, `-m mark` and `-m limit` natively,
//!    everything else as an xt `match`,
//! 8. a `counter`, 9. the target: a verdict `immediate`, a `log` for NFLOG, or an xt `target`.
//!
//! Every rule carries `NFTA_RULE_COMPAT` with the `-p` protocol (0 when there is none).

use natkeeper_nft::expr::{
    Bitwise, Cmp, CmpOp, Counter, Limit, Log, Meta, MetaKey, Payload, PayloadBase, Range, Register, Xt,
};
use natkeeper_nft::{Compat, Expr, Family, NFT_RULE_COMPAT_F_INV, Verdict};

use crate::matches::{LimitMatch, MarkMatch, Match};
use crate::protocol::Protocol;
use crate::rule::{AddrMatch, IfaceMatch, Rule};
use crate::targets::{NflogTarget, Target};
use crate::xt::tcp::{XT_TCP_INV_DSTPT, XT_TCP_INV_FLAGS, XT_TCP_INV_SRCPT, XtTcp};
use crate::xt::udp::{XT_UDP_INV_DSTPT, XT_UDP_INV_SRCPT, XtUdp};
use crate::xt::{XtMatch, XtTarget};

/// `offsetof(struct iphdr, frag_off)`.
const IPHDR_FRAG_OFF: u32 = 6;
/// `offsetof(struct iphdr, saddr)`.
pub(crate) const IPHDR_SADDR: u32 = 12;
/// `offsetof(struct iphdr, daddr)`.
pub(crate) const IPHDR_DADDR: u32 = 16;
/// `offsetof(struct tcphdr, source)` (and udp).
const TH_SPORT: u32 = 0;
/// `offsetof(struct tcphdr, dest)` (and udp).
const TH_DPORT: u32 = 2;
/// The TCP flags byte.
const TCPHDR_FLAGS: u32 = 13;
/// The 13 fragment-offset bits of `frag_off`.
const IP_OFFMASK: u16 = 0x1fff;
/// The name iptables-nft compares with for `! -i +`, which no interface can have.
pub(crate) const INVALID_IFNAME: &[u8] = b"INVAL/D\0";
/// `XT_LIMIT_SCALE`.
const XT_LIMIT_SCALE: u64 = 10_000;

/// Why a rule cannot be written as iptables-nft writes it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// Native port or flag tests need the protocol (iptables: "TCP match requires '-p tcp'").
    #[error("-m {extension}: ports and flags need `-p {protocol}' (not negated)")]
    RequiresProtocol {
        /// `tcp` or `udp`.
        extension: &'static str,
        /// The protocol needed.
        protocol: &'static str,
    },
    /// `-m limit` with an average of 0 (`--limit inf`), which iptables-nft cannot write.
    #[error("-m limit: a rate of 0 packets per interval cannot be written")]
    ZeroRate,
}

/// The nf_tables rule iptables-nft 1.8.9 writes for `rule` (in table `ip <table>`, chain
/// `<chain>`), byte for byte: the same expressions in the same order, xt matches and targets
/// with the revision and info it sends, a counter (with the rule's counters, else zero) and
/// `NFTA_RULE_COMPAT`.
///
/// ```
/// use natkeeper_iptables::{Command, encode};
///
/// let cmd: Command = "-t nat -A POSTROUTING -s 192.168.122.0/24 ! -d 192.168.122.0/24 -j MASQUERADE".parse()?;
/// let rule = encode(cmd.rule().unwrap())?;
/// let names: Vec<&str> = rule.exprs.iter().map(|e| e.name()).collect();
/// assert_eq!(names, ["payload", "cmp", "payload", "cmp", "counter", "target"]);
/// assert_eq!(rule.compat.map(|c| c.proto), Some(0));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn encode(rule: &Rule) -> Result<natkeeper_nft::Rule, EncodeError> {
    let mut e = Vec::new();
    if let Some(i) = &rule.in_interface {
        iface(MetaKey::IifName, i, &mut e);
    }
    if let Some(o) = &rule.out_interface {
        iface(MetaKey::OifName, o, &mut e);
    }
    if let Some(p) = &rule.protocol {
        e.push(Meta::load(MetaKey::L4Proto).into());
        e.push(cmp(op(p.invert), [p.proto.0]));
    }
    if let Some(s) = &rule.source {
        addr(IPHDR_SADDR, s, &mut e);
    }
    if let Some(d) = &rule.destination {
        addr(IPHDR_DADDR, d, &mut e);
    }
    if let Some(invert) = rule.fragment {
        e.push(Payload::load(PayloadBase::Network, IPHDR_FRAG_OFF, 2, Register::R1).into());
        e.push(Bitwise::mask(IP_OFFMASK.to_be_bytes()).into());
        // A non-zero offset is a fragment; `! -f` asks for a zero offset.
        e.push(cmp(if invert { CmpOp::Eq } else { CmpOp::Neq }, [0, 0]));
    }
    let plain = rule.protocol.filter(|p| !p.invert).map(|p| p.proto);
    for m in &rule.matches {
        add_match(m, plain, &mut e)?;
    }
    let c = rule.counters.unwrap_or_default();
    e.push(Counter { bytes: c.bytes, packets: c.packets }.into());
    if let Some(t) = &rule.target {
        add_target(t, &mut e);
    }
    let mut out = natkeeper_nft::Rule::new(Family::Ip, rule.table.name(), rule.chain.clone());
    out.exprs = e;
    out.compat = Some(Compat {
        proto: rule.protocol.map_or(0, |p| u32::from(p.proto.0)),
        flags: if rule.protocol.is_some_and(|p| p.invert) { NFT_RULE_COMPAT_F_INV } else { 0 },
    });
    Ok(out)
}

fn op(invert: bool) -> CmpOp {
    if invert { CmpOp::Neq } else { CmpOp::Eq }
}

fn cmp(op: CmpOp, data: impl Into<Vec<u8>>) -> Expr {
    Cmp { sreg: Register::R1, op, data: data.into() }.into()
}

/// `add_iniface`/`add_outiface`: an exact name with its NUL, a `+` wildcard as the prefix
/// without NUL; `! -i +` as a test for a name no interface has, and `-i +` as a lone `meta`
/// load that nothing compares.
fn iface(key: MetaKey, m: &IfaceMatch, e: &mut Vec<Expr>) {
    let name = m.iface.as_str().as_bytes();
    e.push(Meta::load(key).into());
    if m.iface.matches_all() {
        if m.invert {
            e.push(cmp(CmpOp::Eq, INVALID_IFNAME));
        }
    } else if m.iface.is_wildcard() {
        e.push(cmp(op(m.invert), &name[..name.len() - 1]));
    } else {
        let mut v = name.to_vec();
        v.push(0);
        e.push(cmp(op(m.invert), v));
    }
}

/// `add_addr`: a payload of as many bytes as the mask has leading `0xff` bytes when the rest is
/// zero (a byte-aligned prefix), otherwise all four bytes and a `bitwise` with the mask.
fn addr(offset: u32, a: &AddrMatch, e: &mut Vec<Expr>) {
    let mask = a.net.mask.octets();
    let data = a.net.addr.octets();
    let full = mask.iter().take_while(|&&b| b == 0xff).count();
    let bitwise = mask[full..].iter().any(|&b| b != 0);
    let len = if bitwise { mask.len() } else { full };
    e.push(Payload::load(PayloadBase::Network, offset, len as u32, Register::R1).into());
    if bitwise {
        e.push(Bitwise::mask(mask).into());
    }
    e.push(cmp(op(a.invert), &data[..len]));
}

fn add_match(m: &Match, proto: Option<Protocol>, e: &mut Vec<Expr>) -> Result<(), EncodeError> {
    match m {
        Match::Tcp(t) => {
            let x = XtTcp::from(t);
            let supported = XT_TCP_INV_SRCPT | XT_TCP_INV_DSTPT | XT_TCP_INV_FLAGS;
            if x.invflags & !supported != 0 || x.option != 0 || x == tcp_all_zero() {
                e.push(xt_match(XtMatch::Tcp(x)));
                return Ok(());
            }
            if proto != Some(Protocol::TCP) {
                return Err(EncodeError::RequiresProtocol { extension: "tcp", protocol: "tcp" });
            }
            if x.flg_mask != 0 {
                e.push(Payload::load(PayloadBase::Transport, TCPHDR_FLAGS, 1, Register::R1).into());
                e.push(Bitwise::mask([x.flg_mask]).into());
                e.push(cmp(op(x.invflags & XT_TCP_INV_FLAGS != 0), [x.flg_cmp]));
            }
            tcpudp(x.spts, x.invflags & XT_TCP_INV_SRCPT != 0, x.dpts, x.invflags & XT_TCP_INV_DSTPT != 0, e);
        }
        Match::Udp(u) => {
            let x = XtUdp::from(u);
            if x.invflags > XT_UDP_INV_SRCPT | XT_UDP_INV_DSTPT || x == udp_all_zero() {
                e.push(xt_match(XtMatch::Udp(x)));
                return Ok(());
            }
            if proto != Some(Protocol::UDP) {
                return Err(EncodeError::RequiresProtocol { extension: "udp", protocol: "udp" });
            }
            tcpudp(x.spts, x.invflags & XT_UDP_INV_SRCPT != 0, x.dpts, x.invflags & XT_UDP_INV_DSTPT != 0, e);
        }
        Match::Mark(mk) => mark(mk, e),
        Match::Limit(l) => e.push(limit(l)?),
        other => {
            if let Some(x) = XtMatch::from_match(other) {
                e.push(xt_match(x));
            }
        }
    }
    Ok(())
}

fn xt_match(x: XtMatch) -> Expr {
    Expr::Match(Xt::new(x.name(), x.rev(), x.encode()))
}

/// `tcp_all_zero`: `-m tcp` without options (written as the xt match, not as nothing).
fn tcp_all_zero() -> XtTcp {
    XtTcp { spts: [0, u16::MAX], dpts: [0, u16::MAX], ..XtTcp::default() }
}

/// `udp_all_zero`.
fn udp_all_zero() -> XtUdp {
    XtUdp { spts: [0, u16::MAX], dpts: [0, u16::MAX], ..XtUdp::default() }
}

/// `add_nft_tcpudp`: both ports single, non-zero and negated alike → one 4-byte compare;
/// otherwise each port that is not `0:65535` on its own.
fn tcpudp(src: [u16; 2], inv_src: bool, dst: [u16; 2], inv_dst: bool, e: &mut Vec<Expr>) {
    if src[0] != 0 && src[0] == src[1] && dst[0] != 0 && dst[0] == dst[1] && inv_src == inv_dst {
        let combined = (u32::from(src[0]) << 16) | u32::from(dst[0]);
        e.push(Payload::load(PayloadBase::Transport, TH_SPORT, 4, Register::R1).into());
        e.push(cmp(op(inv_src), combined.to_be_bytes()));
        return;
    }
    for (offset, ports, invert) in [(TH_SPORT, src, inv_src), (TH_DPORT, dst, inv_dst)] {
        if ports[0] != 0 || ports[1] < u16::MAX {
            e.push(Payload::load(PayloadBase::Transport, offset, 2, Register::R1).into());
            e.push(range_cmp16(ports[0], ports[1], invert));
        }
    }
}

/// `expr_gen_range_cmp16`: one port → `cmp`; `0:hi` → `cmp lte` (negated: `gt`); else `range`.
fn range_cmp16(lo: u16, hi: u16, invert: bool) -> Expr {
    if lo == hi {
        return cmp(op(invert), lo.to_be_bytes());
    }
    if lo == 0 && hi < u16::MAX {
        return cmp(if invert { CmpOp::Gt } else { CmpOp::Lte }, hi.to_be_bytes());
    }
    Range {
        sreg: Register::R1,
        op: op(invert),
        from: lo.to_be_bytes().to_vec(),
        to: hi.to_be_bytes().to_vec(),
    }
    .into()
}

/// `add_nft_mark`: the mark (host byte order), masked unless the mask is all ones.
fn mark(m: &MarkMatch, e: &mut Vec<Expr>) {
    e.push(Meta::load(MetaKey::Mark).into());
    if m.mask != u32::MAX {
        e.push(Bitwise::mask(m.mask.to_ne_bytes()).into());
    }
    e.push(cmp(op(m.invert), m.mark.to_ne_bytes()));
}

/// `add_nft_limit`: the largest unit in which the average rate is a whole number of packets.
fn limit(l: &LimitMatch) -> Result<Expr, EncodeError> {
    const MULT: [u64; 4] =
        [XT_LIMIT_SCALE * 86_400, XT_LIMIT_SCALE * 3_600, XT_LIMIT_SCALE * 60, XT_LIMIT_SCALE];
    let avg = u64::from(l.avg());
    if avg == 0 {
        return Err(EncodeError::ZeroRate);
    }
    let mut i = 1;
    while i < MULT.len() && !(avg > MULT[i] || MULT[i] / avg < MULT[i] % avg) {
        i += 1;
    }
    let m = MULT[i - 1];
    Ok(Limit::packets(m / avg, m / XT_LIMIT_SCALE, l.burst).into())
}

fn add_target(t: &Target, e: &mut Vec<Expr>) {
    let verdict = match t {
        Target::Accept => Verdict::Accept,
        Target::Drop => Verdict::Drop,
        Target::Return => Verdict::Return,
        Target::Jump(c) => Verdict::Jump(c.clone()),
        Target::Goto(c) => Verdict::Goto(c.clone()),
        Target::Nflog(n) => return e.push(nflog(n)),
        other => {
            if let Some(x) = XtTarget::from_target(other) {
                e.push(Expr::Target(Xt::new(x.name(), x.rev(), x.encode())));
            }
            return;
        }
    };
    e.push(Expr::verdict(verdict));
}

/// `add_log`: `-j NFLOG` as a `log` expression with a group.
fn nflog(n: &NflogTarget) -> Expr {
    Log {
        prefix: n.prefix.clone().filter(|p| !p.is_empty()),
        group: Some(n.group),
        snaplen: n.size,
        qthreshold: (n.threshold != 0).then_some(n.threshold),
        level: None,
        flags: None,
    }
    .into()
}

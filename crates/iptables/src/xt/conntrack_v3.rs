//! `struct xt_conntrack_mtinfo3` (linux/netfilter/xt_conntrack.h): match `conntrack` rev 3,
//! 168 bytes. Also what iptables-nft 1.8.9 writes for `-m state` (with
//! `XT_CONNTRACK_STATE_ALIAS`).

use std::net::Ipv4Addr;

use super::{DecodeError, Rd, Unrepresentable, Wr, exact, xt_align};
use crate::matches::{
    ConntrackMatch, CtAddr, CtDirection, CtStates, CtStatus, ExpireRange, Negatable, StateMatch,
};
use crate::port::PortRange;
use crate::protocol::Protocol;

/// Extension name.
pub const NAME: &str = "conntrack";
/// Revision.
pub const REV: u32 = 3;
/// `XT_ALIGN(sizeof(struct xt_conntrack_mtinfo3))`.
pub const SIZE: usize = xt_align(164);

/// `XT_CONNTRACK_STATE`.
pub const XT_CONNTRACK_STATE: u16 = 1 << 0;
/// `XT_CONNTRACK_PROTO`.
pub const XT_CONNTRACK_PROTO: u16 = 1 << 1;
/// `XT_CONNTRACK_ORIGSRC`.
pub const XT_CONNTRACK_ORIGSRC: u16 = 1 << 2;
/// `XT_CONNTRACK_ORIGDST`.
pub const XT_CONNTRACK_ORIGDST: u16 = 1 << 3;
/// `XT_CONNTRACK_REPLSRC`.
pub const XT_CONNTRACK_REPLSRC: u16 = 1 << 4;
/// `XT_CONNTRACK_REPLDST`.
pub const XT_CONNTRACK_REPLDST: u16 = 1 << 5;
/// `XT_CONNTRACK_STATUS`.
pub const XT_CONNTRACK_STATUS: u16 = 1 << 6;
/// `XT_CONNTRACK_EXPIRES`.
pub const XT_CONNTRACK_EXPIRES: u16 = 1 << 7;
/// `XT_CONNTRACK_ORIGSRC_PORT`.
pub const XT_CONNTRACK_ORIGSRC_PORT: u16 = 1 << 8;
/// `XT_CONNTRACK_ORIGDST_PORT`.
pub const XT_CONNTRACK_ORIGDST_PORT: u16 = 1 << 9;
/// `XT_CONNTRACK_REPLSRC_PORT`.
pub const XT_CONNTRACK_REPLSRC_PORT: u16 = 1 << 10;
/// `XT_CONNTRACK_REPLDST_PORT`.
pub const XT_CONNTRACK_REPLDST_PORT: u16 = 1 << 11;
/// `XT_CONNTRACK_DIRECTION`.
pub const XT_CONNTRACK_DIRECTION: u16 = 1 << 12;
/// `XT_CONNTRACK_STATE_ALIAS`: print as `-m state --state`.
pub const XT_CONNTRACK_STATE_ALIAS: u16 = 1 << 13;

/// `struct xt_conntrack_mtinfo3`. Addresses are `union nf_inet_addr` (IPv4 in the first 4
/// bytes, network order); ports, protocol and flags are host order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct XtConntrackMtinfo3 {
    /// Original source address.
    pub origsrc_addr: [u8; 16],
    /// Its mask.
    pub origsrc_mask: [u8; 16],
    /// Original destination address.
    pub origdst_addr: [u8; 16],
    /// Its mask.
    pub origdst_mask: [u8; 16],
    /// Reply source address.
    pub replsrc_addr: [u8; 16],
    /// Its mask.
    pub replsrc_mask: [u8; 16],
    /// Reply destination address.
    pub repldst_addr: [u8; 16],
    /// Its mask.
    pub repldst_mask: [u8; 16],
    /// Lowest remaining lifetime (s).
    pub expires_min: u32,
    /// Highest remaining lifetime (s).
    pub expires_max: u32,
    /// Layer 4 protocol.
    pub l4proto: u16,
    /// Original source port (low end).
    pub origsrc_port: u16,
    /// Original destination port (low end).
    pub origdst_port: u16,
    /// Reply source port (low end).
    pub replsrc_port: u16,
    /// Reply destination port (low end).
    pub repldst_port: u16,
    /// `XT_CONNTRACK_*` tests present.
    pub match_flags: u16,
    /// `XT_CONNTRACK_*` tests negated.
    pub invert_flags: u16,
    /// State bits (`XT_CONNTRACK_STATE_*`).
    pub state_mask: u16,
    /// Status bits (`IPS_*`).
    pub status_mask: u16,
    /// Original source port (high end).
    pub origsrc_port_high: u16,
    /// Original destination port (high end).
    pub origdst_port_high: u16,
    /// Reply source port (high end).
    pub replsrc_port_high: u16,
    /// Reply destination port (high end).
    pub repldst_port_high: u16,
    /// Struct and alignment padding, bytes 162..168.
    pub pad: [u8; 6],
}

impl XtConntrackMtinfo3 {
    /// The blob.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Wr::new(SIZE);
        for (i, a) in [
            &self.origsrc_addr,
            &self.origsrc_mask,
            &self.origdst_addr,
            &self.origdst_mask,
            &self.replsrc_addr,
            &self.replsrc_mask,
            &self.repldst_addr,
            &self.repldst_mask,
        ]
        .into_iter()
        .enumerate()
        {
            w.bytes(16 * i, a);
        }
        w.u32(128, self.expires_min).u32(132, self.expires_max).u16s(
            136,
            &[
                self.l4proto,
                self.origsrc_port,
                self.origdst_port,
                self.replsrc_port,
                self.repldst_port,
                self.match_flags,
                self.invert_flags,
                self.state_mask,
                self.status_mask,
                self.origsrc_port_high,
                self.origdst_port_high,
                self.replsrc_port_high,
                self.repldst_port_high,
            ],
        );
        w.bytes(162, &self.pad);
        w.finish()
    }

    /// Reads a blob.
    pub fn decode(b: &[u8]) -> Result<Self, DecodeError> {
        let r = Rd::new(NAME, REV, b, SIZE)?;
        let [
            l4proto,
            origsrc_port,
            origdst_port,
            replsrc_port,
            repldst_port,
            match_flags,
            invert_flags,
            state_mask,
            status_mask,
            origsrc_port_high,
            origdst_port_high,
            replsrc_port_high,
            repldst_port_high,
        ] = r.u16s::<13>(136);
        Ok(XtConntrackMtinfo3 {
            origsrc_addr: r.arr(0),
            origsrc_mask: r.arr(16),
            origdst_addr: r.arr(32),
            origdst_mask: r.arr(48),
            replsrc_addr: r.arr(64),
            replsrc_mask: r.arr(80),
            repldst_addr: r.arr(96),
            repldst_mask: r.arr(112),
            expires_min: r.u32(128),
            expires_max: r.u32(132),
            l4proto,
            origsrc_port,
            origdst_port,
            replsrc_port,
            repldst_port,
            match_flags,
            invert_flags,
            state_mask,
            status_mask,
            origsrc_port_high,
            origdst_port_high,
            replsrc_port_high,
            repldst_port_high,
            pad: r.arr(162),
        })
    }

    fn flag(&mut self, bit: u16, invert: bool) {
        self.match_flags |= bit;
        if invert {
            self.invert_flags |= bit;
        }
    }
}

/// Address and mask as `XTTYPE_HOSTMASK` fills them: without a prefix all 16 mask bytes are
/// ones; with `/N`, N bits.
fn addr_mask(a: &CtAddr) -> ([u8; 16], [u8; 16]) {
    let mut addr = [0u8; 16];
    addr[..4].copy_from_slice(&a.addr.octets());
    let mask = match a.prefix {
        None => [0xff; 16],
        Some(len) => {
            let mut m = [0u8; 16];
            let bits = u32::MAX.checked_shl(32 - u32::from(len.min(32))).unwrap_or(0);
            m[..4].copy_from_slice(&bits.to_be_bytes());
            m
        }
    };
    (addr, mask)
}

impl From<&ConntrackMatch> for XtConntrackMtinfo3 {
    /// The struct `conntrack_mt_parse` fills for revision 3.
    fn from(m: &ConntrackMatch) -> Self {
        let mut x = XtConntrackMtinfo3::default();
        if let Some(s) = m.state {
            x.state_mask = s.value.0;
            x.flag(XT_CONNTRACK_STATE, s.invert);
        }
        if let Some(p) = m.proto {
            x.l4proto = u16::from(p.value.0);
            x.flag(XT_CONNTRACK_PROTO, p.invert);
        }
        let addrs: [(&Option<Negatable<CtAddr>>, u16, usize); 4] = [
            (&m.orig_src, XT_CONNTRACK_ORIGSRC, 0),
            (&m.orig_dst, XT_CONNTRACK_ORIGDST, 1),
            (&m.repl_src, XT_CONNTRACK_REPLSRC, 2),
            (&m.repl_dst, XT_CONNTRACK_REPLDST, 3),
        ];
        for (a, bit, slot) in addrs {
            if let Some(a) = a {
                let (addr, mask) = addr_mask(&a.value);
                match slot {
                    0 => (x.origsrc_addr, x.origsrc_mask) = (addr, mask),
                    1 => (x.origdst_addr, x.origdst_mask) = (addr, mask),
                    2 => (x.replsrc_addr, x.replsrc_mask) = (addr, mask),
                    _ => (x.repldst_addr, x.repldst_mask) = (addr, mask),
                }
                x.flag(bit, a.invert);
            }
        }
        let ports: [(&Option<Negatable<PortRange>>, u16, usize); 4] = [
            (&m.orig_src_port, XT_CONNTRACK_ORIGSRC_PORT, 0),
            (&m.orig_dst_port, XT_CONNTRACK_ORIGDST_PORT, 1),
            (&m.repl_src_port, XT_CONNTRACK_REPLSRC_PORT, 2),
            (&m.repl_dst_port, XT_CONNTRACK_REPLDST_PORT, 3),
        ];
        for (p, bit, slot) in ports {
            if let Some(p) = p {
                let (lo, hi) = (p.value.first, p.value.last);
                match slot {
                    0 => (x.origsrc_port, x.origsrc_port_high) = (lo, hi),
                    1 => (x.origdst_port, x.origdst_port_high) = (lo, hi),
                    2 => (x.replsrc_port, x.replsrc_port_high) = (lo, hi),
                    _ => (x.repldst_port, x.repldst_port_high) = (lo, hi),
                }
                x.flag(bit, p.invert);
            }
        }
        if let Some(s) = m.status {
            x.status_mask = s.value.0;
            x.flag(XT_CONNTRACK_STATUS, s.invert);
        }
        if let Some(e) = m.expires {
            x.expires_min = e.value.min;
            x.expires_max = e.value.max;
            x.flag(XT_CONNTRACK_EXPIRES, e.invert);
        }
        if let Some(d) = m.direction {
            x.flag(XT_CONNTRACK_DIRECTION, d == CtDirection::Reply);
        }
        x
    }
}

impl From<&StateMatch> for XtConntrackMtinfo3 {
    /// `state_ct23_parse`.
    fn from(m: &StateMatch) -> Self {
        let mut x = XtConntrackMtinfo3 {
            match_flags: XT_CONNTRACK_STATE | XT_CONNTRACK_STATE_ALIAS,
            state_mask: m.states.0,
            ..XtConntrackMtinfo3::default()
        };
        if m.invert {
            x.invert_flags |= XT_CONNTRACK_STATE;
        }
        x
    }
}

impl TryFrom<&XtConntrackMtinfo3> for StateMatch {
    type Error = Unrepresentable;

    /// `-m state --state`: the struct `state_ct23_parse` fills, nothing else.
    fn try_from(x: &XtConntrackMtinfo3) -> Result<Self, Unrepresentable> {
        if x.state_mask == 0 {
            return Err(Unrepresentable::new(NAME, REV, &x.encode()));
        }
        let m =
            StateMatch { states: CtStates(x.state_mask), invert: x.invert_flags & XT_CONNTRACK_STATE != 0 };
        exact(x, m, NAME, REV, XtConntrackMtinfo3::encode)
    }
}

/// The inverse of [`addr_mask`]: `/N` for an IPv4 prefix mask, no prefix for 16 bytes of ones.
fn ct_addr(addr: &[u8; 16], mask: &[u8; 16]) -> CtAddr {
    let a = Ipv4Addr::new(addr[0], addr[1], addr[2], addr[3]);
    let prefix = if *mask == [0xff; 16] {
        None
    } else {
        // Anything else that is not a plain prefix fails the exactness check.
        crate::addr::mask_prefix_len(Ipv4Addr::new(mask[0], mask[1], mask[2], mask[3]))
    };
    CtAddr { addr: a, prefix }
}

impl TryFrom<&XtConntrackMtinfo3> for ConntrackMatch {
    type Error = Unrepresentable;

    /// The options `conntrack_dump` prints for the struct; refused unless they encode back to it
    /// (and for an empty state list, which prints as a bare `--ctstate`).
    fn try_from(x: &XtConntrackMtinfo3) -> Result<Self, Unrepresentable> {
        let has = |bit: u16| x.match_flags & bit != 0;
        let neg = |bit: u16| x.invert_flags & bit != 0;
        let opt = |bit: u16| has(bit).then_some(bit);
        let refused = || Unrepresentable::new(NAME, REV, &x.encode());
        if has(XT_CONNTRACK_STATE) && x.state_mask == 0 {
            return Err(refused());
        }
        let ports = |bit: u16, lo: u16, hi: u16| {
            opt(bit).map(|b| Negatable { value: PortRange::new(lo, hi), invert: neg(b) })
        };
        let m = ConntrackMatch {
            state: opt(XT_CONNTRACK_STATE)
                .map(|b| Negatable { value: CtStates(x.state_mask), invert: neg(b) }),
            proto: match opt(XT_CONNTRACK_PROTO) {
                Some(b) => Some(Negatable {
                    value: Protocol(u8::try_from(x.l4proto).map_err(|_| refused())?),
                    invert: neg(b),
                }),
                None => None,
            },
            orig_src: opt(XT_CONNTRACK_ORIGSRC)
                .map(|b| Negatable { value: ct_addr(&x.origsrc_addr, &x.origsrc_mask), invert: neg(b) }),
            orig_dst: opt(XT_CONNTRACK_ORIGDST)
                .map(|b| Negatable { value: ct_addr(&x.origdst_addr, &x.origdst_mask), invert: neg(b) }),
            repl_src: opt(XT_CONNTRACK_REPLSRC)
                .map(|b| Negatable { value: ct_addr(&x.replsrc_addr, &x.replsrc_mask), invert: neg(b) }),
            repl_dst: opt(XT_CONNTRACK_REPLDST)
                .map(|b| Negatable { value: ct_addr(&x.repldst_addr, &x.repldst_mask), invert: neg(b) }),
            orig_src_port: ports(XT_CONNTRACK_ORIGSRC_PORT, x.origsrc_port, x.origsrc_port_high),
            orig_dst_port: ports(XT_CONNTRACK_ORIGDST_PORT, x.origdst_port, x.origdst_port_high),
            repl_src_port: ports(XT_CONNTRACK_REPLSRC_PORT, x.replsrc_port, x.replsrc_port_high),
            repl_dst_port: ports(XT_CONNTRACK_REPLDST_PORT, x.repldst_port, x.repldst_port_high),
            status: opt(XT_CONNTRACK_STATUS)
                .map(|b| Negatable { value: CtStatus(x.status_mask), invert: neg(b) }),
            expires: opt(XT_CONNTRACK_EXPIRES).map(|b| Negatable {
                value: ExpireRange { min: x.expires_min, max: x.expires_max },
                invert: neg(b),
            }),
            direction: opt(XT_CONNTRACK_DIRECTION)
                .map(|b| if neg(b) { CtDirection::Reply } else { CtDirection::Original }),
        };
        exact(x, m, NAME, REV, XtConntrackMtinfo3::encode)
    }
}

#[cfg(all(test, target_endian = "little"))]
mod tests {
    use super::*;
    use crate::Match;
    use crate::xt::testutil::{hex, rule, zero_except};

    fn golden(cmd: &str, blob: &[u8]) {
        let r = rule(cmd);
        let x = match r.matches.first() {
            Some(Match::Conntrack(m)) => XtConntrackMtinfo3::from(m),
            Some(Match::State(m)) => XtConntrackMtinfo3::from(m),
            _ => panic!("{cmd}: no conntrack/state match"),
        };
        assert_eq!(x.encode(), blob, "{cmd}");
        assert_eq!(XtConntrackMtinfo3::decode(blob).unwrap(), x, "{cmd}");
    }

    #[test]
    fn reference_captures() {
        // Reference Appendix B: f02, f03, f04, x17 ("all-zero except @146:...").
        for (cmd, patch) in [
            (
                "-A FORWARD -d 192.168.122.0/24 -o virbr0 -m state --state RELATED,ESTABLISHED -j ACCEPT",
                "0120000006",
            ),
            (
                "-A FORWARD -d 192.168.122.0/24 -o virbr0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
                "0100000006",
            ),
            ("-I FORWARD -i eth0 -o virbr0 -p tcp -m state --state NEW -j ACCEPT", "0120000008"),
            ("-A INPUT -m conntrack --ctstate NEW -j ACCEPT", "0100000008"),
            ("-A INPUT -m conntrack ! --ctstate INVALID -j ACCEPT", "0100010001"),
            ("-A INPUT -m conntrack --ctstate DNAT -j ACCEPT", "0100000080"),
            ("-A INPUT -m state --state INVALID -j DROP", "0120000001"),
            ("-A INPUT -m state ! --state NEW -j DROP", "0120010008"),
            ("-A INPUT -m state --state UNTRACKED -j DROP", "012000000001"),
        ] {
            golden(cmd, &zero_except(168, &[(146, patch)]));
        }
    }

    #[test]
    fn every_option_capture() {
        // `iptables-nft -vvv` of this very rule (iptables 1.8.9, Debian 12, Linux 6.18,
        // `unshare -n`). Note the masks: no prefix gives 16 bytes of ones, `/32` gives 4.
        let blob = hex(concat!(
            "0a000000000000000000000000000000ff000000000000000000000000000000",
            "0a010203000000000000000000000000ffffffffffffffffffffffffffffffff",
            "01020304000000000000000000000000ffffffffffffffffffffffffffffffff",
            "05060708000000000000000000000000ffffffff000000000000000000000000",
            "050000000a00000006000a00500000040000ff1f481008000c0014005000ffff6300000000000000",
        ));
        golden(
            "-A INPUT -m conntrack --ctstate NEW --ctproto 6 --ctorigsrc 10.0.0.0/8 ! --ctorigdst 10.1.2.3 \
             --ctreplsrc 1.2.3.4 --ctrepldst 5.6.7.8/32 --ctorigsrcport 10:20 --ctorigdstport 80 \
             --ctreplsrcport 1024: --ctrepldstport :99 ! --ctstatus ASSURED,CONFIRMED --ctexpire 5:10 --ctdir REPLY",
            &blob,
        );
    }
}

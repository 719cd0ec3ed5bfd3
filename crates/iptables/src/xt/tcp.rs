//! `struct xt_tcp` (linux/netfilter/xt_tcpudp.h): match `tcp` rev 0, 16 bytes.
//!
//! iptables-nft 1.8.9 sends it only when the rule cannot be written natively: `--tcp-option`,
//! or `-m tcp` without options.

use super::{DecodeError, Rd, Unrepresentable, Wr, exact, xt_align};
use crate::matches::{PortMatch, TcpFlags, TcpFlagsMatch, TcpMatch, TcpOptionMatch};

/// Extension name.
pub const NAME: &str = "tcp";
/// Revision.
pub const REV: u32 = 0;
/// `XT_ALIGN(sizeof(struct xt_tcp))`.
pub const SIZE: usize = xt_align(12);

/// `XT_TCP_INV_SRCPT`.
pub const XT_TCP_INV_SRCPT: u8 = 0x01;
/// `XT_TCP_INV_DSTPT`.
pub const XT_TCP_INV_DSTPT: u8 = 0x02;
/// `XT_TCP_INV_FLAGS`.
pub const XT_TCP_INV_FLAGS: u8 = 0x04;
/// `XT_TCP_INV_OPTION`.
pub const XT_TCP_INV_OPTION: u8 = 0x08;

/// `struct xt_tcp`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct XtTcp {
    /// Source port range (host order).
    pub spts: [u16; 2],
    /// Destination port range.
    pub dpts: [u16; 2],
    /// TCP option kind, 0 for none.
    pub option: u8,
    /// Flags examined.
    pub flg_mask: u8,
    /// Flags required.
    pub flg_cmp: u8,
    /// `XT_TCP_INV_*`.
    pub invflags: u8,
    /// Alignment bytes 12..16.
    pub pad: [u8; 4],
}

impl XtTcp {
    /// The blob.
    pub fn encode(&self) -> Vec<u8> {
        Wr::new(SIZE)
            .u16s(0, &self.spts)
            .u16s(4, &self.dpts)
            .u8(8, self.option)
            .u8(9, self.flg_mask)
            .u8(10, self.flg_cmp)
            .u8(11, self.invflags)
            .bytes(12, &self.pad)
            .finish()
    }

    /// Reads a blob.
    pub fn decode(b: &[u8]) -> Result<Self, DecodeError> {
        let r = Rd::new(NAME, REV, b, SIZE)?;
        Ok(XtTcp {
            spts: r.u16s(0),
            dpts: r.u16s(4),
            option: r.u8(8),
            flg_mask: r.u8(9),
            flg_cmp: r.u8(10),
            invflags: r.u8(11),
            pad: r.arr(12),
        })
    }
}

impl From<&TcpMatch> for XtTcp {
    /// The struct libxt_tcp fills for the options.
    fn from(m: &TcpMatch) -> Self {
        let mut x = XtTcp { spts: [0, u16::MAX], dpts: [0, u16::MAX], ..XtTcp::default() };
        if let Some(p) = m.sport {
            x.spts = [p.ports.first, p.ports.last];
            x.invflags |= if p.invert { XT_TCP_INV_SRCPT } else { 0 };
        }
        if let Some(p) = m.dport {
            x.dpts = [p.ports.first, p.ports.last];
            x.invflags |= if p.invert { XT_TCP_INV_DSTPT } else { 0 };
        }
        if let Some(o) = m.option {
            x.option = o.kind;
            x.invflags |= if o.invert { XT_TCP_INV_OPTION } else { 0 };
        }
        if let Some(f) = m.flags {
            x.flg_mask = f.mask.0;
            x.flg_cmp = f.comp.0;
            x.invflags |= if f.invert { XT_TCP_INV_FLAGS } else { 0 };
        }
        x
    }
}

impl TryFrom<&XtTcp> for TcpMatch {
    type Error = Unrepresentable;

    /// The options `tcp_save` prints for the struct; refused unless they encode back to it.
    fn try_from(x: &XtTcp) -> Result<Self, Unrepresentable> {
        // `! 0:65535` is printed as nothing at all: not a rule option.
        let refused = || Unrepresentable::new(NAME, REV, &x.encode());
        let port =
            |pts: [u16; 2], inv: u8| PortMatch::from_xt(pts, x.invflags & inv != 0).map_err(|()| refused());
        let option = (x.option != 0 || x.invflags & XT_TCP_INV_OPTION != 0)
            .then_some(TcpOptionMatch { kind: x.option, invert: x.invflags & XT_TCP_INV_OPTION != 0 });
        let flags = (x.flg_mask != 0 || x.invflags & XT_TCP_INV_FLAGS != 0).then_some(TcpFlagsMatch {
            mask: TcpFlags(x.flg_mask),
            comp: TcpFlags(x.flg_cmp),
            invert: x.invflags & XT_TCP_INV_FLAGS != 0,
        });
        let m = TcpMatch {
            sport: port(x.spts, XT_TCP_INV_SRCPT)?,
            dport: port(x.dpts, XT_TCP_INV_DSTPT)?,
            option,
            flags,
        };
        exact(x, m, NAME, REV, XtTcp::encode)
    }
}

#[cfg(all(test, target_endian = "little"))]
mod tests {
    use super::*;
    use crate::Match;
    use crate::xt::testutil::{hex, rule};

    fn golden(cmd: &str, blob: &str) {
        let r = rule(cmd);
        let Some(Match::Tcp(m)) = r.matches.first() else { panic!("{cmd}: no tcp match") };
        let x = XtTcp::from(m);
        assert_eq!(x.encode(), hex(blob), "{cmd}");
        assert_eq!(XtTcp::decode(&hex(blob)).unwrap(), x, "{cmd}");
    }

    #[test]
    fn captures() {
        // Reference Appendix A x09_tcp_bare_match (iptables-nft 1.8.9, Linux 6.18).
        golden("-A INPUT -p tcp -m tcp -j ACCEPT", "0000ffff0000ffff0000000000000000");
        golden("-A INPUT -p tcp --tcp-option 2 -j ACCEPT", "0000ffff0000ffff0200000000000000");
        // `iptables-nft -vvv -A INPUT -p tcp -m tcp ! --tcp-option 8 --sport 5 ! --dport 6
        //  --tcp-flags SYN,FIN ACK` (iptables 1.8.9, Debian 12, Linux 6.18, unshare -n).
        golden(
            "-A INPUT -p tcp -m tcp ! --tcp-option 8 --sport 5 ! --dport 6 --tcp-flags SYN,FIN ACK",
            "05000500060006000803100a00000000",
        );
    }

    #[test]
    fn padding_kept() {
        let b = hex("0000ffff0000ffff02000000a5a5a5a5");
        assert_eq!(XtTcp::decode(&b).unwrap().encode(), b);
        assert!(XtTcp::decode(&b[..12]).is_err());
    }
}

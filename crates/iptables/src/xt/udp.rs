//! `struct xt_udp` (linux/netfilter/xt_tcpudp.h): match `udp` rev 0, 16 bytes. iptables-nft
//! 1.8.9 sends it only for `-m udp` without options.

use super::{DecodeError, Rd, Unrepresentable, Wr, exact, xt_align};
use crate::matches::{PortMatch, UdpMatch};

/// Extension name.
pub const NAME: &str = "udp";
/// Revision.
pub const REV: u32 = 0;
/// `XT_ALIGN(sizeof(struct xt_udp))`.
pub const SIZE: usize = xt_align(10);

/// `XT_UDP_INV_SRCPT`.
pub const XT_UDP_INV_SRCPT: u8 = 0x01;
/// `XT_UDP_INV_DSTPT`.
pub const XT_UDP_INV_DSTPT: u8 = 0x02;

/// `struct xt_udp`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct XtUdp {
    /// Source port range (host order).
    pub spts: [u16; 2],
    /// Destination port range.
    pub dpts: [u16; 2],
    /// `XT_UDP_INV_*`.
    pub invflags: u8,
    /// Struct and alignment padding, bytes 9..16.
    pub pad: [u8; 7],
}

impl XtUdp {
    /// The blob.
    pub fn encode(&self) -> Vec<u8> {
        Wr::new(SIZE)
            .u16s(0, &self.spts)
            .u16s(4, &self.dpts)
            .u8(8, self.invflags)
            .bytes(9, &self.pad)
            .finish()
    }

    /// Reads a blob.
    pub fn decode(b: &[u8]) -> Result<Self, DecodeError> {
        let r = Rd::new(NAME, REV, b, SIZE)?;
        Ok(XtUdp { spts: r.u16s(0), dpts: r.u16s(4), invflags: r.u8(8), pad: r.arr(9) })
    }
}

impl From<&UdpMatch> for XtUdp {
    fn from(m: &UdpMatch) -> Self {
        let mut x = XtUdp { spts: [0, u16::MAX], dpts: [0, u16::MAX], ..XtUdp::default() };
        if let Some(p) = m.sport {
            x.spts = [p.ports.first, p.ports.last];
            x.invflags |= if p.invert { XT_UDP_INV_SRCPT } else { 0 };
        }
        if let Some(p) = m.dport {
            x.dpts = [p.ports.first, p.ports.last];
            x.invflags |= if p.invert { XT_UDP_INV_DSTPT } else { 0 };
        }
        x
    }
}

impl TryFrom<&XtUdp> for UdpMatch {
    type Error = Unrepresentable;

    /// The options `udp_save` prints for the struct; refused unless they encode back to it.
    fn try_from(x: &XtUdp) -> Result<Self, Unrepresentable> {
        // `! 0:65535` is printed as nothing at all: not a rule option.
        let refused = || Unrepresentable::new(NAME, REV, &x.encode());
        let port =
            |pts: [u16; 2], inv: u8| PortMatch::from_xt(pts, x.invflags & inv != 0).map_err(|()| refused());
        let m = UdpMatch { sport: port(x.spts, XT_UDP_INV_SRCPT)?, dport: port(x.dpts, XT_UDP_INV_DSTPT)? };
        exact(x, m, NAME, REV, XtUdp::encode)
    }
}

#[cfg(all(test, target_endian = "little"))]
mod tests {
    use super::*;
    use crate::Match;
    use crate::xt::testutil::{hex, rule};

    #[test]
    fn capture() {
        // Reference Appendix A x24_udp_bare.
        let r = rule("-A INPUT -p udp -m udp -j ACCEPT");
        let Some(Match::Udp(m)) = r.matches.first() else { panic!() };
        let blob = hex("0000ffff0000ffff0000000000000000");
        assert_eq!(XtUdp::from(m).encode(), blob);
        assert_eq!(XtUdp::decode(&blob).unwrap(), XtUdp::from(m));
    }
}

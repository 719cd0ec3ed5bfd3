//! `struct xt_iprange_mtinfo` (linux/netfilter/xt_iprange.h): match `iprange` rev 1, 72 bytes.

use super::{DecodeError, Rd, Unrepresentable, Wr, exact, xt_align};
use crate::matches::{IprangeMatch, Ipv4Range, Negatable};

/// Extension name.
pub const NAME: &str = "iprange";
/// Revision.
pub const REV: u32 = 1;
/// `XT_ALIGN(sizeof(struct xt_iprange_mtinfo))`.
pub const SIZE: usize = xt_align(65);

/// `IPRANGE_SRC`.
pub const IPRANGE_SRC: u8 = 1 << 0;
/// `IPRANGE_DST`.
pub const IPRANGE_DST: u8 = 1 << 1;
/// `IPRANGE_SRC_INV`.
pub const IPRANGE_SRC_INV: u8 = 1 << 4;
/// `IPRANGE_DST_INV`.
pub const IPRANGE_DST_INV: u8 = 1 << 5;

/// `struct xt_iprange_mtinfo`: `union nf_inet_addr` bounds (IPv4 in the first 4 bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct XtIprangeMtinfo {
    /// Lowest source.
    pub src_min: [u8; 16],
    /// Highest source.
    pub src_max: [u8; 16],
    /// Lowest destination.
    pub dst_min: [u8; 16],
    /// Highest destination.
    pub dst_max: [u8; 16],
    /// `IPRANGE_*`.
    pub flags: u8,
    /// Alignment bytes 65..72.
    pub pad: [u8; 7],
}

impl XtIprangeMtinfo {
    /// The blob.
    pub fn encode(&self) -> Vec<u8> {
        Wr::new(SIZE)
            .bytes(0, &self.src_min)
            .bytes(16, &self.src_max)
            .bytes(32, &self.dst_min)
            .bytes(48, &self.dst_max)
            .u8(64, self.flags)
            .bytes(65, &self.pad)
            .finish()
    }

    /// Reads a blob.
    pub fn decode(b: &[u8]) -> Result<Self, DecodeError> {
        let r = Rd::new(NAME, REV, b, SIZE)?;
        Ok(XtIprangeMtinfo {
            src_min: r.arr(0),
            src_max: r.arr(16),
            dst_min: r.arr(32),
            dst_max: r.arr(48),
            flags: r.u8(64),
            pad: r.arr(65),
        })
    }
}

fn v4(a: std::net::Ipv4Addr) -> [u8; 16] {
    let mut b = [0u8; 16];
    b[..4].copy_from_slice(&a.octets());
    b
}

impl From<&IprangeMatch> for XtIprangeMtinfo {
    fn from(m: &IprangeMatch) -> Self {
        let mut x = XtIprangeMtinfo::default();
        if let Some(s) = m.src {
            x.src_min = v4(s.value.first);
            x.src_max = v4(s.value.last);
            x.flags |= IPRANGE_SRC | if s.invert { IPRANGE_SRC_INV } else { 0 };
        }
        if let Some(d) = m.dst {
            x.dst_min = v4(d.value.first);
            x.dst_max = v4(d.value.last);
            x.flags |= IPRANGE_DST | if d.invert { IPRANGE_DST_INV } else { 0 };
        }
        x
    }
}

impl TryFrom<&XtIprangeMtinfo> for IprangeMatch {
    type Error = Unrepresentable;

    /// The ranges `iprange_mt4_save` prints; refused unless they encode back to the struct.
    fn try_from(x: &XtIprangeMtinfo) -> Result<Self, Unrepresentable> {
        let a = |b: &[u8; 16]| std::net::Ipv4Addr::new(b[0], b[1], b[2], b[3]);
        let range = |bit: u8, inv: u8, min: &[u8; 16], max: &[u8; 16]| {
            (x.flags & bit != 0).then(|| Negatable {
                value: Ipv4Range { first: a(min), last: a(max) },
                invert: x.flags & inv != 0,
            })
        };
        let m = IprangeMatch {
            src: range(IPRANGE_SRC, IPRANGE_SRC_INV, &x.src_min, &x.src_max),
            dst: range(IPRANGE_DST, IPRANGE_DST_INV, &x.dst_min, &x.dst_max),
        };
        exact(x, m, NAME, REV, XtIprangeMtinfo::encode)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Match;
    use crate::xt::testutil::{rule, zero_except};

    #[test]
    fn captures() {
        // `iptables-nft -vvv -A INPUT <rule>` (iptables 1.8.9, Linux 6.18): iprange rev 1.
        for (cmd, blob) in [
            (
                "-A INPUT -m iprange --src-range 1.1.1.1-1.1.1.10",
                zero_except(72, &[(0, "01010101"), (16, "0101010a"), (64, "01")]),
            ),
            (
                "-A INPUT -m iprange ! --dst-range 10.0.0.1-10.0.0.9 --src-range 1.2.3.4-1.2.3.5",
                zero_except(
                    72,
                    &[(0, "01020304"), (16, "01020305"), (32, "0a000001"), (48, "0a000009"), (64, "23")],
                ),
            ),
        ] {
            let r = rule(cmd);
            let Some(Match::Iprange(m)) = r.matches.first() else { panic!("{cmd}") };
            assert_eq!(XtIprangeMtinfo::from(m).encode(), blob, "{cmd}");
            assert_eq!(XtIprangeMtinfo::decode(&blob).unwrap(), XtIprangeMtinfo::from(m));
        }
    }
}

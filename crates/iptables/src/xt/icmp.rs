//! `struct ipt_icmp` (linux/netfilter_ipv4/ip_tables.h): match `icmp` rev 0, 8 bytes.

use super::{DecodeError, Rd, Unrepresentable, Wr, exact, xt_align};
use crate::matches::IcmpMatch;

/// Extension name.
pub const NAME: &str = "icmp";
/// Revision.
pub const REV: u32 = 0;
/// `XT_ALIGN(sizeof(struct ipt_icmp))`.
pub const SIZE: usize = xt_align(4);

/// `IPT_ICMP_INV`.
pub const IPT_ICMP_INV: u8 = 0x01;

/// `struct ipt_icmp`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct IptIcmp {
    /// Type (255: any).
    pub icmp_type: u8,
    /// Code range.
    pub code: [u8; 2],
    /// `IPT_ICMP_INV`.
    pub invflags: u8,
    /// Alignment bytes 4..8.
    pub pad: [u8; 4],
}

impl IptIcmp {
    /// The blob.
    pub fn encode(&self) -> Vec<u8> {
        Wr::new(SIZE)
            .u8(0, self.icmp_type)
            .bytes(1, &self.code)
            .u8(3, self.invflags)
            .bytes(4, &self.pad)
            .finish()
    }

    /// Reads a blob.
    pub fn decode(b: &[u8]) -> Result<Self, DecodeError> {
        let r = Rd::new(NAME, REV, b, SIZE)?;
        Ok(IptIcmp { icmp_type: r.u8(0), code: r.arr(1), invflags: r.u8(3), pad: r.arr(4) })
    }
}

impl From<&IcmpMatch> for IptIcmp {
    fn from(m: &IcmpMatch) -> Self {
        IptIcmp {
            icmp_type: m.icmp_type,
            code: [m.code_min, m.code_max],
            invflags: if m.invert { IPT_ICMP_INV } else { 0 },
            pad: [0; 4],
        }
    }
}

impl TryFrom<&IptIcmp> for IcmpMatch {
    type Error = Unrepresentable;

    /// The option `icmp_save` prints; refused unless it encodes back to the struct.
    fn try_from(x: &IptIcmp) -> Result<Self, Unrepresentable> {
        let m = IcmpMatch {
            icmp_type: x.icmp_type,
            code_min: x.code[0],
            code_max: x.code[1],
            invert: x.invflags & IPT_ICMP_INV != 0,
        };
        exact(x, m, NAME, REV, IptIcmp::encode)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Match;
    use crate::xt::testutil::{hex, rule};

    #[test]
    fn captures() {
        // Reference Appendix A f06, f08, x23.
        for (cmd, blob) in [
            ("-A INPUT -p icmp --icmp-type echo-request -j DROP", "0800ff0000000000"),
            ("-A INPUT -p icmp -m icmp --icmp-type any -j DROP", "ff00ff0000000000"),
            ("-A INPUT -p icmp --icmp-type 3/4 -j ACCEPT", "0304040000000000"),
            ("-A INPUT -p icmp ! --icmp-type echo-reply -j ACCEPT", "0000ff0100000000"),
            ("-A INPUT -p icmp --icmp-type destination-unreachable -j ACCEPT", "0300ff0000000000"),
        ] {
            let r = rule(cmd);
            let Some(Match::Icmp(m)) = r.matches.first() else { panic!("{cmd}") };
            assert_eq!(IptIcmp::from(m).encode(), hex(blob), "{cmd}");
            assert_eq!(IptIcmp::decode(&hex(blob)).unwrap(), IptIcmp::from(m), "{cmd}");
        }
    }
}

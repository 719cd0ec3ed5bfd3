//! `struct ipt_ttl_info` (linux/netfilter_ipv4/ipt_ttl.h): match `ttl` rev 0, 8 bytes.

use super::{DecodeError, Rd, Unrepresentable, Wr, exact, xt_align};
use crate::matches::{TtlMatch, TtlMode};

/// Extension name.
pub const NAME: &str = "ttl";
/// Revision.
pub const REV: u32 = 0;
/// `XT_ALIGN(sizeof(struct ipt_ttl_info))`.
pub const SIZE: usize = xt_align(2);

/// `IPT_TTL_EQ`.
pub const IPT_TTL_EQ: u8 = 0;
/// `IPT_TTL_NE`.
pub const IPT_TTL_NE: u8 = 1;
/// `IPT_TTL_LT`.
pub const IPT_TTL_LT: u8 = 2;
/// `IPT_TTL_GT`.
pub const IPT_TTL_GT: u8 = 3;

/// `struct ipt_ttl_info`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct IptTtlInfo {
    /// `IPT_TTL_*`.
    pub mode: u8,
    /// TTL.
    pub ttl: u8,
    /// Alignment bytes 2..8.
    pub pad: [u8; 6],
}

impl IptTtlInfo {
    /// The blob.
    pub fn encode(&self) -> Vec<u8> {
        Wr::new(SIZE).u8(0, self.mode).u8(1, self.ttl).bytes(2, &self.pad).finish()
    }

    /// Reads a blob.
    pub fn decode(b: &[u8]) -> Result<Self, DecodeError> {
        let r = Rd::new(NAME, REV, b, SIZE)?;
        Ok(IptTtlInfo { mode: r.u8(0), ttl: r.u8(1), pad: r.arr(2) })
    }
}

impl From<&TtlMatch> for IptTtlInfo {
    fn from(m: &TtlMatch) -> Self {
        IptTtlInfo {
            mode: match m.mode {
                TtlMode::Eq => IPT_TTL_EQ,
                TtlMode::Ne => IPT_TTL_NE,
                TtlMode::Lt => IPT_TTL_LT,
                TtlMode::Gt => IPT_TTL_GT,
            },
            ttl: m.ttl,
            pad: [0; 6],
        }
    }
}

impl TryFrom<&IptTtlInfo> for TtlMatch {
    type Error = Unrepresentable;

    /// `--ttl-eq/-lt/-gt`; refused unless it encodes back to the struct.
    fn try_from(x: &IptTtlInfo) -> Result<Self, Unrepresentable> {
        let mode = match x.mode {
            IPT_TTL_EQ => TtlMode::Eq,
            IPT_TTL_NE => TtlMode::Ne,
            IPT_TTL_LT => TtlMode::Lt,
            IPT_TTL_GT => TtlMode::Gt,
            _ => return Err(Unrepresentable::new(NAME, REV, &x.encode())),
        };
        exact(x, TtlMatch { mode, ttl: x.ttl }, NAME, REV, IptTtlInfo::encode)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Match;
    use crate::xt::testutil::{hex, rule};

    #[test]
    fn captures() {
        // `iptables-nft -vvv -A INPUT <rule>` (iptables 1.8.9, Linux 6.18): ttl rev 0.
        for (cmd, blob) in [
            ("-A INPUT -m ttl --ttl-eq 64", "0040000000000000"),
            ("-A INPUT -m ttl ! --ttl-eq 1", "0101000000000000"),
            ("-A INPUT -m ttl --ttl-lt 5", "0205000000000000"),
            ("-A INPUT -m ttl --ttl-gt 200", "03c8000000000000"),
        ] {
            let r = rule(cmd);
            let Some(Match::Ttl(m)) = r.matches.first() else { panic!("{cmd}") };
            assert_eq!(IptTtlInfo::from(m).encode(), hex(blob), "{cmd}");
            assert_eq!(IptTtlInfo::decode(&hex(blob)).unwrap(), IptTtlInfo::from(m));
        }
    }
}

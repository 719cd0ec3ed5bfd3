//! `struct ipt_reject_info` (linux/netfilter_ipv4/ipt_REJECT.h): target `REJECT` rev 0, 8 bytes.

use super::{DecodeError, Rd, Unrepresentable, Wr, exact, xt_align};
use crate::targets::{RejectTarget, RejectWith};

/// Extension name.
pub const NAME: &str = "REJECT";
/// Revision.
pub const REV: u32 = 0;
/// `XT_ALIGN(sizeof(struct ipt_reject_info))`.
pub const SIZE: usize = xt_align(4);

/// `struct ipt_reject_info`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct IptRejectInfo {
    /// `enum ipt_reject_with` (see [`crate::targets::RejectWith::from_value`]).
    pub with: u32,
    /// Alignment bytes 4..8.
    pub pad: [u8; 4],
}

impl IptRejectInfo {
    /// The blob.
    pub fn encode(&self) -> Vec<u8> {
        Wr::new(SIZE).u32(0, self.with).bytes(4, &self.pad).finish()
    }

    /// Reads a blob.
    pub fn decode(b: &[u8]) -> Result<Self, DecodeError> {
        let r = Rd::new(NAME, REV, b, SIZE)?;
        Ok(IptRejectInfo { with: r.u32(0), pad: r.arr(4) })
    }
}

impl From<&RejectTarget> for IptRejectInfo {
    fn from(t: &RejectTarget) -> Self {
        IptRejectInfo { with: t.with.value(), pad: [0; 4] }
    }
}

impl TryFrom<&IptRejectInfo> for RejectTarget {
    type Error = Unrepresentable;

    /// `--reject-with TYPE`; refused for values natkeeper does not name, and padding.
    fn try_from(x: &IptRejectInfo) -> Result<Self, Unrepresentable> {
        let refused = || Unrepresentable::new(NAME, REV, &x.encode());
        let with = RejectWith::from_value(x.with).ok_or_else(refused)?;
        exact(x, RejectTarget { with }, NAME, REV, IptRejectInfo::encode)
    }
}

#[cfg(all(test, target_endian = "little"))]
mod tests {
    use super::*;
    use crate::Target;
    use crate::xt::testutil::{hex, rule};

    #[test]
    fn captures() {
        // Reference Appendix B f05, x15; the last from `iptables-nft -vvv` (1.8.9, Linux 6.18).
        for (cmd, blob) in [
            ("-A FORWARD -o virbr0 -j REJECT --reject-with icmp-port-unreachable", "0300000000000000"),
            ("-A INPUT -j REJECT", "0300000000000000"),
            ("-A INPUT -p tcp -j REJECT --reject-with tcp-reset", "0700000000000000"),
            ("-A INPUT -j REJECT --reject-with icmp-host-prohibited", "0600000000000000"),
            ("-A INPUT -j REJECT --reject-with icmp-admin-prohibited", "0800000000000000"),
        ] {
            let r = rule(cmd);
            let Some(Target::Reject(t)) = &r.target else { panic!("{cmd}") };
            assert_eq!(IptRejectInfo::from(t).encode(), hex(blob), "{cmd}");
            assert_eq!(IptRejectInfo::decode(&hex(blob)).unwrap(), IptRejectInfo::from(t));
        }
    }
}

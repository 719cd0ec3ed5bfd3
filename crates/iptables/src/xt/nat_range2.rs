//! `struct nf_nat_range2` (linux/netfilter/nf_nat.h): target `DNAT` rev 2, 48 bytes.
//! iptables 1.8.9 prints any DNAT blob with this layout, so DNAT must be written as rev 2.

use std::net::Ipv4Addr;

use super::nat_ipv4_multi_range_compat::{
    NF_NAT_RANGE_MAP_IPS, NF_NAT_RANGE_PERSISTENT, NF_NAT_RANGE_PROTO_OFFSET, NF_NAT_RANGE_PROTO_RANDOM,
    NF_NAT_RANGE_PROTO_SPECIFIED,
};
use super::{DecodeError, Rd, Unrepresentable, Wr, exact, xt_align};
use crate::matches::Ipv4Range;
use crate::port::PortRange;
use crate::targets::{DnatTarget, NatRange};

/// Extension name.
pub const NAME: &str = "DNAT";
/// Revision.
pub const REV: u32 = 2;
/// `XT_ALIGN(sizeof(struct nf_nat_range2))`.
pub const SIZE: usize = xt_align(44);

/// `struct nf_nat_range2`: addresses are `union nf_inet_addr` (IPv4 in the first 4 bytes),
/// ports `__be16` in the blob (host values here).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct NfNatRange2 {
    /// `NF_NAT_RANGE_*`.
    pub flags: u32,
    /// Lowest address.
    pub min_addr: [u8; 16],
    /// Highest address.
    pub max_addr: [u8; 16],
    /// Lowest port.
    pub min_proto: u16,
    /// Highest port.
    pub max_proto: u16,
    /// Base of a shifted port map (`PROTO_OFFSET`).
    pub base_proto: u16,
    /// Struct and alignment padding, bytes 42..48.
    pub pad: [u8; 6],
}

impl NfNatRange2 {
    /// The blob.
    pub fn encode(&self) -> Vec<u8> {
        Wr::new(SIZE)
            .u32(0, self.flags)
            .bytes(4, &self.min_addr)
            .bytes(20, &self.max_addr)
            .be16(36, self.min_proto)
            .be16(38, self.max_proto)
            .be16(40, self.base_proto)
            .bytes(42, &self.pad)
            .finish()
    }

    /// Reads a blob.
    pub fn decode(b: &[u8]) -> Result<Self, DecodeError> {
        let r = Rd::new(NAME, REV, b, SIZE)?;
        Ok(NfNatRange2 {
            flags: r.u32(0),
            min_addr: r.arr(4),
            max_addr: r.arr(20),
            min_proto: r.be16(36),
            max_proto: r.be16(38),
            base_proto: r.be16(40),
            pad: r.arr(42),
        })
    }
}

fn v4(a: Ipv4Addr) -> [u8; 16] {
    let mut b = [0u8; 16];
    b[..4].copy_from_slice(&a.octets());
    b
}

impl From<&DnatTarget> for NfNatRange2 {
    /// `DNAT_parse_v2`.
    fn from(t: &DnatTarget) -> Self {
        let mut x = NfNatRange2::default();
        if let Some(a) = t.to.addrs {
            x.flags |= NF_NAT_RANGE_MAP_IPS;
            x.min_addr = v4(a.first);
            x.max_addr = v4(a.last);
        }
        if let Some(p) = t.to.ports {
            x.flags |= NF_NAT_RANGE_PROTO_SPECIFIED;
            x.min_proto = p.first;
            x.max_proto = p.last;
        }
        if let Some(base) = t.to.base_port {
            x.flags |= NF_NAT_RANGE_PROTO_OFFSET;
            x.base_proto = base;
        }
        if t.random {
            x.flags |= NF_NAT_RANGE_PROTO_RANDOM;
        }
        if t.persistent {
            x.flags |= NF_NAT_RANGE_PERSISTENT;
        }
        x
    }
}

impl TryFrom<&NfNatRange2> for DnatTarget {
    type Error = Unrepresentable;

    /// The options `DNATv2_save` prints; refused unless they encode back to the struct.
    fn try_from(x: &NfNatRange2) -> Result<Self, Unrepresentable> {
        let v4 = |b: &[u8; 16]| Ipv4Addr::new(b[0], b[1], b[2], b[3]);
        let to = NatRange {
            addrs: (x.flags & NF_NAT_RANGE_MAP_IPS != 0)
                .then(|| Ipv4Range { first: v4(&x.min_addr), last: v4(&x.max_addr) }),
            ports: (x.flags & NF_NAT_RANGE_PROTO_SPECIFIED != 0)
                .then_some(PortRange::new(x.min_proto, x.max_proto)),
            base_port: (x.flags & NF_NAT_RANGE_PROTO_OFFSET != 0).then_some(x.base_proto),
        };
        let t = DnatTarget {
            to,
            random: x.flags & NF_NAT_RANGE_PROTO_RANDOM != 0,
            persistent: x.flags & NF_NAT_RANGE_PERSISTENT != 0,
        };
        exact(x, t, NAME, REV, NfNatRange2::encode)
    }
}

#[cfg(all(test, target_endian = "little"))]
mod tests {
    use super::*;
    use crate::Target;
    use crate::xt::testutil::{hex, rule};

    #[test]
    fn captures() {
        // Reference Appendix B nat04-06, x18; the last from `iptables-nft -vvv` of the same
        // command (iptables 1.8.9, Debian 12, Linux 6.18, unshare -n).
        for (cmd, blob) in [
            (
                "-t nat -A PREROUTING -i eth0 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 192.168.122.42:80",
                "03000000c0a87a2a000000000000000000000000c0a87a2a000000000000000000000000005000500000000000000000",
            ),
            (
                "-t nat -A PREROUTING -d 192.168.1.211 -i eth0 -p tcp -j DNAT --to-destination 192.168.122.41",
                "01000000c0a87a29000000000000000000000000c0a87a29000000000000000000000000000000000000000000000000",
            ),
            (
                "-t nat -A OUTPUT -d 192.168.1.211 -p tcp --dport 80 -j DNAT --to-destination 192.168.122.41:80",
                "03000000c0a87a29000000000000000000000000c0a87a29000000000000000000000000005000500000000000000000",
            ),
            (
                "-t nat -A PREROUTING -p tcp -j DNAT --to-destination 10.0.0.1:80-90 --persistent",
                "0b0000000a0000010000000000000000000000000a0000010000000000000000000000000050005a0000000000000000",
            ),
            (
                "-t nat -A PREROUTING -p tcp -j DNAT --to-destination 1.1.1.1:1000-2000/3000 --random",
                "27000000010101010000000000000000000000000101010100000000000000000000000003e807d00bb8000000000000",
            ),
        ] {
            let r = rule(cmd);
            let Some(Target::Dnat(t)) = &r.target else { panic!("{cmd}") };
            assert_eq!(NfNatRange2::from(t).encode(), hex(blob), "{cmd}");
            assert_eq!(NfNatRange2::decode(&hex(blob)).unwrap(), NfNatRange2::from(t));
        }
    }
}

//! `struct nf_nat_ipv4_multi_range_compat` (linux/netfilter/nf_nat.h): targets `SNAT`,
//! `MASQUERADE` and `REDIRECT` rev 0 (and `DNAT` rev 0, which iptables 1.8.9 does not write),
//! 24 bytes.

use std::net::Ipv4Addr;

use super::{DecodeError, Rd, Unrepresentable, Wr, exact, xt_align};
use crate::matches::Ipv4Range;
use crate::port::PortRange;
use crate::targets::{MasqueradeTarget, NatRange, RedirectTarget, SnatTarget};

/// Revision.
pub const REV: u32 = 0;
/// `XT_ALIGN(sizeof(struct nf_nat_ipv4_multi_range_compat))`.
pub const SIZE: usize = xt_align(20);

/// `NF_NAT_RANGE_MAP_IPS`.
pub const NF_NAT_RANGE_MAP_IPS: u32 = 1 << 0;
/// `NF_NAT_RANGE_PROTO_SPECIFIED`.
pub const NF_NAT_RANGE_PROTO_SPECIFIED: u32 = 1 << 1;
/// `NF_NAT_RANGE_PROTO_RANDOM`.
pub const NF_NAT_RANGE_PROTO_RANDOM: u32 = 1 << 2;
/// `NF_NAT_RANGE_PERSISTENT`.
pub const NF_NAT_RANGE_PERSISTENT: u32 = 1 << 3;
/// `NF_NAT_RANGE_PROTO_RANDOM_FULLY`.
pub const NF_NAT_RANGE_PROTO_RANDOM_FULLY: u32 = 1 << 4;
/// `NF_NAT_RANGE_PROTO_OFFSET`.
pub const NF_NAT_RANGE_PROTO_OFFSET: u32 = 1 << 5;

/// Which target carries the struct.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CompatTarget {
    /// `SNAT`.
    Snat,
    /// `MASQUERADE`.
    Masquerade,
    /// `REDIRECT`.
    Redirect,
    /// `DNAT` rev 0.
    Dnat,
}

impl CompatTarget {
    /// The target name.
    pub fn name(self) -> &'static str {
        match self {
            CompatTarget::Snat => "SNAT",
            CompatTarget::Masquerade => "MASQUERADE",
            CompatTarget::Redirect => "REDIRECT",
            CompatTarget::Dnat => "DNAT",
        }
    }
}

/// `struct nf_nat_ipv4_multi_range_compat` with its single `range[0]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct NfNatIpv4MultiRangeCompat {
    /// Number of ranges (iptables: 1).
    pub rangesize: u32,
    /// `NF_NAT_RANGE_*`.
    pub flags: u32,
    /// Lowest address (`__be32`).
    pub min_ip: Ipv4Addr,
    /// Highest address.
    pub max_ip: Ipv4Addr,
    /// Lowest port (`__be16` in the blob).
    pub min_port: u16,
    /// Highest port.
    pub max_port: u16,
    /// Alignment bytes 20..24.
    pub pad: [u8; 4],
}

impl Default for NfNatIpv4MultiRangeCompat {
    fn default() -> Self {
        NfNatIpv4MultiRangeCompat {
            rangesize: 1,
            flags: 0,
            min_ip: Ipv4Addr::UNSPECIFIED,
            max_ip: Ipv4Addr::UNSPECIFIED,
            min_port: 0,
            max_port: 0,
            pad: [0; 4],
        }
    }
}

impl NfNatIpv4MultiRangeCompat {
    /// The blob.
    pub fn encode(&self) -> Vec<u8> {
        Wr::new(SIZE)
            .u32(0, self.rangesize)
            .u32(4, self.flags)
            .bytes(8, &self.min_ip.octets())
            .bytes(12, &self.max_ip.octets())
            .be16(16, self.min_port)
            .be16(18, self.max_port)
            .bytes(20, &self.pad)
            .finish()
    }

    /// Reads a blob of target `name`.
    pub fn decode(name: &'static str, b: &[u8]) -> Result<Self, DecodeError> {
        let r = Rd::new(name, REV, b, SIZE)?;
        Ok(NfNatIpv4MultiRangeCompat {
            rangesize: r.u32(0),
            flags: r.u32(4),
            min_ip: Ipv4Addr::from(r.arr::<4>(8)),
            max_ip: Ipv4Addr::from(r.arr::<4>(12)),
            min_port: r.be16(16),
            max_port: r.be16(18),
            pad: r.arr(20),
        })
    }

    /// `NAT_parse`: `rangesize` 1, the range and the flags.
    fn from_range(range: &NatRange, extra: u32) -> Self {
        let mut x = NfNatIpv4MultiRangeCompat { flags: extra, ..NfNatIpv4MultiRangeCompat::default() };
        if let Some(a) = range.addrs {
            x.flags |= NF_NAT_RANGE_MAP_IPS;
            x.min_ip = a.first;
            x.max_ip = a.last;
        }
        if let Some(p) = range.ports {
            x.flags |= NF_NAT_RANGE_PROTO_SPECIFIED;
            x.min_port = p.first;
            x.max_port = p.last;
        }
        x
    }
}

fn flag(on: bool, bit: u32) -> u32 {
    if on { bit } else { 0 }
}

impl From<&SnatTarget> for NfNatIpv4MultiRangeCompat {
    fn from(t: &SnatTarget) -> Self {
        NfNatIpv4MultiRangeCompat::from_range(
            &t.to,
            flag(t.random, NF_NAT_RANGE_PROTO_RANDOM)
                | flag(t.random_fully, NF_NAT_RANGE_PROTO_RANDOM_FULLY)
                | flag(t.persistent, NF_NAT_RANGE_PERSISTENT),
        )
    }
}

impl From<&MasqueradeTarget> for NfNatIpv4MultiRangeCompat {
    fn from(t: &MasqueradeTarget) -> Self {
        let range = NatRange { ports: t.ports, ..NatRange::default() };
        NfNatIpv4MultiRangeCompat::from_range(
            &range,
            flag(t.random, NF_NAT_RANGE_PROTO_RANDOM) | flag(t.random_fully, NF_NAT_RANGE_PROTO_RANDOM_FULLY),
        )
    }
}

impl From<&RedirectTarget> for NfNatIpv4MultiRangeCompat {
    fn from(t: &RedirectTarget) -> Self {
        let range = NatRange { ports: t.ports, ..NatRange::default() };
        NfNatIpv4MultiRangeCompat::from_range(&range, flag(t.random, NF_NAT_RANGE_PROTO_RANDOM))
    }
}

impl NfNatIpv4MultiRangeCompat {
    /// The range and flags of `range[0]` (`RANGE2_INIT_FROM_IPV4_MRC`), as the model keeps them.
    fn range(&self) -> (NatRange, u32) {
        let addrs = (self.flags & NF_NAT_RANGE_MAP_IPS != 0)
            .then_some(Ipv4Range { first: self.min_ip, last: self.max_ip });
        let ports = (self.flags & NF_NAT_RANGE_PROTO_SPECIFIED != 0)
            .then_some(PortRange::new(self.min_port, self.max_port));
        (NatRange { addrs, ports, base_port: None }, self.flags)
    }
}

impl TryFrom<&NfNatIpv4MultiRangeCompat> for SnatTarget {
    type Error = Unrepresentable;

    /// The options `SNAT_save` prints; refused unless they encode back to the struct.
    fn try_from(x: &NfNatIpv4MultiRangeCompat) -> Result<Self, Unrepresentable> {
        let (to, flags) = x.range();
        let t = SnatTarget {
            to,
            random: flags & NF_NAT_RANGE_PROTO_RANDOM != 0,
            random_fully: flags & NF_NAT_RANGE_PROTO_RANDOM_FULLY != 0,
            persistent: flags & NF_NAT_RANGE_PERSISTENT != 0,
        };
        exact(x, t, CompatTarget::Snat.name(), REV, NfNatIpv4MultiRangeCompat::encode)
    }
}

impl TryFrom<&NfNatIpv4MultiRangeCompat> for MasqueradeTarget {
    type Error = Unrepresentable;

    /// The options `MASQUERADE_save` prints; refused unless they encode back to the struct.
    fn try_from(x: &NfNatIpv4MultiRangeCompat) -> Result<Self, Unrepresentable> {
        let (to, flags) = x.range();
        let t = MasqueradeTarget {
            ports: to.ports,
            random: flags & NF_NAT_RANGE_PROTO_RANDOM != 0,
            random_fully: flags & NF_NAT_RANGE_PROTO_RANDOM_FULLY != 0,
        };
        exact(x, t, CompatTarget::Masquerade.name(), REV, NfNatIpv4MultiRangeCompat::encode)
    }
}

impl TryFrom<&NfNatIpv4MultiRangeCompat> for RedirectTarget {
    type Error = Unrepresentable;

    /// The options `REDIRECT_save` prints; refused unless they encode back to the struct.
    fn try_from(x: &NfNatIpv4MultiRangeCompat) -> Result<Self, Unrepresentable> {
        let (to, flags) = x.range();
        let t = RedirectTarget { ports: to.ports, random: flags & NF_NAT_RANGE_PROTO_RANDOM != 0 };
        exact(x, t, CompatTarget::Redirect.name(), REV, NfNatIpv4MultiRangeCompat::encode)
    }
}

#[cfg(all(test, target_endian = "little"))]
mod tests {
    use super::*;
    use crate::Target;
    use crate::xt::testutil::{hex, rule};

    #[test]
    fn captures() {
        // Reference Appendix B nat01-03, x18; the rest from `iptables-nft -vvv` of the same
        // command (iptables 1.8.9, Debian 12, Linux 6.18, unshare -n).
        for (cmd, blob) in [
            (
                "-t nat -A POSTROUTING -s 192.168.122.0/24 ! -d 192.168.122.0/24 -j MASQUERADE",
                "010000000000000000000000000000000000000000000000",
            ),
            (
                "-t nat -A POSTROUTING -s 192.168.122.0/24 ! -d 192.168.122.0/24 -p tcp -j MASQUERADE --to-ports 1024-65535",
                "010000000200000000000000000000000400ffff00000000",
            ),
            (
                "-t nat -A POSTROUTING -s 192.168.122.41 ! -d 192.168.122.0/24 -j SNAT --to-source 192.168.1.211",
                "0100000001000000c0a801d3c0a801d30000000000000000",
            ),
            (
                "-t nat -A POSTROUTING -o eth0 -j MASQUERADE --random",
                "010000000400000000000000000000000000000000000000",
            ),
            (
                "-t nat -A POSTROUTING -p udp -j SNAT --to-source 10.0.0.1-10.0.0.5:1000-2000",
                "01000000030000000a0000010a00000503e807d000000000",
            ),
            (
                "-t nat -A PREROUTING -p tcp --dport 80 -j REDIRECT --to-ports 8080",
                "010000000200000000000000000000001f901f9000000000",
            ),
            (
                "-t nat -A POSTROUTING -j SNAT --to-source 10.0.0.9 --random-fully",
                "01000000110000000a0000090a0000090000000000000000",
            ),
            (
                "-t nat -A POSTROUTING -j SNAT --to-source 1.1.1.1-1.1.1.10 --random --persistent",
                "010000000d000000010101010101010a0000000000000000",
            ),
            (
                "-t nat -A OUTPUT -p udp -j REDIRECT --to-ports 42-1234 --random",
                "01000000060000000000000000000000002a04d200000000",
            ),
            (
                "-t nat -A POSTROUTING -j MASQUERADE --random-fully",
                "010000001000000000000000000000000000000000000000",
            ),
        ] {
            let r = rule(cmd);
            let (x, name) = match &r.target {
                Some(Target::Masquerade(t)) => (NfNatIpv4MultiRangeCompat::from(t), "MASQUERADE"),
                Some(Target::Snat(t)) => (NfNatIpv4MultiRangeCompat::from(t), "SNAT"),
                Some(Target::Redirect(t)) => (NfNatIpv4MultiRangeCompat::from(t), "REDIRECT"),
                _ => panic!("{cmd}"),
            };
            assert_eq!(x.encode(), hex(blob), "{cmd}");
            assert_eq!(NfNatIpv4MultiRangeCompat::decode(name, &hex(blob)).unwrap(), x);
        }
    }
}

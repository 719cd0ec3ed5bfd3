//! `struct xt_multiport_v1` (linux/netfilter/xt_multiport.h): match `multiport` rev 1, 48 bytes.

use super::{DecodeError, Rd, Unrepresentable, Wr, exact};
use crate::matches::{MultiportKind, MultiportMatch};
use crate::port::PortRange;

/// Extension name.
pub const NAME: &str = "multiport";
/// Revision.
pub const REV: u32 = 1;
/// `sizeof(struct xt_multiport_v1)` (already aligned).
pub const SIZE: usize = 48;

/// `XT_MULTIPORT_SOURCE`.
pub const XT_MULTIPORT_SOURCE: u8 = 0;
/// `XT_MULTIPORT_DESTINATION`.
pub const XT_MULTIPORT_DESTINATION: u8 = 1;
/// `XT_MULTIPORT_EITHER`.
pub const XT_MULTIPORT_EITHER: u8 = 2;

/// `struct xt_multiport_v1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct XtMultiportV1 {
    /// `XT_MULTIPORT_*`.
    pub flags: u8,
    /// Slots used.
    pub count: u8,
    /// Ports (host order).
    pub ports: [u16; 15],
    /// 1 where a slot starts a range (the next slot is its end).
    pub pflags: [u8; 15],
    /// Non-zero: negated.
    pub invert: u8,
}

impl XtMultiportV1 {
    /// The blob.
    pub fn encode(&self) -> Vec<u8> {
        Wr::new(SIZE)
            .u8(0, self.flags)
            .u8(1, self.count)
            .u16s(2, &self.ports)
            .bytes(32, &self.pflags)
            .u8(47, self.invert)
            .finish()
    }

    /// Reads a blob.
    pub fn decode(b: &[u8]) -> Result<Self, DecodeError> {
        let r = Rd::new(NAME, REV, b, SIZE)?;
        Ok(XtMultiportV1 {
            flags: r.u8(0),
            count: r.u8(1),
            ports: r.u16s(2),
            pflags: r.arr(32),
            invert: r.u8(47),
        })
    }
}

impl From<&MultiportMatch> for XtMultiportV1 {
    /// `parse_multi_ports_v1`: a range takes two slots.
    fn from(m: &MultiportMatch) -> Self {
        let mut x = XtMultiportV1 {
            flags: match m.kind {
                MultiportKind::Source => XT_MULTIPORT_SOURCE,
                MultiportKind::Destination => XT_MULTIPORT_DESTINATION,
                MultiportKind::Either => XT_MULTIPORT_EITHER,
            },
            invert: u8::from(m.invert),
            ..XtMultiportV1::default()
        };
        let mut i = 0;
        for r in &m.ports {
            if i >= 15 {
                break;
            }
            x.ports[i] = r.first;
            if r.first != r.last && i + 1 < 15 {
                x.pflags[i] = 1;
                i += 1;
                x.ports[i] = r.last;
            }
            i += 1;
        }
        x.count = i as u8;
        x
    }
}

impl TryFrom<&XtMultiportV1> for MultiportMatch {
    type Error = Unrepresentable;

    /// The ports `multiport_save_v1` prints (an entry with `pflags` set starts a range); refused
    /// unless they encode back to the struct.
    fn try_from(x: &XtMultiportV1) -> Result<Self, Unrepresentable> {
        let refused = || Unrepresentable::new(NAME, REV, &x.encode());
        let kind = match x.flags {
            XT_MULTIPORT_SOURCE => MultiportKind::Source,
            XT_MULTIPORT_DESTINATION => MultiportKind::Destination,
            XT_MULTIPORT_EITHER => MultiportKind::Either,
            _ => return Err(refused()),
        };
        let count = usize::from(x.count);
        if count == 0 || count > x.ports.len() {
            return Err(refused());
        }
        let mut ports = Vec::new();
        let mut i = 0;
        while i < count {
            let first = x.ports[i];
            if x.pflags[i] != 0 && i + 1 < count {
                ports.push(PortRange::new(first, x.ports[i + 1]));
                i += 2;
            } else {
                ports.push(PortRange::single(first));
                i += 1;
            }
        }
        exact(x, MultiportMatch { kind, ports, invert: x.invert != 0 }, NAME, REV, XtMultiportV1::encode)
    }
}

#[cfg(all(test, target_endian = "little"))]
mod tests {
    use super::*;
    use crate::Match;
    use crate::xt::testutil::{hex, rule};

    #[test]
    fn captures() {
        // Reference Appendix B f12, x19; the last from `iptables-nft -vvv -A INPUT -p udp -m
        // multiport ! --sports 53,1024:65535` (iptables 1.8.9, Linux 6.18).
        for (cmd, blob) in [
            (
                "-A FORWARD -p tcp -m multiport --dports 25,110,143 -j ACCEPT",
                "010319006e008f0000000000000000000000000000000000000000000000000000000000000000000000000000000000",
            ),
            (
                "-A INPUT -p udp -m multiport --sports 1000:2000,53 -j ACCEPT",
                "0003e803d007350000000000000000000000000000000000000000000000000001000000000000000000000000000000",
            ),
            (
                "-A INPUT -p tcp -m multiport ! --ports 22,80 -j ACCEPT",
                "020216005000000000000000000000000000000000000000000000000000000000000000000000000000000000000001",
            ),
            (
                "-A INPUT -p udp -m multiport ! --sports 53,1024:65535",
                "000335000004ffff00000000000000000000000000000000000000000000000000010000000000000000000000000001",
            ),
        ] {
            let r = rule(cmd);
            let Some(Match::Multiport(m)) = r.matches.first() else { panic!("{cmd}") };
            assert_eq!(XtMultiportV1::from(m).encode(), hex(blob), "{cmd}");
            assert_eq!(XtMultiportV1::decode(&hex(blob)).unwrap(), XtMultiportV1::from(m));
        }
    }
}

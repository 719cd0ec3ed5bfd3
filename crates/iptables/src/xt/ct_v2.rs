//! `struct xt_ct_target_info_v1` (linux/netfilter/xt_CT.h): target `CT` rev 2, 72 bytes; also
//! what iptables 1.8.9 writes for `-j NOTRACK` (with `XT_CT_NOTRACK_ALIAS`).

use super::{DecodeError, Rd, Unrepresentable, Wr, cstr_buf, cstr_text, exact};
use crate::targets::CtTarget;

/// Extension name.
pub const NAME: &str = "CT";
/// Revision.
pub const REV: u32 = 2;
/// `XT_ALIGN(sizeof(struct xt_ct_target_info_v1))`.
pub const SIZE: usize = 72;

/// `XT_CT_NOTRACK`.
pub const XT_CT_NOTRACK: u16 = 1 << 0;
/// `XT_CT_NOTRACK_ALIAS`: print as `-j NOTRACK`.
pub const XT_CT_NOTRACK_ALIAS: u16 = 1 << 1;

/// `struct xt_ct_target_info_v1`. The kernel-private `struct nf_conn *ct` (bytes 64..72) is in
/// `pad` with the struct padding before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct XtCtTargetInfoV1 {
    /// `XT_CT_*`.
    pub flags: u16,
    /// Zone id.
    pub zone: u16,
    /// Connection event mask.
    pub ct_events: u32,
    /// Expectation event mask.
    pub exp_events: u32,
    /// Helper name, whole buffer.
    pub helper: [u8; 16],
    /// Timeout policy name, whole buffer.
    pub timeout: [u8; 32],
    /// Bytes 60..72: struct padding and the kernel's `ct` pointer.
    pub pad: [u8; 12],
}

impl XtCtTargetInfoV1 {
    /// The helper name.
    pub fn helper_name(&self) -> String {
        cstr_text(&self.helper)
    }

    /// The timeout policy name.
    pub fn timeout_name(&self) -> String {
        cstr_text(&self.timeout)
    }

    /// `-j NOTRACK`.
    pub const NOTRACK: XtCtTargetInfoV1 = XtCtTargetInfoV1 {
        flags: XT_CT_NOTRACK | XT_CT_NOTRACK_ALIAS,
        zone: 0,
        ct_events: 0,
        exp_events: 0,
        helper: [0; 16],
        timeout: [0; 32],
        pad: [0; 12],
    };

    /// The blob.
    pub fn encode(&self) -> Vec<u8> {
        Wr::new(SIZE)
            .u16(0, self.flags)
            .u16(2, self.zone)
            .u32(4, self.ct_events)
            .u32(8, self.exp_events)
            .bytes(12, &self.helper)
            .bytes(28, &self.timeout)
            .bytes(60, &self.pad)
            .finish()
    }

    /// Reads a blob.
    pub fn decode(b: &[u8]) -> Result<Self, DecodeError> {
        let r = Rd::new(NAME, REV, b, SIZE)?;
        Ok(XtCtTargetInfoV1 {
            flags: r.u16(0),
            zone: r.u16(2),
            ct_events: r.u32(4),
            exp_events: r.u32(8),
            helper: r.arr(12),
            timeout: r.arr(28),
            pad: r.arr(60),
        })
    }
}

impl From<&CtTarget> for XtCtTargetInfoV1 {
    fn from(t: &CtTarget) -> Self {
        XtCtTargetInfoV1 {
            flags: t.zone_flags | if t.notrack { XT_CT_NOTRACK } else { 0 },
            zone: t.zone,
            ct_events: t.ct_events,
            exp_events: t.exp_events,
            helper: cstr_buf(t.helper.as_deref().unwrap_or("")),
            timeout: cstr_buf(t.timeout.as_deref().unwrap_or("")),
            pad: [0; 12],
        }
    }
}

impl TryFrom<&XtCtTargetInfoV1> for CtTarget {
    type Error = Unrepresentable;

    /// The options `ct_save_v1` prints for `-j CT` (not the `-j NOTRACK` alias); refused unless
    /// they encode back to the struct.
    fn try_from(x: &XtCtTargetInfoV1) -> Result<Self, Unrepresentable> {
        let refused = || Unrepresentable::new(NAME, REV, &x.encode());
        if x.flags & XT_CT_NOTRACK_ALIAS != 0 {
            return Err(refused());
        }
        let name = |s: String| Some(s).filter(|s| !s.is_empty());
        let t = CtTarget {
            notrack: x.flags & XT_CT_NOTRACK != 0,
            helper: name(x.helper_name()),
            timeout: name(x.timeout_name()),
            ct_events: x.ct_events,
            exp_events: x.exp_events,
            zone: x.zone,
            zone_flags: x.flags & !XT_CT_NOTRACK,
        };
        exact(x, t, NAME, REV, XtCtTargetInfoV1::encode)
    }
}

#[cfg(all(test, target_endian = "little"))]
mod tests {
    use super::*;
    use crate::Target;
    use crate::xt::testutil::{rule, zero_except};

    #[test]
    fn captures() {
        // Reference Appendix B x25 (`-j CT --notrack`); the others from `iptables-nft -vvv -t raw
        // -A CHAIN <rule>` (iptables 1.8.9, Debian 12, Linux 6.18, unshare -n).
        for (cmd, blob) in [
            ("-t raw -A PREROUTING -j CT --notrack", zero_except(72, &[(0, "01")])),
            ("-t raw -A PREROUTING -j NOTRACK", zero_except(72, &[(0, "03")])),
            (
                "-t raw -A OUTPUT -j CT --zone 7 --ctevents new,mark --expevents new",
                zero_except(72, &[(0, "0000070081000000010000")]),
            ),
            ("-t raw -A OUTPUT -j CT --zone-orig mark", zero_except(72, &[(0, "14")])),
        ] {
            let r = rule(cmd);
            let x = match &r.target {
                Some(Target::Ct(t)) => XtCtTargetInfoV1::from(t),
                Some(Target::Notrack) => XtCtTargetInfoV1::NOTRACK,
                _ => panic!("{cmd}"),
            };
            assert_eq!(x.encode(), blob, "{cmd}");
            assert_eq!(XtCtTargetInfoV1::decode(&blob).unwrap(), x, "{cmd}");
        }
    }
}

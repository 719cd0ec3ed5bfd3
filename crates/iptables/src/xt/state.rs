//! `struct xt_state_info` (linux/netfilter/xt_state.h): match `state` rev 0, 8 bytes.
//!
//! iptables 1.8.9 never writes it (`-m state` becomes conntrack rev 3) but prints it when found.
//! Bits are `XT_STATE_BIT(ctinfo)`; negation complements the mask.

use super::{DecodeError, Rd, Unrepresentable, Wr, xt_align};
use crate::matches::{CtStates, StateMatch};

/// Extension name.
pub const NAME: &str = "state";
/// Revision.
pub const REV: u32 = 0;
/// `XT_ALIGN(sizeof(struct xt_state_info))`.
pub const SIZE: usize = xt_align(4);

/// `XT_STATE_INVALID`.
pub const XT_STATE_INVALID: u32 = 1 << 0;
/// `XT_STATE_BIT(IP_CT_ESTABLISHED)`.
pub const XT_STATE_ESTABLISHED: u32 = 1 << 1;
/// `XT_STATE_BIT(IP_CT_RELATED)`.
pub const XT_STATE_RELATED: u32 = 1 << 2;
/// `XT_STATE_BIT(IP_CT_NEW)`.
pub const XT_STATE_NEW: u32 = 1 << 3;
/// `XT_STATE_UNTRACKED` (`1 << (IP_CT_NUMBER + 1)`).
pub const XT_STATE_UNTRACKED: u32 = 1 << 6;

/// `struct xt_state_info`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct XtStateInfo {
    /// State bits.
    pub statemask: u32,
    /// Alignment bytes 4..8.
    pub pad: [u8; 4],
}

impl XtStateInfo {
    /// The blob.
    pub fn encode(&self) -> Vec<u8> {
        Wr::new(SIZE).u32(0, self.statemask).bytes(4, &self.pad).finish()
    }

    /// Reads a blob.
    pub fn decode(b: &[u8]) -> Result<Self, DecodeError> {
        let r = Rd::new(NAME, REV, b, SIZE)?;
        Ok(XtStateInfo { statemask: r.u32(0), pad: r.arr(4) })
    }
}

impl TryFrom<&XtStateInfo> for StateMatch {
    type Error = Unrepresentable;

    /// What iptables 1.8.9 prints for the blob (`state_save`): the INVALID, ESTABLISHED, RELATED
    /// and NEW bits (which have the same values in `xt_conntrack_mtinfo3`). Refused when any other
    /// bit is set (an inverted mask, or `XT_STATE_UNTRACKED`, which iptables would not print).
    fn try_from(x: &XtStateInfo) -> Result<Self, Unrepresentable> {
        const KNOWN: u32 = XT_STATE_INVALID | XT_STATE_ESTABLISHED | XT_STATE_RELATED | XT_STATE_NEW;
        if x.statemask == 0 || x.statemask & !KNOWN != 0 || x.pad != [0; 4] {
            return Err(Unrepresentable::new(NAME, REV, &x.encode()));
        }
        // Fits: only the low four bits are set.
        Ok(StateMatch { states: CtStates(x.statemask as u16), invert: false })
    }
}

#[cfg(all(test, target_endian = "little"))]
mod tests {
    use super::*;
    use crate::xt::testutil::hex;

    #[test]
    fn layout() {
        // RELATED,ESTABLISHED as libxt_conntrack's state rev 0 parser would fill it.
        let x = XtStateInfo { statemask: XT_STATE_RELATED | XT_STATE_ESTABLISHED, pad: [0; 4] };
        assert_eq!(x.encode(), hex("0600000000000000"));
        assert_eq!(XtStateInfo::decode(&x.encode()).unwrap(), x);
    }
}

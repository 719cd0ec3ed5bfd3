//! `counter`: packets and bytes. iptables-nft puts one on every rule. (`NFTA_COUNTER_*`)

use crate::attr::{Attrs, Writer};
use crate::error::DecodeError;
use crate::expr::unknown_attr;

const NFTA_COUNTER_BYTES: u16 = 1;
const NFTA_COUNTER_PACKETS: u16 = 2;
const NFTA_COUNTER_PAD: u16 = 3;

/// The `counter` expression.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Counter {
    /// Bytes counted.
    pub bytes: u64,
    /// Packets counted.
    pub packets: u64,
}

impl Counter {
    pub(crate) fn emit(&self, w: &mut Writer) {
        w.be64(NFTA_COUNTER_BYTES, self.bytes);
        w.be64(NFTA_COUNTER_PACKETS, self.packets);
    }

    pub(crate) fn parse(buf: &[u8]) -> Result<Counter, DecodeError> {
        let mut c = Counter::default();
        for a in Attrs::new(buf) {
            let a = a?;
            match a.kind() {
                NFTA_COUNTER_BYTES => c.bytes = a.be64("NFTA_COUNTER_BYTES")?,
                NFTA_COUNTER_PACKETS => c.packets = a.be64("NFTA_COUNTER_PACKETS")?,
                NFTA_COUNTER_PAD => {}
                _ => return Err(unknown_attr("counter")),
            }
        }
        Ok(c)
    }
}

//! `masq`: masquerade to the outgoing interface's address. nft: `masquerade`,
//! `masquerade to :1024-65535`. (`NFTA_MASQ_*`)

use crate::attr::{Attrs, Writer};
use crate::error::DecodeError;
use crate::expr::{Register, unknown_attr};

const NFTA_MASQ_FLAGS: u16 = 1;
const NFTA_MASQ_REG_PROTO_MIN: u16 = 2;
const NFTA_MASQ_REG_PROTO_MAX: u16 = 3;

/// The `masq` expression (masquerade).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Masq {
    /// `NF_NAT_RANGE_*` flags, when sent.
    pub flags: Option<u32>,
    /// Register holding the lowest source port.
    pub proto_min: Option<Register>,
    /// Register holding the highest source port.
    pub proto_max: Option<Register>,
}

impl Masq {
    pub(crate) fn emit(&self, w: &mut Writer) {
        if let Some(f) = self.flags {
            w.be32(NFTA_MASQ_FLAGS, f);
        }
        if let Some(r) = self.proto_min {
            w.be32(NFTA_MASQ_REG_PROTO_MIN, r.0);
        }
        if let Some(r) = self.proto_max {
            w.be32(NFTA_MASQ_REG_PROTO_MAX, r.0);
        }
    }

    pub(crate) fn parse(buf: &[u8]) -> Result<Masq, DecodeError> {
        let mut m = Masq::default();
        for a in Attrs::new(buf) {
            let a = a?;
            match a.kind() {
                NFTA_MASQ_FLAGS => m.flags = Some(a.be32("NFTA_MASQ_FLAGS")?),
                NFTA_MASQ_REG_PROTO_MIN => m.proto_min = Some(Register(a.be32("NFTA_MASQ_REG_PROTO_MIN")?)),
                NFTA_MASQ_REG_PROTO_MAX => m.proto_max = Some(Register(a.be32("NFTA_MASQ_REG_PROTO_MAX")?)),
                _ => return Err(unknown_attr("masq")),
            }
        }
        Ok(m)
    }
}

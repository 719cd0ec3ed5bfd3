//! `redir`: redirect to the host itself. nft: `redirect to :8080`. (`NFTA_REDIR_*`)

use crate::attr::{Attrs, Writer};
use crate::error::DecodeError;
use crate::expr::{Register, unknown_attr};

const NFTA_REDIR_REG_PROTO_MIN: u16 = 1;
const NFTA_REDIR_REG_PROTO_MAX: u16 = 2;
const NFTA_REDIR_FLAGS: u16 = 3;

/// The `redir` expression (redirect to the host itself).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Redir {
    /// Register holding the lowest port.
    pub proto_min: Option<Register>,
    /// Register holding the highest port.
    pub proto_max: Option<Register>,
    /// `NF_NAT_RANGE_*` flags, when sent.
    pub flags: Option<u32>,
}

impl Redir {
    pub(crate) fn emit(&self, w: &mut Writer) {
        if let Some(r) = self.proto_min {
            w.be32(NFTA_REDIR_REG_PROTO_MIN, r.0);
        }
        if let Some(r) = self.proto_max {
            w.be32(NFTA_REDIR_REG_PROTO_MAX, r.0);
        }
        if let Some(f) = self.flags {
            w.be32(NFTA_REDIR_FLAGS, f);
        }
    }

    pub(crate) fn parse(buf: &[u8]) -> Result<Redir, DecodeError> {
        let mut r = Redir::default();
        for a in Attrs::new(buf) {
            let a = a?;
            match a.kind() {
                NFTA_REDIR_REG_PROTO_MIN => r.proto_min = Some(Register(a.be32("NFTA_REDIR_REG_PROTO_MIN")?)),
                NFTA_REDIR_REG_PROTO_MAX => r.proto_max = Some(Register(a.be32("NFTA_REDIR_REG_PROTO_MAX")?)),
                NFTA_REDIR_FLAGS => r.flags = Some(a.be32("NFTA_REDIR_FLAGS")?),
                _ => return Err(unknown_attr("redir")),
            }
        }
        Ok(r)
    }
}

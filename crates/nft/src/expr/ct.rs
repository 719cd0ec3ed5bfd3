//! `ct`: conntrack state into a register, or a register into conntrack. nft: `ct state established`,
//! `ct mark set 0x4e4b`, `ct status dnat`. (`NFTA_CT_*`)

use crate::attr::{Attrs, Writer};
use crate::error::DecodeError;
use crate::expr::{Register, field, unknown_attr};

const NFTA_CT_DREG: u16 = 1;
const NFTA_CT_KEY: u16 = 2;
const NFTA_CT_DIRECTION: u16 = 3;
const NFTA_CT_SREG: u16 = 4;

/// Conntrack keys (`NFT_CT_*`); unnamed ones kept as numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CtKey {
    /// `NFT_CT_STATE` (0): new, established, related, invalid, untracked bits.
    State,
    /// `NFT_CT_DIRECTION` (1).
    Direction,
    /// `NFT_CT_STATUS` (2): `IPS_*` bits (dnat = 0x20, snat = 0x10).
    Status,
    /// `NFT_CT_MARK` (3).
    Mark,
    /// Any other key.
    Other(u32),
}

impl From<u32> for CtKey {
    fn from(v: u32) -> Self {
        match v {
            0 => CtKey::State,
            1 => CtKey::Direction,
            2 => CtKey::Status,
            3 => CtKey::Mark,
            o => CtKey::Other(o),
        }
    }
}

impl From<CtKey> for u32 {
    fn from(k: CtKey) -> u32 {
        match k {
            CtKey::State => 0,
            CtKey::Direction => 1,
            CtKey::Status => 2,
            CtKey::Mark => 3,
            CtKey::Other(o) => o,
        }
    }
}

/// The `ct` expression.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Ct {
    /// Load `key` (of `direction`, for per-direction keys) into `dreg`.
    Load {
        /// The conntrack field.
        key: CtKey,
        /// Destination register.
        dreg: Register,
        /// `NFTA_CT_DIRECTION` (0 original, 1 reply), for keys that need it.
        direction: Option<u8>,
    },
    /// Set `key` from `sreg`.
    Store {
        /// The conntrack field.
        key: CtKey,
        /// Source register.
        sreg: Register,
        /// `NFTA_CT_DIRECTION`, for keys that need it.
        direction: Option<u8>,
    },
}

impl Ct {
    /// Loads `key` into register 1.
    pub fn load(key: CtKey) -> Ct {
        Ct::Load { key, dreg: Register::R1, direction: None }
    }

    /// Sets `key` from register 1.
    pub fn store(key: CtKey) -> Ct {
        Ct::Store { key, sreg: Register::R1, direction: None }
    }

    pub(crate) fn emit(&self, w: &mut Writer) {
        match *self {
            Ct::Load { key, dreg, direction } => {
                w.be32(NFTA_CT_KEY, key.into());
                w.be32(NFTA_CT_DREG, dreg.0);
                if let Some(d) = direction {
                    w.u8(NFTA_CT_DIRECTION, d);
                }
            }
            Ct::Store { key, sreg, direction } => {
                w.be32(NFTA_CT_KEY, key.into());
                if let Some(d) = direction {
                    w.u8(NFTA_CT_DIRECTION, d);
                }
                w.be32(NFTA_CT_SREG, sreg.0);
            }
        }
    }

    pub(crate) fn parse(buf: &[u8]) -> Result<Ct, DecodeError> {
        let (mut key, mut dreg, mut sreg, mut direction) = (None, None, None, None);
        for a in Attrs::new(buf) {
            let a = a?;
            match a.kind() {
                NFTA_CT_KEY => key = Some(a.be32("NFTA_CT_KEY")?.into()),
                NFTA_CT_DREG => dreg = Some(Register(a.be32("NFTA_CT_DREG")?)),
                NFTA_CT_SREG => sreg = Some(Register(a.be32("NFTA_CT_SREG")?)),
                NFTA_CT_DIRECTION => direction = Some(a.u8("NFTA_CT_DIRECTION")?),
                _ => return Err(unknown_attr("ct")),
            }
        }
        let key = field(key, "NFTA_CT_KEY")?;
        match (dreg, sreg) {
            (Some(dreg), None) => Ok(Ct::Load { key, dreg, direction }),
            (None, Some(sreg)) => Ok(Ct::Store { key, sreg, direction }),
            _ => Err(DecodeError::bad_value("ct registers")),
        }
    }
}

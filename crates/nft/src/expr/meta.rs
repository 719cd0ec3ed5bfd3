//! `meta`: packet metadata into a register, or a register into metadata. nft: `iifname "eth0"`,
//! `meta l4proto tcp`, `meta mark set 1`; iptables-nft: `-i/-o/-p`, `-m mark`. (`NFTA_META_*`)

use crate::attr::{Attrs, Writer};
use crate::error::DecodeError;
use crate::expr::{Register, field, unknown_attr};

const NFTA_META_DREG: u16 = 1;
const NFTA_META_KEY: u16 = 2;
const NFTA_META_SREG: u16 = 3;

/// Meta keys (`NFT_META_*`); the ones natkeeper names, the rest kept as numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MetaKey {
    /// `NFT_META_LEN` (0): packet length.
    Len,
    /// `NFT_META_PROTOCOL` (1): ethertype.
    Protocol,
    /// `NFT_META_MARK` (3): packet mark.
    Mark,
    /// `NFT_META_IIF` (4): input interface index.
    Iif,
    /// `NFT_META_OIF` (5): output interface index.
    Oif,
    /// `NFT_META_IIFNAME` (6): input interface name.
    IifName,
    /// `NFT_META_OIFNAME` (7): output interface name.
    OifName,
    /// `NFT_META_NFTRACE` (12).
    NfTrace,
    /// `NFT_META_NFPROTO` (15).
    NfProto,
    /// `NFT_META_L4PROTO` (16): transport protocol.
    L4Proto,
    /// `NFT_META_BRI_IIFNAME` (17).
    BriIifName,
    /// `NFT_META_BRI_OIFNAME` (18).
    BriOifName,
    /// `NFT_META_PKTTYPE` (19).
    PktType,
    /// Any other key.
    Other(u32),
}

impl From<u32> for MetaKey {
    fn from(v: u32) -> Self {
        match v {
            0 => MetaKey::Len,
            1 => MetaKey::Protocol,
            3 => MetaKey::Mark,
            4 => MetaKey::Iif,
            5 => MetaKey::Oif,
            6 => MetaKey::IifName,
            7 => MetaKey::OifName,
            12 => MetaKey::NfTrace,
            15 => MetaKey::NfProto,
            16 => MetaKey::L4Proto,
            17 => MetaKey::BriIifName,
            18 => MetaKey::BriOifName,
            19 => MetaKey::PktType,
            o => MetaKey::Other(o),
        }
    }
}

impl From<MetaKey> for u32 {
    fn from(k: MetaKey) -> u32 {
        match k {
            MetaKey::Len => 0,
            MetaKey::Protocol => 1,
            MetaKey::Mark => 3,
            MetaKey::Iif => 4,
            MetaKey::Oif => 5,
            MetaKey::IifName => 6,
            MetaKey::OifName => 7,
            MetaKey::NfTrace => 12,
            MetaKey::NfProto => 15,
            MetaKey::L4Proto => 16,
            MetaKey::BriIifName => 17,
            MetaKey::BriOifName => 18,
            MetaKey::PktType => 19,
            MetaKey::Other(o) => o,
        }
    }
}

/// The `meta` expression: a load (`dreg`) or a store (`sreg`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Meta {
    /// Load `key` into `dreg`.
    Load {
        /// The metadata.
        key: MetaKey,
        /// Destination register.
        dreg: Register,
    },
    /// Set `key` from `sreg`.
    Store {
        /// The metadata.
        key: MetaKey,
        /// Source register.
        sreg: Register,
    },
}

impl Meta {
    /// Loads `key` into register 1.
    pub fn load(key: MetaKey) -> Meta {
        Meta::Load { key, dreg: Register::R1 }
    }

    pub(crate) fn emit(&self, w: &mut Writer) {
        match *self {
            Meta::Load { key, dreg } => {
                w.be32(NFTA_META_KEY, key.into());
                w.be32(NFTA_META_DREG, dreg.0);
            }
            Meta::Store { key, sreg } => {
                w.be32(NFTA_META_KEY, key.into());
                w.be32(NFTA_META_SREG, sreg.0);
            }
        }
    }

    pub(crate) fn parse(buf: &[u8]) -> Result<Meta, DecodeError> {
        let (mut key, mut dreg, mut sreg) = (None, None, None);
        for a in Attrs::new(buf) {
            let a = a?;
            match a.kind() {
                NFTA_META_KEY => key = Some(a.be32("NFTA_META_KEY")?.into()),
                NFTA_META_DREG => dreg = Some(Register(a.be32("NFTA_META_DREG")?)),
                NFTA_META_SREG => sreg = Some(Register(a.be32("NFTA_META_SREG")?)),
                _ => return Err(unknown_attr("meta")),
            }
        }
        let key = field(key, "NFTA_META_KEY")?;
        match (dreg, sreg) {
            (Some(dreg), None) => Ok(Meta::Load { key, dreg }),
            (None, Some(sreg)) => Ok(Meta::Store { key, sreg }),
            _ => Err(DecodeError::bad_value("meta registers")),
        }
    }
}

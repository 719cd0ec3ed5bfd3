//! `nat`: source or destination NAT to addresses and ports held in registers. nft: `dnat to
//! 192.168.122.42:80`, `dnat ip to ip daddr . tcp dport map @fwd`, `snat to 192.168.1.211`. (`NFTA_NAT_*`)

use crate::attr::{Attrs, Writer};
use crate::error::DecodeError;
use crate::expr::{Register, field, unknown_attr};
use crate::family::Family;

const NFTA_NAT_TYPE: u16 = 1;
const NFTA_NAT_FAMILY: u16 = 2;
const NFTA_NAT_REG_ADDR_MIN: u16 = 3;
const NFTA_NAT_REG_ADDR_MAX: u16 = 4;
const NFTA_NAT_REG_PROTO_MIN: u16 = 5;
const NFTA_NAT_REG_PROTO_MAX: u16 = 6;
const NFTA_NAT_FLAGS: u16 = 7;

const NFT_NAT_SNAT: u32 = 0;
const NFT_NAT_DNAT: u32 = 1;

/// `NF_NAT_RANGE_MAP_IPS`: an address is given.
pub const NF_NAT_RANGE_MAP_IPS: u32 = 0x1;
/// `NF_NAT_RANGE_PROTO_SPECIFIED`: a port is given.
pub const NF_NAT_RANGE_PROTO_SPECIFIED: u32 = 0x2;
/// `NF_NAT_RANGE_PROTO_RANDOM`.
pub const NF_NAT_RANGE_PROTO_RANDOM: u32 = 0x4;
/// `NF_NAT_RANGE_PERSISTENT`.
pub const NF_NAT_RANGE_PERSISTENT: u32 = 0x8;
/// `NF_NAT_RANGE_PROTO_RANDOM_FULLY`.
pub const NF_NAT_RANGE_PROTO_RANDOM_FULLY: u32 = 0x10;

/// Source or destination NAT.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NatType {
    /// `snat` (`NFT_NAT_SNAT`).
    Snat,
    /// `dnat` (`NFT_NAT_DNAT`).
    Dnat,
    /// Any other type.
    Other(u32),
}

/// The `nat` expression.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Nat {
    /// snat or dnat.
    pub nat_type: NatType,
    /// Address family of the addresses (`ip` for IPv4).
    pub family: Family,
    /// Register holding the lowest address.
    pub addr_min: Option<Register>,
    /// Register holding the highest address.
    pub addr_max: Option<Register>,
    /// Register holding the lowest port.
    pub proto_min: Option<Register>,
    /// Register holding the highest port.
    pub proto_max: Option<Register>,
    /// `NF_NAT_RANGE_*` flags, when sent.
    pub flags: Option<u32>,
}

impl Nat {
    /// `dnat ip to <reg addr>[:<reg port>]`, as `nft` writes it.
    pub fn dnat(addr: Register, port: Option<Register>) -> Nat {
        Nat {
            nat_type: NatType::Dnat,
            family: Family::Ip,
            addr_min: Some(addr),
            addr_max: None,
            proto_min: port,
            proto_max: None,
            flags: port.map(|_| NF_NAT_RANGE_PROTO_SPECIFIED),
        }
    }

    /// `snat ip to <reg addr>`.
    pub fn snat(addr: Register) -> Nat {
        Nat {
            nat_type: NatType::Snat,
            family: Family::Ip,
            addr_min: Some(addr),
            addr_max: None,
            proto_min: None,
            proto_max: None,
            flags: None,
        }
    }

    pub(crate) fn emit(&self, w: &mut Writer) {
        let t = match self.nat_type {
            NatType::Snat => NFT_NAT_SNAT,
            NatType::Dnat => NFT_NAT_DNAT,
            NatType::Other(o) => o,
        };
        w.be32(NFTA_NAT_TYPE, t);
        w.be32(NFTA_NAT_FAMILY, u32::from(u8::from(self.family)));
        let regs = [
            (NFTA_NAT_REG_ADDR_MIN, self.addr_min),
            (NFTA_NAT_REG_ADDR_MAX, self.addr_max),
            (NFTA_NAT_REG_PROTO_MIN, self.proto_min),
            (NFTA_NAT_REG_PROTO_MAX, self.proto_max),
        ];
        for (kind, reg) in regs {
            if let Some(r) = reg {
                w.be32(kind, r.0);
            }
        }
        if let Some(f) = self.flags {
            w.be32(NFTA_NAT_FLAGS, f);
        }
    }

    pub(crate) fn parse(buf: &[u8]) -> Result<Nat, DecodeError> {
        let (mut t, mut family) = (None, None);
        let mut n = Nat {
            nat_type: NatType::Snat,
            family: Family::Ip,
            addr_min: None,
            addr_max: None,
            proto_min: None,
            proto_max: None,
            flags: None,
        };
        for a in Attrs::new(buf) {
            let a = a?;
            match a.kind() {
                NFTA_NAT_TYPE => t = Some(a.be32("NFTA_NAT_TYPE")?),
                NFTA_NAT_FAMILY => {
                    let f = a.be32("NFTA_NAT_FAMILY")?;
                    let f = u8::try_from(f).map_err(|_| DecodeError::bad_value("NFTA_NAT_FAMILY"))?;
                    family = Some(Family::from(f));
                }
                NFTA_NAT_REG_ADDR_MIN => n.addr_min = Some(Register(a.be32("NFTA_NAT_REG_ADDR_MIN")?)),
                NFTA_NAT_REG_ADDR_MAX => n.addr_max = Some(Register(a.be32("NFTA_NAT_REG_ADDR_MAX")?)),
                NFTA_NAT_REG_PROTO_MIN => n.proto_min = Some(Register(a.be32("NFTA_NAT_REG_PROTO_MIN")?)),
                NFTA_NAT_REG_PROTO_MAX => n.proto_max = Some(Register(a.be32("NFTA_NAT_REG_PROTO_MAX")?)),
                NFTA_NAT_FLAGS => n.flags = Some(a.be32("NFTA_NAT_FLAGS")?),
                _ => return Err(unknown_attr("nat")),
            }
        }
        n.nat_type = match field(t, "NFTA_NAT_TYPE")? {
            NFT_NAT_SNAT => NatType::Snat,
            NFT_NAT_DNAT => NatType::Dnat,
            o => NatType::Other(o),
        };
        n.family = field(family, "NFTA_NAT_FAMILY")?;
        Ok(n)
    }
}

//! `payload`: load bytes of a packet header into a register, or write a register into the packet.
//! nft: `ip daddr`, `tcp dport`; iptables-nft: `-s/-d`, `--dport`. (`NFTA_PAYLOAD_*`)

use crate::attr::{Attrs, Writer};
use crate::error::DecodeError;
use crate::expr::{Register, field, unknown_attr};

const NFTA_PAYLOAD_DREG: u16 = 1;
const NFTA_PAYLOAD_BASE: u16 = 2;
const NFTA_PAYLOAD_OFFSET: u16 = 3;
const NFTA_PAYLOAD_LEN: u16 = 4;
const NFTA_PAYLOAD_SREG: u16 = 5;
const NFTA_PAYLOAD_CSUM_TYPE: u16 = 6;
const NFTA_PAYLOAD_CSUM_OFFSET: u16 = 7;
const NFTA_PAYLOAD_CSUM_FLAGS: u16 = 8;

/// Which header an offset counts from (`NFT_PAYLOAD_*_HEADER`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PayloadBase {
    /// `NFT_PAYLOAD_LL_HEADER` (0).
    LinkLayer,
    /// `NFT_PAYLOAD_NETWORK_HEADER` (1): the IP header.
    Network,
    /// `NFT_PAYLOAD_TRANSPORT_HEADER` (2): the TCP/UDP/ICMP header.
    Transport,
    /// Any other base, kept as its number.
    Other(u32),
}

impl From<u32> for PayloadBase {
    fn from(v: u32) -> Self {
        match v {
            0 => PayloadBase::LinkLayer,
            1 => PayloadBase::Network,
            2 => PayloadBase::Transport,
            o => PayloadBase::Other(o),
        }
    }
}

impl From<PayloadBase> for u32 {
    fn from(b: PayloadBase) -> u32 {
        match b {
            PayloadBase::LinkLayer => 0,
            PayloadBase::Network => 1,
            PayloadBase::Transport => 2,
            PayloadBase::Other(o) => o,
        }
    }
}

/// What the expression does with the bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PayloadOp {
    /// Load into `dreg`.
    Load {
        /// Destination register.
        dreg: Register,
    },
    /// Write `sreg` into the packet, fixing a checksum.
    Store {
        /// Source register.
        sreg: Register,
        /// `NFTA_PAYLOAD_CSUM_TYPE`.
        csum_type: u32,
        /// `NFTA_PAYLOAD_CSUM_OFFSET`.
        csum_offset: u32,
        /// `NFTA_PAYLOAD_CSUM_FLAGS`.
        csum_flags: u32,
    },
}

/// The `payload` expression.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Payload {
    /// Header the offset counts from.
    pub base: PayloadBase,
    /// Offset in bytes.
    pub offset: u32,
    /// Length in bytes.
    pub len: u32,
    /// Load or store.
    pub op: PayloadOp,
}

impl Payload {
    /// Loads `len` bytes at `offset` of `base` into `dreg`.
    pub fn load(base: PayloadBase, offset: u32, len: u32, dreg: Register) -> Payload {
        Payload { base, offset, len, op: PayloadOp::Load { dreg } }
    }

    /// `ip saddr` (network header offset 12, 4 bytes) into register 1.
    pub fn ip_saddr() -> Payload {
        Payload::load(PayloadBase::Network, 12, 4, Register::R1)
    }

    /// `ip daddr` (network header offset 16, 4 bytes) into register 1.
    pub fn ip_daddr() -> Payload {
        Payload::load(PayloadBase::Network, 16, 4, Register::R1)
    }

    /// `th dport` (transport header offset 2, 2 bytes) into register 1.
    pub fn th_dport() -> Payload {
        Payload::load(PayloadBase::Transport, 2, 2, Register::R1)
    }

    pub(crate) fn emit(&self, w: &mut Writer) {
        match self.op {
            PayloadOp::Load { dreg } => {
                w.be32(NFTA_PAYLOAD_DREG, dreg.0);
                w.be32(NFTA_PAYLOAD_BASE, self.base.into());
                w.be32(NFTA_PAYLOAD_OFFSET, self.offset);
                w.be32(NFTA_PAYLOAD_LEN, self.len);
            }
            PayloadOp::Store { sreg, csum_type, csum_offset, csum_flags } => {
                w.be32(NFTA_PAYLOAD_SREG, sreg.0);
                w.be32(NFTA_PAYLOAD_BASE, self.base.into());
                w.be32(NFTA_PAYLOAD_OFFSET, self.offset);
                w.be32(NFTA_PAYLOAD_LEN, self.len);
                w.be32(NFTA_PAYLOAD_CSUM_TYPE, csum_type);
                w.be32(NFTA_PAYLOAD_CSUM_OFFSET, csum_offset);
                w.be32(NFTA_PAYLOAD_CSUM_FLAGS, csum_flags);
            }
        }
    }

    pub(crate) fn parse(buf: &[u8]) -> Result<Payload, DecodeError> {
        let (mut dreg, mut sreg, mut base, mut offset, mut len) = (None, None, None, None, None);
        let (mut ctype, mut coff, mut cflags) = (None, None, None);
        for a in Attrs::new(buf) {
            let a = a?;
            match a.kind() {
                NFTA_PAYLOAD_DREG => dreg = Some(Register(a.be32("NFTA_PAYLOAD_DREG")?)),
                NFTA_PAYLOAD_SREG => sreg = Some(Register(a.be32("NFTA_PAYLOAD_SREG")?)),
                NFTA_PAYLOAD_BASE => base = Some(a.be32("NFTA_PAYLOAD_BASE")?.into()),
                NFTA_PAYLOAD_OFFSET => offset = Some(a.be32("NFTA_PAYLOAD_OFFSET")?),
                NFTA_PAYLOAD_LEN => len = Some(a.be32("NFTA_PAYLOAD_LEN")?),
                NFTA_PAYLOAD_CSUM_TYPE => ctype = Some(a.be32("NFTA_PAYLOAD_CSUM_TYPE")?),
                NFTA_PAYLOAD_CSUM_OFFSET => coff = Some(a.be32("NFTA_PAYLOAD_CSUM_OFFSET")?),
                NFTA_PAYLOAD_CSUM_FLAGS => cflags = Some(a.be32("NFTA_PAYLOAD_CSUM_FLAGS")?),
                _ => return Err(unknown_attr("payload")),
            }
        }
        let op = match (dreg, sreg) {
            (Some(dreg), None) if ctype.is_none() && coff.is_none() && cflags.is_none() => {
                PayloadOp::Load { dreg }
            }
            (None, Some(sreg)) => PayloadOp::Store {
                sreg,
                csum_type: ctype.unwrap_or(0),
                csum_offset: coff.unwrap_or(0),
                csum_flags: cflags.unwrap_or(0),
            },
            _ => return Err(DecodeError::bad_value("payload registers")),
        };
        Ok(Payload {
            base: field(base, "NFTA_PAYLOAD_BASE")?,
            offset: field(offset, "NFTA_PAYLOAD_OFFSET")?,
            len: field(len, "NFTA_PAYLOAD_LEN")?,
            op,
        })
    }
}

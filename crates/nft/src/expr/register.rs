//! Registers (`NFT_REG_*`): where expressions load data and where others read it.

use std::fmt;

/// An nf_tables register. `0` is the verdict register; `1..=4` are the 16-byte registers
/// (`NFT_REG_1..4`); `8..=23` are the 4-byte registers (`NFT_REG32_00..15`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Register(pub u32);

impl Register {
    /// `NFT_REG_VERDICT`.
    pub const VERDICT: Register = Register(0);
    /// `NFT_REG_1`, the register iptables-nft uses for every comparison.
    pub const R1: Register = Register(1);
    /// `NFT_REG_2`.
    pub const R2: Register = Register(2);
    /// `NFT_REG_3`.
    pub const R3: Register = Register(3);
    /// `NFT_REG_4`.
    pub const R4: Register = Register(4);

    /// `NFT_REG32_<n>` (n in 0..16): 4-byte registers, as `nft` allocates them for concatenations.
    pub const fn reg32(n: u32) -> Register {
        Register(8 + n)
    }
}

impl fmt::Display for Register {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "reg {}", self.0)
    }
}

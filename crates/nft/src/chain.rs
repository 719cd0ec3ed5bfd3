//! Chains (`NFTA_CHAIN_*`): base chains with a hook, priority, type and policy; regular chains.

use std::fmt;

use crate::attr::{Attrs, RawAttr, Writer};
use crate::error::DecodeError;
use crate::expr::field;
use crate::family::Family;

const NFTA_CHAIN_TABLE: u16 = 1;
const NFTA_CHAIN_HANDLE: u16 = 2;
const NFTA_CHAIN_NAME: u16 = 3;
const NFTA_CHAIN_HOOK: u16 = 4;
const NFTA_CHAIN_POLICY: u16 = 5;
const NFTA_CHAIN_USE: u16 = 6;
const NFTA_CHAIN_TYPE: u16 = 7;
const NFTA_CHAIN_COUNTERS: u16 = 8;
const NFTA_CHAIN_PAD: u16 = 9;
const NFTA_CHAIN_FLAGS: u16 = 10;
const NFTA_CHAIN_USERDATA: u16 = 12;

const NFTA_HOOK_HOOKNUM: u16 = 1;
const NFTA_HOOK_PRIORITY: u16 = 2;
const NFTA_HOOK_DEV: u16 = 3;

const NFTA_COUNTER_BYTES: u16 = 1;
const NFTA_COUNTER_PACKETS: u16 = 2;

/// `NFT_CHAIN_BASE`: the kernel's flag for chains with a hook (reported in dumps).
pub const NFT_CHAIN_BASE: u32 = 1;

/// Netfilter hooks (`NF_INET_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum HookNum {
    /// `prerouting` (0).
    Prerouting,
    /// `input` (1).
    Input,
    /// `forward` (2).
    Forward,
    /// `output` (3).
    Output,
    /// `postrouting` (4).
    Postrouting,
    /// Any other hook (e.g. netdev `ingress`), kept as its number.
    Other(u32),
}

impl From<u32> for HookNum {
    fn from(v: u32) -> Self {
        match v {
            0 => HookNum::Prerouting,
            1 => HookNum::Input,
            2 => HookNum::Forward,
            3 => HookNum::Output,
            4 => HookNum::Postrouting,
            o => HookNum::Other(o),
        }
    }
}

impl From<HookNum> for u32 {
    fn from(h: HookNum) -> u32 {
        match h {
            HookNum::Prerouting => 0,
            HookNum::Input => 1,
            HookNum::Forward => 2,
            HookNum::Output => 3,
            HookNum::Postrouting => 4,
            HookNum::Other(o) => o,
        }
    }
}

impl fmt::Display for HookNum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HookNum::Prerouting => f.write_str("prerouting"),
            HookNum::Input => f.write_str("input"),
            HookNum::Forward => f.write_str("forward"),
            HookNum::Output => f.write_str("output"),
            HookNum::Postrouting => f.write_str("postrouting"),
            HookNum::Other(o) => write!(f, "hook{o}"),
        }
    }
}

/// Where a base chain is attached.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Hook {
    /// The hook.
    pub num: HookNum,
    /// Priority (lower runs first; iptables' nat PREROUTING is -100).
    pub priority: i32,
    /// Device, for netdev chains.
    pub device: Option<String>,
    /// Hook attributes this crate does not know (e.g. `NFTA_HOOK_DEVS`), kept verbatim.
    pub other: Vec<RawAttr>,
}

/// A base chain's default verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Policy {
    /// `NF_DROP` (0).
    Drop,
    /// `NF_ACCEPT` (1).
    Accept,
    /// Any other value.
    Other(u32),
}

impl From<u32> for Policy {
    fn from(v: u32) -> Self {
        match v {
            0 => Policy::Drop,
            1 => Policy::Accept,
            o => Policy::Other(o),
        }
    }
}

impl From<Policy> for u32 {
    fn from(p: Policy) -> u32 {
        match p {
            Policy::Drop => 0,
            Policy::Accept => 1,
            Policy::Other(o) => o,
        }
    }
}

/// Packet and byte counters of a base chain (iptables' `[p:b]`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct ChainCounters {
    /// Packets.
    pub packets: u64,
    /// Bytes.
    pub bytes: u64,
}

/// A chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chain {
    /// Family of its table.
    pub family: Family,
    /// Table name.
    pub table: String,
    /// Chain name.
    pub name: String,
    /// Kernel handle (dumps only).
    pub handle: Option<u64>,
    /// Hook and priority, for base chains.
    pub hook: Option<Hook>,
    /// Policy, for base chains.
    pub policy: Option<Policy>,
    /// `filter`, `nat` or `route`, for base chains.
    pub chain_type: Option<String>,
    /// `NFT_CHAIN_*` flags as reported (`NFT_CHAIN_BASE` for base chains).
    pub flags: Option<u32>,
    /// Counters, for base chains.
    pub counters: Option<ChainCounters>,
    /// How many rules jump here (dumps only).
    pub use_count: Option<u32>,
    /// `NFTA_CHAIN_USERDATA`.
    pub userdata: Option<Vec<u8>>,
    /// Attributes this crate does not know, kept verbatim.
    pub other: Vec<RawAttr>,
}

impl Chain {
    /// A regular chain (jump target).
    pub fn regular(family: Family, table: impl Into<String>, name: impl Into<String>) -> Chain {
        Chain {
            family,
            table: table.into(),
            name: name.into(),
            handle: None,
            hook: None,
            policy: None,
            chain_type: None,
            flags: None,
            counters: None,
            use_count: None,
            userdata: None,
            other: Vec::new(),
        }
    }

    /// A base chain: `type <chain_type> hook <hook> priority <priority>; policy <policy>`.
    pub fn base(
        family: Family,
        table: impl Into<String>,
        name: impl Into<String>,
        chain_type: &str,
        hook: HookNum,
        priority: i32,
        policy: Policy,
    ) -> Chain {
        Chain {
            hook: Some(Hook { num: hook, priority, device: None, other: Vec::new() }),
            policy: Some(policy),
            chain_type: Some(chain_type.to_string()),
            ..Chain::regular(family, table, name)
        }
    }

    /// True for chains attached to a hook.
    pub fn is_base(&self) -> bool {
        self.hook.is_some()
    }

    pub(crate) fn emit(&self, w: &mut Writer) {
        w.str(NFTA_CHAIN_TABLE, &self.table);
        w.str(NFTA_CHAIN_NAME, &self.name);
        if let Some(h) = &self.hook {
            w.nest(NFTA_CHAIN_HOOK, |w| {
                w.be32(NFTA_HOOK_HOOKNUM, h.num.into());
                w.be32(NFTA_HOOK_PRIORITY, h.priority as u32);
                if let Some(d) = &h.device {
                    w.str(NFTA_HOOK_DEV, d);
                }
                for a in &h.other {
                    w.raw(a);
                }
            });
        }
        if let Some(p) = self.policy {
            w.be32(NFTA_CHAIN_POLICY, p.into());
        }
        if let Some(c) = self.counters {
            w.nest(NFTA_CHAIN_COUNTERS, |w| {
                // libnftnl's order (nftnl_chain_nlmsg_build_payload), as iptables-nft sends it.
                w.be64(NFTA_COUNTER_PACKETS, c.packets);
                w.be64(NFTA_COUNTER_BYTES, c.bytes);
            });
        }
        if let Some(t) = &self.chain_type {
            w.str(NFTA_CHAIN_TYPE, t);
        }
        // The kernel reports NFT_CHAIN_BASE itself; only other flags are ours to send.
        if let Some(f) = self.flags.map(|f| f & !NFT_CHAIN_BASE).filter(|&f| f != 0) {
            w.be32(NFTA_CHAIN_FLAGS, f);
        }
        if let Some(u) = &self.userdata {
            w.bytes(NFTA_CHAIN_USERDATA, u);
        }
        for a in &self.other {
            w.raw(a);
        }
    }

    pub(crate) fn emit_key(table: &str, name: &str, w: &mut Writer) {
        w.str(NFTA_CHAIN_TABLE, table);
        w.str(NFTA_CHAIN_NAME, name);
    }

    pub(crate) fn parse(family: Family, buf: &[u8]) -> Result<Chain, DecodeError> {
        let mut c = Chain::regular(family, String::new(), String::new());
        let (mut table, mut name) = (None, None);
        for a in Attrs::new(buf) {
            let a = a?;
            match a.kind() {
                NFTA_CHAIN_TABLE => table = Some(a.str("NFTA_CHAIN_TABLE")?),
                NFTA_CHAIN_NAME => name = Some(a.str("NFTA_CHAIN_NAME")?),
                NFTA_CHAIN_HANDLE => c.handle = Some(a.be64("NFTA_CHAIN_HANDLE")?),
                NFTA_CHAIN_HOOK => c.hook = Some(parse_hook(a.value())?),
                NFTA_CHAIN_POLICY => c.policy = Some(a.be32("NFTA_CHAIN_POLICY")?.into()),
                NFTA_CHAIN_USE => c.use_count = Some(a.be32("NFTA_CHAIN_USE")?),
                NFTA_CHAIN_TYPE => c.chain_type = Some(a.str("NFTA_CHAIN_TYPE")?),
                NFTA_CHAIN_COUNTERS => c.counters = Some(parse_counters(a.value())?),
                NFTA_CHAIN_PAD => {}
                NFTA_CHAIN_FLAGS => c.flags = Some(a.be32("NFTA_CHAIN_FLAGS")?),
                NFTA_CHAIN_USERDATA => c.userdata = Some(a.value().to_vec()),
                _ => c.other.push(a.to_raw()),
            }
        }
        c.table = field(table, "NFTA_CHAIN_TABLE")?;
        c.name = field(name, "NFTA_CHAIN_NAME")?;
        Ok(c)
    }
}

fn parse_hook(buf: &[u8]) -> Result<Hook, DecodeError> {
    let (mut num, mut priority, mut device, mut other) = (None, None, None, Vec::new());
    for a in Attrs::new(buf) {
        let a = a?;
        match a.kind() {
            NFTA_HOOK_HOOKNUM => num = Some(a.be32("NFTA_HOOK_HOOKNUM")?.into()),
            NFTA_HOOK_PRIORITY => priority = Some(a.be32("NFTA_HOOK_PRIORITY")? as i32),
            NFTA_HOOK_DEV => device = Some(a.str("NFTA_HOOK_DEV")?),
            _ => other.push(a.to_raw()),
        }
    }
    Ok(Hook {
        num: field(num, "NFTA_HOOK_HOOKNUM")?,
        priority: field(priority, "NFTA_HOOK_PRIORITY")?,
        device,
        other,
    })
}

fn parse_counters(buf: &[u8]) -> Result<ChainCounters, DecodeError> {
    let mut c = ChainCounters::default();
    for a in Attrs::new(buf) {
        let a = a?;
        match a.kind() {
            NFTA_COUNTER_BYTES => c.bytes = a.be64("NFTA_COUNTER_BYTES")?,
            NFTA_COUNTER_PACKETS => c.packets = a.be64("NFTA_COUNTER_PACKETS")?,
            _ => {}
        }
    }
    Ok(c)
}

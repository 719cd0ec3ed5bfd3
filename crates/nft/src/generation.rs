//! The ruleset generation (`NFTA_GEN_*`): a counter the kernel bumps on every commit, and — in
//! `NEWGEN` events — who committed.

use crate::attr::Attrs;
use crate::error::DecodeError;
use crate::expr::field;

const NFTA_GEN_ID: u16 = 1;
const NFTA_GEN_PROC_PID: u16 = 2;
const NFTA_GEN_PROC_NAME: u16 = 3;

/// A generation, with the committing process when the kernel reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Generation {
    /// The generation id.
    pub id: u32,
    /// PID of the process that committed it.
    pub pid: Option<u32>,
    /// Name of that process (`comm`, e.g. `iptables`, `nft`).
    pub process: Option<String>,
}

impl Generation {
    pub(crate) fn parse(buf: &[u8]) -> Result<Generation, DecodeError> {
        let (mut id, mut pid, mut process) = (None, None, None);
        for a in Attrs::new(buf) {
            let a = a?;
            match a.kind() {
                NFTA_GEN_ID => id = Some(a.be32("NFTA_GEN_ID")?),
                NFTA_GEN_PROC_PID => pid = Some(a.be32("NFTA_GEN_PROC_PID")?),
                NFTA_GEN_PROC_NAME => process = Some(a.str("NFTA_GEN_PROC_NAME")?),
                _ => {}
            }
        }
        Ok(Generation { id: field(id, "NFTA_GEN_ID")?, pid, process })
    }
}

//! `log`: log the packet (syslog level, or an nflog group). nft: `log prefix "x"`, `log group 1`;
//! iptables-nft: `-j NFLOG`. (`NFTA_LOG_*`)

use crate::attr::{Attrs, Writer};
use crate::error::DecodeError;
use crate::expr::unknown_attr;

const NFTA_LOG_GROUP: u16 = 1;
const NFTA_LOG_PREFIX: u16 = 2;
const NFTA_LOG_SNAPLEN: u16 = 3;
const NFTA_LOG_QTHRESHOLD: u16 = 4;
const NFTA_LOG_LEVEL: u16 = 5;
const NFTA_LOG_FLAGS: u16 = 6;

/// The `log` expression; every attribute is optional on the wire.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Log {
    /// Log prefix.
    pub prefix: Option<String>,
    /// nflog group (be16).
    pub group: Option<u16>,
    /// Bytes copied to userspace (nflog).
    pub snaplen: Option<u32>,
    /// Queue threshold (nflog, be16).
    pub qthreshold: Option<u16>,
    /// Syslog level.
    pub level: Option<u32>,
    /// `NF_LOG_*` flags.
    pub flags: Option<u32>,
}

impl Log {
    pub(crate) fn emit(&self, w: &mut Writer) {
        if let Some(p) = &self.prefix {
            w.str(NFTA_LOG_PREFIX, p);
        }
        if let Some(g) = self.group {
            w.be16(NFTA_LOG_GROUP, g);
        }
        if let Some(s) = self.snaplen {
            w.be32(NFTA_LOG_SNAPLEN, s);
        }
        if let Some(q) = self.qthreshold {
            w.be16(NFTA_LOG_QTHRESHOLD, q);
        }
        if let Some(l) = self.level {
            w.be32(NFTA_LOG_LEVEL, l);
        }
        if let Some(f) = self.flags {
            w.be32(NFTA_LOG_FLAGS, f);
        }
    }

    pub(crate) fn parse(buf: &[u8]) -> Result<Log, DecodeError> {
        let mut l = Log::default();
        for a in Attrs::new(buf) {
            let a = a?;
            match a.kind() {
                NFTA_LOG_PREFIX => l.prefix = Some(a.str("NFTA_LOG_PREFIX")?),
                NFTA_LOG_GROUP => l.group = Some(a.be16("NFTA_LOG_GROUP")?),
                NFTA_LOG_SNAPLEN => l.snaplen = Some(a.be32("NFTA_LOG_SNAPLEN")?),
                NFTA_LOG_QTHRESHOLD => l.qthreshold = Some(a.be16("NFTA_LOG_QTHRESHOLD")?),
                NFTA_LOG_LEVEL => l.level = Some(a.be32("NFTA_LOG_LEVEL")?),
                NFTA_LOG_FLAGS => l.flags = Some(a.be32("NFTA_LOG_FLAGS")?),
                _ => return Err(unknown_attr("log")),
            }
        }
        Ok(l)
    }
}

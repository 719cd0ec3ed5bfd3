//! `match` and `target`: an iptables (xt) extension run by the kernel's compat layer, carrying the
//! extension's name, revision and its C struct (`info`, host byte order) as iptables-nft writes them.
//! (`NFTA_MATCH_*`, `NFTA_TARGET_*`; the attribute numbers are the same for both.)

use crate::attr::{Attrs, Writer};
use crate::error::DecodeError;
use crate::expr::{field, unknown_attr};

const NFTA_XT_NAME: u16 = 1;
const NFTA_XT_REV: u16 = 2;
const NFTA_XT_INFO: u16 = 3;

/// An xt extension invocation: `match conntrack rev 3` or `target DNAT rev 2`, with its info bytes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Xt {
    /// Extension name (`conntrack`, `DNAT`, ...).
    pub name: String,
    /// Revision.
    pub rev: u32,
    /// The extension's info struct, already padded to `XT_ALIGN`.
    pub info: Vec<u8>,
}

impl Xt {
    /// An extension with its info bytes.
    pub fn new(name: impl Into<String>, rev: u32, info: impl Into<Vec<u8>>) -> Xt {
        Xt { name: name.into(), rev, info: info.into() }
    }

    pub(crate) fn emit(&self, w: &mut Writer) {
        w.str(NFTA_XT_NAME, &self.name);
        w.be32(NFTA_XT_REV, self.rev);
        w.bytes(NFTA_XT_INFO, &self.info);
    }

    pub(crate) fn parse(buf: &[u8]) -> Result<Xt, DecodeError> {
        let (mut name, mut rev, mut info) = (None, None, None);
        for a in Attrs::new(buf) {
            let a = a?;
            match a.kind() {
                NFTA_XT_NAME => name = Some(a.str("NFTA_MATCH_NAME")?),
                NFTA_XT_REV => rev = Some(a.be32("NFTA_MATCH_REV")?),
                NFTA_XT_INFO => info = Some(a.value().to_vec()),
                _ => return Err(unknown_attr("match/target")),
            }
        }
        Ok(Xt {
            name: field(name, "NFTA_MATCH_NAME")?,
            rev: field(rev, "NFTA_MATCH_REV")?,
            info: info.unwrap_or_default(),
        })
    }
}

//! Tables (`NFTA_TABLE_*`): `table ip natkeeper`.

use crate::attr::{Attrs, RawAttr, Writer};
use crate::error::DecodeError;
use crate::expr::field;
use crate::family::Family;

const NFTA_TABLE_NAME: u16 = 1;
const NFTA_TABLE_FLAGS: u16 = 2;
const NFTA_TABLE_USE: u16 = 3;
const NFTA_TABLE_HANDLE: u16 = 4;
const NFTA_TABLE_PAD: u16 = 5;
const NFTA_TABLE_USERDATA: u16 = 6;

/// A table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    /// Family.
    pub family: Family,
    /// Name.
    pub name: String,
    /// `NFT_TABLE_F_*` flags (0 for ordinary tables).
    pub flags: u32,
    /// Kernel handle (dumps only).
    pub handle: Option<u64>,
    /// How many chains and sets use it (dumps only).
    pub use_count: Option<u32>,
    /// `NFTA_TABLE_USERDATA`.
    pub userdata: Option<Vec<u8>>,
    /// Attributes this crate does not know, kept verbatim and written back.
    pub other: Vec<RawAttr>,
}

impl Table {
    /// A table named `name` in `family`.
    pub fn new(family: Family, name: impl Into<String>) -> Table {
        Table {
            family,
            name: name.into(),
            flags: 0,
            handle: None,
            use_count: None,
            userdata: None,
            other: Vec::new(),
        }
    }

    pub(crate) fn emit(&self, w: &mut Writer) {
        w.str(NFTA_TABLE_NAME, &self.name);
        if self.flags != 0 {
            w.be32(NFTA_TABLE_FLAGS, self.flags);
        }
        if let Some(u) = &self.userdata {
            w.bytes(NFTA_TABLE_USERDATA, u);
        }
        for a in &self.other {
            w.raw(a);
        }
    }

    pub(crate) fn emit_key(name: &str, w: &mut Writer) {
        w.str(NFTA_TABLE_NAME, name);
    }

    pub(crate) fn parse(family: Family, buf: &[u8]) -> Result<Table, DecodeError> {
        let mut t = Table::new(family, String::new());
        let mut name = None;
        for a in Attrs::new(buf) {
            let a = a?;
            match a.kind() {
                NFTA_TABLE_NAME => name = Some(a.str("NFTA_TABLE_NAME")?),
                NFTA_TABLE_FLAGS => t.flags = a.be32("NFTA_TABLE_FLAGS")?,
                NFTA_TABLE_USE => t.use_count = Some(a.be32("NFTA_TABLE_USE")?),
                NFTA_TABLE_HANDLE => t.handle = Some(a.be64("NFTA_TABLE_HANDLE")?),
                NFTA_TABLE_PAD => {}
                NFTA_TABLE_USERDATA => t.userdata = Some(a.value().to_vec()),
                _ => t.other.push(a.to_raw()),
            }
        }
        t.name = field(name, "NFTA_TABLE_NAME")?;
        Ok(t)
    }
}

//! iptables-legacy: tables living in the kernel's x_tables, which nf_tables netlink cannot see.
//! `/proc/net/ip_tables_names` lists the IPv4 tables in use (`filter`, `nat`...) of the reading
//! thread's network namespace; a rule there that rejects is invisible to natkeeper and still stops
//! forwarded connections.

use std::fs;
use std::io;
use std::path::Path;

use serde::Serialize;

use super::error::DiscoverError;

/// The reading thread's own `/proc/net` (`/proc/net` follows the process's first thread, which may be
/// in another namespace).
const IP_TABLES_NAMES: &str = "/proc/thread-self/net/ip_tables_names";
const IP6_TABLES_NAMES: &str = "/proc/thread-self/net/ip6_tables_names";

/// The iptables-legacy tables in use.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct LegacyTables {
    /// IPv4 tables (`iptables-legacy`).
    pub ipv4: Vec<String>,
    /// IPv6 tables (`ip6tables-legacy`).
    pub ipv6: Vec<String>,
}

impl LegacyTables {
    /// Reads both lists; a kernel without x_tables (no file) has none.
    pub fn read() -> Result<LegacyTables, DiscoverError> {
        Ok(LegacyTables {
            ipv4: read_names(Path::new(IP_TABLES_NAMES))?,
            ipv6: read_names(Path::new(IP6_TABLES_NAMES))?,
        })
    }

    /// True when any legacy table is in use.
    pub fn any(&self) -> bool {
        !self.ipv4.is_empty() || !self.ipv6.is_empty()
    }
}

fn read_names(path: &Path) -> Result<Vec<String>, DiscoverError> {
    match fs::read_to_string(path) {
        Ok(text) => {
            let mut names: Vec<String> =
                text.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_string).collect();
            names.sort();
            Ok(names)
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(source) => Err(DiscoverError::Read { path: path.to_path_buf(), source }),
    }
}

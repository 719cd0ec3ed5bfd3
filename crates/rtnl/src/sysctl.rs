//! The few sysctls NAT for guests depends on, read and written through `/proc/sys` (no `sysctl(8)`).
//!
//! `/proc/sys/net` shows the network namespace of the thread that opens the file, so these follow the
//! calling thread like [`crate::Rtnl`] does.

use std::fmt;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::error::Error;

const PROC_SYS: &str = "/proc/sys";
/// Per-interface IPv4 settings; `all` and `default` are not interfaces.
const IPV4_CONF: &str = "/proc/sys/net/ipv4/conf";
// include/uapi/linux/if.h
const IFNAMSIZ: usize = 16;

/// A sysctl natkeeper reads or sets.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Sysctl {
    /// `net.ipv4.ip_forward`: route between interfaces (libvirt turns it on for NAT networks).
    IpForward,
    /// `net.ipv4.conf.<interface>.route_localnet`: let DNAT to `127.0.0.0/8` be routed on the interface.
    RouteLocalnet(String),
    /// `net.bridge.bridge-nf-call-iptables`: pass bridged IPv4 traffic through iptables/nftables `ip`
    /// hooks. Absent when `br_netfilter` is not loaded.
    BridgeNfCallIptables,
}

/// What a sysctl holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SysctlValue {
    /// The key does not exist here (for [`Sysctl::BridgeNfCallIptables`]: `br_netfilter` is not loaded).
    Absent,
    /// The key's integer value (0 off, 1 on for the switches in [`Sysctl`]).
    Int(i64),
}

impl SysctlValue {
    /// True when the key exists and is non-zero.
    pub fn is_on(self) -> bool {
        matches!(self, SysctlValue::Int(v) if v != 0)
    }
}

impl fmt::Display for SysctlValue {
    /// The number, or `absent`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SysctlValue::Absent => f.write_str("absent"),
            SysctlValue::Int(v) => write!(f, "{v}"),
        }
    }
}

impl Sysctl {
    fn components(&self) -> Vec<&str> {
        match self {
            Sysctl::IpForward => vec!["net", "ipv4", "ip_forward"],
            Sysctl::RouteLocalnet(ifname) => vec!["net", "ipv4", "conf", ifname, "route_localnet"],
            Sysctl::BridgeNfCallIptables => vec!["net", "bridge", "bridge-nf-call-iptables"],
        }
    }

    /// The key as `sysctl(8)` spells it: `net.ipv4.conf.eth0.route_localnet` (a dot in an interface name
    /// becomes `/`, as `sysctl` writes `net.ipv4.conf.eth0/100.route_localnet`).
    pub fn key(&self) -> String {
        self.components().iter().map(|c| c.replace('.', "/")).collect::<Vec<_>>().join(".")
    }

    /// The file under `/proc/sys`.
    pub fn path(&self) -> PathBuf {
        self.components().iter().fold(PathBuf::from(PROC_SYS), |p, c| p.join(c))
    }

    /// Reads the value. A missing key is [`SysctlValue::Absent`], except that
    /// [`Sysctl::RouteLocalnet`] for an interface that does not exist is [`Error::NoSuchInterface`].
    pub fn read(&self) -> Result<SysctlValue, Error> {
        self.check_interface()?;
        match fs::read_to_string(self.path()) {
            Ok(text) => text
                .trim()
                .parse()
                .map(SysctlValue::Int)
                .map_err(|_| Error::SysctlValue { key: self.key(), text }),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                self.check_interface_exists()?;
                Ok(SysctlValue::Absent)
            }
            Err(source) => Err(Error::Sysctl { key: self.key(), source }),
        }
    }

    /// Writes 1 (`on`) or 0. A missing key is an [`Error::Sysctl`] with `ENOENT` (or
    /// [`Error::NoSuchInterface`]); writing needs `CAP_NET_ADMIN` in the namespace's owning user
    /// namespace.
    pub fn write(&self, on: bool) -> Result<(), Error> {
        self.check_interface()?;
        let value: &[u8] = if on { b"1\n" } else { b"0\n" };
        let result =
            fs::OpenOptions::new().write(true).open(self.path()).and_then(|mut f| f.write_all(value));
        match result {
            Ok(()) => Ok(()),
            Err(source) => {
                if source.kind() == io::ErrorKind::NotFound {
                    self.check_interface_exists()?;
                }
                Err(Error::Sysctl { key: self.key(), source })
            }
        }
    }

    /// Rejects interface names the kernel would not accept (they could not be a path component here).
    fn check_interface(&self) -> Result<(), Error> {
        match self {
            Sysctl::RouteLocalnet(name) if !valid_ifname(name) => Err(no_such_interface(name)),
            _ => Ok(()),
        }
    }

    /// After `ENOENT`: was it the interface that is missing?
    fn check_interface_exists(&self) -> Result<(), Error> {
        match self {
            Sysctl::RouteLocalnet(name) if !Path::new(IPV4_CONF).join(name).is_dir() => {
                Err(no_such_interface(name))
            }
            _ => Ok(()),
        }
    }
}

impl fmt::Display for Sysctl {
    /// The `sysctl(8)` key.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.key())
    }
}

/// The kernel's `dev_valid_name`: 1 to 15 bytes, not `.` or `..`, no `/`, `:` or whitespace.
fn valid_ifname(name: &str) -> bool {
    !name.is_empty()
        && name.len() < IFNAMSIZ
        && name != "."
        && name != ".."
        && !name.chars().any(|c| c == '/' || c == ':' || c.is_whitespace())
}

fn no_such_interface(name: &str) -> Error {
    let mut existing: Vec<String> = fs::read_dir(IPV4_CONF)
        .map(|dir| {
            dir.filter_map(|e| e.ok())
                .filter_map(|e| e.file_name().into_string().ok())
                .filter(|n| n != "all" && n != "default")
                .collect()
        })
        .unwrap_or_default();
    existing.sort();
    Error::NoSuchInterface { name: name.to_string(), existing }
}

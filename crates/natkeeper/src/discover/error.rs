//! What discovery can fail with: reading the kernel or a file, or a configured name that does not
//! exist on this host (the error names it and lists what does exist).

use std::io;
use std::path::PathBuf;

/// A discovery error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DiscoverError {
    /// Reading links, addresses, routes or a sysctl failed (carries the kernel's errno).
    #[error(transparent)]
    Rtnl(#[from] natkeeper_rtnl::Error),
    /// Reading the nf_tables ruleset failed (carries the kernel's errno).
    #[error(transparent)]
    Nft(#[from] natkeeper_nft::Error),
    /// A file discovery reads (libvirt's network state, `/proc/net/ip_tables_names`) exists but cannot
    /// be read.
    #[error("reading {}: {source}", path.display())]
    Read {
        /// The file or directory.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// No bridge of that name.
    #[error("no bridge named {name:?}; bridges: {}; interfaces: {}", list(bridges), list(interfaces))]
    NoSuchBridge {
        /// The name asked for.
        name: String,
        /// The bridges that exist.
        bridges: Vec<String>,
        /// Every interface that exists.
        interfaces: Vec<String>,
    },
    /// The interface exists but is not a bridge.
    #[error("{name:?} is not a bridge (it is a {kind} interface); bridges: {}", list(bridges))]
    NotABridge {
        /// The name asked for.
        name: String,
        /// Its link kind (`veth`, `device`, ...).
        kind: String,
        /// The bridges that exist.
        bridges: Vec<String>,
    },
    /// No IPv4 address carries that label.
    #[error("no address labelled {label:?}; labels: {}", list(labels))]
    NoSuchLabel {
        /// The label asked for (`eth0:0`).
        label: String,
        /// The labels that exist (an interface's name labels its unlabelled addresses).
        labels: Vec<String>,
    },
    /// No interface of that name.
    #[error("no interface named {name:?}; interfaces: {}", list(interfaces))]
    NoSuchInterface {
        /// The name asked for.
        name: String,
        /// Every interface that exists.
        interfaces: Vec<String>,
    },
}

fn list(names: &[String]) -> String {
    if names.is_empty() { "none".to_string() } else { names.join(", ") }
}

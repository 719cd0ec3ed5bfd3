//! The crate's one error type.

use std::io;

use crate::link::LinkKind;

/// Everything that can go wrong talking to rtnetlink or `/proc/sys`.
///
/// Variants carry the object they are about (an interface name, a label, a sysctl key) and, where the
/// kernel refused something, its errno ([`Error::errno`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A socket call failed: opening, binding, sending, receiving or polling.
    #[error("rtnetlink {op}: {source}")]
    Io {
        /// The call that failed (`"socket"`, `"bind"`, `"send"`, `"recv"`, `"poll"`, ...).
        op: &'static str,
        /// The system's error, with its errno.
        #[source]
        source: io::Error,
    },
    /// The kernel answered a request with an error (`NLMSG_ERROR`, or a failed dump's `NLMSG_DONE`).
    #[error("{request}: the kernel answered: {}", io::Error::from_raw_os_error(*errno))]
    Kernel {
        /// The request, e.g. `"RTM_GETLINK dump"`.
        request: &'static str,
        /// The (positive) errno.
        errno: i32,
    },
    /// A message from the kernel could not be decoded.
    #[error("decoding {what}: {reason}")]
    Decode {
        /// What was being decoded, e.g. `"RTM_NEWLINK"`.
        what: &'static str,
        /// Why it failed.
        reason: String,
    },
    /// A dump was interrupted by concurrent changes (`NLM_F_DUMP_INTR`) on every attempt.
    #[error("{request}: interrupted by concurrent changes {attempts} times in a row")]
    DumpInterrupted {
        /// The request, e.g. `"RTM_GETADDR dump"`.
        request: &'static str,
        /// How many times it was tried.
        attempts: u32,
    },
    /// No interface has this name.
    #[error("no interface named {name:?}; existing interfaces: {}", list(existing))]
    NoSuchInterface {
        /// The name asked for.
        name: String,
        /// The names that do exist, sorted.
        existing: Vec<String>,
    },
    /// No address carries this label.
    #[error("no address labelled {label:?}; existing labels: {}", list(existing))]
    NoSuchLabel {
        /// The label asked for.
        label: String,
        /// The labels that do exist, sorted.
        existing: Vec<String>,
    },
    /// The interface exists but is not a bridge.
    #[error("{name:?} is not a bridge (its kind is {})", kind.as_ref().map_or("none".to_string(), |k| k.to_string()))]
    NotABridge {
        /// The interface's name.
        name: String,
        /// Its kind (`None`: a device without `IFLA_INFO_KIND`, such as a physical NIC).
        kind: Option<LinkKind>,
    },
    /// Reading or writing a sysctl under `/proc/sys` failed.
    #[error("sysctl {key}: {source}")]
    Sysctl {
        /// The key, in `sysctl(8)` spelling (`net.ipv4.ip_forward`).
        key: String,
        /// The system's error, with its errno.
        #[source]
        source: io::Error,
    },
    /// A sysctl holds something that is not an integer.
    #[error("sysctl {key}: unexpected value {text:?}")]
    SysctlValue {
        /// The key, in `sysctl(8)` spelling.
        key: String,
        /// What the file held.
        text: String,
    },
}

impl Error {
    /// The errno behind this error, where there is one (kernel answers and system calls).
    pub fn errno(&self) -> Option<i32> {
        match self {
            Error::Io { source, .. } | Error::Sysctl { source, .. } => source.raw_os_error(),
            Error::Kernel { errno, .. } => Some(*errno),
            _ => None,
        }
    }

    pub(crate) fn io(op: &'static str, source: io::Error) -> Error {
        Error::Io { op, source }
    }

    pub(crate) fn decode(what: &'static str, reason: impl ToString) -> Error {
        Error::Decode { what, reason: reason.to_string() }
    }
}

fn list(names: &[String]) -> String {
    if names.is_empty() { "none".to_string() } else { names.join(", ") }
}

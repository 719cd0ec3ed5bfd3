//! Errors: [`DecodeError`] for bytes that do not parse, [`Error`] for everything a socket call can hit.

use std::fmt;

use crate::family::Family;

/// Bytes from the kernel (or a file) that do not decode. `at` names the attribute or structure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot decode {at}: {kind}")]
pub struct DecodeError {
    /// The attribute, expression or message being decoded.
    pub at: &'static str,
    /// What is wrong with it.
    pub kind: DecodeErrorKind,
}

/// What is wrong with bytes that do not decode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeErrorKind {
    /// The buffer ends before the structure does.
    Truncated,
    /// A fixed-size value has the wrong length.
    BadLength(usize),
    /// A value is not one the format allows (e.g. not UTF-8).
    BadValue,
    /// A mandatory attribute is absent.
    Missing,
}

impl fmt::Display for DecodeErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeErrorKind::Truncated => f.write_str("truncated"),
            DecodeErrorKind::BadLength(n) => write!(f, "unexpected length {n}"),
            DecodeErrorKind::BadValue => f.write_str("invalid value"),
            DecodeErrorKind::Missing => f.write_str("mandatory attribute missing"),
        }
    }
}

impl DecodeError {
    pub(crate) fn truncated(at: &'static str) -> DecodeError {
        DecodeError { at, kind: DecodeErrorKind::Truncated }
    }
    pub(crate) fn bad_length(at: &'static str, len: usize) -> DecodeError {
        DecodeError { at, kind: DecodeErrorKind::BadLength(len) }
    }
    pub(crate) fn bad_value(at: &'static str) -> DecodeError {
        DecodeError { at, kind: DecodeErrorKind::BadValue }
    }
    pub(crate) fn missing(at: &'static str) -> DecodeError {
        DecodeError { at, kind: DecodeErrorKind::Missing }
    }
}

/// The object a batch message was about, so a kernel error can name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectRef {
    /// What the message did: "add table", "insert rule", "delete element"...
    pub action: &'static str,
    /// Family of the table.
    pub family: Family,
    /// Table name.
    pub table: String,
    /// Chain, set or map name, when the object lives in one.
    pub name: Option<String>,
    /// Rule handle, when the message named one.
    pub handle: Option<u64>,
}

impl fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", self.action, self.family, self.table)?;
        if let Some(name) = &self.name {
            write!(f, " {name}")?;
        }
        if let Some(h) = self.handle {
            write!(f, " handle {h}")?;
        }
        Ok(())
    }
}

/// An errno as the kernel returned it (positive), printed with its name and meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Errno(pub i32);

impl Errno {
    /// `ENOENT`: no such table, chain, rule or set.
    pub const ENOENT: Errno = Errno(libc::ENOENT);
    /// `EEXIST`: the object exists (with `NLM_F_EXCL`).
    pub const EEXIST: Errno = Errno(libc::EEXIST);
    /// `EINVAL`: the kernel refused the message's content.
    pub const EINVAL: Errno = Errno(libc::EINVAL);
    /// `EBUSY`: the object is in use (e.g. a chain still jumped to).
    pub const EBUSY: Errno = Errno(libc::EBUSY);
    /// `ERESTART`: the ruleset generation changed since it was read.
    pub const ERESTART: Errno = Errno(libc::ERESTART);
    /// `ENOBUFS`: a socket buffer overran (events were lost).
    pub const ENOBUFS: Errno = Errno(libc::ENOBUFS);
    /// `EPERM`: missing `CAP_NET_ADMIN`.
    pub const EPERM: Errno = Errno(libc::EPERM);
}

impl fmt::Display for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let io = std::io::Error::from_raw_os_error(self.0);
        let text = io.to_string();
        let text = text.split(" (os error").next().unwrap_or(&text);
        write!(f, "{text} (errno {})", self.0)
    }
}

/// Everything a call of this crate can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The kernel refused one message of a batch; nothing of the batch was applied.
    #[error("kernel refused `{object}`: {errno}")]
    Kernel {
        /// The object the refused message was about.
        object: ObjectRef,
        /// The kernel's errno.
        errno: Errno,
        /// The kernel's extended-ack message, when it gave one.
        message: Option<String>,
    },
    /// The ruleset changed since its generation was read (`ERESTART`): re-read, re-plan and retry.
    #[error("the ruleset changed under us (generation {expected} is stale): re-read and retry")]
    Restart {
        /// The generation the batch was built against.
        expected: u32,
    },
    /// A request outside a batch (a dump, `GETGEN`) failed.
    #[error("{what} failed: {errno}")]
    Request {
        /// What was asked.
        what: &'static str,
        /// The kernel's errno.
        errno: Errno,
    },
    /// The socket itself failed (open, bind, send, receive).
    #[error("netlink socket: {0}")]
    Io(#[from] std::io::Error),
    /// The kernel sent something this crate cannot decode.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// A dump kept being interrupted by concurrent writers.
    #[error("{what}: the ruleset kept changing during the dump ({attempts} attempts)")]
    Unstable {
        /// What was being read.
        what: &'static str,
        /// How many times it was tried.
        attempts: u32,
    },
}

impl Error {
    /// The kernel errno behind this error, if there is one.
    pub fn errno(&self) -> Option<Errno> {
        match self {
            Error::Kernel { errno, .. } | Error::Request { errno, .. } => Some(*errno),
            Error::Restart { .. } => Some(Errno::ERESTART),
            Error::Io(e) => e.raw_os_error().map(Errno),
            Error::Decode(_) | Error::Unstable { .. } => None,
        }
    }

    /// True for [`Error::Restart`]: worth re-reading and retrying.
    pub fn is_restart(&self) -> bool {
        matches!(self, Error::Restart { .. })
    }
}

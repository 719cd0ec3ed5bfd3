//! `serialize_with` helpers: typed values from the netlink crates (which do not depend on serde)
//! written as the strings their `Display` gives, the way `nft` and `ip` print them.

use std::fmt::Display;

use natkeeper_nft::Policy;
use natkeeper_rtnl::SysctlValue;
use serde::Serializer;

/// Any `Display` value, as its string.
pub(super) fn display<T: Display, S: Serializer>(value: &T, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(value)
}

/// An optional `Display` value, as its string or `null`.
pub(super) fn display_opt<T: Display, S: Serializer>(value: &Option<T>, s: S) -> Result<S::Ok, S::Error> {
    match value {
        Some(v) => s.collect_str(v),
        None => s.serialize_none(),
    }
}

/// A sysctl: its number, or `null` when the key does not exist.
pub(super) fn sysctl<S: Serializer>(value: &SysctlValue, s: S) -> Result<S::Ok, S::Error> {
    match value {
        SysctlValue::Absent => s.serialize_none(),
        SysctlValue::Int(v) => s.serialize_i64(*v),
    }
}

/// A base chain's policy, as `nft` prints it (`accept`, `drop`), or `null` for a regular chain.
pub(super) fn policy_opt<S: Serializer>(value: &Option<Policy>, s: S) -> Result<S::Ok, S::Error> {
    match value {
        Some(p) => s.serialize_str(&policy_name(*p)),
        None => s.serialize_none(),
    }
}

/// `accept`, `drop`, or `policy N` for a value nft has no name for.
pub(super) fn policy_name(p: Policy) -> String {
    match p {
        Policy::Accept => "accept".to_string(),
        Policy::Drop => "drop".to_string(),
        Policy::Other(v) => format!("policy {v}"),
    }
}

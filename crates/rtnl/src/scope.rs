//! Address and route scopes (`RT_SCOPE_*`), shared by `ifaddrmsg` and `rtmsg`.

use std::fmt;

// include/uapi/linux/rtnetlink.h: enum rt_scope_t
const RT_SCOPE_UNIVERSE: u8 = 0;
const RT_SCOPE_SITE: u8 = 200;
const RT_SCOPE_LINK: u8 = 253;
const RT_SCOPE_HOST: u8 = 254;
const RT_SCOPE_NOWHERE: u8 = 255;

/// How far an address or route reaches (`ip addr` prints it as `scope global`, `scope link`, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    /// `RT_SCOPE_UNIVERSE` (`scope global`).
    Universe,
    /// `RT_SCOPE_SITE`.
    Site,
    /// `RT_SCOPE_LINK` (e.g. IPv6 `fe80::/64` addresses, routes to directly connected subnets).
    Link,
    /// `RT_SCOPE_HOST` (e.g. `127.0.0.1`).
    Host,
    /// `RT_SCOPE_NOWHERE`.
    Nowhere,
    /// A value without a name in the kernel's headers, kept as is.
    Other(u8),
}

impl From<u8> for Scope {
    fn from(v: u8) -> Scope {
        match v {
            RT_SCOPE_UNIVERSE => Scope::Universe,
            RT_SCOPE_SITE => Scope::Site,
            RT_SCOPE_LINK => Scope::Link,
            RT_SCOPE_HOST => Scope::Host,
            RT_SCOPE_NOWHERE => Scope::Nowhere,
            other => Scope::Other(other),
        }
    }
}

impl From<Scope> for u8 {
    fn from(s: Scope) -> u8 {
        match s {
            Scope::Universe => RT_SCOPE_UNIVERSE,
            Scope::Site => RT_SCOPE_SITE,
            Scope::Link => RT_SCOPE_LINK,
            Scope::Host => RT_SCOPE_HOST,
            Scope::Nowhere => RT_SCOPE_NOWHERE,
            Scope::Other(v) => v,
        }
    }
}

impl fmt::Display for Scope {
    /// As `ip addr` prints it: `global`, `site`, `link`, `host`, `nowhere`, or the number.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::Universe => f.write_str("global"),
            Scope::Site => f.write_str("site"),
            Scope::Link => f.write_str("link"),
            Scope::Host => f.write_str("host"),
            Scope::Nowhere => f.write_str("nowhere"),
            Scope::Other(v) => write!(f, "{v}"),
        }
    }
}

//! The sysctls forwarding to guests depends on, read in the calling thread's namespace.

use natkeeper_rtnl::{Sysctl, SysctlValue};
use serde::Serialize;

use super::error::DiscoverError;

/// `net.ipv4.conf.<uplink>.route_localnet`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RouteLocalnet {
    /// The interface (the uplink).
    pub interface: String,
    /// Its value (`null` in JSON when absent).
    #[serde(serialize_with = "super::ser::sysctl")]
    pub value: SysctlValue,
}

/// The sysctls discovery reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Sysctls {
    /// `net.ipv4.ip_forward`: 0 means no routing at all, so no forwarded connection reaches a guest.
    #[serde(serialize_with = "super::ser::sysctl")]
    pub ip_forward: SysctlValue,
    /// `net.bridge.bridge-nf-call-iptables`: absent without `br_netfilter`; 1 makes bridged traffic
    /// (guest to guest on one bridge) pass the `ip` forward hook, iptables' FORWARD included.
    #[serde(serialize_with = "super::ser::sysctl")]
    pub bridge_nf_call_iptables: SysctlValue,
    /// `route_localnet` of the uplink, when there is one.
    pub route_localnet: Option<RouteLocalnet>,
}

impl Sysctls {
    /// Reads them through `/proc/sys` in the calling thread's network namespace; `uplink` names the
    /// interface whose `route_localnet` is read.
    pub fn read(uplink: Option<&str>) -> Result<Sysctls, DiscoverError> {
        let route_localnet = match uplink {
            Some(name) => Some(RouteLocalnet {
                interface: name.to_string(),
                value: Sysctl::RouteLocalnet(name.to_string()).read()?,
            }),
            None => None,
        };
        Ok(Sysctls {
            ip_forward: Sysctl::IpForward.read()?,
            bridge_nf_call_iptables: Sysctl::BridgeNfCallIptables.read()?,
            route_localnet,
        })
    }
}

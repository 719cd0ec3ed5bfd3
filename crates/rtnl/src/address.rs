//! Interface addresses: `RTM_NEWADDR` / `RTM_DELADDR` messages as typed values.

use std::fmt;
use std::net::IpAddr;

use ipnet::IpNet;
use netlink_packet_core::{parse_ip, parse_string, parse_u32};
use netlink_packet_route::address::AddressHeader;

use crate::decode::{after_header, attributes, value};
use crate::error::Error;
use crate::family::Family;
use crate::scope::Scope;

// include/uapi/linux/if_addr.h: sizeof(struct ifaddrmsg)
const IFADDRMSG_LEN: usize = 8;
// include/uapi/linux/if_addr.h: enum { IFA_UNSPEC, IFA_ADDRESS, IFA_LOCAL, IFA_LABEL, ... }
const IFA_ADDRESS: u16 = 1;
const IFA_LOCAL: u16 = 2;
const IFA_LABEL: u16 = 3;
const IFA_FLAGS: u16 = 8;
// include/uapi/linux/if_addr.h
const IFA_F_SECONDARY: u32 = 0x01;
const IFA_F_NODAD: u32 = 0x02;
const IFA_F_DADFAILED: u32 = 0x08;
const IFA_F_DEPRECATED: u32 = 0x20;
const IFA_F_TENTATIVE: u32 = 0x40;
const IFA_F_PERMANENT: u32 = 0x80;
const IFA_F_NOPREFIXROUTE: u32 = 0x200;

/// One address on an interface, as `ip addr show` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    /// The index of the interface the address is on.
    pub index: u32,
    /// The address with its prefix length, e.g. `192.168.1.211/24` (`IFA_LOCAL`, or `IFA_ADDRESS` where
    /// there is no `IFA_LOCAL`, as for IPv6). [`IpNet::trunc`] gives the subnet, `192.168.1.0/24`.
    pub net: IpNet,
    /// The peer of a point-to-point address (`IFA_ADDRESS` when it differs from `IFA_LOCAL`).
    pub peer: Option<IpAddr>,
    /// The IPv4 label (`IFA_LABEL`): the interface name, or an alias such as `eth0:0`. IPv6 has none.
    pub label: Option<String>,
    /// The scope (`scope global`, `scope link`, ...).
    pub scope: Scope,
    /// The `IFA_F_*` flags (from `IFA_FLAGS` where present, else the header's 8 bits), all bits kept.
    pub flags: AddressFlags,
}

impl Address {
    /// The address without its prefix length.
    pub fn addr(&self) -> IpAddr {
        self.net.addr()
    }

    /// The address's family.
    pub fn family(&self) -> Family {
        match self.net {
            IpNet::V4(_) => Family::Ipv4,
            IpNet::V6(_) => Family::Ipv6,
        }
    }

    /// The subnet the address is in (`192.168.122.1/24` → `192.168.122.0/24`).
    pub fn subnet(&self) -> IpNet {
        self.net.trunc()
    }

    /// True for an IPv4 secondary address: one added to a subnet the interface already had an address
    /// in (`ip addr` prints `secondary`). Always false for IPv6, where the same bit means "temporary".
    pub fn is_secondary(&self) -> bool {
        self.family() == Family::Ipv4 && self.flags.contains(AddressFlags::SECONDARY)
    }

    /// Decodes the body of an `RTM_NEWADDR`/`RTM_DELADDR` message (after the `nlmsghdr`).
    /// `Ok(None)` for an address family other than IPv4 and IPv6.
    pub(crate) fn parse(body: &[u8], what: &'static str) -> Result<Option<Address>, Error> {
        let header = AddressHeader::parse(body).map_err(|e| Error::decode(what, e))?;
        let Some(family) = Family::from_af(u8::from(header.family)) else {
            return Ok(None);
        };
        let mut local = None;
        let mut address = None;
        let mut label = None;
        let mut flags = AddressFlags(u32::from(header.flags.bits()));
        attributes(after_header(body, IFADDRMSG_LEN), what, |kind, v| {
            match kind {
                IFA_LOCAL => local = Some(value(what, "IFA_LOCAL", parse_ip(v))?),
                IFA_ADDRESS => address = Some(value(what, "IFA_ADDRESS", parse_ip(v))?),
                IFA_LABEL => label = Some(value(what, "IFA_LABEL", parse_string(v))?),
                IFA_FLAGS => flags = AddressFlags(value(what, "IFA_FLAGS", parse_u32(v))?),
                _ => {}
            }
            Ok(())
        })?;
        let index = header.index;
        let Some(addr) = local.or(address) else {
            return Err(Error::decode(
                what,
                format!("address on interface {index} has neither IFA_LOCAL nor IFA_ADDRESS"),
            ));
        };
        let matches_family = match addr {
            IpAddr::V4(_) => family == Family::Ipv4,
            IpAddr::V6(_) => family == Family::Ipv6,
        };
        if !matches_family {
            return Err(Error::decode(what, format!("{family} address on interface {index} carries {addr}")));
        }
        let prefix = header.prefix_len;
        let net = IpNet::new(addr, prefix).map_err(|_| {
            Error::decode(what, format!("{addr} on interface {index} has prefix length {prefix}"))
        })?;
        Ok(Some(Address {
            index,
            net,
            peer: address.filter(|a| local.is_some() && *a != addr),
            label,
            scope: u8::from(header.scope).into(),
            flags,
        }))
    }
}

/// The `IFA_F_*` flags of an address. Every bit is kept, named or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct AddressFlags(pub u32);

impl AddressFlags {
    /// `IFA_F_SECONDARY` (IPv4; for IPv6 the same bit is `IFA_F_TEMPORARY`).
    pub const SECONDARY: AddressFlags = AddressFlags(IFA_F_SECONDARY);
    /// `IFA_F_NODAD`.
    pub const NODAD: AddressFlags = AddressFlags(IFA_F_NODAD);
    /// `IFA_F_DADFAILED`.
    pub const DADFAILED: AddressFlags = AddressFlags(IFA_F_DADFAILED);
    /// `IFA_F_DEPRECATED`.
    pub const DEPRECATED: AddressFlags = AddressFlags(IFA_F_DEPRECATED);
    /// `IFA_F_TENTATIVE` (IPv6 duplicate address detection still running).
    pub const TENTATIVE: AddressFlags = AddressFlags(IFA_F_TENTATIVE);
    /// `IFA_F_PERMANENT` (configured, not learned; `ip addr` prints `valid_lft forever`).
    pub const PERMANENT: AddressFlags = AddressFlags(IFA_F_PERMANENT);
    /// `IFA_F_NOPREFIXROUTE`.
    pub const NOPREFIXROUTE: AddressFlags = AddressFlags(IFA_F_NOPREFIXROUTE);

    /// True when every bit of `other` is set in `self`.
    pub fn contains(self, other: AddressFlags) -> bool {
        self.0 & other.0 == other.0
    }
}

impl fmt::Display for AddressFlags {
    /// Hexadecimal, `0x80`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#x}", self.0)
    }
}

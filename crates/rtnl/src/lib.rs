//! rtnetlink for natkeeper: what a KVM host's network looks like, read straight from the kernel.
//!
//! * [`Rtnl`] dumps links ([`Link`]: kind, state, MAC, MTU, controller), addresses ([`Address`]: prefix,
//!   label such as `eth0:0`, primary/secondary, scope) and routes ([`Route`]), and answers the questions
//!   natkeeper asks of them through a [`Snapshot`]: a bridge's ports and subnets, the uplink (the
//!   default route's interface), what an address label resolves to.
//! * [`Sysctl`] reads and writes `net.ipv4.ip_forward`, `net.ipv4.conf.<if>.route_localnet` and
//!   `net.bridge.bridge-nf-call-iptables` through `/proc/sys`; a key that does not exist (no
//!   `br_netfilter`) reads as [`SysctlValue::Absent`].
//! * [`Events`] subscribes to link and address changes; a lost burst is [`Event::Resync`].
//!
//! Everything is synchronous and blocking, on `netlink-sys` and `netlink-packet-route`; there is no
//! runtime, cache or global state. Sockets and `/proc/sys` act in the network namespace of the thread
//! that opens them.
//!
//! Contract: nothing here panics on what the kernel sends; malformed messages are [`Error::Decode`].
//! Decoding is lossless where the kernel says something this crate has no name for: unknown link kinds
//! are kept as their string ([`LinkKind::Other`]), unknown states, scopes and route types as their
//! number, unknown address flag bits as bits, and messages it does not model as [`Event::Other`].
//!
//! ```no_run
//! use natkeeper_rtnl::{Family, Rtnl, Sysctl};
//!
//! let mut rtnl = Rtnl::open()?;
//! let snap = rtnl.snapshot()?;
//! for bridge in snap.bridges() {
//!     let subnets = snap.bridge_subnets(&bridge.name)?;
//!     let ports: Vec<&str> = snap.ports(&bridge.name)?.iter().map(|p| p.name.as_str()).collect();
//!     println!("{} {:?} ports {:?}", bridge.name, subnets.ipv4, ports);
//! }
//! if let Some(uplink) = snap.uplink(Family::Ipv4) {
//!     for a in snap.addresses_on(uplink.index) {
//!         println!("{} {} {:?} secondary={}", uplink.name, a.net, a.label, a.is_secondary());
//!     }
//! }
//! let public = snap.resolve_label("eth0:0")?; // 192.168.1.211/24 on the article's host
//! println!("eth0:0 is {}", public.addr());
//! println!("ip_forward = {}", Sysctl::IpForward.read()?);
//! # Ok::<(), natkeeper_rtnl::Error>(())
//! ```
//!
//! The decode path on bytes (what every dump and event goes through):
//!
//! ```
//! use natkeeper_rtnl::{Error, Event};
//!
//! // An nlmsghdr claiming 32 bytes in a 16-byte datagram.
//! let bytes = [32, 0, 0, 0, 16, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0];
//! assert!(matches!(Event::decode(&bytes), Err(Error::Decode { .. })));
//! // An RTM_NEWLINK too short for its ifinfomsg.
//! let bytes = [20, 0, 0, 0, 16, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
//! assert!(matches!(Event::decode(&bytes), Err(Error::Decode { what: "RTM_NEWLINK", .. })));
//! ```

mod address;
mod decode;
mod error;
mod event;
mod family;
mod link;
mod route;
mod rtnl;
mod scope;
mod snapshot;
mod sock;
mod sysctl;

pub use address::{Address, AddressFlags};
pub use error::Error;
pub use event::{Event, Events, Group};
pub use family::Family;
pub use ipnet;
pub use link::{HwAddr, Link, LinkKind, OperState};
pub use route::{NextHop, RT_TABLE_MAIN, Route, RouteKind};
pub use rtnl::Rtnl;
pub use scope::Scope;
pub use snapshot::{Snapshot, Subnets};
pub use sysctl::{Sysctl, SysctlValue};

//! natkeeper: port forwards, 1:1 NAT and egress NAT for KVM guests on a libvirt bridge, with the
//! FORWARD holes that get past libvirt's REJECTs — programmed over netlink in one atomic
//! transaction, and kept in place.
//!
//! * [`config`]: the TOML policy ([`Policy`]), checked on its own;
//! * [`discover`]: the host's bridges, uplink, addresses and firewall landscape, and `doctor`;
//! * [`resolve`]: the policy against the host (bridges, labels, uplink) → [`Resolved`];
//! * [`desired`]: natkeeper's own table for a resolved policy (maps keyed on public address,
//!   protocol and port, so a packet's cost does not grow with the number of forwards);
//! * [`holes`] and [`sites`]: the accept rules placed ahead of other tables' rejects;
//! * [`plan`]: the difference with the kernel, as typed changes and one transaction;
//! * [`Host`]: discover, plan, apply (with retries), delete — no process is ever spawned;
//! * [`watch`]: keeps it all in place while others rewrite the firewall.

pub mod config;
pub mod desired;
pub mod discover;
pub mod holes;
pub mod host;
pub mod names;
pub mod plan;
pub mod resolve;
pub mod sites;
pub mod status;
pub mod watch;

pub use config::{ConfigError, Policy};
pub use discover::{DiscoverError, Discovery, Finding, Severity, doctor};
pub use host::{Applied, Error, Host, Options};
pub use plan::{Change, Plan};
pub use resolve::{HostFacts, Mode, Resolved};
pub use status::Status;
pub use watch::{Control, WatchOptions, WatchStats, Watcher};

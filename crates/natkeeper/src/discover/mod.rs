//! Discovery: what the host looks like before natkeeper plans anything, read straight from the
//! kernel — the administrator names `virbr0` and `eth0:0`, natkeeper finds the rest.
//!
//! * [`Discovery`]: every bridge with its subnets, ports (the guests' tap devices) and whether
//!   libvirt created it ([`LibvirtEvidence`]); the uplink (IPv4 default route) with every address,
//!   label and primary/secondary flag; every interface; the sysctls that matter ([`Sysctls`]); and the
//!   firewall [`Landscape`]. [`Discovery::read`] reads it in the calling thread's network namespace;
//!   [`Discovery::from_parts`] builds it from an rtnetlink snapshot and an nf_tables ruleset, with no
//!   kernel. It serializes (`--json`) and displays (the `natkeeper discover` view).
//! * Names from a configuration resolve through it: [`Discovery::bridge`],
//!   [`Discovery::resolve_label`] (`eth0:0` → 192.168.1.211), [`Discovery::interface_addresses`]; a
//!   name that does not exist is a [`DiscoverError`] naming it and listing what exists.
//! * The [`Landscape`]: libvirt's backend, Docker, firewalld, iptables-legacy, drop policies, and —
//!   for the planner — each forward-hook base chain walked for what it does to a DNAT'ed connection
//!   ([`ForwardChain`]) and the [`HoleNeeded`] list: `ip filter FORWARD` and/or
//!   `ip libvirt_network guest_input`, before which rule.
//! * [`doctor`]: findings ([`Finding`]) about what would stop forwarded connections, and how to fix it.
//!
//! ```no_run
//! use natkeeper::discover::{Discovery, HolePlace, doctor};
//!
//! let d = Discovery::read()?;
//! let virbr0 = d.bridge("virbr0")?;
//! println!("{} {:?} libvirt={}", virbr0.name, virbr0.ipv4, virbr0.libvirt);
//! println!("eth0:0 is {}", d.resolve_label("eth0:0")?.addr());
//! if let Some(hole) = d.firewall.hole(HolePlace::IptablesForward) {
//!     println!("hole needed in {} before {:?}", hole.chain, hole.before);
//! }
//! for finding in doctor(&d) {
//!     println!("{finding}");
//! }
//! # Ok::<(), natkeeper::discover::DiscoverError>(())
//! ```

mod chains;
mod discovery;
mod doctor;
mod error;
#[cfg(test)]
mod fixture;
mod landscape;
mod legacy;
mod libvirt;
mod network;
mod render;
mod ser;
mod sysctls;
mod walk;

pub use chains::{BaseChain, ChainRef, RuleRef, TableRef};
pub use discovery::Discovery;
pub use doctor::{Finding, FindingKind, Severity, doctor};
pub use error::DiscoverError;
pub use landscape::{Docker, Landscape, LibvirtBackend};
pub use legacy::LegacyTables;
pub use libvirt::{CONFIG_DIR, LIBVIRT_TABLE, LibvirtEvidence, LibvirtNetwork, STATUS_DIR};
pub use network::{Bridge, HostAddress, Interface, Port, Uplink};
pub use sysctls::{RouteLocalnet, Sysctls};
pub use walk::{Action, ForwardChain, HoleNeeded, HolePlace, Step, Trace};

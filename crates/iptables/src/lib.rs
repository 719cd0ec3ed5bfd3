//! The iptables rule language, typed, as iptables-nft 1.8.9 reads and prints it.
//!
//! * [`parse_command`] turns iptables arguments (`-t nat -A PREROUTING -p tcp --dport 80 -j DNAT
//!   --to-destination 192.168.122.41`) into a [`Command`]; [`parse_restore`] reads
//!   iptables-restore input into a [`RestoreFile`].
//! * A [`Rule`] prints (`Display`) exactly the line `iptables-save` 1.8.9 prints for it once
//!   iptables-nft has loaded it: canonical option order, `-m tcp` spelled out, `/32` added,
//!   service and ICMP names turned into numbers. [`RestoreFile::to_saved`] gives the whole
//!   `iptables-save` output after a restore.
//! * [`xt`] holds the binary `xt_*` info structs iptables-nft sends in nf_tables `match`/`target`
//!   expressions, one file per struct revision, each with `encode`/`decode` and a registry.
//!
//! Contract: nothing here panics on any input; parse errors are typed ([`ParseError`] with
//! line, word index and word); anything iptables 1.8.9 (or the kernel behind it) would refuse is
//! refused, and so is anything iptables-nft 1.8.9 would silently install as a broader rule.
//! Decoding xt blobs is lossless: bytes a struct does not model are kept.
//!
//! ```
//! use natkeeper_iptables::{parse_command, Command, Match, Target};
//!
//! let cmd = parse_command(&[
//!     "-t", "nat", "-A", "PREROUTING", "-i", "eth0", "-p", "tcp", "--destination-port",
//!     "8080", "-j", "DNAT", "--to-destination", "192.168.122.42:80",
//! ])?;
//! let Command::Append(rule) = &cmd else { unreachable!() };
//! assert!(matches!(rule.matches[0], Match::Tcp(_)));
//! assert!(matches!(rule.target, Some(Target::Dnat(_))));
//! assert_eq!(
//!     rule.to_string(),
//!     "-A PREROUTING -i eth0 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 192.168.122.42:80"
//! );
//!
//! // Printing and parsing again gives the same rule.
//! let again: Command = format!("-t nat {rule}").parse()?;
//! assert_eq!(again, cmd);
//! # Ok::<(), natkeeper_iptables::ParseError>(())
//! ```

mod addr;
mod command;
mod error;
mod ext;
mod iface;
pub mod matches;
mod num;
mod parse;
mod port;
mod protocol;
mod restore;
mod rule;
mod services;
mod table;
pub mod targets;
mod words;
pub mod xt;

pub use addr::AddrMask;
pub use command::{Command, ListOptions, Policy};
pub use error::{ErrorKind, ExtensionKind, ParseError};
pub use iface::Interface;
pub use matches::Match;
pub use parse::{ParseOptions, parse_command, parse_command_with};
pub use port::PortRange;
pub use protocol::Protocol;
pub use restore::{ApplyError, ChainDecl, Entry, RestoreFile, TableBlock, parse_restore, parse_restore_with};
pub use rule::{AddrMatch, Counters, IfaceMatch, ProtoMatch, Rule};
pub use table::{Hook, Table};
pub use targets::Target;

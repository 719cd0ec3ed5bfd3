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
//!   expressions, one file per struct revision, each with `encode`/`decode`, the conversions to
//!   and from the typed matches and targets, and a registry.
//! * [`encode`] writes a [`Rule`] as the nf_tables rule iptables-nft 1.8.9 writes for it, byte for
//!   byte (native expressions where it uses them, xt `match`/`target` with its revisions,
//!   `NFTA_RULE_COMPAT`, a counter); [`builtin_chain`] gives its builtin base chains. [`decode`]
//!   reads nf_tables rules of iptables' tables back as iptables-nft 1.8.9 reads them.
//! * [`restore`] applies a [`RestoreFile`] with `iptables-restore`'s semantics as one atomic,
//!   generation-guarded transaction for all its tables; [`save`] prints what `iptables-save`
//!   prints. Neither runs iptables.
//!
//! Contract: nothing here panics on any input; parse errors are typed ([`ParseError`] with
//! line, word index and word); anything iptables 1.8.9 (or the kernel behind it) would refuse is
//! refused, and so is anything iptables-nft 1.8.9 would silently install as a broader rule.
//! Decoding xt blobs is lossless: bytes a struct does not model are kept. Reading rules back
//! fails with a typed [`DecodeError`] where iptables-save 1.8.9 fails, and also where it would
//! print a rule broader than the kernel applies (set lookups, skipped tests).
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
//!
//! Restoring without a fork, as `iptables-restore --noflush` would:
//!
//! ```no_run
//! use natkeeper_iptables::nft::Socket;
//! use natkeeper_iptables::{ParseOptions, RestoreOptions, SaveOptions, parse_restore_lines, restore, save};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let input = "*filter\n-I FORWARD 1 -d 192.168.122.41/32 -o virbr0 -p tcp -m tcp --dport 80 -j ACCEPT\nCOMMIT\n";
//! let (file, lines) = parse_restore_lines(input, &ParseOptions::default().with_counters(false))?;
//! let mut sock = Socket::open()?;
//! match restore(&mut sock, &file, &RestoreOptions { noflush: true, ..RestoreOptions::default() }) {
//!     Ok(applied) => println!("{} messages in one transaction", applied.messages),
//!     Err(e) => {
//!         let line = e.location().and_then(|at| lines.line(at.block, at.entry));
//!         eprintln!("line {line:?}: {e}");
//!     }
//! }
//! print!("{}", save(&mut sock, &SaveOptions::default())?);
//! # Ok(())
//! # }
//! ```

mod addr;
mod builtin;
mod command;
mod decode;
mod encode;
mod error;
mod ext;
mod iface;
mod load;
pub mod matches;
mod num;
mod parse;
mod port;
mod protocol;
mod restore;
mod rule;
mod save;
mod services;
mod table;
pub mod targets;
mod words;
pub mod xt;

pub use addr::AddrMask;
pub use builtin::{BuiltinChain, builtin_chain};
pub use command::{Command, ListOptions, Policy};
pub use decode::{DecodeError, DecodeErrorKind, decode, is_compatible};
pub use encode::{EncodeError, encode};
pub use error::{ErrorKind, ExtensionKind, ParseError};
pub use iface::Interface;
pub use load::{Applied, Location, Plan, RestoreError, RestoreOptions, check_restore, plan, restore};
pub use matches::Match;
/// The nf_tables layer the restore and save functions work through ([`nft::Socket`]).
pub use natkeeper_nft as nft;
pub use parse::{ParseOptions, parse_command, parse_command_with};
pub use port::PortRange;
pub use protocol::Protocol;
pub use restore::{
    ApplyError, ChainDecl, Entry, RestoreFile, SourceLines, TableBlock, parse_restore, parse_restore_lines,
    parse_restore_with,
};
pub use rule::{AddrMatch, Counters, IfaceMatch, ProtoMatch, Rule};
pub use save::{SaveError, SaveOptions, Saved, SavedTable, Stamp, save, save_ruleset};
pub use table::{Hook, Table};
pub use targets::Target;

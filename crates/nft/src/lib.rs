//! nf_tables over netlink: sockets, atomic transactions, tables, chains, rules, sets and maps,
//! expressions (native and iptables' xt compat), dumps and change events — with no `nft` or
//! `iptables` process.
//!
//! * [`Socket`] commits a [`Transaction`] as one batch: all of it is applied or none of it. With a
//!   generation guard ([`Socket::generation`]) a concurrent writer makes the kernel refuse it with
//!   [`Error::Restart`]; any refused message is reported as [`Error::Kernel`] naming its object.
//! * Dumps decode into the same types used to write ([`Table`], [`Chain`], [`Rule`], [`Set`],
//!   [`SetElem`]); [`Ruleset`] reads a consistent snapshot.
//! * [`Events`] yields typed changes with the committing process; an overrun is [`Event::Overrun`].
//!
//! Contract: decoding never panics on any input; what this crate does not model — an unknown
//! expression, an unknown attribute — is kept verbatim ([`expr::UnknownExpr`], [`RawAttr`]) and
//! written back unchanged.
//!
//! ```no_run
//! use natkeeper_nft::expr::{Cmp, Meta, MetaKey, Payload};
//! use natkeeper_nft::{Chain, Expr, Family, HookNum, Policy, Position, Rule, Socket, Table, Transaction, Verdict};
//!
//! # fn main() -> Result<(), natkeeper_nft::Error> {
//! let mut sock = Socket::open()?;
//! let mut txn = Transaction::new(Some(sock.generation()?));
//! txn.add_table(&Table::new(Family::Ip, "demo"));
//! txn.add_chain(&Chain::base(Family::Ip, "demo", "input", "filter", HookNum::Input, 0, Policy::Accept));
//! // tcp dport 22 accept
//! let rule = Rule::new(Family::Ip, "demo", "input")
//!     .with(Meta::load(MetaKey::L4Proto))
//!     .with(Cmp::eq([6u8]))
//!     .with(Payload::th_dport())
//!     .with(Cmp::eq(22u16.to_be_bytes()))
//!     .with(Expr::verdict(Verdict::Accept));
//! txn.add_rule(&rule, Position::Append);
//! sock.commit(txn)?; // one atomic batch
//! # Ok(())
//! # }
//! ```

mod attr;
mod chain;
mod data;
mod error;
mod event;
pub mod expr;
mod family;
mod generation;
mod proto;
mod rule;
mod ruleset;
mod set;
mod sock;
mod table;
mod txn;

pub use attr::RawAttr;
pub use chain::{Chain, ChainCounters, Hook, HookNum, NFT_CHAIN_BASE, Policy};
pub use data::{Data, Verdict};
pub use error::{DecodeError, DecodeErrorKind, Errno, Error, ObjectRef};
pub use event::{Event, Events, Notification, parse_notifications};
pub use expr::Expr;
pub use family::Family;
pub use generation::Generation;
pub use rule::{Compat, NFT_RULE_COMPAT_F_INV, Rule};
pub use ruleset::Ruleset;
pub use set::{
    ElemList, NFT_DATA_VERDICT, NFT_SET_ANONYMOUS, NFT_SET_CONCAT, NFT_SET_CONSTANT,
    NFT_SET_ELEM_INTERVAL_END, NFT_SET_EVAL, NFT_SET_INTERVAL, NFT_SET_MAP, NFT_SET_TIMEOUT, Set, SetDesc,
    SetElem, datatype,
};
pub use sock::Socket;
pub use table::Table;
pub use txn::{Position, Transaction};

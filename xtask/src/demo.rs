//! `cargo xtask demo`: natkeeper at work on a built-in example, in a network namespace of its own.
//!
//! For now (the nf_tables core): writes the design's own table — a DNAT map keyed on
//! (public address . protocol . port), its base chains — in one atomic transaction over netlink and
//! shows the result through `nft list ruleset`. The host's own namespace is never touched.

use std::fs::File;
use std::os::fd::AsFd;
use std::process::Command;

use anyhow::Context;
use natkeeper_nft::expr::{
    Cmp, Fib, Lookup, Meta, MetaKey, Nat, NatType, Payload, PayloadBase, RTN_LOCAL, Register,
};
use natkeeper_nft::{
    Chain, Data, Family, HookNum, Policy, Position, Rule, Set, SetElem, Socket, Table, Transaction, datatype,
};
use nix::sched::{CloneFlags, setns};

use crate::deps;

/// Runs the demo.
pub(crate) fn run(args: &[String]) -> anyhow::Result<()> {
    if let Some(a) = args.first() {
        anyhow::bail!("cargo xtask demo takes no arguments (got `{a}`)");
    }
    deps::ensure(&[("nft", "nftables"), ("ip", "iproute2")])?;
    let name = format!("natkeeper-demo-{}", std::process::id());
    deps::run(Command::new("ip").args(["netns", "add", &name]))?;
    let result = demo_in(&name);
    let _ = Command::new("ip").args(["netns", "del", &name]).status();
    result
}

fn demo_in(ns: &str) -> anyhow::Result<()> {
    let file = File::open(format!("/run/netns/{ns}")).context("open the demo namespace")?;
    println!("natkeeper demo: in network namespace {ns}");
    std::thread::scope(|s| {
        s.spawn(|| -> anyhow::Result<()> {
            setns(file.as_fd(), CloneFlags::CLONE_NEWNET).context("enter the demo namespace")?;
            let mut sock = Socket::open()?;
            let generation = sock.generation()?;
            let txn = forwards_table(generation);
            let messages = txn.len();
            sock.commit(txn)?;
            println!("committed {messages} messages in one transaction (generation {generation} guard)");
            Ok(())
        })
        .join()
        .map_err(|_| anyhow::anyhow!("demo thread panicked"))?
    })?;
    deps::run(Command::new("ip").args(["netns", "exec", ns, "nft", "list", "ruleset"]))
}

/// The article's poor man's forwards as the design's map: `:8080 → .42:80`, `:80 → .41:80`.
fn forwards_table(generation: u32) -> Transaction {
    let (f, t) = (Family::Ip, "natkeeper");
    let mut txn = Transaction::new(Some(generation));
    txn.add_table(&Table::new(f, t));
    txn.add_chain(&Chain::base(f, t, "dstnat", "nat", HookNum::Prerouting, -110, Policy::Accept));
    let key_type = datatype::concat(&[datatype::IPV4_ADDR, datatype::INET_PROTO, datatype::INET_SERVICE]);
    let data_type = datatype::concat(&[datatype::IPV4_ADDR, datatype::INET_SERVICE]);
    txn.add_set(&Set::new(f, t, "forwards", key_type, 12).map_to(data_type, 8));
    let elem = |port: u16, guest: u8, to: u16| {
        let key = [[192, 168, 1, 201], [6, 0, 0, 0], [0, 0, 0, 0]].concat();
        let mut key = key;
        key[8..10].copy_from_slice(&port.to_be_bytes());
        let mut val = vec![192, 168, 122, guest, 0, 0, 0, 0];
        val[4..6].copy_from_slice(&to.to_be_bytes());
        SetElem::mapping(key, Data::Value(val))
    };
    txn.add_elems(f, t, "forwards", &[elem(8080, 42, 80), elem(80, 41, 80)]);
    let rule = Rule::new(f, t, "dstnat")
        .with(Fib::daddr_type())
        .with(Cmp::eq(RTN_LOCAL.to_ne_bytes()))
        .with(Payload::ip_daddr())
        .with(Meta::Load { key: MetaKey::L4Proto, dreg: Register::reg32(1) })
        .with(Payload::load(PayloadBase::Transport, 2, 2, Register::reg32(2)))
        .with(Lookup::map("forwards", Register::R1, Register::R1))
        .with(Nat {
            nat_type: NatType::Dnat,
            family: Family::Ip,
            addr_min: Some(Register::R1),
            addr_max: Some(Register::R1),
            proto_min: Some(Register::reg32(1)),
            proto_max: Some(Register::reg32(1)),
            flags: Some(3),
        });
    txn.add_rule(&rule, Position::Append);
    txn
}

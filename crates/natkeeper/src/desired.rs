//! What natkeeper's own table must hold for a [`Resolved`] policy: chains, maps with their elements,
//! and the rules, each built exactly as the kernel dumps it back (so a second plan finds nothing to
//! do).
//!
//! ```text
//! table ip natkeeper {
//!   map forwards { type ipv4_addr . inet_proto . inet_service : ipv4_addr . inet_service; counter }
//!   map nat_in   { type ipv4_addr : ipv4_addr; counter }
//!   map nat_out  { type ipv4_addr : ipv4_addr; counter }
//!   chain dstnat { type nat hook prerouting priority -110
//!     ip daddr map @nat_in: ct mark set ct mark & 0xffff | 0x4e4b0000, dnat to the guest
//!     ip daddr . meta l4proto . th dport map @forwards: ct mark set ..., dnat to guest:port }
//!   chain output { type nat hook output priority -110; the same two rules }
//!   chain srcnat { type nat hook postrouting priority 90       (per network)
//!     ct mark ours, saddr and daddr in the subnet: masquerade         (hairpin)
//!     saddr in the subnet, daddr outside, ip saddr map @nat_out: snat (1:1 outbound)
//!     saddr in the subnet, daddr outside, oifname uplink: masquerade | snat (egress) }
//!   chain input { type filter hook input priority 0                 (only with [host])
//!     icmp echo-request longer than the limit: drop; over the rate: drop; other icmp: drop }
//! }
//! ```

use std::net::Ipv4Addr;

use ipnet::Ipv4Net;
use natkeeper_nft::expr::{
    Bitwise, Cmp, CmpOp, Ct, CtKey, Immediate, Limit, Lookup, Masq, Meta, MetaKey, NF_NAT_RANGE_MAP_IPS,
    NF_NAT_RANGE_PROTO_SPECIFIED, NFT_LIMIT_F_INV, Nat, NatType, Payload, PayloadBase, Register,
};
use natkeeper_nft::{
    Chain, Data, Expr, Family, HookNum, Policy as ChainPolicy, Rule, Set, SetElem, Table, Verdict, datatype,
};

use crate::config::{Egress, HostProtection};
use crate::names::*;
use crate::resolve::{ForwardElem, NatPair, Resolved, ResolvedNetwork};

const F: Family = Family::Ip;

/// The objects of natkeeper's own table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnTable {
    /// The table.
    pub table: Table,
    /// Its chains.
    pub chains: Vec<Chain>,
    /// Its maps with their elements.
    pub maps: Vec<(Set, Vec<SetElem>)>,
    /// The rules of each chain, in order.
    pub rules: Vec<Rule>,
}

/// Builds the table for `r`.
pub fn own_table(r: &Resolved) -> OwnTable {
    let chains = {
        let mut c = vec![
            Chain::base(F, TABLE, CHAIN_DSTNAT, "nat", HookNum::Prerouting, PRIO_DSTNAT, ChainPolicy::Accept),
            Chain::base(F, TABLE, CHAIN_OUTPUT, "nat", HookNum::Output, PRIO_DSTNAT, ChainPolicy::Accept),
            Chain::base(
                F,
                TABLE,
                CHAIN_SRCNAT,
                "nat",
                HookNum::Postrouting,
                PRIO_SRCNAT,
                ChainPolicy::Accept,
            ),
        ];
        if r.host.is_some() {
            c.push(Chain::base(
                F,
                TABLE,
                CHAIN_INPUT,
                "filter",
                HookNum::Input,
                PRIO_INPUT,
                ChainPolicy::Accept,
            ));
        }
        c
    };
    let maps = vec![
        (forwards_map(), r.forwards.iter().map(forward_elem).collect()),
        (addr_map(MAP_NAT_IN), r.nats.iter().map(|n| addr_elem(n.public, n.guest)).collect()),
        (addr_map(MAP_NAT_OUT), r.nats.iter().map(|n| addr_elem(n.guest, n.public)).collect()),
    ];
    let mut rules = Vec::new();
    for chain in [CHAIN_DSTNAT, CHAIN_OUTPUT] {
        rules.push(dnat_1to1(chain));
        rules.push(dnat_forwards(chain));
    }
    for n in &r.networks {
        rules.push(hairpin(n));
        rules.push(snat_1to1(n));
        if let Some(rule) = egress(n) {
            rules.push(rule);
        }
    }
    if let Some(h) = &r.host {
        rules.extend(host_protection(h));
    }
    OwnTable { table: Table::new(F, TABLE), chains, maps, rules }
}

fn counted(mut s: Set) -> Set {
    s.exprs = vec![Expr::Counter(Default::default())];
    s
}

/// `map forwards { type ipv4_addr . inet_proto . inet_service : ipv4_addr . inet_service; counter }`.
pub fn forwards_map() -> Set {
    let key = datatype::concat(&[datatype::IPV4_ADDR, datatype::INET_PROTO, datatype::INET_SERVICE]);
    let data = datatype::concat(&[datatype::IPV4_ADDR, datatype::INET_SERVICE]);
    counted(Set::new(F, TABLE, MAP_FORWARDS, key, 12).map_to(data, 8))
}

fn addr_map(name: &str) -> Set {
    counted(Set::new(F, TABLE, name, datatype::IPV4_ADDR, 4).map_to(datatype::IPV4_ADDR, 4))
}

/// The key of a forwards element: address, protocol and port, each padded to 4 bytes.
pub fn forward_key(public: Ipv4Addr, proto: u8, port: u16) -> Vec<u8> {
    let mut k = Vec::with_capacity(12);
    k.extend_from_slice(&public.octets());
    k.extend_from_slice(&[proto, 0, 0, 0]);
    k.extend_from_slice(&port.to_be_bytes());
    k.extend_from_slice(&[0, 0]);
    k
}

/// The forwards map element for `f`.
pub fn forward_elem(f: &ForwardElem) -> SetElem {
    let mut v = Vec::with_capacity(8);
    v.extend_from_slice(&f.guest.octets());
    v.extend_from_slice(&f.guest_port.to_be_bytes());
    v.extend_from_slice(&[0, 0]);
    SetElem::mapping(forward_key(f.public, f.proto.number(), f.port), Data::Value(v))
}

/// A 1:1 map element `from : to`.
pub fn addr_elem(from: Ipv4Addr, to: Ipv4Addr) -> SetElem {
    SetElem::mapping(from.octets().to_vec(), Data::Value(to.octets().to_vec()))
}

/// Decodes a forwards element back (for status and plan output); `None` if it is not one of ours.
pub fn parse_forward_elem(e: &SetElem) -> Option<(Ipv4Addr, u8, u16, Ipv4Addr, u16)> {
    let k = &e.key;
    let Some(Data::Value(v)) = &e.data else { return None };
    if k.len() != 12 || v.len() != 8 {
        return None;
    }
    Some((
        Ipv4Addr::new(k[0], k[1], k[2], k[3]),
        k[4],
        u16::from_be_bytes([k[8], k[9]]),
        Ipv4Addr::new(v[0], v[1], v[2], v[3]),
        u16::from_be_bytes([v[4], v[5]]),
    ))
}

/// Decodes a 1:1 map element (`from : to`).
pub fn parse_addr_elem(e: &SetElem) -> Option<(Ipv4Addr, Ipv4Addr)> {
    let Some(Data::Value(v)) = &e.data else { return None };
    let k: [u8; 4] = e.key.as_slice().try_into().ok()?;
    let v: [u8; 4] = v.as_slice().try_into().ok()?;
    Some((Ipv4Addr::from(k), Ipv4Addr::from(v)))
}

/// `ct mark set ct mark & ~MARK_MASK | MARK` through register 2 (register 1 holds the NAT target).
fn mark_ours() -> [Expr; 3] {
    [
        Expr::Ct(Ct::Load { key: CtKey::Mark, dreg: Register::R2, direction: None }),
        Expr::Bitwise(Bitwise {
            sreg: Register::R2,
            dreg: Register::R2,
            len: 4,
            op: natkeeper_nft::expr::BitwiseOp::Bool {
                mask: (!MARK_MASK).to_ne_bytes().to_vec(),
                xor: MARK.to_ne_bytes().to_vec(),
            },
        }),
        Expr::Ct(Ct::Store { key: CtKey::Mark, sreg: Register::R2, direction: None }),
    ]
}

/// `ct mark & MARK_MASK == MARK` (into register 1).
pub fn is_ours() -> [Expr; 3] {
    [
        Expr::Ct(Ct::load(CtKey::Mark)),
        Expr::Bitwise(Bitwise::mask(MARK_MASK.to_ne_bytes())),
        Expr::Cmp(Cmp::eq(MARK.to_ne_bytes())),
    ]
}

/// Looks register 1 up in `map`, the value into register 1 (flags 0 sent explicitly: the kernel
/// always dumps them).
fn map_lookup(map: &str) -> Lookup {
    Lookup { flags: Some(0), ..Lookup::map(map, Register::R1, Register::R1) }
}

fn rule(chain: &str) -> Rule {
    Rule::new(F, TABLE, chain)
}

/// `ct mark set ... dnat ip to ip daddr map @nat_in`.
fn dnat_1to1(chain: &str) -> Rule {
    let mut r = rule(chain).with(Payload::ip_daddr()).with(map_lookup(MAP_NAT_IN));
    r.exprs.extend(mark_ours());
    r.with(Nat {
        nat_type: NatType::Dnat,
        family: F,
        addr_min: Some(Register::R1),
        addr_max: Some(Register::R1),
        proto_min: None,
        proto_max: None,
        flags: Some(NF_NAT_RANGE_MAP_IPS),
    })
}

/// `ct mark set ... dnat ip to ip daddr . meta l4proto . th dport map @forwards`.
fn dnat_forwards(chain: &str) -> Rule {
    let port_reg = Register::reg32(1);
    let mut r = rule(chain)
        .with(Payload::ip_daddr())
        .with(Meta::Load { key: MetaKey::L4Proto, dreg: Register::reg32(1) })
        .with(Payload::load(PayloadBase::Transport, 2, 2, Register::reg32(2)))
        .with(map_lookup(MAP_FORWARDS));
    r.exprs.extend(mark_ours());
    r.with(Nat {
        nat_type: NatType::Dnat,
        family: F,
        addr_min: Some(Register::R1),
        addr_max: Some(Register::R1),
        proto_min: Some(port_reg),
        proto_max: Some(port_reg),
        flags: Some(NF_NAT_RANGE_MAP_IPS | NF_NAT_RANGE_PROTO_SPECIFIED),
    })
}

/// `ip saddr|daddr [!]= net` as iptables-nft and nft encode it: whole bytes when the prefix is
/// byte-aligned, otherwise with a mask.
fn match_net(offset: u32, net: Ipv4Net, op: CmpOp) -> Vec<Expr> {
    let bits = net.prefix_len();
    let octets = net.network().octets();
    if bits % 8 == 0 {
        let len = u32::from(bits / 8);
        vec![
            Expr::Payload(Payload::load(PayloadBase::Network, offset, len, Register::R1)),
            Expr::Cmp(Cmp { sreg: Register::R1, op, data: octets[..len as usize].to_vec() }),
        ]
    } else {
        vec![
            Expr::Payload(Payload::load(PayloadBase::Network, offset, 4, Register::R1)),
            Expr::Bitwise(Bitwise::mask(net.netmask().octets())),
            Expr::Cmp(Cmp { sreg: Register::R1, op, data: octets.to_vec() }),
        ]
    }
}

/// Hairpin: a guest reaching another guest (or itself) through a public address gets masqueraded,
/// so the answer comes back through the host.
fn hairpin(n: &ResolvedNetwork) -> Rule {
    let mut r = rule(CHAIN_SRCNAT);
    r.exprs.extend(is_ours());
    r.exprs.extend(match_net(12, n.subnet, CmpOp::Eq));
    r.exprs.extend(match_net(16, n.subnet, CmpOp::Eq));
    r.with(Masq::default())
}

/// 1:1 outbound: `ip saddr <net> ip daddr != <net> snat ip to ip saddr map @nat_out`.
fn snat_1to1(n: &ResolvedNetwork) -> Rule {
    let mut r = rule(CHAIN_SRCNAT);
    r.exprs.extend(match_net(12, n.subnet, CmpOp::Eq));
    r.exprs.extend(match_net(16, n.subnet, CmpOp::Neq));
    r.with(Payload::ip_saddr()).with(map_lookup(MAP_NAT_OUT)).with(snat_reg1())
}

fn snat_reg1() -> Nat {
    Nat {
        nat_type: NatType::Snat,
        family: F,
        addr_min: Some(Register::R1),
        addr_max: Some(Register::R1),
        proto_min: None,
        proto_max: None,
        flags: Some(NF_NAT_RANGE_MAP_IPS),
    }
}

/// `oifname` compared as nft writes it: the name NUL-padded to 16 bytes.
pub fn ifname_bytes(name: &str) -> Vec<u8> {
    let mut b = name.as_bytes().to_vec();
    b.resize(16, 0);
    b
}

/// Egress NAT of a network, unless libvirt keeps it (or none is wanted).
fn egress(n: &ResolvedNetwork) -> Option<Rule> {
    let uplink = n.uplink.as_ref()?;
    let mut r = rule(CHAIN_SRCNAT);
    r.exprs.extend(match_net(12, n.subnet, CmpOp::Eq));
    r.exprs.extend(match_net(16, n.subnet, CmpOp::Neq));
    r = r.with(Meta::load(MetaKey::OifName)).with(Cmp::eq(ifname_bytes(uplink)));
    match (n.egress, n.uplink_addr) {
        (Egress::Masquerade, _) => Some(r.with(Masq::default())),
        (Egress::Snat, Some(addr)) => {
            Some(r.with(Immediate::value(Register::R1, addr.octets())).with(snat_reg1()))
        }
        _ => None,
    }
}

/// Host protection on INPUT (drops are final, so they work from this table).
fn host_protection(h: &HostProtection) -> Vec<Rule> {
    let icmp_echo = || {
        rule(CHAIN_INPUT)
            .with(Meta::load(MetaKey::L4Proto))
            .with(Cmp::eq([1u8]))
            .with(Payload::load(PayloadBase::Transport, 0, 1, Register::R1))
            .with(Cmp::eq([8u8]))
    };
    let drop = Expr::verdict(Verdict::Drop);
    let mut rules = Vec::new();
    if let Some(max) = h.icmp_echo_max_size {
        // ip length > max (the IP total length, big-endian: compared byte-wise)
        rules.push(
            icmp_echo()
                .with(Payload::load(PayloadBase::Network, 2, 2, Register::R1))
                .with(Cmp { sreg: Register::R1, op: CmpOp::Gt, data: max.to_be_bytes().to_vec() })
                .with(drop.clone()),
        );
    }
    if let Some(rate) = h.icmp_echo_rate {
        rules.push(
            icmp_echo()
                .with(Limit { flags: NFT_LIMIT_F_INV, ..Limit::packets(rate.count, rate.unit_secs, 5) })
                .with(drop.clone()),
        );
    }
    if h.drop_other_icmp {
        // icmp type != echo-request, and not an error of a known connection
        rules.push(
            rule(CHAIN_INPUT)
                .with(Meta::load(MetaKey::L4Proto))
                .with(Cmp::eq([1u8]))
                .with(Payload::load(PayloadBase::Transport, 0, 1, Register::R1))
                .with(Cmp::neq([8u8]))
                .with(Ct::load(CtKey::State))
                .with(Bitwise::mask(6u32.to_ne_bytes()))
                .with(Cmp::eq(0u32.to_ne_bytes()))
                .with(drop),
        );
    }
    rules
}

/// The 1:1 pairs and forwards a policy yields, for plan output.
pub fn describe_forward(e: &SetElem) -> String {
    match parse_forward_elem(e) {
        Some((public, proto, port, guest, gport)) => {
            let p = match proto {
                6 => "tcp".to_string(),
                17 => "udp".to_string(),
                n => format!("proto {n}"),
            };
            format!("{p} {public}:{port} -> {guest}:{gport}")
        }
        None => format!("{e:?}"),
    }
}

/// Describes a 1:1 element of `map` for plan output.
pub fn describe_nat(map: &str, e: &SetElem) -> String {
    match (parse_addr_elem(e), map) {
        (Some((a, b)), MAP_NAT_IN) => NatPair { public: a, guest: b }.to_string() + " (in)",
        (Some((a, b)), _) => NatPair { public: b, guest: a }.to_string() + " (out)",
        (None, _) => format!("{e:?}"),
    }
}

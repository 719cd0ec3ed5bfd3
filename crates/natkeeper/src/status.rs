//! What natkeeper has in the kernel right now: each forward and 1:1 NAT with its live counters, and
//! each hole with whether it sits where it works.

use std::net::Ipv4Addr;

use natkeeper_nft::{Expr, Family, Ruleset, SetElem};
use serde::Serialize;

use crate::desired::{parse_addr_elem, parse_forward_elem};
use crate::holes::{Site, is_hole, rule_comment};
use crate::names::{MAP_FORWARDS, MAP_NAT_IN, MAP_NAT_OUT, TABLE};
use crate::sites::hole_sites;

/// Packets and bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counters {
    /// Packets (for NAT maps: connections, since only a connection's first packet is NATed).
    pub packets: u64,
    /// Bytes.
    pub bytes: u64,
}

/// The transport protocol of a forward in the kernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Proto {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
    /// Any other protocol number.
    #[serde(untagged)]
    Other(u8),
}

impl std::fmt::Display for Proto {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Proto::Tcp => f.write_str("tcp"),
            Proto::Udp => f.write_str("udp"),
            Proto::Other(n) => write!(f, "{n}"),
        }
    }
}

/// One forward as the kernel holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ForwardStatus {
    /// `tcp`, `udp`, or the protocol number of an element natkeeper did not write.
    pub proto: Proto,
    /// Public address.
    pub public: Ipv4Addr,
    /// Public port.
    pub port: u16,
    /// Guest address.
    pub guest: Ipv4Addr,
    /// Guest port.
    pub guest_port: u16,
    /// Connections forwarded (first packets) and their bytes.
    pub counters: Counters,
}

/// One 1:1 NAT as the kernel holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NatStatus {
    /// Public address.
    pub public: Ipv4Addr,
    /// Guest address.
    pub guest: Ipv4Addr,
    /// Inbound connections.
    pub inbound: Counters,
    /// Outbound connections.
    pub outbound: Counters,
}

/// One hole found in a chain natkeeper does not own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HoleStatus {
    /// `ip filter FORWARD` or `ip libvirt_network guest_input`.
    pub chain: String,
    /// The hole's comment.
    pub comment: String,
    /// Kernel handle.
    pub handle: u64,
    /// Position in its chain (1-based).
    pub position: usize,
    /// True when no rejecting rule comes before it.
    pub effective: bool,
    /// Packets it accepted.
    pub counters: Counters,
}

/// Everything natkeeper has in the kernel.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Status {
    /// Whether `table ip natkeeper` exists.
    pub table: bool,
    /// Forwards.
    pub forwards: Vec<ForwardStatus>,
    /// 1:1 NATs.
    pub nats: Vec<NatStatus>,
    /// Holes.
    pub holes: Vec<HoleStatus>,
    /// Chains where something rejects DNATed connections and natkeeper has no effective hole.
    pub unprotected: Vec<String>,
}

fn counters(e: &SetElem) -> Counters {
    e.exprs
        .iter()
        .find_map(|x| match x {
            Expr::Counter(c) => Some(Counters { packets: c.packets, bytes: c.bytes }),
            _ => None,
        })
        .unwrap_or_default()
}

fn elems<'a>(r: &'a Ruleset, map: &str) -> &'a [SetElem] {
    r.elems
        .iter()
        .find(|l| l.family == Family::Ip && l.table == TABLE && l.set == map)
        .map_or(&[], |l| l.elems.as_slice())
}

/// Reads natkeeper's state out of a ruleset snapshot.
pub fn status(r: &Ruleset) -> Status {
    let mut s = Status { table: r.table(Family::Ip, TABLE).is_some(), ..Status::default() };
    for e in elems(r, MAP_FORWARDS) {
        if let Some((public, proto, port, guest, guest_port)) = parse_forward_elem(e) {
            let proto = match proto {
                6 => Proto::Tcp,
                17 => Proto::Udp,
                n => Proto::Other(n),
            };
            s.forwards.push(ForwardStatus { proto, public, port, guest, guest_port, counters: counters(e) });
        }
    }
    s.forwards.sort_by_key(|f| (f.public, f.proto, f.port));
    let outbound = elems(r, MAP_NAT_OUT);
    for e in elems(r, MAP_NAT_IN) {
        if let Some((public, guest)) = parse_addr_elem(e) {
            let out = outbound
                .iter()
                .find(|o| parse_addr_elem(o) == Some((guest, public)))
                .map(counters)
                .unwrap_or_default();
            s.nats.push(NatStatus { public, guest, inbound: counters(e), outbound: out });
        }
    }
    s.nats.sort_by_key(|n| n.public);
    let sites = hole_sites(r);
    for site in [Site::IptablesForward, Site::LibvirtGuestInput] {
        let (table, chain) = site.chain();
        let rules: Vec<_> = r.chain_rules(Family::Ip, table, chain).collect();
        let info = sites.iter().find(|i| i.site == site);
        let blocking_at =
            info.and_then(|i| i.first_blocking).and_then(|h| rules.iter().position(|x| x.handle == Some(h)));
        let mut effective_any = false;
        for (i, rule) in rules.iter().enumerate() {
            if !is_hole(rule) {
                continue;
            }
            let effective = blocking_at.is_none_or(|b| i < b);
            effective_any |= effective;
            let counters = rule
                .exprs
                .iter()
                .find_map(|x| match x {
                    Expr::Counter(c) => Some(Counters { packets: c.packets, bytes: c.bytes }),
                    _ => None,
                })
                .unwrap_or_default();
            s.holes.push(HoleStatus {
                chain: site.to_string(),
                comment: rule_comment(rule).unwrap_or_default(),
                handle: rule.handle.unwrap_or(0),
                position: i + 1,
                effective,
                counters,
            });
        }
        if info.is_some() && !effective_any {
            s.unprotected.push(site.to_string());
        }
    }
    s
}

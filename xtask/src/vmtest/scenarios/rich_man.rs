//! `rich-man`: the article's rich man's setup: 1:1 NAT of `eth0:0` (192.168.1.211) to .41 and
//! `eth0:1` (192.168.1.212) to .42, both directions. Any port of an extra address reaches its guest;
//! each guest's outbound connections come from its own public address; a guest address that is not
//! mapped still leaves through libvirt's masquerade as 192.168.1.201.

use std::net::{Ipv4Addr, SocketAddrV4};

use anyhow::Result;

use super::Session;
use super::checks::{Forward, fwd};
use crate::vmtest::lab::{G41, G42, HOST, PUBLIC_0, PUBLIC_1};

/// An extra address of guest .42 that no `[[nat]]` maps.
const UNMAPPED: Ipv4Addr = Ipv4Addr::new(192, 168, 122, 43);

/// What vm-tests/scenarios/rich-man.toml maps, probed on several ports (1:1 keeps the port).
const INBOUND: [Forward; 6] = [
    fwd(PUBLIC_0, 80, G41, 80),
    fwd(PUBLIC_0, 443, G41, 443),
    fwd(PUBLIC_0, 8080, G41, 8080),
    fwd(PUBLIC_1, 80, G42, 80),
    fwd(PUBLIC_1, 25, G42, 25),
    fwd(PUBLIC_1, 143, G42, 143),
];

/// Runs the scenario.
pub(super) fn run(s: &mut Session<'_>) -> Result<()> {
    s.refused("before apply", &[SocketAddrV4::new(PUBLIC_0, 80), SocketAddrV4::new(PUBLIC_1, 80)]);
    s.apply("");
    s.forwards("after apply (1:1 NAT in)", &INBOUND);
    s.refused("(the main address forwards nothing)", &[SocketAddrV4::new(HOST, 80)]);
    s.egress(G41, None, PUBLIC_0, "1:1 NAT out via eth0:0");
    s.egress(G42, None, PUBLIC_1, "1:1 NAT out via eth0:1");
    s.egress(G42, Some(UNMAPPED), HOST, "unmapped address: libvirt's masquerade");
    Ok(())
}

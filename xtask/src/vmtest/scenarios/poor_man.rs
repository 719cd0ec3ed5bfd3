//! `poor-man`: the article's poor man's setup on libvirt's iptables backend. One public address,
//! port forwards to two guests: `:80,:443 → .41`, `:25,:110,:143 → .42`, `:8080 → .42:80`,
//! `:8443 → .42:443`. Refused before `apply`, working after, other ports still refused, the guests'
//! egress untouched (libvirt's masquerade), a second `apply` changes nothing, `iptables-save` works.

use std::net::SocketAddrV4;

use anyhow::Result;

use super::Session;
use super::checks::{Forward, fwd};
use crate::vmtest::lab::{G41, G42, HOST};

/// What vm-tests/scenarios/poor-man.toml forwards.
const FORWARDS: [Forward; 7] = [
    fwd(HOST, 80, G41, 80),
    fwd(HOST, 443, G41, 443),
    fwd(HOST, 25, G42, 25),
    fwd(HOST, 110, G42, 110),
    fwd(HOST, 143, G42, 143),
    fwd(HOST, 8080, G42, 80),
    fwd(HOST, 8443, G42, 443),
];
/// Ports it does not forward.
const NOT_FORWARDED: [SocketAddrV4; 2] = [SocketAddrV4::new(HOST, 22), SocketAddrV4::new(HOST, 8081)];

/// Runs the scenario.
pub(super) fn run(s: &mut Session<'_>) -> Result<()> {
    s.refused("before apply", &FORWARDS.map(|f| f.public));
    s.apply("");
    s.forwards("after apply", &FORWARDS);
    s.refused("(not forwarded)", &NOT_FORWARDED);
    s.egress(G41, None, HOST, "libvirt's masquerade, egress = \"libvirt\"");
    s.egress(G42, None, HOST, "libvirt's masquerade, egress = \"libvirt\"");
    s.apply_again_changes_nothing();
    s.iptables_save_shows_hole();
    Ok(())
}

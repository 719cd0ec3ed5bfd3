//! The article's lab, rebuilt in namespaces: a KVM host with libvirt's `virbr0` and two guests, and a
//! laptop on the LAN outside.
//!
//! ```text
//!  outside (192.168.1.5/24) ── veth ── host eth0 192.168.1.201/24
//!                                            + 192.168.1.211/24 label eth0:0
//!                                            + 192.168.1.212/24 label eth0:1
//!                                       host virbr0 192.168.122.1/24 (bridge)
//!                                            ├─ vnet0 ── guest 192.168.122.41
//!                                            └─ vnet1 ── guest 192.168.122.42
//! ```
//! The host's default route points at 192.168.1.1 on `eth0`; `ip_forward` is on (libvirt turns it on).

use std::net::Ipv4Addr;

use crate::netns::Netns;

/// The outside client's address.
pub const CLIENT: Ipv4Addr = Ipv4Addr::new(192, 168, 1, 5);
/// The host's primary public address on `eth0`.
pub const HOST_PUBLIC: Ipv4Addr = Ipv4Addr::new(192, 168, 1, 201);
/// The address of `eth0:0`.
pub const EXTRA_0: Ipv4Addr = Ipv4Addr::new(192, 168, 1, 211);
/// The address of `eth0:1`.
pub const EXTRA_1: Ipv4Addr = Ipv4Addr::new(192, 168, 1, 212);
/// The host's address on `virbr0`.
pub const BRIDGE_ADDR: Ipv4Addr = Ipv4Addr::new(192, 168, 122, 1);

/// One guest: its namespace, its address on the bridge, and the host-side port name.
#[derive(Debug)]
pub struct Guest {
    /// The guest's namespace (its own network stack).
    pub ns: Netns,
    /// The guest's address on `virbr0`'s subnet.
    pub addr: Ipv4Addr,
    /// The bridge port on the host (`vnet0`, `vnet1`, ...).
    pub port: String,
}

/// The article's lab; every namespace is deleted when it is dropped.
#[derive(Debug)]
pub struct Lab {
    /// The KVM host.
    pub host: Netns,
    /// The laptop on the LAN.
    pub outside: Netns,
    /// Guests `.41` and `.42`.
    pub guests: Vec<Guest>,
}

impl Lab {
    /// Builds the lab with guests `.41` and `.42`.
    pub fn article() -> Lab {
        Lab::with_guests(&[41, 42])
    }

    /// Builds the lab with guests at `192.168.122.<n>` for each `n`.
    pub fn with_guests(last_octets: &[u8]) -> Lab {
        let host = Netns::new("host");
        let outside = Netns::new("out");
        host.ip(&["link", "add", "virbr0", "type", "bridge", "stp_state", "0", "forward_delay", "0"]);
        host.ip(&["addr", "add", "192.168.122.1/24", "brd", "192.168.122.255", "dev", "virbr0"]);
        host.ip(&["link", "set", "virbr0", "up"]);

        host.ip(&["link", "add", "eth0", "type", "veth", "peer", "name", "eth0", "netns", outside.name()]);
        host.ip(&["addr", "add", "192.168.1.201/24", "brd", "192.168.1.255", "dev", "eth0"]);
        host.ip(&[
            "addr",
            "add",
            "192.168.1.211/24",
            "brd",
            "192.168.1.255",
            "dev",
            "eth0",
            "label",
            "eth0:0",
        ]);
        host.ip(&[
            "addr",
            "add",
            "192.168.1.212/24",
            "brd",
            "192.168.1.255",
            "dev",
            "eth0",
            "label",
            "eth0:1",
        ]);
        host.ip(&["link", "set", "eth0", "up"]);
        host.ip(&["route", "add", "default", "via", "192.168.1.1", "dev", "eth0"]);
        host.sysctl("net.ipv4.ip_forward", "1");
        outside.ip(&["addr", "add", "192.168.1.5/24", "dev", "eth0"]);
        outside.ip(&["link", "set", "eth0", "up"]);

        let guests = last_octets
            .iter()
            .enumerate()
            .map(|(i, &n)| {
                let ns = Netns::new(&format!("g{n}"));
                let port = format!("vnet{i}");
                host.ip(&["link", "add", &port, "type", "veth", "peer", "name", "eth0", "netns", ns.name()]);
                host.ip(&["link", "set", &port, "master", "virbr0", "up"]);
                let addr = Ipv4Addr::new(192, 168, 122, n);
                ns.ip(&["addr", "add", &format!("{addr}/24"), "dev", "eth0"]);
                ns.ip(&["link", "set", "eth0", "up"]);
                ns.ip(&["route", "add", "default", "via", "192.168.122.1"]);
                Guest { ns, addr, port }
            })
            .collect();
        Lab { host, outside, guests }
    }

    /// The guest with address `192.168.122.<n>`.
    pub fn guest(&self, n: u8) -> &Guest {
        self.guests
            .iter()
            .find(|g| g.addr.octets()[3] == n)
            .unwrap_or_else(|| panic!("no guest .{n} in this lab"))
    }
}

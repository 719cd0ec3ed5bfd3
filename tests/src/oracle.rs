//! An independent read-back oracle for the forwards map.
//!
//! [`expected_forwards`] expands a configuration's `[[forward]]` entries into the map elements the
//! README promises — from the TOML text (read with the `toml` crate, not natkeeper's parser) and the
//! host's addresses as `ip -j addr` reports them — with none of natkeeper's own resolving or
//! planning code. [`kernel_forwards`] reads the map back with `nft -j`. A test asserts the two are
//! equal after every apply.

use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;
use std::time::Duration;

use serde_json::Value;

use crate::netns::Netns;

/// One element of `map forwards`: `public . proto . port : guest . guest_port`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Element {
    /// The public address.
    pub public: Ipv4Addr,
    /// `"tcp"` or `"udp"`.
    pub proto: &'static str,
    /// The public port.
    pub port: u16,
    /// The guest's address.
    pub guest: Ipv4Addr,
    /// The guest's port.
    pub guest_port: u16,
}

impl std::fmt::Display for Element {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}:{} -> {}:{}", self.proto, self.public, self.port, self.guest, self.guest_port)
    }
}

/// The host's IPv4 addresses, read with `ip -j addr show` and `ip -j route show default`.
#[derive(Debug, Clone)]
pub struct Addresses {
    /// Each interface's addresses, in the order `ip` lists them.
    by_interface: BTreeMap<String, Vec<Ipv4Addr>>,
    /// Address labels (`eth0:0`) and their address.
    by_label: BTreeMap<String, Ipv4Addr>,
    /// The interface of the default route.
    default_dev: Option<String>,
}

impl Addresses {
    /// Reads them in `ns`.
    pub fn read(ns: &Netns) -> Addresses {
        let links: Value = serde_json::from_str(&ns.exec_ok("ip", &["-j", "-4", "addr", "show"])).unwrap();
        let mut by_interface = BTreeMap::new();
        let mut by_label = BTreeMap::new();
        for link in links.as_array().unwrap() {
            let name = link["ifname"].as_str().unwrap().to_string();
            let mut addrs = Vec::new();
            for a in link["addr_info"].as_array().into_iter().flatten() {
                let addr: Ipv4Addr = a["local"].as_str().unwrap().parse().unwrap();
                if let Some(label) = a["label"].as_str().filter(|l| l.contains(':')) {
                    by_label.insert(label.to_string(), addr);
                }
                addrs.push(addr);
            }
            by_interface.insert(name, addrs);
        }
        let routes: Value =
            serde_json::from_str(&ns.exec_ok("ip", &["-j", "-4", "route", "show", "default"])).unwrap();
        let default_dev =
            routes.as_array().unwrap().first().and_then(|r| r["dev"].as_str()).map(str::to_string);
        Addresses { by_interface, by_label, default_dev }
    }

    fn listen(&self, on: &str) -> Vec<Ipv4Addr> {
        if let Ok(a) = on.parse() {
            vec![a]
        } else if on.contains(':') {
            vec![self.by_label[on]]
        } else {
            self.by_interface[on].clone()
        }
    }
}

fn strings(v: Option<&toml::Value>) -> Vec<String> {
    match v {
        None => Vec::new(),
        Some(toml::Value::String(s)) => vec![s.clone()],
        Some(toml::Value::Array(a)) => a.iter().map(|s| s.as_str().unwrap().to_string()).collect(),
        Some(other) => panic!("not a string or a list of strings: {other}"),
    }
}

/// `8080`, `"8000-8099"` or a list of them, as inclusive ranges.
fn ports(v: &toml::Value) -> Vec<(u16, u16)> {
    match v {
        toml::Value::Integer(p) => vec![(*p as u16, *p as u16)],
        toml::Value::String(s) => vec![range(s)],
        toml::Value::Array(a) => a.iter().flat_map(ports).collect(),
        other => panic!("not a port: {other}"),
    }
}

fn range(s: &str) -> (u16, u16) {
    match s.split_once('-') {
        Some((a, b)) => (a.parse().unwrap(), b.parse().unwrap()),
        None => (s.parse().unwrap(), s.parse().unwrap()),
    }
}

/// The forwards map the README promises for the configuration `text` on a host with `addrs`:
/// every public address it listens on (`on`: addresses, labels or interfaces; by default the
/// uplink's addresses but those of a 1:1 NAT) × every protocol (default tcp) × every port, to the
/// guest port (the same, the one port given, or the same offset into the guest's range).
pub fn expected_forwards(text: &str, addrs: &Addresses) -> BTreeSet<Element> {
    let doc: toml::Table = text.parse().unwrap();
    let array = |key: &str| doc.get(key).and_then(toml::Value::as_array).cloned().unwrap_or_default();
    let nat_publics: BTreeSet<Ipv4Addr> =
        array("nat").iter().flat_map(|n| addrs.listen(n["public"].as_str().unwrap())).collect();
    let uplink = array("network")
        .iter()
        .find_map(|n| n.get("uplink").and_then(toml::Value::as_str).map(str::to_string))
        .or_else(|| addrs.default_dev.clone());
    let mut out = BTreeSet::new();
    for f in array("forward") {
        let mut protos = strings(f.get("proto"));
        if protos.is_empty() {
            protos.push("tcp".into());
        }
        let (guest, to_ports) = match f["to"].as_str().unwrap().split_once(':') {
            Some((g, p)) => (g.parse().unwrap(), Some(range(p))),
            None => (f["to"].as_str().unwrap().parse().unwrap(), None),
        };
        let on = strings(f.get("on"));
        let publics: Vec<Ipv4Addr> = if on.is_empty() {
            let dev = uplink.as_deref().expect("a default route");
            addrs.by_interface[dev].iter().copied().filter(|a| !nat_publics.contains(a)).collect()
        } else {
            on.iter().flat_map(|o| addrs.listen(o)).collect()
        };
        let public_ports: Vec<u16> = ports(&f["port"]).into_iter().flat_map(|(a, b)| a..=b).collect();
        for public in &publics {
            for proto in &protos {
                let proto = if proto == "udp" { "udp" } else { "tcp" };
                for (i, &port) in public_ports.iter().enumerate() {
                    let guest_port = match to_ports {
                        None => port,
                        Some((a, b)) if a == b => a,
                        Some((a, _)) => a + i as u16,
                    };
                    out.insert(Element { public: *public, proto, port, guest, guest_port });
                }
            }
        }
    }
    out
}

/// The elements of `ip natkeeper`'s forwards map, as `nft -j list map` prints them (empty when
/// there is no such map). `nft` dumps the map over several messages like everyone else, so a
/// listing with a repeated element is not a listing of the map: it is read again.
pub fn kernel_forwards(ns: &Netns) -> BTreeSet<Element> {
    for _ in 0..50 {
        let out = ns.exec("nft", &["-j", "list", "map", "ip", "natkeeper", "forwards"]);
        if !out.status.success() {
            return BTreeSet::new();
        }
        let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
        let map = doc["nftables"].as_array().unwrap().iter().find_map(|o| o.get("map")).unwrap();
        let elems = map.get("elem").and_then(Value::as_array).cloned().unwrap_or_default();
        let set: BTreeSet<Element> = elems.iter().map(element).collect();
        if set.len() == elems.len() {
            return set;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    panic!("nft kept listing repeated elements of the forwards map");
}

fn element(e: &Value) -> Element {
    let key = e[0]["elem"]["val"]["concat"].as_array().unwrap();
    let data = e[1]["concat"].as_array().unwrap();
    let addr = |v: &Value| -> Ipv4Addr { v.as_str().unwrap().parse().unwrap() };
    let port = |v: &Value| v.as_u64().unwrap() as u16;
    let proto = match key[1].as_str().unwrap() {
        "tcp" => "tcp",
        "udp" => "udp",
        other => panic!("protocol {other} in the forwards map"),
    };
    Element {
        public: addr(&key[0]),
        proto,
        port: port(&key[2]),
        guest: addr(&data[0]),
        guest_port: port(&data[1]),
    }
}

/// `Err` listing the differences unless the kernel's forwards map in `ns` is exactly what the
/// configuration `text` promises there (on the addresses [`Addresses::read`] finds in `ns`).
pub fn check_forwards(ns: &Netns, text: &str) -> Result<(), String> {
    let want = expected_forwards(text, &Addresses::read(ns));
    let have = kernel_forwards(ns);
    if want == have {
        return Ok(());
    }
    let missing = want.difference(&have).map(|e| format!("  - missing {e}"));
    let extra = have.difference(&want).map(|e| format!("  + extra   {e}"));
    Err(format!(
        "the kernel's forwards map differs from the configuration ({} wanted, {} held):\n{}",
        want.len(),
        have.len(),
        missing.chain(extra).collect::<Vec<_>>().join("\n")
    ))
}

/// [`check_forwards`], panicking with the differences and the configuration.
pub fn assert_forwards_match(ns: &Netns, text: &str) {
    if let Err(e) = check_forwards(ns, text) {
        panic!("{e}\nconfiguration:\n{text}");
    }
}

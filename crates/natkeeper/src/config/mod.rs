//! The configuration file (`/etc/natkeeper/natkeeper.toml`): what the administrator wants, parsed
//! into typed values and checked on its own. Checks that need the host (does `eth0:0` exist, is the
//! guest inside the bridge's subnet) happen when the policy is resolved against a discovery
//! snapshot ([`crate::resolve`]).
//!
//! ```toml
//! [[network]]
//! name = "default"
//! bridge = "virbr0"          # its subnet is discovered (or: subnet = "192.168.122.0/24")
//! uplink = "eth0"            # optional; default: the interface of the default route
//! egress = "libvirt"         # libvirt | masquerade | snat | none
//!
//! [[forward]]
//! proto = "tcp"              # tcp | udp | ["tcp", "udp"]   (default tcp)
//! port = 8080                # 8080 | "8000-8099" | [25, 110, 143]
//! to = "192.168.122.42:80"   # guest address, optional port (a range maps onto a range)
//! # on = "192.168.1.201"     # addresses, labels (eth0:1) or an interface; default: the uplink's addresses
//!
//! [[nat]]
//! public = "eth0:0"          # an address label, or a literal address
//! guest = "192.168.122.41"
//!
//! [host]
//! icmp_echo_rate = "1/second"
//! icmp_echo_max_size = 84
//! drop_other_icmp = true
//! ```
//!
//! The file is read by natkeeper's own parser for the part of TOML it is written in (`tomlish`,
//! then `raw` for the keys and types of each table), with no document tree: parsing takes memory
//! in proportion to the resulting [`Policy`]. It takes what `toml` and serde took, into the same
//! policies and entry errors (`tests/config_differential` checks it against them), says what is
//! wrong with the rest as they did (`TOML parse error at line L, column C: …`), and refuses by name
//! what the schema never uses: floats, dates, inline tables, dotted keys, sub-tables, nested arrays.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::io::Read as _;
use std::net::Ipv4Addr;
use std::path::Path;
use std::str::FromStr;

use ipnet::Ipv4Net;

use raw::{Entry, OneOrMany, RawForward, RawHost, RawNat, RawNetwork, RawPort};

mod raw;
mod tomlish;

/// The biggest configuration file natkeeper reads (a guard against reading a wrong, huge file).
pub const MAX_CONFIG_BYTES: u64 = 16 * 1024 * 1024;

/// A configuration that cannot be used, naming the offending entry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// The file cannot be read.
    #[error("cannot read {path}: {reason}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// The TOML does not parse, or has unknown keys or wrong types.
    #[error("{0}")]
    Syntax(String),
    /// One entry is invalid.
    #[error("{entry}: {reason}")]
    Entry {
        /// The entry, e.g. `forward #3 (port 8080)`.
        entry: String,
        /// What is wrong.
        reason: String,
    },
}

impl ConfigError {
    fn entry(entry: impl Into<String>, reason: impl Into<String>) -> ConfigError {
        ConfigError::Entry { entry: entry.into(), reason: reason.into() }
    }
}

/// The whole policy.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Policy {
    /// Guest networks (bridges).
    pub networks: Vec<Network>,
    /// Port forwards (the article's "poor man's setup").
    pub forwards: Vec<Forward>,
    /// 1:1 NAT of extra public addresses (the "rich man's setup").
    pub nats: Vec<OneToOne>,
    /// Host protection on INPUT, when configured.
    pub host: Option<HostProtection>,
}

/// A guests' bridge and how its traffic leaves the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Network {
    /// Name (for messages; libvirt's network name by convention).
    pub name: String,
    /// The bridge (`virbr0`).
    pub bridge: String,
    /// The guests' subnet; discovered from the bridge's address when absent.
    pub subnet: Option<Ipv4Net>,
    /// The uplink; the default route's interface when absent.
    pub uplink: Option<String>,
    /// Egress NAT.
    pub egress: Egress,
}

/// Who NATs the guests' outbound traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Egress {
    /// Leave it to libvirt's own MASQUERADE.
    Libvirt,
    /// natkeeper masquerades (source = the uplink's address at the time of each connection).
    Masquerade,
    /// natkeeper SNATs to the uplink's primary address (cheaper; follows address changes under `watch`).
    Snat,
    /// No egress NAT at all.
    None,
}

/// A transport protocol a forward applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Proto {
    /// TCP (6).
    Tcp,
    /// UDP (17).
    Udp,
}

impl Proto {
    /// The IP protocol number.
    pub fn number(self) -> u8 {
        match self {
            Proto::Tcp => 6,
            Proto::Udp => 17,
        }
    }
}

impl fmt::Display for Proto {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
        })
    }
}

/// An inclusive port range (a single port is `first == last`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PortRange {
    /// First port.
    pub first: u16,
    /// Last port.
    pub last: u16,
}

impl PortRange {
    /// Number of ports.
    pub fn len(&self) -> u32 {
        u32::from(self.last) - u32::from(self.first) + 1
    }

    /// Never true (a range holds at least one port); for clippy's `len` convention.
    pub fn is_empty(&self) -> bool {
        false
    }
}

impl fmt::Display for PortRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.first == self.last {
            write!(f, "{}", self.first)
        } else {
            write!(f, "{}-{}", self.first, self.last)
        }
    }
}

impl FromStr for PortRange {
    type Err = String;
    fn from_str(s: &str) -> Result<PortRange, String> {
        let port = |p: &str| -> Result<u16, String> {
            match p.trim().parse::<u32>() {
                Ok(0) => Err("port 0 is not a port".into()),
                Ok(n) if n <= 65535 => Ok(n as u16),
                Ok(n) => Err(format!("port {n} is out of range (1-65535)")),
                Err(_) => Err(format!("`{p}` is not a port number")),
            }
        };
        let (first, last) = match s.split_once('-') {
            Some((a, b)) => (port(a)?, port(b)?),
            None => (port(s)?, port(s)?),
        };
        if first > last {
            return Err(format!("port range {first}-{last} is backwards"));
        }
        Ok(PortRange { first, last })
    }
}

/// Where a forward listens.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Listen {
    /// A literal address.
    Addr(Ipv4Addr),
    /// An address label such as `eth0:1`.
    Label(String),
    /// Every address of an interface.
    Interface(String),
}

impl Listen {
    fn parse(s: &str) -> Listen {
        if let Ok(a) = s.parse() {
            Listen::Addr(a)
        } else if s.contains(':') {
            Listen::Label(s.to_string())
        } else {
            Listen::Interface(s.to_string())
        }
    }
}

impl fmt::Display for Listen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Listen::Addr(a) => write!(f, "{a}"),
            Listen::Label(l) | Listen::Interface(l) => f.write_str(l),
        }
    }
}

/// One `[[forward]]`: public ports to a guest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forward {
    /// Position in the file (1-based), for messages.
    pub index: usize,
    /// Protocols.
    pub protos: Vec<Proto>,
    /// Public ports: single ports and ranges.
    pub ports: Vec<PortRange>,
    /// The guest.
    pub to: Ipv4Addr,
    /// The guest's ports; `None` keeps the public port.
    pub to_ports: Option<PortRange>,
    /// Where it listens; empty means the uplink's addresses.
    pub on: Vec<Listen>,
}

impl Forward {
    /// How messages name this entry: `forward #2 (tcp 8080 -> 192.168.122.42:80)`.
    pub fn label(&self) -> String {
        let protos: Vec<String> = self.protos.iter().map(ToString::to_string).collect();
        let ports: Vec<String> = self.ports.iter().map(ToString::to_string).collect();
        let to = match self.to_ports {
            Some(p) => format!("{}:{p}", self.to),
            None => self.to.to_string(),
        };
        format!("forward #{} ({} {} -> {to})", self.index, protos.join("/"), ports.join(","))
    }

    /// Every (proto, public port, guest port) this forward maps.
    pub fn mappings(&self) -> impl Iterator<Item = (Proto, u16, u16)> + '_ {
        self.protos.iter().flat_map(move |&proto| {
            self.ports.iter().flat_map(move |r| {
                (r.first..=r.last).map(move |p| {
                    let to = match self.to_ports {
                        Some(t) if t.first == t.last => t.first,
                        Some(t) => t.first + (p - r.first),
                        None => p,
                    };
                    (proto, p, to)
                })
            })
        })
    }
}

/// Where a 1:1 NAT's public address comes from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Public {
    /// A literal address.
    Addr(Ipv4Addr),
    /// An address label (`eth0:0`), resolved on the host.
    Label(String),
}

impl fmt::Display for Public {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Public::Addr(a) => write!(f, "{a}"),
            Public::Label(l) => f.write_str(l),
        }
    }
}

/// One `[[nat]]`: a public address mapped whole onto one guest, both directions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OneToOne {
    /// Position in the file (1-based).
    pub index: usize,
    /// The public address.
    pub public: Public,
    /// The guest.
    pub guest: Ipv4Addr,
}

impl OneToOne {
    /// How messages name this entry: `nat #1 (eth0:0 <-> 192.168.122.41)`.
    pub fn label(&self) -> String {
        format!("nat #{} ({} <-> {})", self.index, self.public, self.guest)
    }
}

/// `[host]`: protection of the host itself (INPUT).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HostProtection {
    /// Rate above which ICMP echo requests are dropped.
    pub icmp_echo_rate: Option<Rate>,
    /// Largest ICMP echo request (IP length, bytes) accepted; larger ones are dropped.
    pub icmp_echo_max_size: Option<u16>,
    /// Drop ICMP other than echo requests and errors of known connections.
    pub drop_other_icmp: bool,
}

/// A rate: `count` per `unit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    /// Packets per unit.
    pub count: u64,
    /// Unit length in seconds (1, 60, 3600, 86400).
    pub unit_secs: u64,
}

impl FromStr for Rate {
    type Err = String;
    fn from_str(s: &str) -> Result<Rate, String> {
        let (n, unit) =
            s.split_once('/').ok_or_else(|| format!("rate `{s}` is not COUNT/UNIT (e.g. 1/second)"))?;
        let count: u64 = n.trim().parse().map_err(|_| format!("`{n}` is not a count"))?;
        if count == 0 {
            return Err("a rate of 0 drops everything; use drop_other_icmp instead".into());
        }
        let unit_secs = match unit.trim() {
            "s" | "sec" | "second" => 1,
            "m" | "min" | "minute" => 60,
            "h" | "hour" => 3600,
            "d" | "day" => 86400,
            u => return Err(format!("unknown rate unit `{u}` (second, minute, hour, day)")),
        };
        Ok(Rate { count, unit_secs })
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let unit = match self.unit_secs {
            1 => "second",
            60 => "minute",
            3600 => "hour",
            _ => "day",
        };
        write!(f, "{}/{unit}", self.count)
    }
}

impl Policy {
    /// Reads and checks a configuration file.
    pub fn load(path: &Path) -> Result<Policy, ConfigError> {
        let read_err = |reason: String| ConfigError::Read { path: path.display().to_string(), reason };
        let meta = std::fs::metadata(path).map_err(|e| read_err(e.to_string()))?;
        if meta.len() > MAX_CONFIG_BYTES {
            return Err(read_err(format!(
                "{} bytes is larger than the {MAX_CONFIG_BYTES}-byte limit",
                meta.len()
            )));
        }
        // A device or a FIFO has no size to check beforehand: never read more than the limit.
        let file = std::fs::File::open(path).map_err(|e| read_err(e.to_string()))?;
        // Sized for a regular file, so the text is read without reallocating.
        let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).map_or(0, |n| n.saturating_add(1)));
        file.take(MAX_CONFIG_BYTES + 1).read_to_end(&mut bytes).map_err(|e| read_err(e.to_string()))?;
        if bytes.len() as u64 > MAX_CONFIG_BYTES {
            return Err(read_err(format!("it is larger than the {MAX_CONFIG_BYTES}-byte limit")));
        }
        let text = String::from_utf8(bytes)
            .map_err(|e| read_err(format!("not UTF-8 (byte {})", e.utf8_error().valid_up_to())))?;
        Policy::parse(&text)
    }

    /// Parses and checks a configuration text.
    ///
    /// The text is read table by table and each entry is checked as soon as its table ends, so
    /// nothing but the result is kept. A syntax or schema error anywhere in the file
    /// ([`ConfigError::Syntax`]) is reported before any invalid entry; of invalid entries, the
    /// first network's is reported, then the first forward's, then the first 1:1 NAT's, then
    /// `[host]`'s.
    pub fn parse(text: &str) -> Result<Policy, ConfigError> {
        let mut checks = Checks::default();
        raw::read(text, |entry| checks.add(entry))?;
        checks.finish()
    }
}

/// The policy as its entries arrive, and the first invalid entry of each kind.
#[derive(Default)]
struct Checks {
    policy: Policy,
    /// Entries of each kind seen: networks, forwards, 1:1 NATs.
    seen: [usize; 3],
    network: Option<ConfigError>,
    forward: Option<ConfigError>,
    nat: Option<ConfigError>,
    host: Option<ConfigError>,
}

impl Checks {
    fn add(&mut self, entry: Entry<'_>) {
        /// Keeps a checked entry, or its error (the first of its kind: later ones go unchecked).
        fn check<T>(first: &mut Option<ConfigError>, list: &mut Vec<T>, entry: Result<T, ConfigError>) {
            match entry {
                Ok(t) => list.push(t),
                Err(e) => *first = Some(e),
            }
        }
        let [networks, forwards, nats] = &mut self.seen;
        match entry {
            Entry::Network(n) => {
                *networks += 1;
                if self.network.is_none() {
                    check(&mut self.network, &mut self.policy.networks, network(*networks, n));
                }
            }
            Entry::Forward(f) => {
                *forwards += 1;
                if self.forward.is_none() {
                    check(&mut self.forward, &mut self.policy.forwards, forward(*forwards, f));
                }
            }
            Entry::Nat(n) => {
                *nats += 1;
                if self.nat.is_none() {
                    check(&mut self.nat, &mut self.policy.nats, nat(*nats, n));
                }
            }
            Entry::Host(h) => match host(h) {
                Ok(h) => self.policy.host = Some(h),
                Err(e) => self.host = Some(e),
            },
        }
    }

    fn finish(self) -> Result<Policy, ConfigError> {
        if let Some(e) = self.network {
            return Err(e);
        }
        let mut names = HashMap::new();
        for n in &self.policy.networks {
            if let Some(prev) = names.insert(n.name.as_str(), n.bridge.as_str()) {
                return Err(ConfigError::entry(
                    format!("network `{}`", n.name),
                    format!("the name is used twice (bridges {prev} and {})", n.bridge),
                ));
            }
        }
        match (self.forward, self.nat, self.host) {
            (Some(e), _, _) | (None, Some(e), _) | (None, None, Some(e)) => Err(e),
            (None, None, None) => Ok(self.policy),
        }
    }
}

fn network(index: usize, n: RawNetwork) -> Result<Network, ConfigError> {
    let name = n.name.as_deref().unwrap_or(&n.bridge).to_string();
    let entry = format!("network #{index} ({name})");
    // What the kernel allows in a name (at most 15 bytes, no '/', white space, NUL), and no '"'
    // (iptables-save could not print it back).
    let bad_char = |c: char| c == '/' || c == '"' || c == '\0' || c.is_whitespace();
    if n.bridge.is_empty() || n.bridge.len() > 15 || n.bridge.contains(bad_char) {
        return Err(ConfigError::entry(entry, format!("`{}` is not an interface name", n.bridge)));
    }
    let subnet = n
        .subnet
        .map(|s| {
            s.parse::<Ipv4Net>()
                .map_err(|_| ConfigError::entry(&entry, format!("subnet `{s}` is not IPv4 CIDR")))
        })
        .transpose()?
        .map(|s| s.trunc());
    let egress = match n.egress.as_deref().unwrap_or("libvirt") {
        "libvirt" => Egress::Libvirt,
        "masquerade" => Egress::Masquerade,
        "snat" => Egress::Snat,
        "none" => Egress::None,
        other => {
            return Err(ConfigError::entry(
                entry,
                format!("egress `{other}` is not one of libvirt, masquerade, snat, none"),
            ));
        }
    };
    Ok(Network { name, bridge: n.bridge.into_owned(), subnet, uplink: n.uplink.map(Cow::into_owned), egress })
}

fn forward(index: usize, f: RawForward) -> Result<Forward, ConfigError> {
    let entry = || format!("forward #{index} (to {})", f.to);
    let tcp = OneOrMany::One(Cow::Borrowed("tcp"));
    let proto = f.proto.as_ref().unwrap_or(&tcp);
    let mut protos = Vec::with_capacity(proto.len());
    for p in proto.iter() {
        let proto = match p.as_ref() {
            "tcp" => Proto::Tcp,
            "udp" => Proto::Udp,
            other => return Err(ConfigError::entry(entry(), format!("proto `{other}` is not tcp or udp"))),
        };
        if protos.contains(&proto) {
            return Err(ConfigError::entry(entry(), format!("proto {proto} is listed twice")));
        }
        protos.push(proto);
    }
    if protos.is_empty() {
        return Err(ConfigError::entry(entry(), "proto is an empty list"));
    }
    let mut ports = Vec::with_capacity(f.port.len());
    for p in f.port.iter() {
        let r = match *p {
            RawPort::Number(n) if (1..=65535).contains(&n) => PortRange { first: n as u16, last: n as u16 },
            RawPort::Number(n) => {
                return Err(ConfigError::entry(entry(), format!("port {n} is out of range (1-65535)")));
            }
            RawPort::Text(ref s) => s.parse().map_err(|e: String| ConfigError::entry(entry(), e))?,
        };
        ports.push(r);
    }
    if ports.is_empty() {
        return Err(ConfigError::entry(entry(), "port is an empty list"));
    }
    ports.sort();
    for w in ports.windows(2) {
        if w[1].first <= w[0].last {
            return Err(ConfigError::entry(entry(), format!("ports {} and {} overlap", w[0], w[1])));
        }
    }
    let (to, to_ports) = match f.to.rsplit_once(':') {
        Some((a, p)) => (a, Some(p.parse::<PortRange>().map_err(|e| ConfigError::entry(entry(), e))?)),
        None => (f.to.as_ref(), None),
    };
    let to: Ipv4Addr = to
        .parse()
        .map_err(|_| ConfigError::entry(entry(), format!("`{to}` is not an IPv4 guest address")))?;
    if let Some(t) = to_ports {
        let public: u32 = ports.iter().map(PortRange::len).sum();
        let single_public = ports.len() == 1 && ports[0].first == ports[0].last;
        if t.len() == 1 && !single_public {
            return Err(ConfigError::entry(
                entry(),
                format!(
                    "{public} public ports cannot all map onto one guest port {t}; give a range of {public} ports"
                ),
            ));
        }
        if t.len() > 1 && ports.len() != 1 {
            return Err(ConfigError::entry(
                entry(),
                format!("a list of ports cannot map onto the range {t}; give one range of {} ports", t.len()),
            ));
        }
        if t.len() > 1 && ports[0].len() != t.len() {
            return Err(ConfigError::entry(
                entry(),
                format!(
                    "the port range {} has {public} ports but the target range {t} has {}",
                    ports[0],
                    t.len()
                ),
            ));
        }
    }
    let on = f.on.as_ref().map(|on| on.iter().map(|s| Listen::parse(s)).collect()).unwrap_or_default();
    Ok(Forward { index, protos, ports, to, to_ports, on })
}

fn nat(index: usize, n: RawNat) -> Result<OneToOne, ConfigError> {
    let entry = || format!("nat #{index} ({} <-> {})", n.public, n.guest);
    let guest = n
        .guest
        .parse()
        .map_err(|_| ConfigError::entry(entry(), format!("guest `{}` is not an IPv4 address", n.guest)))?;
    let public = match n.public.parse() {
        Ok(a) => Public::Addr(a),
        Err(_) if n.public.contains(':') && !n.public.starts_with(':') => Public::Label(n.public.to_string()),
        Err(_) => {
            return Err(ConfigError::entry(
                entry(),
                format!("public `{}` is neither an IPv4 address nor an address label like eth0:0", n.public),
            ));
        }
    };
    Ok(OneToOne { index, public, guest })
}

fn host(h: RawHost) -> Result<HostProtection, ConfigError> {
    let entry = "[host]";
    let icmp_echo_rate =
        h.icmp_echo_rate.map(|r| r.parse().map_err(|e| ConfigError::entry(entry, e))).transpose()?;
    let icmp_echo_max_size = match h.icmp_echo_max_size {
        None => None,
        Some(n) if (28..=65535).contains(&n) => Some(n as u16),
        Some(n) => {
            return Err(ConfigError::entry(
                entry,
                format!("icmp_echo_max_size {n} is not an IP length (28-65535)"),
            ));
        }
    };
    Ok(HostProtection {
        icmp_echo_rate,
        icmp_echo_max_size,
        drop_other_icmp: h.drop_other_icmp.unwrap_or(false),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const POOR_MAN: &str = r#"
[[network]]
name = "default"
bridge = "virbr0"

[[forward]]
port = [80, 443]
to = "192.168.122.41"

[[forward]]
proto = "tcp"
port = [25, 110, 143]
to = "192.168.122.42"

[[forward]]
port = 8080
to = "192.168.122.42:80"

[[forward]]
proto = ["tcp", "udp"]
port = "8000-8009"
to = "192.168.122.42:9000-9009"
on = ["192.168.1.201", "eth0:1"]
"#;

    #[test]
    fn the_poor_mans_setup_parses_to_its_mappings() {
        let p = Policy::parse(POOR_MAN).unwrap();
        assert_eq!(p.networks[0].egress, Egress::Libvirt);
        assert_eq!(p.forwards.len(), 4);
        let m: Vec<_> = p.forwards[2].mappings().collect();
        assert_eq!(m, vec![(Proto::Tcp, 8080, 80)]);
        let m: Vec<_> = p.forwards[0].mappings().collect();
        assert_eq!(m, vec![(Proto::Tcp, 80, 80), (Proto::Tcp, 443, 443)]);
        let m: Vec<_> = p.forwards[3].mappings().collect();
        assert_eq!(m.len(), 20);
        assert!(m.contains(&(Proto::Udp, 8005, 9005)));
        assert_eq!(
            p.forwards[3].on,
            vec![Listen::Addr("192.168.1.201".parse().unwrap()), Listen::Label("eth0:1".into())]
        );
    }

    fn err(text: &str) -> String {
        Policy::parse(text).unwrap_err().to_string()
    }

    #[test]
    fn errors_name_the_entry_and_the_problem() {
        assert!(err("[[forward]]\nport = 70000\nto = \"10.0.0.1\"\n").contains("forward #1"));
        assert!(err("[[forward]]\nport = 70000\nto = \"10.0.0.1\"\n").contains("70000 is out of range"));
        let e = err("[[forward]]\nport = \"8000-8099\"\nto = \"10.0.0.1:9000-9009\"\n");
        assert!(e.contains("100 ports") && e.contains("9000-9009"), "{e}");
        let e = err("[[forward]]\nport = [80, 81]\nto = \"10.0.0.1:8080\"\n");
        assert!(e.contains("cannot all map onto one guest port"), "{e}");
        let e = err("[[forward]]\nport = 80\nto = \"10.0.0.300\"\n");
        assert!(e.contains("not an IPv4 guest address"), "{e}");
        let e = err("[[forward]]\nport = 80\nto = \"10.0.0.1\"\ncolour = \"red\"\n");
        assert!(e.contains("colour"), "{e}");
        let e = err("[[network]]\nbridge = \"vir br0\"\n");
        assert!(e.contains("not an interface name"), "{e}");
        let e = err("[[network]]\nbridge = \"virbr0\"\negress = \"nat\"\n");
        assert!(e.contains("network #1 (virbr0)") && e.contains("egress `nat`"), "{e}");
        let e = err("[[nat]]\npublic = \"what\"\nguest = \"192.168.122.41\"\n");
        assert!(e.contains("nat #1"), "{e}");
        let e = err("[host]\nicmp_echo_rate = \"1/fortnight\"\n");
        assert!(e.contains("fortnight"), "{e}");
        let e = err("[[forward]]\nport = [80, \"79-81\"]\nto = \"10.0.0.1\"\n");
        assert!(e.contains("overlap"), "{e}");
        let e = err("[[forward]]\nport = 80\nport = 81\nto = \"10.0.0.1\"\n");
        assert!(e.contains("duplicate") || e.contains("port"), "{e}");
    }

    #[test]
    fn syntax_errors_come_first_then_networks_forwards_nats_and_host() {
        let bad_forward = "[[forward]]\nport = 0\nto = \"10.0.0.1\"\n";
        let bad_network = "[[network]]\nbridge = \"a b\"\n";
        let e = err(&format!("{bad_forward}{bad_network}"));
        assert!(e.starts_with("network #1 (a b): "), "{e}");
        let e = err(&format!(
            "[host]\nicmp_echo_max_size = 1\n[[nat]]\npublic = \"x\"\nguest = \"10.0.0.2\"\n{bad_forward}"
        ));
        assert!(e.starts_with("forward #1 (to 10.0.0.1): "), "{e}");
        let e = err(&format!("{bad_network}{bad_forward}[[network]]\nbridge = \"virbr0\"\nfoo = 1\n"));
        assert!(e.starts_with("TOML parse error at line 8, column 1: unknown field `foo`"), "{e}");
        let e = err(
            "[[network]]\nbridge = \"virbr0\"\nname = \"n\"\n[[network]]\nbridge = \"virbr1\"\nname = \"n\"\n",
        );
        assert_eq!(e, "network `n`: the name is used twice (bridges virbr0 and virbr1)");
        // Entries are numbered in their kind, in the file's order.
        let p = Policy::parse("[[nat]]\npublic = \"eth0:0\"\nguest = \"10.0.0.2\"\n[[forward]]\nport = 1\nto = \"10.0.0.1\"\n[[nat]]\npublic = \"1.2.3.4\"\nguest = \"10.0.0.3\"\n").unwrap();
        assert_eq!((p.nats[1].index, p.forwards[0].index), (2, 1));
    }

    #[test]
    fn syntax_errors_are_one_line() {
        let e = err("[[forward]\nport = 80\n");
        assert!(!e.contains('\n'), "{e}");
    }
}

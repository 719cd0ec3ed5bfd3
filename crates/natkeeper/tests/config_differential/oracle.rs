//! The oracle: `Policy::parse` as it was before natkeeper had its own TOML parser — `toml` 0.8
//! and serde into the `Raw*` structs, then the same checks — copied from `config.rs` as of commit
//! 21f85f2 (only `ConfigError::entry` is spelled out, since it is private to the crate).

use std::collections::HashMap;
use std::net::Ipv4Addr;

use ipnet::Ipv4Net;
use natkeeper::config::{
    ConfigError, Egress, Forward, HostProtection, Listen, Network, OneToOne, Policy, PortRange, Proto, Public,
};
use serde::Deserialize;

fn entry_error(entry: impl Into<String>, reason: impl Into<String>) -> ConfigError {
    ConfigError::Entry { entry: entry.into(), reason: reason.into() }
}

/// `Listen::parse`, which is private to the crate.
fn listen(s: &str) -> Listen {
    if let Ok(a) = s.parse() {
        Listen::Addr(a)
    } else if s.contains(':') {
        Listen::Label(s.to_string())
    } else {
        Listen::Interface(s.to_string())
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    #[serde(default)]
    network: Vec<RawNetwork>,
    #[serde(default)]
    forward: Vec<RawForward>,
    #[serde(default)]
    nat: Vec<RawNat>,
    host: Option<RawHost>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNetwork {
    name: Option<String>,
    bridge: String,
    subnet: Option<String>,
    uplink: Option<String>,
    egress: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany<T> {
    One(T),
    Many(Vec<T>),
}

impl<T> OneOrMany<T> {
    fn into_vec(self) -> Vec<T> {
        match self {
            OneOrMany::One(t) => vec![t],
            OneOrMany::Many(v) => v,
        }
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawPort {
    Number(i64),
    Text(String),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawForward {
    proto: Option<OneOrMany<String>>,
    port: OneOrMany<RawPort>,
    to: String,
    on: Option<OneOrMany<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNat {
    public: String,
    guest: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHost {
    icmp_echo_rate: Option<String>,
    icmp_echo_max_size: Option<i64>,
    drop_other_icmp: Option<bool>,
}

/// `Policy::parse` as it was: `toml` and serde, then the checks.
pub(crate) fn parse(text: &str) -> Result<Policy, ConfigError> {
    let raw: RawPolicy = toml::from_str(text).map_err(|e| ConfigError::Syntax(one_line(&e.to_string())))?;
    let mut policy = Policy::default();
    for (i, n) in raw.network.into_iter().enumerate() {
        policy.networks.push(network(i + 1, n)?);
    }
    let mut names = HashMap::new();
    for n in &policy.networks {
        if let Some(prev) = names.insert(n.name.clone(), n.bridge.clone()) {
            return Err(entry_error(
                format!("network `{}`", n.name),
                format!("the name is used twice (bridges {prev} and {})", n.bridge),
            ));
        }
    }
    for (i, f) in raw.forward.into_iter().enumerate() {
        policy.forwards.push(forward(i + 1, f)?);
    }
    for (i, n) in raw.nat.into_iter().enumerate() {
        policy.nats.push(nat(i + 1, n)?);
    }
    policy.host = raw.host.map(host).transpose()?;
    Ok(policy)
}

fn one_line(s: &str) -> String {
    s.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('|')).collect::<Vec<_>>().join(": ")
}

fn network(index: usize, n: RawNetwork) -> Result<Network, ConfigError> {
    let name = n.name.unwrap_or_else(|| n.bridge.clone());
    let entry = format!("network #{index} ({name})");
    // What the kernel allows in a name (at most 15 bytes, no '/', white space, NUL), and no '"'
    // (iptables-save could not print it back).
    let bad_char = |c: char| c == '/' || c == '"' || c == '\0' || c.is_whitespace();
    if n.bridge.is_empty() || n.bridge.len() > 15 || n.bridge.contains(bad_char) {
        return Err(entry_error(entry, format!("`{}` is not an interface name", n.bridge)));
    }
    let subnet = n
        .subnet
        .map(|s| {
            s.parse::<Ipv4Net>().map_err(|_| entry_error(&entry, format!("subnet `{s}` is not IPv4 CIDR")))
        })
        .transpose()?
        .map(|s| s.trunc());
    let egress = match n.egress.as_deref().unwrap_or("libvirt") {
        "libvirt" => Egress::Libvirt,
        "masquerade" => Egress::Masquerade,
        "snat" => Egress::Snat,
        "none" => Egress::None,
        other => {
            return Err(entry_error(
                entry,
                format!("egress `{other}` is not one of libvirt, masquerade, snat, none"),
            ));
        }
    };
    Ok(Network { name, bridge: n.bridge, subnet, uplink: n.uplink, egress })
}

fn forward(index: usize, f: RawForward) -> Result<Forward, ConfigError> {
    let entry = || format!("forward #{index} (to {})", f.to);
    let mut protos = Vec::new();
    for p in f.proto.map(OneOrMany::into_vec).unwrap_or_else(|| vec!["tcp".into()]) {
        let proto = match p.as_str() {
            "tcp" => Proto::Tcp,
            "udp" => Proto::Udp,
            other => return Err(entry_error(entry(), format!("proto `{other}` is not tcp or udp"))),
        };
        if protos.contains(&proto) {
            return Err(entry_error(entry(), format!("proto {proto} is listed twice")));
        }
        protos.push(proto);
    }
    if protos.is_empty() {
        return Err(entry_error(entry(), "proto is an empty list"));
    }
    let mut ports = Vec::new();
    for p in f.port.into_vec() {
        let r = match p {
            RawPort::Number(n) if (1..=65535).contains(&n) => PortRange { first: n as u16, last: n as u16 },
            RawPort::Number(n) => {
                return Err(entry_error(entry(), format!("port {n} is out of range (1-65535)")));
            }
            RawPort::Text(s) => s.parse().map_err(|e: String| entry_error(entry(), e))?,
        };
        ports.push(r);
    }
    if ports.is_empty() {
        return Err(entry_error(entry(), "port is an empty list"));
    }
    ports.sort();
    for w in ports.windows(2) {
        if w[1].first <= w[0].last {
            return Err(entry_error(entry(), format!("ports {} and {} overlap", w[0], w[1])));
        }
    }
    let (to, to_ports) = match f.to.rsplit_once(':') {
        Some((a, p)) => (a, Some(p.parse::<PortRange>().map_err(|e| entry_error(entry(), e))?)),
        None => (f.to.as_str(), None),
    };
    let to: Ipv4Addr =
        to.parse().map_err(|_| entry_error(entry(), format!("`{to}` is not an IPv4 guest address")))?;
    if let Some(t) = to_ports {
        let public: u32 = ports.iter().map(PortRange::len).sum();
        let single_public = ports.len() == 1 && ports[0].first == ports[0].last;
        if t.len() == 1 && !single_public {
            return Err(entry_error(
                entry(),
                format!(
                    "{public} public ports cannot all map onto one guest port {t}; give a range of {public} ports"
                ),
            ));
        }
        if t.len() > 1 && ports.len() != 1 {
            return Err(entry_error(
                entry(),
                format!("a list of ports cannot map onto the range {t}; give one range of {} ports", t.len()),
            ));
        }
        if t.len() > 1 && ports[0].len() != t.len() {
            return Err(entry_error(
                entry(),
                format!(
                    "the port range {} has {public} ports but the target range {t} has {}",
                    ports[0],
                    t.len()
                ),
            ));
        }
    }
    let on = f.on.map(OneOrMany::into_vec).unwrap_or_default().iter().map(|s| listen(s)).collect();
    Ok(Forward { index, protos, ports, to, to_ports, on })
}

fn nat(index: usize, n: RawNat) -> Result<OneToOne, ConfigError> {
    let entry = || format!("nat #{index} ({} <-> {})", n.public, n.guest);
    let guest = n
        .guest
        .parse()
        .map_err(|_| entry_error(entry(), format!("guest `{}` is not an IPv4 address", n.guest)))?;
    let public = match n.public.parse() {
        Ok(a) => Public::Addr(a),
        Err(_) if n.public.contains(':') && !n.public.starts_with(':') => Public::Label(n.public.clone()),
        Err(_) => {
            return Err(entry_error(
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
        h.icmp_echo_rate.map(|r| r.parse().map_err(|e| entry_error(entry, e))).transpose()?;
    let icmp_echo_max_size = match h.icmp_echo_max_size {
        None => None,
        Some(n) if (28..=65535).contains(&n) => Some(n as u16),
        Some(n) => {
            return Err(entry_error(entry, format!("icmp_echo_max_size {n} is not an IP length (28-65535)")));
        }
    };
    Ok(HostProtection {
        icmp_echo_rate,
        icmp_echo_max_size,
        drop_other_icmp: h.drop_other_icmp.unwrap_or(false),
    })
}

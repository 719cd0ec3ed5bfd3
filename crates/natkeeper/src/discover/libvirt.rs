//! Which bridges libvirt created.
//!
//! The test (any one is enough):
//! * an **active** network's status file, `/run/libvirt/network/<network>.xml`, names the bridge, and
//!   the MAC address it gives the bridge (`<mac address='52:54:00:…'/>`) is the bridge's;
//! * a **defined** network's file, `/etc/libvirt/qemu/networks/<network>.xml`, does the same;
//! * libvirt's firewall rules in this namespace (its `LIBVIRT_*` chains in iptables' tables, or its
//!   `libvirt_network` tables) match on the bridge by name or index.
//!
//! Why: the files are what libvirt itself reads, but they are global to the file system while bridges
//! belong to a network namespace, so a name alone could be another namespace's `virbr0`; the MAC
//! address libvirt generated for the network (random below its `52:54:00` prefix) ties the file to
//! this very bridge. The rules are per namespace and say what matters most to natkeeper: libvirt
//! filters this bridge's traffic. A `virbr*` name or a `52:54:00` MAC alone is only a convention
//! anyone can follow, so it is not taken as evidence.

use std::collections::BTreeSet;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use natkeeper_nft::expr::{CmpOp, Meta, MetaKey};
use natkeeper_nft::{Expr, Family, Rule, Ruleset};
use natkeeper_rtnl::{Link, Snapshot};
use serde::Serialize;

use super::error::DiscoverError;

/// Where libvirt keeps the status of its active networks.
pub const STATUS_DIR: &str = "/run/libvirt/network";
/// Where libvirt keeps its defined (persistent) networks.
pub const CONFIG_DIR: &str = "/etc/libvirt/qemu/networks";
/// libvirt's nftables backend's table (families `ip` and `ip6`).
pub const LIBVIRT_TABLE: &str = "libvirt_network";
/// The prefix of libvirt's chains in iptables' tables (iptables backend).
pub(super) const LIBVIRT_CHAIN_PREFIX: &str = "LIBVIRT_";
/// The iptables tables libvirt's iptables backend puts chains in.
const LIBVIRT_IPTABLES_TABLES: [&str; 3] = ["filter", "nat", "mangle"];

/// A libvirt network, as its status or definition file describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LibvirtNetwork {
    /// The network's name (`default`).
    pub name: String,
    /// Its bridge (`virbr0`).
    pub bridge: String,
    /// The MAC address libvirt gives the bridge, when the file has one.
    pub mac: Option<String>,
    /// True when read from the status directory (the network is running).
    pub active: bool,
}

/// Why a bridge is taken for libvirt's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LibvirtEvidence {
    /// An active network's status file names the bridge (and its MAC, when it gives one).
    ActiveNetwork {
        /// The network.
        network: String,
    },
    /// A defined network's file names the bridge (and its MAC, when it gives one).
    DefinedNetwork {
        /// The network.
        network: String,
    },
    /// libvirt's firewall rules in this namespace match on the bridge.
    FirewallRules,
}

impl LibvirtNetwork {
    /// Reads the networks from libvirt's default directories ([`STATUS_DIR`], [`CONFIG_DIR`]).
    pub fn read() -> Result<Vec<LibvirtNetwork>, DiscoverError> {
        LibvirtNetwork::read_from(Path::new(STATUS_DIR), Path::new(CONFIG_DIR))
    }

    /// Reads the networks from `status_dir` (active) and `config_dir` (defined), each file `*.xml`
    /// directly in them, in name order. A missing directory has none; a file that names no bridge is
    /// skipped.
    pub fn read_from(status_dir: &Path, config_dir: &Path) -> Result<Vec<LibvirtNetwork>, DiscoverError> {
        let mut out = Vec::new();
        for (dir, active) in [(status_dir, true), (config_dir, false)] {
            for path in xml_files(dir)? {
                let text =
                    fs::read_to_string(&path).map_err(|source| DiscoverError::Read { path, source })?;
                out.extend(LibvirtNetwork::parse(&text, active));
            }
        }
        Ok(out)
    }

    /// The network described by libvirt's network XML (or status XML, which wraps it): its
    /// `<name>`, `<bridge name=…>` and `<mac address=…>`. `None` when it names no bridge.
    pub fn parse(xml: &str, active: bool) -> Option<LibvirtNetwork> {
        Some(LibvirtNetwork {
            name: element_text(xml, "name")?,
            bridge: element_attr(xml, "bridge", "name")?,
            mac: element_attr(xml, "mac", "address"),
            active,
        })
    }
}

/// Why `link` (a bridge) is libvirt's: matching network files and rules.
pub(super) fn evidence(
    link: &Link,
    networks: &[LibvirtNetwork],
    rule_bridges: &BTreeSet<String>,
) -> Vec<LibvirtEvidence> {
    let mac = link.mac.as_ref().map(|m| m.to_string());
    let mut out: Vec<LibvirtEvidence> = networks
        .iter()
        .filter(|n| n.bridge == link.name)
        .filter(|n| match (&n.mac, &mac) {
            (None, _) => true,
            (Some(want), Some(have)) => want.eq_ignore_ascii_case(have),
            (Some(_), None) => false,
        })
        .map(|n| match n.active {
            true => LibvirtEvidence::ActiveNetwork { network: n.name.clone() },
            false => LibvirtEvidence::DefinedNetwork { network: n.name.clone() },
        })
        .collect();
    if rule_bridges.contains(&link.name) {
        out.push(LibvirtEvidence::FirewallRules);
    }
    out
}

/// True for a chain of libvirt's: in its nftables tables, or a `LIBVIRT_*` chain in iptables' tables.
pub(super) fn is_libvirt_chain(family: Family, table: &str, chain: &str) -> bool {
    matches!(family, Family::Ip | Family::Ip6)
        && (table == LIBVIRT_TABLE
            || (LIBVIRT_IPTABLES_TABLES.contains(&table) && chain.starts_with(LIBVIRT_CHAIN_PREFIX)))
}

/// The interfaces libvirt's rules match on (`-o virbr0`, `oif "virbr0"`, `iifname "virbr0"`).
pub(super) fn bridges_in_rules(ruleset: &Ruleset, snap: &Snapshot) -> BTreeSet<String> {
    ruleset
        .rules
        .iter()
        .filter(|r| is_libvirt_chain(r.family, &r.table, &r.chain))
        .flat_map(|r| interfaces_matched(r, snap))
        .collect()
}

/// Interface names a rule compares with: a `meta iifname/oifname` (exact name: the data holds its
/// NUL; a wildcard prefix does not and is skipped) or `meta iif/oif` (an index, named from `snap`)
/// load directly followed by an equality `cmp` on the same register.
fn interfaces_matched(rule: &Rule, snap: &Snapshot) -> Vec<String> {
    rule.exprs
        .windows(2)
        .filter_map(|pair| match pair {
            [Expr::Meta(Meta::Load { key, dreg }), Expr::Cmp(cmp)]
                if cmp.sreg == *dreg && cmp.op == CmpOp::Eq =>
            {
                match key {
                    MetaKey::IifName | MetaKey::OifName => {
                        let end = cmp.data.iter().position(|&b| b == 0)?;
                        String::from_utf8(cmp.data.get(..end)?.to_vec()).ok()
                    }
                    MetaKey::Iif | MetaKey::Oif => {
                        let index = u32::from_ne_bytes(cmp.data.as_slice().try_into().ok()?);
                        snap.link_by_index(index).map(|l| l.name.clone())
                    }
                    _ => None,
                }
            }
            _ => None,
        })
        .collect()
}

/// The `*.xml` files directly in `dir`, sorted; none when `dir` does not exist.
fn xml_files(dir: &Path) -> Result<Vec<PathBuf>, DiscoverError> {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => return Err(DiscoverError::Read { path: dir.to_path_buf(), source }),
    };
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| DiscoverError::Read { path: dir.to_path_buf(), source })?;
        let path = entry.path();
        if path.extension().is_some_and(|e| e == "xml") && path.is_file() {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// The text of the first `<tag>…</tag>`, entities decoded and trimmed.
fn element_text(xml: &str, tag: &str) -> Option<String> {
    let open = format!("<{tag}>");
    let start = xml.find(&open)? + open.len();
    let rest = xml.get(start..)?;
    let end = rest.find(&format!("</{tag}>"))?;
    Some(unescape(rest.get(..end)?.trim()))
}

/// The value of attribute `attr` of the first `<tag …>` element.
fn element_attr(xml: &str, tag: &str, attr: &str) -> Option<String> {
    let open = format!("<{tag}");
    let mut from = 0;
    let element = loop {
        let at = from + xml.get(from..)?.find(&open)?;
        let after = at + open.len();
        let rest = xml.get(after..)?;
        if rest.starts_with(|c: char| c.is_whitespace() || c == '/' || c == '>') {
            break rest.get(..rest.find('>')?)?;
        }
        from = after;
    };
    let mut rest = element;
    loop {
        let at = rest.find(attr)?;
        let before_ok = rest.get(..at)?.ends_with(|c: char| c.is_whitespace());
        let after = rest.get(at + attr.len()..)?.trim_start();
        if let (true, Some(value)) = (before_ok, after.strip_prefix('=')) {
            let value = value.trim_start();
            let quote = value.chars().next().filter(|&q| q == '\'' || q == '"')?;
            let value = value.get(1..)?;
            return Some(unescape(value.get(..value.find(quote)?)?));
        }
        rest = rest.get(at + attr.len()..)?;
    }
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A status file as libvirt 9.0 writes it for the `default` network (trimmed).
    const STATUS: &str = r#"<networkstatus>
  <class_id bitmap='0-2' maxbit='1024'/>
  <floor sum='0'/>
  <network>
    <name>default</name>
    <uuid>6c1e6bb4-5e1f-4b0a-9b1e-0c6d7e0b1a2c</uuid>
    <forward mode='nat'>
      <nat>
        <port start='1024' end='65535'/>
      </nat>
    </forward>
    <bridge name='virbr0' stp='on' delay='0'/>
    <mac address='52:54:00:3e:08:2c'/>
    <ip address='192.168.122.1' netmask='255.255.255.0'>
      <dhcp>
        <range start='192.168.122.2' end='192.168.122.254'/>
        <host mac='52:54:00:00:00:41' name='g1' ip='192.168.122.41'/>
      </dhcp>
    </ip>
  </network>
</networkstatus>
"#;

    #[test]
    fn parses_a_status_file() {
        let n = LibvirtNetwork::parse(STATUS, true).unwrap();
        assert_eq!(
            n,
            LibvirtNetwork {
                name: "default".into(),
                bridge: "virbr0".into(),
                mac: Some("52:54:00:3e:08:2c".into()),
                active: true
            }
        );
    }

    #[test]
    fn attribute_lookup_is_exact() {
        // `<bridges>` is not `<bridge>`; `macaddress` is not `address`; double quotes work.
        let xml = r#"<network><bridges x='1'/><name>a&amp;b</name><bridge stp="on" name="br-x"/><mac macaddress='no' address="AA:bb:00:00:00:01"/></network>"#;
        let n = LibvirtNetwork::parse(xml, false).unwrap();
        assert_eq!(n.name, "a&b");
        assert_eq!(n.bridge, "br-x");
        assert_eq!(n.mac.as_deref(), Some("AA:bb:00:00:00:01"));
        // No bridge, truncated or garbage input: nothing, and no panic.
        assert_eq!(LibvirtNetwork::parse("<network><name>x</name></network>", true), None);
        for cut in 0..STATUS.len() {
            if let Some(s) = STATUS.get(..cut) {
                let _ = LibvirtNetwork::parse(s, true);
            }
        }
        assert_eq!(element_attr("<bridge name=virbr0/>", "bridge", "name"), None);
    }

    #[test]
    fn reads_directories_and_skips_what_is_not_a_network() {
        let base = std::env::temp_dir().join(format!("natkeeper-libvirt-{}", std::process::id()));
        let status = base.join("status");
        let config = base.join("config");
        fs::create_dir_all(status.join("autostart.xml")).unwrap(); // a directory: skipped
        fs::create_dir_all(&config).unwrap();
        fs::write(status.join("default.xml"), STATUS).unwrap();
        fs::write(status.join("default.pid"), "123").unwrap();
        fs::write(config.join("default.xml"), STATUS.replace("networkstatus", "x")).unwrap();
        fs::write(config.join("nobridge.xml"), "<network><name>iso</name></network>").unwrap();
        let nets = LibvirtNetwork::read_from(&status, &config).unwrap();
        let _ = fs::remove_dir_all(&base);
        let got: Vec<(&str, &str, bool)> =
            nets.iter().map(|n| (n.name.as_str(), n.bridge.as_str(), n.active)).collect();
        assert_eq!(got, [("default", "virbr0", true), ("default", "virbr0", false)]);
        assert!(LibvirtNetwork::read_from(&base.join("none"), &base.join("none")).unwrap().is_empty());
    }
}

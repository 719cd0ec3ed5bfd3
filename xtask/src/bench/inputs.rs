//! The workloads' forwards and their input files, exactly as in the baseline
//! (`reference/baseline-bench-2026-11-28.md`): forward *i* is public `203.0.113.10:(10000+i)/tcp` →
//! guest `192.168.122.(2 + i mod 250):(40000+i)`, with the accept it needs in FORWARD.

use std::fmt::Write as _;
use std::net::Ipv4Addr;

use super::ns::{LAB_GUEST, LAB_PUBLIC, TRIAL_PUBLIC};

/// One forward: public address and port (tcp) → guest address and port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Fwd {
    /// Public address.
    pub(crate) public: Ipv4Addr,
    /// Public port.
    pub(crate) port: u16,
    /// Guest address.
    pub(crate) guest: Ipv4Addr,
    /// Guest port.
    pub(crate) guest_port: u16,
}

/// Ports of forward *i* (`i` < 25,000 keeps both in range).
fn ports(i: usize) -> (u16, u16) {
    let i = u16::try_from(i).unwrap_or(u16::MAX).min(25_000);
    (10_000 + i, 40_000 + i)
}

impl Fwd {
    /// Forward *i* of the apply workloads (W1–W4).
    pub(crate) fn trial(i: usize) -> Fwd {
        let (port, guest_port) = ports(i);
        let last = 2 + (i % 250) as u8;
        Fwd {
            public: TRIAL_PUBLIC.parse().unwrap_or(Ipv4Addr::UNSPECIFIED),
            port,
            guest: Ipv4Addr::new(192, 168, 122, last),
            guest_port,
        }
    }

    /// Forward *i* of the lab (W5, W6): the host's `eth0` address → the one guest.
    pub(crate) fn lab(i: usize) -> Fwd {
        let (port, guest_port) = ports(i);
        Fwd {
            public: LAB_PUBLIC.parse().unwrap_or(Ipv4Addr::UNSPECIFIED),
            port,
            guest: LAB_GUEST.parse().unwrap_or(Ipv4Addr::UNSPECIFIED),
            guest_port,
        }
    }
}

/// natkeeper's configuration for `fwds` on libvirt's default network.
pub(crate) fn natkeeper_toml(fwds: &[Fwd]) -> String {
    let mut s = String::from("[[network]]\nname = \"default\"\nbridge = \"virbr0\"\n");
    for f in fwds {
        let _ = write!(
            s,
            "\n[[forward]]\nproto = \"tcp\"\nport = {}\nto = \"{}:{}\"\non = \"{}\"\n",
            f.port, f.guest, f.guest_port, f.public
        );
    }
    s
}

/// The nft table both nft workloads use: `table ip bench` with a nat prerouting and a filter forward
/// chain.
const NFT_TABLE: &str = "table ip bench {\n\
    \tchain prerouting { type nat hook prerouting priority dstnat; policy accept; }\n\
    \tchain forward { type filter hook forward priority filter; policy accept; }\n\
    }\n";

/// `nft -f` input with one DNAT rule and one accept rule per forward.
pub(crate) fn nft_rules(fwds: &[Fwd]) -> String {
    let mut s = String::from(NFT_TABLE);
    for f in fwds {
        let _ = writeln!(s, "{}", nft_rule_pair(f).join("\n"));
    }
    s
}

/// The two `add rule` commands of one forward.
fn nft_rule_pair(f: &Fwd) -> [String; 2] {
    [
        format!(
            "add rule ip bench prerouting ip daddr {} tcp dport {} dnat to {}:{}",
            f.public, f.port, f.guest, f.guest_port
        ),
        format!("add rule ip bench forward ip daddr {} tcp dport {} accept", f.guest, f.guest_port),
    ]
}

/// `nft -f` input with one map (port → guest . port) and one set (guest . port) of N elements,
/// and one rule using each.
pub(crate) fn nft_map(fwds: &[Fwd]) -> String {
    let public = fwds.first().map_or(Ipv4Addr::UNSPECIFIED, |f| f.public);
    let map: Vec<String> =
        fwds.iter().map(|f| format!("{} : {} . {}", f.port, f.guest, f.guest_port)).collect();
    let set: Vec<String> = fwds.iter().map(|f| format!("{} . {}", f.guest, f.guest_port)).collect();
    let elements = |v: &[String]| {
        if v.is_empty() { String::new() } else { format!("\t\telements = {{ {} }}\n", v.join(",\n\t\t\t")) }
    };
    format!(
        "table ip bench {{\n\
         \tmap fwdmap {{\n\t\ttype inet_service : ipv4_addr . inet_service\n{}\t}}\n\
         \tset fwdset {{\n\t\ttype ipv4_addr . inet_service\n{}\t}}\n\
         \tchain prerouting {{\n\t\ttype nat hook prerouting priority dstnat; policy accept;\n\
         \t\tip daddr {public} dnat ip to tcp dport map @fwdmap\n\t}}\n\
         \tchain forward {{\n\t\ttype filter hook forward priority filter; policy accept;\n\
         \t\tip daddr . tcp dport @fwdset accept\n\t}}\n\
         }}\n",
        elements(&map),
        elements(&set),
    )
}

/// `iptables-restore --noflush` input: one DNAT in nat PREROUTING and one ACCEPT in filter FORWARD
/// per forward.
pub(crate) fn ipt_restore(fwds: &[Fwd]) -> String {
    let mut s = String::from("*nat\n");
    for f in fwds {
        let _ = writeln!(s, "-A PREROUTING {}", ipt_dnat_spec(f).join(" "));
    }
    s.push_str("COMMIT\n*filter\n");
    for f in fwds {
        let _ = writeln!(s, "-A FORWARD {}", ipt_accept_spec(f).join(" "));
    }
    s.push_str("COMMIT\n");
    s
}

/// Like [`ipt_restore`], with `-m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT` heading FORWARD
/// (as any stateful setup has it), so only a connection's first packet walks the accepts.
pub(crate) fn ipt_restore_stateful(fwds: &[Fwd]) -> String {
    ipt_restore(fwds).replacen(
        "*filter\n",
        "*filter\n-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n",
        1,
    )
}

fn ipt_dnat_spec(f: &Fwd) -> Vec<String> {
    [
        "-d",
        &format!("{}/32", f.public),
        "-p",
        "tcp",
        "-m",
        "tcp",
        "--dport",
        &f.port.to_string(),
        "-j",
        "DNAT",
        "--to-destination",
        &format!("{}:{}", f.guest, f.guest_port),
    ]
    .map(String::from)
    .to_vec()
}

fn ipt_accept_spec(f: &Fwd) -> Vec<String> {
    [
        "-d",
        &format!("{}/32", f.guest),
        "-p",
        "tcp",
        "-m",
        "tcp",
        "--dport",
        &f.guest_port.to_string(),
        "-j",
        "ACCEPT",
    ]
    .map(String::from)
    .to_vec()
}

/// The two `iptables` invocations (arguments) that add (`-A`) or delete (`-D`) one forward.
pub(crate) fn ipt_commands(f: &Fwd, op: &str) -> [Vec<String>; 2] {
    let mut nat = vec!["-t".to_string(), "nat".into(), op.into(), "PREROUTING".into()];
    nat.extend(ipt_dnat_spec(f));
    let mut filter = vec!["-t".to_string(), "filter".into(), op.into(), "FORWARD".into()];
    filter.extend(ipt_accept_spec(f));
    [nat, filter]
}

/// One `nft` argument that adds one forward as two rules.
pub(crate) fn nft_add_rules(f: &Fwd) -> String {
    nft_rule_pair(f).join("; ")
}

/// One `nft` argument that deletes the two rules of a forward by handle.
pub(crate) fn nft_delete_rules(prerouting: u64, forward: u64) -> String {
    format!(
        "delete rule ip bench prerouting handle {prerouting}; delete rule ip bench forward handle {forward}"
    )
}

/// One `nft` argument that adds one forward as a map and a set element.
pub(crate) fn nft_add_elements(f: &Fwd) -> String {
    format!(
        "add element ip bench fwdmap {{ {} : {} . {} }}; add element ip bench fwdset {{ {} . {} }}",
        f.port, f.guest, f.guest_port, f.guest, f.guest_port
    )
}

/// One `nft` argument that deletes one forward's map and set element.
pub(crate) fn nft_delete_elements(f: &Fwd) -> String {
    format!(
        "delete element ip bench fwdmap {{ {} }}; delete element ip bench fwdset {{ {} . {} }}",
        f.port, f.guest, f.guest_port
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwards_follow_the_baseline_scheme() {
        let f = Fwd::trial(251);
        assert_eq!(
            (f.public.to_string(), f.port, f.guest.to_string(), f.guest_port),
            ("203.0.113.10".to_string(), 10251, "192.168.122.3".to_string(), 40251)
        );
    }

    #[test]
    fn inputs_hold_every_forward() {
        let fwds: Vec<Fwd> = (0..3).map(Fwd::trial).collect();
        assert_eq!(nft_rules(&fwds).matches("dnat to").count(), 3);
        assert_eq!(ipt_restore(&fwds).matches("-j DNAT").count(), 3);
        assert_eq!(ipt_restore(&fwds).matches("-j ACCEPT").count(), 3);
        assert_eq!(natkeeper_toml(&fwds).matches("[[forward]]").count(), 3);
        assert!(nft_map(&fwds).contains("10002 : 192.168.122.4 . 40002"));
    }
}

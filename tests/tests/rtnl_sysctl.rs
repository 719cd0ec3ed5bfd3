//! natkeeper-rtnl's sysctls, read and written through `/proc/sys` inside test namespaces, checked with
//! `cat` run in the same namespace; the host's values are only read, before and after.

use natkeeper_rtnl::{Error, Sysctl, SysctlValue};
use natkeeper_tests::Netns;
use natkeeper_tests::lab::Lab;

/// The value as `cat` sees it inside `ns`.
fn cat(ns: &Netns, s: &Sysctl) -> String {
    ns.exec_ok("cat", &[s.path().to_str().unwrap()]).trim().to_string()
}

fn host_value(s: &Sysctl) -> String {
    std::fs::read_to_string(s.path()).unwrap_or_else(|e| format!("unreadable: {e}"))
}

#[test]
fn keys_and_paths_are_spelled_as_sysctl_does() {
    assert_eq!(Sysctl::IpForward.key(), "net.ipv4.ip_forward");
    assert_eq!(Sysctl::IpForward.path().to_str(), Some("/proc/sys/net/ipv4/ip_forward"));
    let rl = Sysctl::RouteLocalnet("eth0.100".into());
    assert_eq!(rl.key(), "net.ipv4.conf.eth0/100.route_localnet");
    assert_eq!(rl.path().to_str(), Some("/proc/sys/net/ipv4/conf/eth0.100/route_localnet"));
    assert_eq!(Sysctl::BridgeNfCallIptables.to_string(), "net.bridge.bridge-nf-call-iptables");
    assert!(SysctlValue::Int(1).is_on());
    assert!(!SysctlValue::Int(0).is_on());
    assert!(!SysctlValue::Absent.is_on());
}

#[test]
fn ip_forward_and_route_localnet_are_read_and_written_in_the_namespace() {
    if !natkeeper_tests::can_run() {
        return;
    }
    let host_fwd = host_value(&Sysctl::IpForward);
    let lab = Lab::article();
    let rl = Sysctl::RouteLocalnet("eth0".into());

    // The lab turned forwarding on; route_localnet starts off.
    let (fwd, localnet) = lab.host.run(|| (Sysctl::IpForward.read(), rl.read()));
    assert_eq!(fwd.unwrap(), SysctlValue::Int(1));
    assert_eq!(localnet.unwrap(), SysctlValue::Int(0));

    lab.host.run(|| Sysctl::IpForward.write(false)).unwrap();
    assert_eq!(cat(&lab.host, &Sysctl::IpForward), "0");
    assert_eq!(lab.host.run(|| Sysctl::IpForward.read()).unwrap(), SysctlValue::Int(0));
    lab.host.run(|| Sysctl::IpForward.write(true)).unwrap();
    assert_eq!(cat(&lab.host, &Sysctl::IpForward), "1");

    lab.host.run(|| rl.write(true)).unwrap();
    assert_eq!(cat(&lab.host, &rl), "1");
    assert_eq!(lab.host.run(|| rl.read()).unwrap(), SysctlValue::Int(1));
    // Per interface: virbr0's stays off.
    let rl_br = Sysctl::RouteLocalnet("virbr0".into());
    assert_eq!(cat(&lab.host, &rl_br), "0");
    assert_eq!(lab.host.run(|| rl_br.read()).unwrap(), SysctlValue::Int(0));

    // Another namespace is not affected.
    assert_eq!(cat(&lab.outside, &Sysctl::IpForward), "0");
    assert_eq!(cat(&lab.outside, &rl), "0");
    // Nor is the host.
    assert_eq!(host_value(&Sysctl::IpForward), host_fwd);
}

#[test]
fn route_localnet_of_a_missing_interface_names_what_exists() {
    if !natkeeper_tests::can_run() {
        return;
    }
    let lab = Lab::article();
    for name in ["eth9", "../../ip_forward", ""] {
        let s = Sysctl::RouteLocalnet(name.into());
        let (read, write) = lab.host.run(|| (s.read(), s.write(true)));
        for r in [read.map(|_| ()), write] {
            match r {
                Err(Error::NoSuchInterface { name: n, existing }) => {
                    assert_eq!(n, name);
                    assert_eq!(existing, ["eth0", "lo", "virbr0", "vnet0", "vnet1"]);
                }
                other => panic!("{name:?}: {other:?}"),
            }
        }
    }
    assert_eq!(cat(&lab.host, &Sysctl::IpForward), "1");
}

#[test]
fn bridge_nf_call_iptables_is_read_and_written_in_the_namespace() {
    if !natkeeper_tests::can_run() {
        return;
    }
    let s = Sysctl::BridgeNfCallIptables;
    let host_before = host_value(&s);
    let a = Netns::new("brnf-a");
    let b = Netns::new("brnf-b");
    // On this project's kernels br_netfilter is present (built in or loaded) and a new namespace
    // starts with it on; where it is not, the key is absent — both are answers, never an error.
    let initial = a.run(|| s.read()).unwrap();
    if initial == SysctlValue::Absent {
        assert!(!s.path().exists());
        eprintln!("br_netfilter not loaded: net.bridge.bridge-nf-call-iptables is absent");
        return;
    }
    assert_eq!(initial.to_string(), cat(&a, &s));
    a.run(|| s.write(false)).unwrap();
    assert_eq!(cat(&a, &s), "0");
    assert_eq!(a.run(|| s.read()).unwrap(), SysctlValue::Int(0));
    a.run(|| s.write(true)).unwrap();
    assert_eq!(cat(&a, &s), "1");
    a.run(|| s.write(false)).unwrap();
    // The other namespace keeps its own value.
    assert_eq!(b.run(|| s.read()).unwrap().to_string(), cat(&b, &s));
    assert_eq!(cat(&b, &s), initial.to_string());
    assert_eq!(host_value(&s), host_before);
}

/// Without `br_netfilter` there is no `/proc/sys/net/bridge/*`. On a kernel that has it built in,
/// hide the directory behind an empty tmpfs in a mount namespace private to the test's thread, and
/// check that the key reads as absent and writing it fails with ENOENT.
#[test]
fn bridge_nf_call_iptables_absent_is_a_value_not_an_error() {
    use nix::mount::{MsFlags, mount};
    use nix::sched::{CloneFlags, unshare};

    if !natkeeper_tests::can_run() {
        return;
    }
    let ns = Netns::new("nobrnf");
    let s = Sysctl::BridgeNfCallIptables;
    let present = s.path().exists();
    let (read, write, exists) = ns.run(|| {
        if present {
            unshare(CloneFlags::CLONE_NEWNS).expect("unshare mount namespace");
            // Private first, so nothing below propagates to the host's mount namespace.
            mount(None::<&str>, "/", None::<&str>, MsFlags::MS_REC | MsFlags::MS_PRIVATE, None::<&str>)
                .expect("make / private");
            mount(Some("none"), "/proc/sys/net/bridge", Some("tmpfs"), MsFlags::empty(), None::<&str>)
                .expect("hide /proc/sys/net/bridge");
        }
        (s.read(), s.write(true), s.path().exists())
    });
    assert!(!exists);
    assert_eq!(read.unwrap(), SysctlValue::Absent);
    match write {
        Err(e @ Error::Sysctl { .. }) => {
            assert_eq!(e.errno(), Some(libc::ENOENT));
            assert!(e.to_string().starts_with("sysctl net.bridge.bridge-nf-call-iptables: "), "{e}");
        }
        other => panic!("{other:?}"),
    }
    // The hiding stayed in that thread's mount namespace: the process and a new thread in the same
    // network namespace see the key again.
    assert_eq!(s.path().exists(), present);
    if present {
        assert!(matches!(ns.run(|| s.read()).unwrap(), SysctlValue::Int(_)));
    }
}

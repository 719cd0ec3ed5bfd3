//! The `natkeeper` binary in the article's lab: exit codes, one-line errors, and that bad input never
//! touches the kernel.

use std::net::{Ipv4Addr, SocketAddrV4};
use std::path::PathBuf;
use std::process::Output;
use std::time::Duration;

use natkeeper_tests::Netns;
use natkeeper_tests::http::{EchoServer, get};
use natkeeper_tests::lab::{self, Lab};

const BIN: &str = env!("CARGO_BIN_EXE_natkeeper");

fn examples(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples").join(name).display().to_string()
}

fn natkeeper(ns: &Netns, args: &[&str]) -> Output {
    ns.cmd(BIN).args(args).output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn apply_plan_status_delete_in_the_lab() {
    if !natkeeper_tests::can_run() {
        return;
    }
    let lab = Lab::article();
    lab.host.iptables_restore(
        &[],
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/fixtures/libvirt9-iptables.rules"
        ))
        .unwrap(),
    );
    let config = examples("poor-man.toml");

    let plan = natkeeper(&lab.host, &["plan", "-c", &config, "--check"]);
    assert_eq!(plan.status.code(), Some(3), "drift before apply: {}", text(&plan.stderr));
    assert!(
        text(&plan.stdout).contains("+ forward tcp 192.168.1.201:8080 -> 192.168.122.42:80"),
        "{}",
        text(&plan.stdout)
    );

    let apply = natkeeper(&lab.host, &["apply", "-c", &config]);
    assert!(apply.status.success(), "{}", text(&apply.stderr));
    assert!(text(&apply.stdout).contains("in one transaction"));

    let _srv = EchoServer::start(&lab.guest(42).ns, &[80]);
    let echo =
        get(&lab.outside, None, SocketAddrV4::new(lab::HOST_PUBLIC, 8080), Duration::from_secs(2)).unwrap();
    assert_eq!(echo.server, SocketAddrV4::new(Ipv4Addr::new(192, 168, 122, 42), 80).into());

    let plan = natkeeper(&lab.host, &["plan", "-c", &config, "--check"]);
    assert_eq!(plan.status.code(), Some(0), "{}", text(&plan.stdout));
    assert!(text(&plan.stdout).contains("nothing to do"));

    let status = natkeeper(&lab.host, &["status", "--json", "--check"]);
    assert_eq!(status.status.code(), Some(0), "{}", text(&status.stderr));
    let json: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    let fwd = json["forwards"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["port"] == 8080 && f["public"] == "192.168.1.201")
        .unwrap();
    assert_eq!(fwd["guest"], "192.168.122.42");
    assert_eq!(fwd["counters"]["packets"], 1, "one connection was forwarded");
    assert_eq!(json["holes"].as_array().unwrap().len(), 2);
    assert!(json["holes"].as_array().unwrap().iter().all(|h| h["effective"] == true));

    // A hole pushed below libvirt's REJECT: status --check says so.
    lab.host.exec_ok("iptables", &["-D", "FORWARD", "1"]);
    lab.host.exec_ok("iptables", &["-D", "FORWARD", "1"]);
    lab.host.exec_ok(
        "iptables",
        &[
            "-A",
            "FORWARD",
            "-o",
            "virbr0",
            "-m",
            "connmark",
            "--mark",
            "0x4e4b0000/0xffff0000",
            "-m",
            "comment",
            "--comment",
            "natkeeper: virbr0 in",
            "-j",
            "ACCEPT",
        ],
    );
    let status = natkeeper(&lab.host, &["status", "--check"]);
    assert_eq!(status.status.code(), Some(3), "{}", text(&status.stdout));
    assert!(text(&status.stdout).contains("INEFFECTIVE"), "{}", text(&status.stdout));

    let delete = natkeeper(&lab.host, &["delete"]);
    assert!(delete.status.success(), "{}", text(&delete.stderr));
    assert!(!lab.host.nft_list().contains("natkeeper"));
}

#[test]
fn bad_configurations_exit_2_with_one_line_and_touch_nothing() {
    if !natkeeper_tests::can_run() {
        return;
    }
    let lab = Lab::article();
    let before = lab.host.nft_list();
    let dir = std::env::temp_dir().join(format!("natkeeper-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cases = [
        ("unknown key", "[[forward]]\nport = 80\nto = \"192.168.122.41\"\nfoo = 1\n", "unknown field `foo`"),
        ("bad address", "[[forward]]\nport = 80\nto = \"192.168.122.300\"\n", "not an IPv4 guest address"),
        ("bad port", "[[forward]]\nport = 70000\nto = \"192.168.122.41\"\n", "70000 is out of range"),
        (
            "range size",
            "[[forward]]\nport = \"8000-8009\"\nto = \"192.168.122.41:9000-9001\"\n",
            "has 10 ports",
        ),
        (
            "duplicate",
            "[[forward]]\nport = 80\nto = \"192.168.122.41\"\n[[forward]]\nport = 80\nto = \"192.168.122.42\"\n",
            "already forwarded by forward #1",
        ),
        (
            "1:1 clash",
            "[[nat]]\npublic = \"eth0:0\"\nguest = \"192.168.122.41\"\n[[forward]]\nport = 80\nto = \"192.168.122.42\"\non = \"192.168.1.211\"\n",
            "1:1 NAT",
        ),
        ("outside subnet", "[[forward]]\nport = 80\nto = \"10.0.0.1\"\n", "outside every network's subnet"),
        (
            "unknown label",
            "[[nat]]\npublic = \"eth0:9\"\nguest = \"192.168.122.41\"\n",
            "no address labelled `eth0:9`",
        ),
        ("unknown bridge", "[[network]]\nbridge = \"virbr7\"\n", "no bridge named `virbr7`"),
        ("syntax", "[[forward]\n", "TOML parse error"),
    ];
    for (what, config, expect) in cases {
        let path = dir.join(format!("{}.toml", what.replace(' ', "-")));
        std::fs::write(&path, config).unwrap();
        for cmd in ["plan", "apply"] {
            let out = natkeeper(&lab.host, &[cmd, "-c", path.to_str().unwrap()]);
            let err = text(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{what} ({cmd}): {err}");
            assert_eq!(err.trim_end().lines().count(), 1, "{what}: one line: {err}");
            assert!(err.contains(expect), "{what}: {err}");
        }
    }
    // --strict turns a missing public address into an error.
    let path = dir.join("strict.toml");
    std::fs::write(&path, "[[forward]]\nport = 80\nto = \"192.168.122.41\"\non = \"192.168.1.99\"\n")
        .unwrap();
    let out = natkeeper(&lab.host, &["apply", "--strict", "-c", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert_eq!(lab.host.nft_list(), before, "no bad input may change the kernel");
    let out = natkeeper(&lab.host, &["apply", "-c", "/nonexistent/natkeeper.toml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("cannot read /nonexistent/natkeeper.toml"));
    let out = natkeeper(&lab.host, &["frobnicate"]);
    assert_eq!(out.status.code(), Some(2));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn discover_and_doctor_describe_the_lab() {
    if !natkeeper_tests::can_run() {
        return;
    }
    let lab = Lab::article();
    lab.host.iptables_restore(
        &[],
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/fixtures/libvirt9-iptables.rules"
        ))
        .unwrap(),
    );
    let human = natkeeper(&lab.host, &["discover"]);
    assert!(human.status.success(), "{}", text(&human.stderr));
    let human = text(&human.stdout);
    assert!(human.contains("virbr0") && human.contains("192.168.122.0/24"), "{human}");
    assert!(human.contains("192.168.1.211/24") && human.contains("eth0:0"), "{human}");
    assert!(human.contains("libvirt: iptables backend"), "{human}");

    let json = natkeeper(&lab.host, &["discover", "--json"]);
    assert!(json.status.success(), "{}", text(&json.stderr));
    let d: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(d["bridges"][0]["name"], "virbr0");
    assert_eq!(d["bridges"][0]["ipv4"][0], "192.168.122.0/24");
    let ports: Vec<&str> =
        d["bridges"][0]["ports"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(ports, ["vnet0", "vnet1"]);
    assert_eq!(d["uplink"]["name"], "eth0");
    let label = d["uplink"]["addresses"].as_array().unwrap().iter().find(|a| a["label"] == "eth0:0").unwrap();
    assert_eq!(label["address"], "192.168.1.211/24");
    assert_eq!(label["secondary"], true);
    assert_eq!(d["firewall"]["libvirt"], "iptables");

    // libvirt's REJECT in FORWARD is what doctor warns about before natkeeper places its hole.
    let doctor = natkeeper(&lab.host, &["doctor", "--json"]);
    let findings: serde_json::Value = serde_json::from_slice(&doctor.stdout).unwrap();
    assert!(findings.as_array().unwrap().iter().any(|f| f["kind"] == "forward-rejected"), "{findings:#}");
}

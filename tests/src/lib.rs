//! Test support for natkeeper: network namespaces made by the test, the article's lab built inside
//! them, and a real-traffic HTTP echo check.
//!
//! Nothing here touches the namespace the tests were started in: every change happens in a namespace
//! created by [`Netns::new`], deleted again when it is dropped.

pub mod conformance;
pub mod http;
pub mod icmp;
pub mod lab;
pub mod netns;
pub mod oracle;

pub use netns::Netns;

/// True when the tests run as root with the tools they need (`ip`, `nft`, `iptables`); otherwise the
/// namespace tests print why and skip — except under `CI=true`, where that is a failure.
pub fn can_run() -> bool {
    let root = nix::unistd::Uid::effective().is_root();
    let tools = ["ip", "nft", "iptables", "iptables-save", "iptables-restore"].iter().all(|t| which(t));
    if root && tools {
        return true;
    }
    let why = if root { "missing ip/nft/iptables" } else { "not root" };
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("namespace tests cannot run under CI=true: {why}");
    }
    eprintln!("skipping namespace test: {why}");
    false
}

fn which(tool: &str) -> bool {
    std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join(tool).is_file()))
        .unwrap_or(false)
        || ["/usr/sbin", "/sbin"].iter().any(|d| std::path::Path::new(d).join(tool).is_file())
}

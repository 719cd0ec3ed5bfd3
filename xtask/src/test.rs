//! `cargo xtask test`: everything CI checks, in the order it fails fastest.
//!
//! 1. installs the oracles the tests run (`nft`, `iptables`, `ip`) when missing (Debian, as root);
//! 2. unit, integration and lab tests of the whole workspace (`cargo test --workspace`); the
//!    namespace tests need root and create every namespace they use;
//! 3. the VM tests (`cargo xtask vmtest`): real QEMU guests on a real libvirt `virbr0`.

use std::process::Command;

use crate::{deps, vmtest};

/// The Debian packages the namespace tests run as oracles and to build test networks.
const TEST_DEPS: &[(&str, &str)] = &[
    ("nft", "nftables"),
    ("iptables", "iptables"),
    ("ip", "iproute2"),
    ("bridge", "iproute2"),
    ("setpriv", "util-linux"),
    ("time", "time"),
];

/// Runs the whole test suite.
pub(crate) fn run(args: &[String]) -> anyhow::Result<()> {
    if let Some(a) = args.first() {
        anyhow::bail!("cargo xtask test takes no arguments (got `{a}`)");
    }
    deps::ensure(TEST_DEPS)?;
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    deps::run(Command::new(&cargo).args(["test", "--workspace", "--all-targets"]))?;
    deps::run(Command::new(&cargo).args(["test", "--workspace", "--doc"]))?;
    vmtest::run(&[])
}

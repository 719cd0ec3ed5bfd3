//! Shared by the `faults_*` tests: the real `natkeeper` binary, built once per test binary.
//!
//! The binary is `target/<profile>/natkeeper`, next to the `deps/` directory this test runs from.
//! `cargo test --workspace` builds it before any test runs; a lone `cargo test -p natkeeper-tests`
//! does not, so the first test that needs it runs `cargo build -p natkeeper-cli` (a no-op when it is
//! up to date, and it also keeps a stale binary from being tested). `NATKEEPER_BIN` overrides all of
//! this (e.g. `target/dist/natkeeper` to test the static release binary).

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

/// The `natkeeper` binary to run.
pub(crate) fn natkeeper() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Some(p) = std::env::var_os("NATKEEPER_BIN") {
            return PathBuf::from(p);
        }
        let exe = std::env::current_exe().expect("current_exe");
        // target/<profile>/deps/faults_x-HASH -> target/<profile>
        let profile_dir = exe.parent().and_then(|d| d.parent()).expect("target/<profile>").to_path_buf();
        let bin = profile_dir.join("natkeeper");
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut build = Command::new(cargo);
        build.args(["build", "-q", "-p", "natkeeper-cli", "--bin", "natkeeper"]);
        if profile_dir.file_name().is_some_and(|n| n == "release") {
            build.arg("--release");
        }
        if let Some(target) = profile_dir.parent() {
            build.env("CARGO_TARGET_DIR", target);
        }
        build.current_dir(env!("CARGO_MANIFEST_DIR"));
        let status = build.status().expect("run cargo build -p natkeeper-cli");
        assert!(status.success(), "cargo build -p natkeeper-cli failed ({status})");
        assert!(bin.is_file(), "{} is missing after cargo build", bin.display());
        bin
    })
    .clone()
}

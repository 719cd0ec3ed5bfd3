//! `cargo xtask`: the project's automation, in Rust.
//!
//! * `cargo xtask demo`   — builds the article's lab in network namespaces and shows natkeeper at work;
//! * `cargo xtask test`   — installs what the tests need (Debian), then runs unit, integration, lab and VM tests;
//! * `cargo xtask vmtest` — real QEMU guests on a real libvirt `virbr0` (see `vmtest`);
//! * `cargo xtask bench`  — natkeeper side by side with `nft` and `iptables`;
//! * `cargo xtask dist`   — the static, stripped `natkeeper` binary.

mod bench;
mod demo;
mod deps;
mod dist;
mod test;
mod vmtest;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (cmd, rest) = match args.split_first() {
        Some((cmd, rest)) => (cmd.as_str(), rest),
        None => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let result = match cmd {
        "bench" => bench::run(rest),
        "demo" => demo::run(rest),
        "test" => test::run(rest),
        "vmtest" => vmtest::run(rest),
        "dist" => dist::run(rest),
        "-h" | "--help" | "help" => {
            println!("{USAGE}");
            Ok(())
        }
        other => Err(anyhow::anyhow!("unknown xtask command `{other}`\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e:#}");
            ExitCode::FAILURE
        }
    }
}

const USAGE: &str = "usage: cargo xtask <demo|test|vmtest|bench|dist> [ARGS...]";

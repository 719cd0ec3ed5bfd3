//! The `natkeeper` binary: everything is in `natkeeper_cli::main_with`.

use std::process::ExitCode;

fn main() -> ExitCode {
    natkeeper_cli::main_with(std::env::args_os())
}

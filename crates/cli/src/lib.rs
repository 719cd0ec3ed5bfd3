//! The `natkeeper` command line: argument parsing, printing and exit codes only; the work is done by
//! the `natkeeper` library.
//!
//! Exit codes: 0 done, 1 failed, 2 bad usage or configuration, 3 drift found (`plan --check`,
//! `status --check`).

mod args;
mod commands;
mod iptables;
mod output;

use std::ffi::OsString;
use std::process::ExitCode;

use clap::Parser;

pub use args::Cli;

/// Exit code: done.
pub const EXIT_OK: u8 = 0;
/// Exit code: failed.
pub const EXIT_FAILED: u8 = 1;
/// Exit code: bad usage or configuration.
pub const EXIT_USAGE: u8 = 2;
/// Exit code: drift found.
pub const EXIT_DRIFT: u8 = 3;

/// A failure with the exit code it maps to.
#[derive(Debug)]
pub struct Failure {
    /// The exit code.
    pub code: u8,
    /// The message (one line).
    pub error: anyhow::Error,
}

impl Failure {
    /// A usage or configuration error (exit code 2).
    pub fn usage(error: impl Into<anyhow::Error>) -> Failure {
        Failure { code: EXIT_USAGE, error: error.into() }
    }
}

impl From<anyhow::Error> for Failure {
    fn from(error: anyhow::Error) -> Failure {
        Failure { code: EXIT_FAILED, error }
    }
}

impl From<natkeeper::Error> for Failure {
    fn from(e: natkeeper::Error) -> Failure {
        let code = if matches!(e, natkeeper::Error::Config(_)) { EXIT_USAGE } else { EXIT_FAILED };
        Failure { code, error: e.into() }
    }
}

/// Parses `args`, runs the command and returns its exit code; errors are printed as one line.
pub fn main_with<I: IntoIterator<Item = OsString>>(args: I) -> ExitCode {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_USAGE } else { EXIT_OK };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let chatty = matches!(cli.command, args::Command::Watch { .. });
    output::init_logging(cli.verbose, cli.quiet, chatty);
    match commands::run(&cli) {
        Ok(code) => ExitCode::from(code),
        Err(f) if is_broken_pipe(&f.error) => ExitCode::from(EXIT_OK),
        Err(f) => {
            eprintln!("natkeeper: {}", one_line(&f.error));
            ExitCode::from(f.code)
        }
    }
}

/// The longest error line printed: a message that quotes a huge value back is cut.
const MAX_ERROR_LINE: usize = 500;

fn one_line(e: &anyhow::Error) -> String {
    // The cause chain, each cause once: several error types quote their source in their own text.
    let mut line = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if !line.contains(&text) {
            if !line.is_empty() {
                line.push_str(": ");
            }
            line.push_str(&text);
        }
    }
    let line = line.replace('\n', " ");
    if line.len() <= MAX_ERROR_LINE {
        return line;
    }
    let mut cut = MAX_ERROR_LINE;
    while !line.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}… ({} more bytes)", &line[..cut], line.len() - cut)
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

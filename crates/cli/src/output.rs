//! Logging setup and printing helpers.

use std::io::Write;

use tracing_subscriber::EnvFilter;

/// Logs to stderr: warnings by default (info for daemons: `chatty`), `-v` debug, `-vv` trace, `-q`
/// errors only; `RUST_LOG` wins.
pub(crate) fn init_logging(verbose: u8, quiet: bool, chatty: bool) {
    let level = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) if chatty => "info",
        (false, 0) => "warn",
        (false, 1) => "debug",
        (false, _) => "trace",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}

/// Writes `text` to stdout (a closed pipe ends quietly).
pub(crate) fn print(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(())
}

/// Writes `value` as pretty JSON and a newline.
pub(crate) fn print_json<T: serde::Serialize>(value: &T) -> anyhow::Result<()> {
    // Streamed: a large status is never held as one string.
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    serde_json::to_writer_pretty(&mut out, value)?;
    out.write_all(b"\n")?;
    out.flush()?;
    Ok(())
}

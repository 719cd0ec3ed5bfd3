//! `natkeeper iptables-restore` and `natkeeper iptables-save`: the iptables tools' options and files,
//! with no iptables process.

use crate::Failure;

/// `iptables-restore [-c] [-n|--noflush] [-t|--test] [-T TABLE] [FILE]`.
pub(crate) fn restore(args: &[String]) -> Result<u8, Failure> {
    let _ = args;
    Err(Failure::usage(anyhow::anyhow!("iptables-restore is not built yet")))
}

/// `iptables-save [-c] [-t TABLE] [-f FILE]`.
pub(crate) fn save(args: &[String]) -> Result<u8, Failure> {
    let _ = args;
    Err(Failure::usage(anyhow::anyhow!("iptables-save is not built yet")))
}

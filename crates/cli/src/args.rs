//! Command-line arguments.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Port forwards, 1:1 NAT and egress NAT for libvirt guests, programmed over netlink and kept in place.
#[derive(Debug, Parser)]
#[command(name = "natkeeper", version, max_term_width = 100)]
pub struct Cli {
    /// More log output (-v: debug, -vv: trace).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Only errors.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// The configuration file option.
#[derive(Debug, Args)]
pub struct ConfigArg {
    /// Configuration file.
    #[arg(
        short = 'c',
        long = "config",
        value_name = "FILE",
        default_value = "/etc/natkeeper/natkeeper.toml"
    )]
    pub path: PathBuf,
    /// A public address the host does not have is an error, not a warning.
    #[arg(long)]
    pub strict: bool,
}

/// natkeeper's commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show what `apply` would change (+ add, - remove, ~ rewrite).
    Plan {
        #[command(flatten)]
        config: ConfigArg,
        /// Exit with 3 when the kernel does not match the configuration.
        #[arg(long)]
        check: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Make the kernel match the configuration, in one atomic transaction.
    Apply {
        #[command(flatten)]
        config: ConfigArg,
    },
    /// Show natkeeper's forwards, 1:1 NATs and holes in the kernel, with live counters.
    Status {
        /// Print JSON.
        #[arg(long)]
        json: bool,
        /// Exit with 3 when a hole is missing or below a rule that rejects.
        #[arg(long)]
        check: bool,
    },
    /// Remove natkeeper's table and holes (nothing else).
    Delete,
    /// Show the host as natkeeper sees it: bridges and guests, uplink and its addresses (eth0:0...),
    /// sysctls, and the firewall landscape (libvirt's backend, Docker, firewalld, what rejects).
    Discover {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Explain what would stop forwarded traffic on this host, and how to fix it.
    Doctor {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// iptables-restore without forking iptables: the same options and files, one atomic transaction.
    #[command(name = "iptables-restore", disable_help_flag = true)]
    IptablesRestore {
        /// The arguments of iptables-restore: [-c] [-n|--noflush] [-t|--test] [-T TABLE] [FILE].
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// iptables-save without forking iptables: the same options, the same text.
    #[command(name = "iptables-save", disable_help_flag = true)]
    IptablesSave {
        /// The arguments of iptables-save: [-c] [-t TABLE] [-f FILE].
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Apply, then keep the rules in place: repair within milliseconds whenever libvirt,
    /// iptables-restore, firewalld or anyone else rewrites the firewall. SIGHUP re-reads the
    /// configuration; SIGTERM/SIGINT exit, leaving the rules in place.
    Watch {
        #[command(flatten)]
        config: ConfigArg,
        /// On exit, remove natkeeper's table and holes.
        #[arg(long)]
        cleanup_on_exit: bool,
    },
}

//! The command line of `cargo xtask vmtest`.

use anyhow::{Result, bail};

use super::scenarios::Scenario;

/// Usage text.
pub(crate) const USAGE: &str = "\
usage: cargo xtask vmtest [SCENARIO...] [--keep] [--accel kvm|tcg|auto] [--release]

Boots QEMU guests on a real libvirt `default` network inside network namespaces and checks
natkeeper's forwards and 1:1 NAT with real traffic. Without SCENARIO, runs all of:
  poor-man          port forwards of the article's poor man's setup (libvirt 9, iptables backend)
  rich-man          1:1 NAT via eth0:0 and eth0:1, both directions
  libvirt-restart   `natkeeper watch` across libvirtd restart, net-destroy/start, lost FORWARD jumps
  libvirt-nftables  libvirt 11 with firewall_backend = \"nftables\", across a libvirtd restart
  iptables-service  `natkeeper watch` across an iptables-restore without --noflush

  --keep       leave the lab running at the end and print how to reach it
  --accel A    kvm, tcg, or auto (default: KVM when a probe guest boots under it, else TCG)
  --release    build and test target/release/natkeeper instead of target/debug/natkeeper";

/// How the guests are accelerated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AccelChoice {
    /// Always KVM.
    Kvm,
    /// Always TCG (software emulation).
    Tcg,
    /// KVM when a probe guest boots under it within a few seconds, else TCG.
    Auto,
}

/// Parsed options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Options {
    /// Scenarios to run, in the order given (all when none were named).
    pub(crate) scenarios: Vec<Scenario>,
    /// Leave the lab up at the end.
    pub(crate) keep: bool,
    /// Accelerator choice.
    pub(crate) accel: AccelChoice,
    /// Test the release build of natkeeper.
    pub(crate) release: bool,
    /// Only print the usage.
    pub(crate) help: bool,
}

impl Options {
    /// Parses the arguments after `vmtest`.
    pub(crate) fn parse(args: &[String]) -> Result<Options> {
        let mut opts = Options {
            scenarios: Vec::new(),
            keep: false,
            accel: AccelChoice::Auto,
            release: false,
            help: false,
        };
        let mut it = args.iter();
        while let Some(arg) = it.next() {
            match arg.as_str() {
                "--keep" => opts.keep = true,
                "--release" => opts.release = true,
                "-h" | "--help" => opts.help = true,
                "--accel" => {
                    let Some(v) = it.next() else {
                        bail!("--accel needs a value: kvm, tcg or auto\n{USAGE}")
                    };
                    opts.accel = parse_accel(v)?;
                }
                other => {
                    if let Some(v) = other.strip_prefix("--accel=") {
                        opts.accel = parse_accel(v)?;
                    } else if other.starts_with('-') {
                        bail!("unknown option `{other}`\n{USAGE}");
                    } else {
                        match Scenario::from_name(other) {
                            Some(s) if !opts.scenarios.contains(&s) => opts.scenarios.push(s),
                            Some(_) => {}
                            None => bail!("unknown scenario `{other}`\n{USAGE}"),
                        }
                    }
                }
            }
        }
        if opts.scenarios.is_empty() {
            opts.scenarios = Scenario::ALL.to_vec();
        }
        Ok(opts)
    }
}

fn parse_accel(v: &str) -> Result<AccelChoice> {
    Ok(match v {
        "kvm" => AccelChoice::Kvm,
        "tcg" => AccelChoice::Tcg,
        "auto" => AccelChoice::Auto,
        other => bail!("--accel: expected kvm, tcg or auto, got `{other}`"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Options> {
        Options::parse(&args.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn no_arguments_run_every_scenario_with_auto_accel() {
        let o = parse(&[]).unwrap();
        assert_eq!(o.scenarios, Scenario::ALL.to_vec());
        assert_eq!(o.accel, AccelChoice::Auto);
        assert!(!o.keep && !o.release);
    }

    #[test]
    fn named_scenarios_keep_their_order_and_drop_repeats() {
        let o = parse(&["rich-man", "--accel", "tcg", "poor-man", "rich-man", "--keep"]).unwrap();
        assert_eq!(o.scenarios, vec![Scenario::RichMan, Scenario::PoorMan]);
        assert_eq!(o.accel, AccelChoice::Tcg);
        assert!(o.keep);
        assert_eq!(parse(&["--accel=kvm"]).unwrap().accel, AccelChoice::Kvm);
    }

    #[test]
    fn bad_arguments_are_errors() {
        assert!(parse(&["nope"]).is_err());
        assert!(parse(&["--accel"]).is_err());
        assert!(parse(&["--accel", "hvf"]).is_err());
        assert!(parse(&["--frobnicate"]).is_err());
    }
}

//! The commands: each loads what it needs, calls the library, prints.

use std::fmt::Write as _;

use natkeeper::{Discovery, Host, Mode, Options, Policy, Severity, Status};

use crate::args::{Cli, Command, ConfigArg};
use crate::output::{print, print_json};
use crate::{EXIT_DRIFT, EXIT_OK, Failure};

/// Runs the parsed command; returns the exit code.
pub(crate) fn run(cli: &Cli) -> Result<u8, Failure> {
    match &cli.command {
        Command::Plan { config, check, json } => plan(config, *check, *json),
        Command::Apply { config } => apply(config, cli.quiet),
        Command::Status { json, check } => status(*json, *check),
        Command::Delete => delete(cli.quiet),
        Command::Discover { json } => discover(*json),
        Command::Doctor { json } => doctor(*json),
        Command::Watch { config, cleanup_on_exit } => watch(config, *cleanup_on_exit),
        Command::IptablesRestore { args } => crate::iptables::restore(args),
        Command::IptablesSave { args } => crate::iptables::save(args),
    }
}

fn load(config: &ConfigArg) -> Result<(Policy, Options), Failure> {
    let policy = Policy::load(&config.path).map_err(Failure::usage)?;
    let mode = if config.strict { Mode::Strict } else { Mode::Normal };
    Ok((policy, Options { mode }))
}

fn host() -> Result<Host, Failure> {
    Ok(Host::open()?)
}

fn plan(config: &ConfigArg, check: bool, json: bool) -> Result<u8, Failure> {
    let (policy, opts) = load(config)?;
    let (plan, resolved) = host()?.plan(&policy, &opts)?;
    for w in &resolved.warnings {
        tracing::warn!("{w}");
    }
    if json {
        let lines: Vec<String> = plan
            .changes
            .iter()
            .flat_map(|c| c.to_string().lines().map(str::to_string).collect::<Vec<_>>())
            .collect();
        print_json(&serde_json::json!({ "generation": plan.generation, "changes": lines }))?;
    } else if plan.is_empty() {
        print("nothing to do: the kernel matches the configuration\n")?;
    } else {
        print(&plan.to_string())?;
    }
    Ok(if check && !plan.is_empty() { EXIT_DRIFT } else { EXIT_OK })
}

/// How many lines of its plan `apply` prints.
const APPLY_LINES: usize = 40;

fn apply(config: &ConfigArg, quiet: bool) -> Result<u8, Failure> {
    let (policy, opts) = load(config)?;
    let mut host = host()?;
    let resolved = host.resolve(&policy, &opts)?;
    drop(policy); // with thousands of forwards, the parsed file is the largest thing in memory
    let applied = host.apply_resolved(resolved)?;
    for w in &applied.warnings {
        tracing::warn!("{w}");
    }
    if quiet {
        return Ok(EXIT_OK);
    }
    let mut out = String::new();
    if applied.enabled_ip_forward {
        out.push_str("turned on net.ipv4.ip_forward (forwards and 1:1 NAT need it)\n");
    }
    if applied.plan.is_empty() {
        out.push_str("nothing to do: the kernel matches the configuration\n");
    } else {
        // A large plan is summed up: `natkeeper plan` lists every line.
        let total = applied.plan.line_count();
        for line in applied.plan.lines().take(APPLY_LINES) {
            out.push_str(&line);
            out.push('\n');
        }
        if total > APPLY_LINES {
            let _ = writeln!(out, "... and {} more", total - APPLY_LINES);
        }
        let n = applied.plan.changes.len();
        let _ = writeln!(out, "applied {n} change{} in one transaction", if n == 1 { "" } else { "s" });
    }
    print(&out)?;
    Ok(EXIT_OK)
}

fn status(json: bool, check: bool) -> Result<u8, Failure> {
    let s = host()?.status()?;
    if json {
        print_json(&s)?;
    } else {
        print(&render_status(&s))?;
    }
    Ok(if check && !s.unprotected.is_empty() { EXIT_DRIFT } else { EXIT_OK })
}

fn render_status(s: &Status) -> String {
    let mut out = String::new();
    if !s.table {
        out.push_str("table ip natkeeper: absent (run `natkeeper apply`)\n");
    }
    if !s.forwards.is_empty() {
        out.push_str("forwards:\n");
        for f in &s.forwards {
            let _ = writeln!(
                out,
                "  {} {}:{} -> {}:{}  {} connections, {} bytes",
                f.proto, f.public, f.port, f.guest, f.guest_port, f.counters.packets, f.counters.bytes
            );
        }
    }
    if !s.nats.is_empty() {
        out.push_str("1:1 nat:\n");
        for n in &s.nats {
            let _ = writeln!(
                out,
                "  {} <-> {}  in: {} connections, out: {} connections",
                n.public, n.guest, n.inbound.packets, n.outbound.packets
            );
        }
    }
    if !s.holes.is_empty() {
        out.push_str("holes:\n");
        for h in &s.holes {
            let state = if h.effective { "effective" } else { "INEFFECTIVE: below a rule that rejects" };
            let _ = writeln!(
                out,
                "  {} #{} \"{}\": {state}, {} packets",
                h.chain, h.position, h.comment, h.counters.packets
            );
        }
    }
    for u in &s.unprotected {
        let _ = writeln!(out, "warning: {u} rejects natkeeper's connections and has no effective hole");
    }
    out
}

fn delete(quiet: bool) -> Result<u8, Failure> {
    let plan = host()?.delete()?;
    if !quiet {
        if plan.is_empty() {
            print("nothing of natkeeper's is in the kernel\n")?;
        } else {
            print(&plan.to_string())?;
        }
    }
    Ok(EXIT_OK)
}

fn watch(config: &ConfigArg, cleanup_on_exit: bool) -> Result<u8, Failure> {
    use natkeeper::{Control, WatchOptions, Watcher};
    use signal_hook::low_level::pipe;

    let (policy, _) = load(config)?;
    let control = Control::new().map_err(|e| Failure::from(anyhow::Error::from(e)))?;
    let (stop, reload, waker) = control.handles().map_err(|e| Failure::from(anyhow::Error::from(e)))?;
    let register = || -> std::io::Result<()> {
        for sig in [libc::SIGTERM, libc::SIGINT] {
            signal_hook::flag::register(sig, stop.clone())?;
            pipe::register(sig, waker.try_clone()?)?;
        }
        signal_hook::flag::register(libc::SIGHUP, reload.clone())?;
        pipe::register(libc::SIGHUP, waker.try_clone()?)?;
        Ok(())
    };
    register()
        .map_err(|e| Failure::from(anyhow::Error::from(e).context("cannot install signal handlers")))?;

    let path = config.path.clone();
    let mut watcher = Watcher::new(policy, move || Policy::load(&path), WatchOptions::default())?;
    tracing::info!("watching (config {})", config.path.display());
    let stats = watcher.run(&control)?;
    tracing::info!(
        "stopping: {} checks, {} repairs, {} foreign changes, {} overruns",
        stats.checks,
        stats.repairs,
        stats.foreign_events,
        stats.overruns
    );
    if cleanup_on_exit {
        let plan = host()?.delete()?;
        tracing::info!("removed natkeeper's rules ({} changes)", plan.changes.len());
    }
    Ok(EXIT_OK)
}

fn discover(json: bool) -> Result<u8, Failure> {
    let d = Discovery::read().map_err(|e| Failure::from(anyhow::Error::from(e)))?;
    if json {
        print_json(&d)?;
    } else {
        print(&d.to_string())?;
    }
    Ok(EXIT_OK)
}

fn doctor(json: bool) -> Result<u8, Failure> {
    let d = Discovery::read().map_err(|e| Failure::from(anyhow::Error::from(e)))?;
    let findings = natkeeper::doctor(&d);
    if json {
        print_json(&findings)?;
    } else if findings.is_empty() {
        print("nothing found that would stop forwarded traffic\n")?;
    } else {
        let text: String = findings.iter().map(|f| format!("{f}\n")).collect();
        print(&text)?;
    }
    let errors = findings.iter().any(|f| f.severity == Severity::Error);
    Ok(if errors { crate::EXIT_DRIFT } else { EXIT_OK })
}

//! Differential test against iptables 1.8.9: each command of `fixtures/edge/cases.cmds` was run
//! alone in a fresh network namespace (`fixtures/capture.py`); natkeeper must accept exactly
//! what iptables accepted and print what iptables-save printed, except for the documented
//! cases below.

mod support;

use natkeeper_iptables::{Command, parse_command};

/// iptables 1.8.9 accepts these, natkeeper refuses them on purpose.
const STRICTER: &[(&str, &str)] = &[
    ("-A INPUT -p tcp ! --sport 0:65535", "iptables-nft drops the test and installs `-p tcp` (any port)"),
    ("-A INPUT -p tcp ! --tcp-flags NONE NONE", "iptables-nft drops the test and installs `-p tcp`"),
    ("-A INPUT -p udp --dport 65536", "iptables truncates it to port 0"),
    ("-A INPUT -j REJECT --reject-with \"\"", "an empty name is a prefix of every reject type"),
    ("-A INPUT -m physdev --physdev-in \"\"", "an empty interface name"),
    ("-A INPUT -s 1.2.3.4,5.6.7.8 -j DROP", "address lists: iptables expands them into several rules"),
    ("-A INPUT -p sctp --dport 5", "the sctp match is not modelled"),
    (
        "-t nat -A POSTROUTING -p udp -j SNAT --to-source 1.2.3.4:100-200/300",
        "SNAT revision 0 has no base port field: iptables sets the offset flag and loses the base",
    ),
    ("-A INPUT -p icmp --icmp-type 3/1:4", "iptables-save prints the code range as `3/1`"),
    ("-A INPUT -m conntrack --ctorigsrcport 5:0", "iptables-save prints the range as `5`"),
];

/// Accepted by iptables or not depending on the ruleset already loaded (here: empty).
const STATE_DEPENDENT: &[&str] = &["-I INPUT 2 -j ACCEPT"];

/// iptables refuses these only when the kernel sees the whole ruleset (a jump to a chain that
/// does not exist); a single command cannot know. (`RestoreFile::to_saved` checks both kinds.)
const KERNEL_ONLY: &[&str] = &["-A INPUT -j NOSUCHCHAIN"];

struct Case {
    cmd: String,
    rc: String,
    lines: Vec<String>,
}

fn cases() -> Vec<Case> {
    let path = support::fixtures().join("edge/cases.expected");
    let text = std::fs::read_to_string(&path).expect("edge/cases.expected");
    let mut out: Vec<Case> = Vec::new();
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        if let Some(cmd) = line.strip_prefix("$ ") {
            out.push(Case { cmd: cmd.to_owned(), rc: String::new(), lines: Vec::new() });
        } else if let (Some(rc), Some(c)) = (line.strip_prefix("rc="), out.last_mut()) {
            c.rc = rc.to_owned();
        } else if let Some(c) = out.last_mut() {
            c.lines.push(line.to_owned());
        }
    }
    out
}

/// What iptables-save shows for an accepted command, in the fixture's `[table] line` form.
fn shown(cmd: &Command) -> Vec<String> {
    let t = cmd.table();
    match cmd {
        Command::Append(r) | Command::Insert { rule: r, .. } => vec![format!("[{t}] {r}")],
        Command::NewChain { chain, .. } => vec![format!("[{t}] :{chain} - [0:0]")],
        Command::Policy { chain, policy, .. } if policy.to_string() != "ACCEPT" => {
            vec![format!("[{t}] :{chain} {policy} [0:0]")]
        }
        _ => Vec::new(),
    }
}

#[test]
fn iptables_1_8_9_edge_cases() {
    let cases = cases();
    assert!(cases.len() > 200, "{} cases", cases.len());
    let mut failures = Vec::new();
    let (mut same, mut stricter, mut kernel_only) = (0, 0, 0);
    let mut used = Vec::new();
    for c in &cases {
        let words = support::shell_words(&c.cmd);
        let parsed = parse_command(&words);
        let verdict = match (c.rc.as_str(), &parsed) {
            ("0", Ok(cmd)) if shown(cmd) == c.lines => Ok("same"),
            ("0", Ok(cmd)) => Err(format!("printed {:?}, iptables {:?}", shown(cmd), c.lines)),
            ("0", Err(e)) if STRICTER.iter().any(|(s, _)| *s == c.cmd) => {
                println!("stricter: `{}`: {e}", c.cmd);
                used.push(c.cmd.clone());
                Ok("stricter")
            }
            ("0", Err(e)) => Err(format!("refused ({e}), iptables accepted: {:?}", c.lines)),
            (_, Err(e)) => {
                println!("refused as by iptables: `{}`: {e}", c.cmd);
                Ok("same")
            }
            (_, Ok(_)) if KERNEL_ONLY.contains(&c.cmd.as_str()) => Ok("kernel"),
            (_, Ok(_)) if STATE_DEPENDENT.contains(&c.cmd.as_str()) => Ok("kernel"),
            (rc, Ok(cmd)) => Err(format!("accepted as `{cmd}`, iptables rc={rc}")),
        };
        match verdict {
            Ok("same") => same += 1,
            Ok("stricter") => stricter += 1,
            Ok(_) => kernel_only += 1,
            Err(why) => failures.push(format!("`{}`: {why}", c.cmd)),
        }
    }
    println!(
        "{} cases: {same} as iptables, {stricter} refused on purpose, {kernel_only} left to the kernel",
        cases.len()
    );
    for (s, _) in STRICTER {
        if !used.iter().any(|u| u == s) {
            failures.push(format!("`{s}`: listed as refused on purpose, but not refused"));
        }
    }
    assert!(failures.is_empty(), "{} differences:\n{}", failures.len(), failures.join("\n"));
}

//! The encoder against the captures of `shared/reference/iptables-nft-1.8.9.md`, Appendix A:
//! for each rule command of each case, the NEWRULE iptables-nft 1.8.9 sent (decoded there as
//! `SENT RULE ...` and one `[ expr ... ]` line per expression) equals natkeeper's rule, rendered
//! the same way: every expression, every field, every xt info byte, and `NFTA_RULE_COMPAT`. And
//! each rule reads back (`decode`) as the line iptables-save printed for it.

mod support;

use natkeeper_iptables::nft::expr::{BitwiseOp, CmpOp, MetaKey, PayloadBase, PayloadOp};
use natkeeper_iptables::nft::{Data, Expr, Verdict};
use natkeeper_iptables::{Command, decode, encode, parse_command};

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn value(b: &[u8]) -> String {
    format!("value=0x{} ({}B)", hex(b), b.len())
}

/// One expression as the reference's `mnlparse.py` prints it.
fn render(e: &Expr) -> String {
    match e {
        Expr::Meta(natkeeper_iptables::nft::expr::Meta::Load { key, dreg }) => {
            let k = match key {
                MetaKey::IifName => "iifname(6)",
                MetaKey::OifName => "oifname(7)",
                MetaKey::L4Proto => "l4proto(16)",
                MetaKey::Mark => "mark(3)",
                _ => "other",
            };
            format!("[ meta key={k} dreg={} ]", dreg.0)
        }
        Expr::Cmp(c) => {
            let op = match c.op {
                CmpOp::Eq => "eq",
                CmpOp::Neq => "neq",
                CmpOp::Lt => "lt",
                CmpOp::Lte => "lte",
                CmpOp::Gt => "gt",
                CmpOp::Gte => "gte",
                CmpOp::Other(_) => "other",
            };
            format!("[ cmp sreg={} op={op} data={} ]", c.sreg.0, value(&c.data))
        }
        Expr::Payload(p) => {
            let base = match p.base {
                PayloadBase::Network => "network",
                PayloadBase::Transport => "transport",
                _ => "other",
            };
            let dreg = match p.op {
                PayloadOp::Load { dreg } => dreg.0,
                PayloadOp::Store { .. } => 99,
            };
            format!("[ payload dreg={dreg} base={base} offset={} len={} ]", p.offset, p.len)
        }
        Expr::Bitwise(b) => match &b.op {
            BitwiseOp::Bool { mask, xor } => format!(
                "[ bitwise sreg={} dreg={} len={} mask={} xor={} ]",
                b.sreg.0,
                b.dreg.0,
                b.len,
                value(mask),
                value(xor)
            ),
            BitwiseOp::Shift { .. } => "[ bitwise shift ]".into(),
        },
        Expr::Range(r) => format!(
            "[ range sreg={} op={} from={} to={} ]",
            r.sreg.0,
            if r.op == CmpOp::Eq { "eq" } else { "neq" },
            value(&r.from),
            value(&r.to)
        ),
        Expr::Counter(c) => format!("[ counter bytes={} packets={} ]", c.bytes, c.packets),
        Expr::Immediate(i) => {
            let data = match &i.data {
                Data::Verdict(v) => {
                    let (name, code, chain) = match v {
                        Verdict::Accept => ("accept", 1u32, None),
                        Verdict::Drop => ("drop", 0, None),
                        Verdict::Return => ("return", (-5i32) as u32, None),
                        Verdict::Jump(c) => ("jump", (-3i32) as u32, Some(c)),
                        Verdict::Goto(c) => ("goto", (-4i32) as u32, Some(c)),
                        _ => ("other", 0, None),
                    };
                    match chain {
                        Some(c) => format!("verdict{{code={name}(0x{code:08x}), chain='{c}'}}"),
                        None => format!("verdict{{code={name}(0x{code:08x})}}"),
                    }
                }
                Data::Value(v) => value(v),
            };
            format!("[ immediate dreg={} data={data} ]", i.dreg.0)
        }
        Expr::Limit(l) => {
            format!(
                "[ limit rate={} unit={} burst={} type={} flags={} ]",
                l.rate, l.unit, l.burst, l.kind, l.flags
            )
        }
        Expr::Match(x) | Expr::Target(x) => format!(
            "[ {} name='{}' rev={} info=0x{} ({}B) ]",
            e.name(),
            x.name,
            x.rev,
            hex(&x.info),
            x.info.len()
        ),
        other => format!("[ {} ]", other.name()),
    }
}

struct Case {
    name: String,
    commands: Vec<String>,
    sent: Vec<Vec<String>>,
    saved: Vec<String>,
}

/// The cases of Appendix A: commands, the `SENT RULE` blocks, the iptables-save rule lines.
fn cases(text: &str) -> Vec<Case> {
    let appendix = text.split("## Appendix A").nth(1).unwrap_or_default();
    let appendix = appendix.split("## Appendix B").next().unwrap_or_default();
    let mut out: Vec<Case> = Vec::new();
    let mut section = "";
    for line in appendix.lines() {
        if let Some(name) = line.strip_prefix("### ") {
            out.push(Case { name: name.to_owned(), commands: vec![], sent: vec![], saved: vec![] });
            continue;
        }
        let Some(case) = out.last_mut() else { continue };
        if line.starts_with("Commands") {
            section = "commands";
        } else if line.starts_with("Netlink messages sent") {
            section = "sent";
        } else if line.starts_with("`iptables-save` rule lines") {
            section = "saved";
        } else if line.starts_with("`nft -a") {
            section = "";
        } else if line.starts_with("```") {
        } else if section == "commands" {
            if let Some(cmd) = line.strip_prefix("$ iptables ") {
                case.commands.push(cmd.split("   (rc=").next().unwrap_or_default().to_owned());
            }
        } else if section == "sent" {
            if line.starts_with("SENT RULE") {
                case.sent.push(vec![line.to_owned()]);
            } else if line.starts_with("SENT") {
                case.sent.push(Vec::new());
            } else if let (Some(block), true) = (case.sent.last_mut(), line.starts_with("    [")) {
                block.push(line.trim().to_owned());
            }
        } else if section == "saved" && line.starts_with("-A ") {
            case.saved.push(line.to_owned());
        }
    }
    for c in &mut out {
        c.sent.retain(|b| !b.is_empty());
    }
    out
}

#[test]
fn appendix_a_captures() {
    let Some(reference) = support::shared_subdir("reference") else { return };
    let text = std::fs::read_to_string(reference.join("iptables-nft-1.8.9.md")).expect("reference");
    let cases = cases(&text);
    assert_eq!(cases.len(), 43, "cases in Appendix A");
    let mut compared = 0;
    for case in &cases {
        let rules: Vec<Command> = case
            .commands
            .iter()
            .map(|c| {
                parse_command(&support::shell_words(c)).unwrap_or_else(|e| panic!("{}: {c}: {e}", case.name))
            })
            .filter(|c| matches!(c, Command::Append(_) | Command::Insert { .. }))
            .collect();
        assert_eq!(rules.len(), case.sent.len(), "{}: rule commands vs SENT RULE", case.name);
        for (cmd, sent) in rules.iter().zip(&case.sent) {
            let rule = cmd.rule().expect("rule");
            let nft = encode(rule).unwrap_or_else(|e| panic!("{}: {e}", case.name));
            let compat = nft.compat.expect("compat");
            let mut ours = vec![format!(
                "SENT RULE family=ip table='{}' chain='{}' compat{{proto={} flags={}}}",
                nft.table, nft.chain, compat.proto, compat.flags
            )];
            ours.extend(nft.exprs.iter().map(render));
            assert_eq!(&ours, sent, "{}: {cmd}", case.name);
            // It reads back as the line iptables-save printed.
            let read = decode(&nft).unwrap_or_else(|e| panic!("{}: {e}", case.name));
            assert!(
                case.saved.contains(&read.to_string()),
                "{}: read back as `{read}`, saved {:?}",
                case.name,
                case.saved
            );
            compared += 1;
        }
    }
    assert_eq!(compared, 80, "SENT RULE messages compared");
}

//! `natkeeper iptables-restore` and `natkeeper iptables-save`: the iptables tools' options and files,
//! with no iptables process. Options are read as the tools' `getopt_long` reads them (clustered short
//! options, `--long=value`, unambiguous abbreviations, options after the file).

use std::io::{Read, Write};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, anyhow};
use natkeeper_iptables::nft::Socket;
use natkeeper_iptables::{
    ParseOptions, RestoreError, RestoreOptions, SaveOptions, Stamp, Table, parse_restore_lines,
};

use crate::{EXIT_OK, Failure};

/// The iptables version whose behaviour these commands reproduce.
const IPTABLES_VERSION: &str = "v1.8.9 (nf_tables)";

/// An option of an iptables tool: long name, short letter, whether it takes an argument.
#[derive(Clone, Copy)]
struct Opt {
    long: &'static str,
    short: Option<char>,
    arg: Arg,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Arg {
    No,
    Required,
    /// `-w`/`-W` of iptables-restore: an attached value, or the next word unless it starts with
    /// `-` or `!` (`xs_has_arg`).
    Optional,
}

const fn opt(long: &'static str, short: char, arg: Arg) -> Opt {
    Opt { long, short: Some(short), arg }
}

/// xtables-restore.c `options` and its optstring `bcvVthnM:T:wW`. `--ipv4`/`--ipv6` are listed
/// but not in the optstring: iptables-restore 1.8.9 refuses them, and so does this.
const RESTORE_OPTS: &[Opt] = &[
    opt("counters", 'c', Arg::No),
    opt("verbose", 'v', Arg::No),
    opt("version", 'V', Arg::No),
    opt("test", 't', Arg::No),
    opt("help", 'h', Arg::No),
    opt("noflush", 'n', Arg::No),
    opt("modprobe", 'M', Arg::Required),
    opt("table", 'T', Arg::Required),
    opt("ipv4", '4', Arg::No),
    opt("ipv6", '6', Arg::No),
    opt("wait", 'w', Arg::Optional),
    opt("wait-interval", 'W', Arg::Optional),
    Opt { long: "", short: Some('b'), arg: Arg::No },
];

/// xtables-save.c `ipt_save_options` and optstring `bcdt:M:f:V`.
const SAVE_OPTS: &[Opt] = &[
    opt("counters", 'c', Arg::No),
    opt("version", 'V', Arg::No),
    opt("dump", 'd', Arg::No),
    opt("table", 't', Arg::Required),
    opt("modprobe", 'M', Arg::Required),
    opt("file", 'f', Arg::Required),
    Opt { long: "", short: Some('b'), arg: Arg::No },
];

/// The options found (by short letter, with their argument) and the other words.
struct Parsed {
    opts: Vec<(char, Option<String>)>,
    operands: Vec<String>,
}

/// GNU `getopt_long` with permutation, for the tables above.
fn getopt(tool: &str, args: &[String], table: &[Opt]) -> Result<Parsed, Failure> {
    let usage = |msg: String| Failure::usage(anyhow!("{tool}: {msg} (try `{tool} -h')"));
    let mut out = Parsed { opts: Vec::new(), operands: Vec::new() };
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        i += 1;
        if a == "--" {
            out.operands.extend(args[i..].iter().cloned());
            break;
        }
        if let Some(body) = a.strip_prefix("--") {
            let (name, attached) = match body.split_once('=') {
                Some((n, v)) => (n, Some(v.to_owned())),
                None => (body, None),
            };
            let exact = table.iter().find(|o| !o.long.is_empty() && o.long == name);
            let candidates: Vec<&Opt> =
                table.iter().filter(|o| !o.long.is_empty() && o.long.starts_with(name)).collect();
            let o = match (exact, candidates.as_slice()) {
                (Some(o), _) => o,
                (None, [o]) => *o,
                (None, []) => return Err(usage(format!("unrecognized option `--{name}'"))),
                (None, _) => return Err(usage(format!("option `--{name}' is ambiguous"))),
            };
            let value = match o.arg {
                Arg::No if attached.is_some() => {
                    return Err(usage(format!("option `--{}' doesn't allow an argument", o.long)));
                }
                Arg::No => None,
                Arg::Required => match attached {
                    Some(v) => Some(v),
                    None => {
                        let v = args.get(i).cloned();
                        i += 1;
                        Some(v.ok_or_else(|| usage(format!("option `--{}' requires an argument", o.long)))?)
                    }
                },
                Arg::Optional => attached.or_else(|| optional_next(args, &mut i)),
            };
            out.opts.push((o.short.unwrap_or('?'), value));
            continue;
        }
        if let Some(cluster) = a.strip_prefix('-').filter(|c| !c.is_empty()) {
            for (pos, c) in cluster.char_indices() {
                let o = table
                    .iter()
                    .find(|o| o.short == Some(c))
                    .ok_or_else(|| usage(format!("invalid option -- '{c}'")))?;
                let rest = &cluster[pos + c.len_utf8()..];
                match o.arg {
                    Arg::No => out.opts.push((c, None)),
                    Arg::Required => {
                        let v = if rest.is_empty() {
                            let v = args.get(i).cloned();
                            i += 1;
                            v.ok_or_else(|| usage(format!("option requires an argument -- '{c}'")))?
                        } else {
                            rest.to_owned()
                        };
                        out.opts.push((c, Some(v)));
                        break;
                    }
                    Arg::Optional => {
                        let v =
                            if rest.is_empty() { optional_next(args, &mut i) } else { Some(rest.to_owned()) };
                        out.opts.push((c, v));
                        break;
                    }
                }
            }
            continue;
        }
        out.operands.push(a.clone());
    }
    Ok(out)
}

/// `xs_has_arg`: the next word is taken when it does not start with `-` or `!`.
fn optional_next(args: &[String], i: &mut usize) -> Option<String> {
    let next = args.get(*i).filter(|w| !w.starts_with('-') && !w.starts_with('!'))?.clone();
    *i += 1;
    Some(next)
}

fn table_arg(tool: &str, name: &str) -> Result<Table, Failure> {
    Table::parse(name).ok_or_else(|| Failure::from(anyhow!("{tool}: table `{name}' does not exist")))
}

/// `iptables-restore [-c] [-n|--noflush] [-t|--test] [-T TABLE] [-v] [-w [S]] [-W [U]] [-M CMD] [FILE]`.
pub(crate) fn restore(args: &[String]) -> Result<u8, Failure> {
    const TOOL: &str = "iptables-restore";
    let p = getopt(TOOL, args, RESTORE_OPTS)?;
    let mut counters = false;
    let mut opts = RestoreOptions::default();
    for (c, v) in &p.opts {
        match c {
            'c' => counters = true,
            'n' => opts.noflush = true,
            't' => opts.test = true,
            'T' => opts.table = Some(table_arg(TOOL, v.as_deref().unwrap_or_default())?),
            'V' => {
                println!("{TOOL} {IPTABLES_VERSION}, natkeeper {}", env!("CARGO_PKG_VERSION"));
                return Ok(EXIT_OK);
            }
            'h' => {
                print!("{}", restore_usage());
                return Ok(EXIT_OK);
            }
            '4' | '6' => return Err(Failure::usage(anyhow!("{TOOL}: invalid option (try `{TOOL} -h')"))),
            'b' => eprintln!("-b/--binary option is not implemented"),
            // -v (listing what it does), -w/-W (wait for the xtables lock, which nf_tables does
            // not need) and -M (modprobe) change nothing here.
            _ => {}
        }
    }
    let input = match p.operands.as_slice() {
        [] => {
            let mut s = String::new();
            std::io::stdin().read_to_string(&mut s).context("cannot read standard input")?;
            s
        }
        [file] => std::fs::read_to_string(file).with_context(|| format!("Can't open {file}"))?,
        _ => return Err(Failure::from(anyhow!("{TOOL}: Unknown arguments found on commandline"))),
    };
    let input = match opts.table {
        Some(t) => only_table(&input, t),
        None => input,
    };
    let parse_options = ParseOptions::default().with_counters(counters);
    let (file, lines) =
        parse_restore_lines(&input, &parse_options).map_err(|e| Failure::usage(anyhow!("{TOOL}: {e}")))?;
    let result = if opts.test {
        natkeeper_iptables::check_restore(&file, &opts)
    } else {
        let mut sock = Socket::open().map_err(|e| anyhow!("{TOOL}: cannot open netlink socket: {e}"))?;
        natkeeper_iptables::restore(&mut sock, &file, &opts).map(|_| ())
    };
    match result {
        Ok(()) => Ok(EXIT_OK),
        Err(e) => {
            let line = e.location().and_then(|at| lines.line(at.block, at.entry));
            let what = match &e {
                RestoreError::Encode { source, .. } => source.to_string(),
                RestoreError::Command { source, .. } => source.to_string(),
                RestoreError::Compare { source, .. } => source.to_string(),
                RestoreError::Kernel { source, .. } => source.to_string(),
                other => other.to_string(),
            };
            Err(Failure::from(match line {
                Some(n) => anyhow!("{TOOL}: line {n} failed: {what}"),
                None => anyhow!("{TOOL}: {what}"),
            }))
        }
    }
}

/// With `-T TABLE`, iptables-restore skips the blocks of other tables without reading them:
/// their lines become empty (so line numbers stay).
fn only_table(input: &str, table: Table) -> String {
    let mut out = String::with_capacity(input.len());
    let mut skipping = false;
    for line in input.split_inclusive('\n') {
        if let Some(rest) = line.strip_prefix('*') {
            let name = rest.split([' ', '\t', '\n']).find(|t| !t.is_empty()).unwrap_or_default();
            // An unknown table name is an error whatever -T says: keep the line.
            skipping = Table::parse(name).is_some_and(|t| t != table);
        }
        if skipping {
            if line.trim_end_matches('\n') == "COMMIT" {
                skipping = false;
            }
            out.push_str(if line.ends_with('\n') { "\n" } else { "" });
        } else {
            out.push_str(line);
        }
    }
    out
}

fn restore_usage() -> String {
    "Usage: iptables-restore [-c] [-v] [-V] [-t] [-h] [-n] [-T table] [-M command] [-4] [-6] [file]\n\
     \t   [ --counters ]\n\
     \t   [ --verbose ]\n\
     \t   [ --version]\n\
     \t   [ --test ]\n\
     \t   [ --help ]\n\
     \t   [ --noflush ]\n\
     \t   [ --table=<TABLE> ]\n\
     \t   [ --modprobe=<command> ]\n\
     \t   [ --ipv4 ]\n\
     \t   [ --ipv6 ]\n\
     natkeeper applies the input as one atomic nf_tables transaction, without running iptables.\n"
        .to_owned()
}

/// `iptables-save [-c] [-t TABLE] [-f FILE] [-d] [-M CMD] [-V]`.
pub(crate) fn save(args: &[String]) -> Result<u8, Failure> {
    const TOOL: &str = "iptables-save";
    let p = getopt(TOOL, args, SAVE_OPTS)?;
    let mut opts = SaveOptions::default();
    let mut file = None;
    for (c, v) in &p.opts {
        match c {
            'c' => opts.counters = true,
            't' => opts.table = Some(table_arg(TOOL, v.as_deref().unwrap_or_default())?),
            'f' => file = v.clone(),
            'V' => {
                println!("{TOOL} {IPTABLES_VERSION}, natkeeper {}", env!("CARGO_PKG_VERSION"));
                return Ok(EXIT_OK);
            }
            'b' => eprintln!("-b/--binary option is not implemented"),
            // -d (dump, then exit 0: what happens anyway) and -M (modprobe) change nothing here.
            _ => {}
        }
    }
    if !p.operands.is_empty() {
        return Err(Failure::from(anyhow!("{TOOL}: Unknown arguments found on commandline")));
    }
    let mut sock = Socket::open().map_err(|e| anyhow!("{TOOL}: cannot open netlink socket: {e}"))?;
    let saved = natkeeper_iptables::save(&mut sock, &opts).map_err(|e| anyhow!("{TOOL}: {e}"))?;
    let program = format!("natkeeper iptables-save v{}", env!("CARGO_PKG_VERSION"));
    let time = ctime_utc(SystemTime::now());
    let text = saved.to_text(Some(Stamp { program: &program, time: &time }));
    match file {
        Some(path) => std::fs::write(&path, text).with_context(|| format!("Failed to open file {path}"))?,
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes()).and_then(|()| out.flush()).context("cannot write the output")?;
        }
    }
    Ok(EXIT_OK)
}

/// `ctime`'s format (`Sat Nov 28 22:23:42 2026`), in UTC.
fn ctime_utc(t: SystemTime) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] =
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let secs = t.duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{} {} {:2} {:02}:{:02}:{:02} {}",
        DAYS[(days % 7) as usize],
        MONTHS[(month - 1) as usize],
        day,
        rem / 3_600,
        rem % 3_600 / 60,
        rem % 60,
        year
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn getopt_reads_options_as_getopt_long() {
        let p = getopt("t", &words("-cnT nat file --test --wait 5 --tab=raw -w"), RESTORE_OPTS).ok().unwrap();
        let got: Vec<(char, Option<&str>)> = p.opts.iter().map(|(c, v)| (*c, v.as_deref())).collect();
        assert_eq!(
            got,
            [
                ('c', None),
                ('n', None),
                ('T', Some("nat")),
                ('t', None),
                ('w', Some("5")),
                ('T', Some("raw")),
                ('w', None)
            ]
        );
        assert_eq!(p.operands, ["file"]);
        assert!(getopt("t", &words("--no"), RESTORE_OPTS).is_ok());
        assert!(getopt("t", &words("--nosuch"), RESTORE_OPTS).is_err());
        assert!(getopt("t", &words("-x"), RESTORE_OPTS).is_err());
        assert!(getopt("t", &words("-T"), RESTORE_OPTS).is_err());
        assert!(getopt("t", &words("--counters=1"), RESTORE_OPTS).is_err());
        // `-w` takes the next word only when it does not look like an option.
        let p = getopt("t", &words("-w -n"), RESTORE_OPTS).ok().unwrap();
        assert_eq!(p.opts.len(), 2);
        let p = getopt("t", &words("-t nat -f out.txt"), SAVE_OPTS).ok().unwrap();
        assert_eq!(p.opts[0], ('t', Some("nat".to_owned())));
        assert_eq!(p.opts[1], ('f', Some("out.txt".to_owned())));
    }

    #[test]
    fn only_the_named_table_is_read() {
        let input = "*nat\n-A BOGUS --nosuch\nCOMMIT\n*filter\n-A INPUT -j ACCEPT\nCOMMIT\n";
        assert_eq!(only_table(input, Table::Filter), "\n\n\n*filter\n-A INPUT -j ACCEPT\nCOMMIT\n");
    }

    #[test]
    fn ctime_format() {
        let t = UNIX_EPOCH + std::time::Duration::from_secs(1_795_904_622);
        assert_eq!(ctime_utc(t), "Sat Nov 28 22:23:42 2026");
        assert_eq!(ctime_utc(UNIX_EPOCH), "Thu Jan  1 00:00:00 1970");
    }
}

//! A typed iptables rule and the line iptables-save prints for it.

use std::fmt;

use crate::addr::AddrMask;
use crate::iface::Interface;
use crate::matches::Match;
use crate::protocol::Protocol;
use crate::table::Table;
use crate::targets::Target;

/// `[!] -s/-d ADDRESS[/MASK]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AddrMatch {
    /// Network (address already ANDed with the mask).
    pub net: AddrMask,
    /// `!`.
    pub invert: bool,
}

/// `[!] -i/-o NAME`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IfaceMatch {
    /// Interface, possibly a `+` wildcard.
    pub iface: Interface,
    /// `!`.
    pub invert: bool,
}

/// `[!] -p PROTOCOL`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ProtoMatch {
    /// Protocol (never 0: `-p all` is no protocol test).
    pub proto: Protocol,
    /// `!`.
    pub invert: bool,
}

/// Packet and byte counters (`[packets:bytes]`, `-c packets bytes`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Counters {
    /// Packets.
    pub packets: u64,
    /// Bytes.
    pub bytes: u64,
}

impl fmt::Display for Counters {
    /// `[packets:bytes]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}:{}]", self.packets, self.bytes)
    }
}

/// One iptables rule: where it lives, what it matches, what it does.
///
/// Fields that iptables would not encode are normalised away when parsing, so two rules that
/// iptables-nft 1.8.9 writes identically compare equal: `-s 0.0.0.0/0` and `-p all` become
/// `None`, addresses are masked, port ranges `0:65535` disappear. `-i +` is kept: iptables-nft
/// writes it (as a `meta` load that nothing compares), although iptables-save does not print it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Rule {
    /// Table (`-t`).
    pub table: Table,
    /// Chain.
    pub chain: String,
    /// `-s`.
    pub source: Option<AddrMatch>,
    /// `-d`.
    pub destination: Option<AddrMatch>,
    /// `-i`.
    pub in_interface: Option<IfaceMatch>,
    /// `-o`.
    pub out_interface: Option<IfaceMatch>,
    /// `-p`.
    pub protocol: Option<ProtoMatch>,
    /// `Some(invert)`: `-f` (`Some(false)`, second and later fragments) or `! -f`
    /// (`Some(true)`, unfragmented packets and first fragments).
    pub fragment: Option<bool>,
    /// `-m` matches, in the order iptables-save prints them.
    pub matches: Vec<Match>,
    /// `-j`/`-g`; `None` for a rule that only counts.
    pub target: Option<Target>,
    /// Counters given with `-c` or a `[p:b]` prefix.
    pub counters: Option<Counters>,
}

impl Rule {
    /// An empty rule (matches everything, no target) in `table`/`chain`.
    pub fn new(table: Table, chain: impl Into<String>) -> Self {
        Rule {
            table,
            chain: chain.into(),
            source: None,
            destination: None,
            in_interface: None,
            out_interface: None,
            protocol: None,
            fragment: None,
            matches: Vec::new(),
            target: None,
            counters: None,
        }
    }

    /// The rule as iptables reads it back once iptables-nft has written it: the native tcp (and
    /// udp) tests of several `-m tcp` merged into the first, a native `! --dport 0:N` read as
    /// `--dport N+1:65535` (it is written as `> N`), `-i +`/`-o +` gone (they read back as no
    /// test). Two rules that read back alike print alike.
    pub fn read_back(&self) -> Rule {
        let mut r = self.clone();
        if let Ok(m) = crate::matches::merge_native(r.matches.clone()) {
            r.matches = m;
        }
        for m in &mut r.matches {
            let ports = match m {
                Match::Tcp(t) if t.is_native() => [&mut t.sport, &mut t.dport],
                Match::Udp(u) if u.is_native() => [&mut u.sport, &mut u.dport],
                _ => continue,
            };
            for p in ports.into_iter().flatten() {
                // `expr_gen_range_cmp16`: `! 0:hi` is `cmp gt hi`, read back as `hi+1:65535`.
                if p.invert && p.ports.first == 0 && p.ports.last != 0 && p.ports.last < u16::MAX {
                    *p = crate::matches::PortMatch {
                        ports: crate::port::PortRange::new(p.ports.last + 1, u16::MAX),
                        invert: false,
                    };
                }
            }
        }
        for i in [&mut r.in_interface, &mut r.out_interface] {
            if i.as_ref().is_some_and(|m| !m.invert && m.iface.matches_all()) {
                *i = None;
            }
        }
        r
    }

    /// [`Rule::read_back`] without counters: how iptables' `-D RULE` and `-C` compare rules.
    pub fn as_saved(&self) -> Rule {
        let mut r = self.read_back();
        r.counters = None;
        r
    }

    /// The rule line as `iptables-save -c` prints it: `[packets:bytes] -A CHAIN ...`.
    pub fn display_with_counters(&self) -> impl fmt::Display + '_ {
        WithCounters(self)
    }

    /// Writes the rule specification after `-A CHAIN` (each part with a leading space).
    pub(crate) fn fmt_spec(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (flag, a) in [('s', &self.source), ('d', &self.destination)] {
            if let Some(a) = a {
                write!(f, "{} -{flag} ", inv(a.invert))?;
                a.net.fmt_save(f)?;
            }
        }
        for (flag, i) in [('i', &self.in_interface), ('o', &self.out_interface)] {
            // iptables-save cannot see `-i +`: it reads back as no interface test.
            if let Some(i) = i.as_ref().filter(|i| i.invert || !i.iface.matches_all()) {
                write!(f, "{} -{flag} {}", inv(i.invert), i.iface)?;
            }
        }
        if let Some(p) = &self.protocol {
            write!(f, "{} -p {}", inv(p.invert), p.proto)?;
        }
        if let Some(invert) = self.fragment {
            write!(f, "{} -f", inv(invert))?;
        }
        // The matches as iptables reads them back (several native `-m tcp` as one, ...).
        let read = self.read_back();
        for m in &read.matches {
            write!(f, " -m {}", m.name())?;
            m.fmt_opts(f)?;
        }
        if let Some(t) = &self.target {
            write!(f, " {t}")?;
        }
        Ok(())
    }
}

fn inv(invert: bool) -> &'static str {
    if invert { " !" } else { "" }
}

impl fmt::Display for Rule {
    /// `-A CHAIN ...` exactly as `iptables-save` 1.8.9 prints the rule once iptables-nft has
    /// loaded it: `-s -d -i -o -p -f`, the matches, the target; `/32` added, names turned into
    /// numbers, `-m tcp` spelled out.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "-A {}", self.chain)?;
        self.fmt_spec(f)
    }
}

struct WithCounters<'a>(&'a Rule);

impl fmt::Display for WithCounters<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.0.counters.unwrap_or_default(), self.0)
    }
}

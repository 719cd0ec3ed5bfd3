//! Interface names as `-i`/`-o` and `--physdev-in/-out` take them.

use std::fmt;

/// `IFNAMSIZ`: interface names have at most 15 bytes.
const IFNAMSIZ: usize = 16;

/// An interface name, possibly a `+` wildcard: `eth0` matches exactly, `virbr+` every name that
/// starts with `virbr`, `+` alone every interface.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Interface {
    name: String,
}

impl Interface {
    /// Parses an interface argument as `xtables_parse_interface` does: at most 15 bytes, a
    /// trailing `+` makes it a prefix match. The empty name is refused (iptables refuses it for
    /// `-i`/`-o`; for physdev it would match nothing useful), and so are NUL and `"`.
    pub fn parse(s: &str) -> Result<Interface, &'static str> {
        if s.is_empty() {
            return Err("empty interface name");
        }
        if s.len() + 1 > IFNAMSIZ {
            return Err("interface name longer than 15 bytes");
        }
        if s.contains('\0') {
            return Err("NUL in interface name");
        }
        // iptables-save prints names unquoted: a `"` would not read back.
        if s.contains('"') {
            return Err("`\"' in interface name");
        }
        // The kernel allows neither in a name; iptables only warns ("weird character"), and the
        // name could never match.
        if s.contains(|c: char| c == '/' || c.is_whitespace()) {
            return Err("`/' or white space in interface name");
        }
        Ok(Interface { name: s.to_owned() })
    }

    /// The name as written, `+` included.
    pub fn as_str(&self) -> &str {
        &self.name
    }

    /// Whether the name ends with `+` (prefix match).
    pub fn is_wildcard(&self) -> bool {
        self.name.ends_with('+')
    }

    /// The exact name, or the prefix of a wildcard (`virbr` for `virbr+`, empty for `+`).
    pub fn base(&self) -> &str {
        self.name.strip_suffix('+').unwrap_or(&self.name)
    }

    /// Whether this is `+`, which matches every interface.
    pub fn matches_all(&self) -> bool {
        self.name == "+"
    }
}

impl fmt::Display for Interface {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        let w = Interface::parse("virbr+").unwrap();
        assert!(w.is_wildcard());
        assert_eq!(w.base(), "virbr");
        assert!(Interface::parse("+").unwrap().matches_all());
        assert!(Interface::parse("alongifacename0").is_ok());
        assert!(Interface::parse("thisinterfaceistoolong0").is_err());
        assert!(Interface::parse("").is_err());
    }
}

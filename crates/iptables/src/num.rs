//! Integer parsing as libxtables 1.8.9 does it.
//!
//! `xtables_strtoul` (libxtables/xtables.c) calls `strtoumax(s, &end, 0)`: leading white space is
//! skipped, a `-` sign is refused, a `+` sign is accepted, and the base follows C rules (`0x` hex,
//! leading `0` octal, decimal otherwise). iptables users rely on `0x` marks; octal is a trap
//! (`--dport 010` is port 8) but it is what iptables does, so it is reproduced.

/// Parses a prefix of `s` as `xtables_strtoul(s, &end, ...)` does: at least one digit, value in
/// `min..=max`. Returns the value and the unparsed rest.
pub(crate) fn strtoul_prefix(s: &str, min: u64, max: u64) -> Option<(u64, &str)> {
    let t = s.trim_start_matches(|c: char| c.is_ascii_whitespace());
    let t = match t.as_bytes().first() {
        Some(b'-') => return None,
        Some(b'+') => &t[1..],
        _ => t,
    };
    let bytes = t.as_bytes();
    let (radix, digits_start) = if bytes.len() >= 2
        && bytes[0] == b'0'
        && (bytes[1] == b'x' || bytes[1] == b'X')
        && bytes.get(2).is_some_and(u8::is_ascii_hexdigit)
    {
        (16, 2)
    } else if bytes.first() == Some(&b'0') {
        (8, 0)
    } else {
        (10, 0)
    };
    let rest = &t[digits_start..];
    let len = rest.bytes().take_while(|b| char::from(*b).is_digit(radix)).count();
    if len == 0 {
        return None;
    }
    let value = u64::from_str_radix(&rest[..len], radix).ok()?;
    if value < min || value > max {
        return None;
    }
    Some((value, &rest[len..]))
}

/// Parses all of `s` as `xtables_strtoul(s, NULL, ...)` does.
pub(crate) fn strtoul_full(s: &str, min: u64, max: u64) -> Option<u64> {
    match strtoul_prefix(s, min, max) {
        Some((v, "")) => Some(v),
        _ => None,
    }
}

/// Parses a decimal port the way `getaddrinfo(3)` reads a numeric service: decimal digits only.
/// glibc truncates values above 65535 to 16 bits (iptables then saves `--sport 65536` as
/// `--sport 0`); this refuses them instead.
pub(crate) fn decimal_port(s: &str) -> Option<u16> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Parses the leading integer of `s` as C `atoi(3)` does: white space, an optional sign, digits;
/// anything after the digits is ignored. Returns `None` when there are no digits or the value
/// does not fit an `i32` (where `atoi` is undefined).
pub(crate) fn atoi(s: &str) -> Option<i64> {
    let t = s.trim_start_matches(|c: char| c.is_ascii_whitespace());
    let (neg, t) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let len = t.bytes().take_while(u8::is_ascii_digit).count();
    if len == 0 {
        return Some(0);
    }
    let v: i64 = t[..len].parse().ok()?;
    let v = if neg { -v } else { v };
    i32::try_from(v).ok().map(i64::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c_bases() {
        assert_eq!(strtoul_full("22", 0, 65535), Some(22));
        assert_eq!(strtoul_full("0x16", 0, 65535), Some(22));
        assert_eq!(strtoul_full("010", 0, 65535), Some(8));
        assert_eq!(strtoul_full("0", 0, 65535), Some(0));
        assert_eq!(strtoul_full(" +7", 0, 65535), Some(7));
        assert_eq!(strtoul_full("-1", 0, 65535), None);
        assert_eq!(strtoul_full("65536", 0, 65535), None);
        assert_eq!(strtoul_full("0x", 0, 65535), None);
        assert_eq!(strtoul_full("08", 0, 65535), None);
        assert_eq!(strtoul_full("", 0, 65535), None);
        assert_eq!(strtoul_full("99999999999999999999999", 0, u64::MAX), None);
        assert_eq!(strtoul_prefix("1024:", 0, 65535), Some((1024, ":")));
        assert_eq!(strtoul_prefix("0x:", 0, 65535), Some((0, "x:")));
    }

    #[test]
    fn getaddrinfo_ports() {
        assert_eq!(decimal_port("010"), Some(10));
        assert_eq!(decimal_port("0x10"), None);
        assert_eq!(decimal_port("65536"), None);
        assert_eq!(decimal_port("-1"), None);
    }

    #[test]
    fn atoi_like_c() {
        assert_eq!(atoi("5/sec"), Some(5));
        assert_eq!(atoi("abc"), Some(0));
        assert_eq!(atoi("-3"), Some(-3));
        assert_eq!(atoi("99999999999"), None);
    }
}

//! The iptables rule language (`natkeeper_iptables::parse_restore`): iptables-restore input.
//! Seeds: `corpus/iptables_restore/`, the fixtures in `tests/fixtures/` and iptables-save output.
//!
//! Checks: parsing never panics; and what parses prints (`Display`, iptables-save syntax) to text
//! that parses to the same file again.

#![no_main]

use libfuzzer_sys::fuzz_target;
use natkeeper_iptables::parse_restore;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(file) = parse_restore(text) else { return };
    let printed = file.to_string();
    let again = parse_restore(&printed).unwrap_or_else(|e| {
        panic!("printed file does not parse: {e}\n--- input\n{text}\n--- printed\n{printed}")
    });
    assert_eq!(again.to_string(), printed, "printing is not stable\n--- input\n{text}");
});

//! rtnetlink decoding (`natkeeper_rtnl::Event::decode`): the one path dumps and notifications take.
//! Seeds: `corpus/rtnl_decode/`, real link/address/route dumps and events captured by `capture.sh`.
//!
//! Checks: decoding never panics, whatever the bytes.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(events) = natkeeper_rtnl::Event::decode(data) {
        // Formatting walks every decoded field.
        let _ = format!("{events:?}");
    }
});

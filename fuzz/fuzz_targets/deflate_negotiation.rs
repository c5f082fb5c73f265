//! Fuzz target `deflate_negotiation`: the check is `ws_fuzz_checks::deflate_negotiation` (see its
//! doc), shared with the stable corpus replay in `fuzz/checks/tests/replay.rs`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ws_fuzz_checks::deflate_negotiation(data));

//! Fuzz target `handshake_request`: the check is `ws_fuzz_checks::handshake_request` (see its doc), shared with the
//! stable corpus replay in `fuzz/checks/tests/replay.rs`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ws_fuzz_checks::handshake_request(data));

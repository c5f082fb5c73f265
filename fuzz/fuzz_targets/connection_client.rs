//! Fuzz target `connection_client`: the check is `ws_fuzz_checks::connection_client` (see its doc), shared with the
//! stable corpus replay in `fuzz/checks/tests/replay.rs`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ws_fuzz_checks::connection_client(data));

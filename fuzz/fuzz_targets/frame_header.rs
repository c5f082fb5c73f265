//! Fuzz target `frame_header`: the check is `ws_fuzz_checks::frame_header` (see its doc), shared with the
//! stable corpus replay in `fuzz/checks/tests/replay.rs`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ws_fuzz_checks::frame_header(data));

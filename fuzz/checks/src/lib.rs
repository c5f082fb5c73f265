//! The checks behind ws-core's fuzz targets, one public function per target.
//!
//! Each function takes the raw fuzzer input, decodes it (front to back, see [`input`]), drives
//! ws-core and panics on any property violation. The cargo-fuzz targets in `fuzz/fuzz_targets/`
//! are one-line calls to these functions; `tests/replay.rs` replays every checked-in corpus and
//! crash file through the same functions on stable Rust, so a fixed crash stays fixed.
//!
//! What this crate does not do: generate inputs (libFuzzer does) or run campaigns (`scripts/fuzz`).

pub mod connection;
pub mod deflate;
pub mod differential;
pub mod frame;
pub mod handshake;
pub mod input;
pub mod utf8;
pub mod wire;

pub use connection::{connection_client, connection_server};
pub use deflate::deflate_negotiation;
pub use differential::differential_tungstenite;
pub use frame::{frame_header, roundtrip};
pub use handshake::{handshake_request, handshake_response};
pub use utf8::utf8;

/// A target's check: panics on a property violation.
pub type Check = fn(&[u8]);

/// Every target: its name (as in `fuzz/fuzz_targets/` and `fuzz/corpus/`) and its check.
pub const TARGETS: &[(&str, Check)] = &[
    ("handshake_request", handshake_request),
    ("handshake_response", handshake_response),
    ("frame_header", frame_header),
    ("connection_server", connection_server),
    ("connection_client", connection_client),
    ("roundtrip", roundtrip),
    ("utf8", utf8),
    ("differential_tungstenite", differential_tungstenite),
    ("deflate_negotiation", deflate_negotiation),
];

//! Command-line support for the `ws-server` binary: limit/timeout flags, the logger, signals.

pub mod logger;
pub mod options;
pub mod room_baseline;
pub mod signals;

//! A tiny structured logger to stderr: `2026-01-01T00:00:00.123Z INFO target: message`.
//! The level comes from `--log-level` or `RUST_LOG` (error, warn, info, debug, trace, off).

use log::{LevelFilter, Log, Metadata, Record};
use std::io::Write;
use std::time::{SystemTime, UNIX_EPOCH};

struct StderrLogger;

impl Log for StderrLogger {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let secs = now.as_secs();
        let (h, m, s) = ((secs / 3600) % 24, (secs / 60) % 60, secs % 60);
        let line = format!(
            "{h:02}:{m:02}:{s:02}.{:03}Z {:5} {}\n",
            now.subsec_millis(),
            record.level(),
            record.args()
        );
        let _ = std::io::stderr().lock().write_all(line.as_bytes());
    }

    fn flush(&self) {}
}

/// Parses a level name; `None` for an unknown name.
pub fn parse_level(s: &str) -> Option<LevelFilter> {
    s.trim().parse().ok()
}

/// Installs the logger at `level` (or `RUST_LOG`, or info).
pub fn init(level: Option<LevelFilter>) {
    let level = level
        .or_else(|| std::env::var("RUST_LOG").ok().and_then(|v| parse_level(&v)))
        .unwrap_or(LevelFilter::Info);
    static LOGGER: StderrLogger = StderrLogger;
    if log::set_logger(&LOGGER).is_ok() {
        log::set_max_level(level);
    }
}

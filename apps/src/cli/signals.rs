//! SIGINT/SIGTERM trigger the graceful shutdown (async-signal: a runtime-independent signal
//! stream from the smol-rs project, so the runtime stays a detail of `main`).

use async_signal::{Signal, Signals};
use futures_util::StreamExt;
/// Installs the SIGINT/SIGTERM handlers. Call it before serving: until they are installed a
/// signal has its default action (the process dies without the graceful shutdown).
pub fn install() -> std::io::Result<Signals> {
    Signals::new([Signal::Int, Signal::Term])
}

/// Waits for SIGINT or SIGTERM, then calls `shutdown`; a second signal exits at once.
pub async fn on_signal(mut signals: Signals, shutdown: impl FnOnce()) {
    if let Some(Ok(sig)) = signals.next().await {
        log::info!("{sig:?}: graceful shutdown (1001 to every client)");
        shutdown();
    }
    if let Some(Ok(sig)) = signals.next().await {
        log::warn!("{sig:?} again: exiting now");
        std::process::exit(1);
    }
}

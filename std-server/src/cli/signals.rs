//! SIGINT/SIGTERM trigger the graceful shutdown (async-signal: a runtime-independent signal
//! stream from the smol-rs project, so the runtime stays a detail of `main`).

use async_signal::{Signal, Signals};
use futures_util::StreamExt;
/// Waits for SIGINT or SIGTERM, then calls `shutdown`; a second signal exits at once.
pub async fn on_signal(shutdown: impl FnOnce()) {
    let mut signals = match Signals::new([Signal::Int, Signal::Term]) {
        Ok(s) => s,
        Err(e) => {
            log::error!("cannot install signal handlers: {e}");
            return;
        }
    };
    if let Some(Ok(sig)) = signals.next().await {
        log::info!("{sig:?}: graceful shutdown (1001 to every client)");
        shutdown();
    }
    if let Some(Ok(sig)) = signals.next().await {
        log::warn!("{sig:?} again: exiting now");
        std::process::exit(1);
    }
}

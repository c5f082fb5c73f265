//! SIGINT/SIGTERM trigger the graceful shutdown, SIGHUP reloads the TLS certificate (async-signal:
//! a runtime-independent signal stream from the smol-rs project, so the runtime stays a detail of
//! `main`).

use async_signal::{Signal, Signals};
use futures_util::StreamExt;
/// Installs the SIGINT/SIGTERM/SIGHUP handlers. Call it before serving: until they are installed
/// a signal has its default action (the process dies without the graceful shutdown).
pub fn install() -> std::io::Result<Signals> {
    Signals::new([Signal::Int, Signal::Term, Signal::Hup])
}

/// Calls `reload` on each SIGHUP; on SIGINT or SIGTERM calls `shutdown`, and a second one exits
/// at once.
pub async fn on_signal(mut signals: Signals, shutdown: impl FnOnce(), reload: impl Fn()) {
    let mut shutdown = Some(shutdown);
    while let Some(Ok(sig)) = signals.next().await {
        if sig == Signal::Hup {
            reload();
            continue;
        }
        match shutdown.take() {
            Some(shutdown) => {
                log::info!("{sig:?}: graceful shutdown (1001 to every client)");
                shutdown();
            }
            None => {
                log::warn!("{sig:?} again: exiting now");
                std::process::exit(1);
            }
        }
    }
}

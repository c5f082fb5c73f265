//! ws-core built for wasm32-unknown-unknown (a browser or an edge worker): the same server
//! conversation as the firmware (ws-scenario) and the client side with RFC 6455 §1.3 and §5.7's
//! bytes, exported as `run`; embedded/wasm/run.mjs runs it under Node.
//!
//! Imports `env.report(phase, ok)` per phase; `run` returns 0 or `phase * 16 + step` of the
//! failure (phases counted from 1).
#![no_std]
#![deny(unsafe_code)]

use ws_scenario::{Phase, Probe};

#[link(wasm_import_module = "env")]
extern "C" {
    /// Called after each phase with its number (see `index`).
    fn report(phase: u32);
}

/// The phase's number for the host (1-based; the order of `phases` in run.mjs).
fn index(phase: Phase) -> u32 {
    match phase {
        Phase::Handshake => 1,
        Phase::Fragments => 2,
        Phase::Ping => 3,
        Phase::Close => 4,
        Phase::InvalidUtf8 => 5,
        Phase::Adapter => 6,
        Phase::Client => 7,
    }
}

struct Reporter;

impl Probe for Reporter {
    fn phase<R>(&mut self, phase: Phase, f: impl FnOnce() -> R) -> R {
        let result = f();
        report_phase(index(phase));
        result
    }
}

#[allow(unsafe_code)]
fn report_phase(phase: u32) {
    // SAFETY: a host function taking a plain number.
    unsafe { report(phase) }
}

/// Runs the server conversation, then the client side (RFC 6455 §1.3 and §5.7's bytes); 0 when
/// every byte matched.
#[allow(unsafe_code)] // `no_mangle` exports it under its name.
#[no_mangle]
pub extern "C" fn run() -> u32 {
    match ws_scenario::run(&mut Reporter).and_then(|()| ws_scenario::run_client(&mut Reporter)) {
        Ok(()) => 0,
        Err(failure) => index(failure.phase) * 16 + u32::from(failure.step),
    }
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    core::arch::wasm32::unreachable()
}

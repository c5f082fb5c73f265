//! ws-core built for wasm32-unknown-unknown (a browser or an edge worker): the same conversation
//! as the firmware (ws-scenario), exported as `run`; scripts/embedded-wasm.mjs runs it under Node.
//!
//! Imports `env.report(phase, ok)` per phase; `run` returns 0 or `phase * 16 + step` of the
//! failure (phases counted from 1).
#![no_std]
#![deny(unsafe_code)]

use ws_scenario::{Phase, Probe};

#[link(wasm_import_module = "env")]
extern "C" {
    /// Called after each phase with its position (1-based) in [`Phase::ALL`].
    fn report(phase: u32);
}

fn index(phase: Phase) -> u32 {
    Phase::ALL
        .iter()
        .position(|p| *p == phase)
        .map_or(0, |i| i as u32 + 1)
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

/// Runs the conversation; 0 when every byte matched.
#[allow(unsafe_code)] // `no_mangle` exports it under its name.
#[no_mangle]
pub extern "C" fn run() -> u32 {
    match ws_scenario::run(&mut Reporter) {
        Ok(()) => 0,
        Err(failure) => index(failure.phase) * 16 + u32::from(failure.step),
    }
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    core::arch::wasm32::unreachable()
}

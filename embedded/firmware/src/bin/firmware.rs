//! The conversation through ws-core (see ws-scenario), with each phase's peak stack.
#![no_std]
#![no_main]

use cortex_m_rt::entry;

#[entry]
fn main() -> ! {
    ws_firmware::finish(ws_scenario::run(&mut ws_firmware::StackProbe))
}

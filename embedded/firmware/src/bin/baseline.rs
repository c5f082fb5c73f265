//! The same phases and runtime as `firmware` without ws-core: the size reference.
#![no_std]
#![no_main]

use cortex_m_rt::entry;

#[entry]
fn main() -> ! {
    ws_firmware::finish(ws_scenario::run_baseline(&mut ws_firmware::StackProbe))
}

//! Time and wake-ups from the board's hardware timers.
//!
//! SysTick interrupts every millisecond: that is what wakes the main loop from `wfi` when no
//! frame arrives, so timers (keep-alive pings, close and handshake deadlines, TCP retransmission)
//! are served within a millisecond. Time itself is read from the CMSDK APB timer 0, a free-running
//! 32-bit down-counter at the 25 MHz peripheral clock, rather than from the count of SysTick
//! interrupts: under QEMU on a busy host, interrupts that come late are merged and a counted tick
//! falls behind (measured: 8.7 s counted in 10 s of wall time at load 13), while a counter's value
//! is computed from QEMU's clock and stays exact. On a real MPS2 either would do; `/ram` prints
//! both so the difference can be seen.

use core::ptr::{read_volatile, write_volatile};
use core::sync::atomic::{AtomicU32, Ordering};

use cortex_m::peripheral::syst::SystClkSource;
use cortex_m::peripheral::SYST;
use cortex_m_rt::exception;

/// The MPS2 boards' CPU and peripheral clock (QEMU's mps2.c: SYSCLK_FRQ).
const CLOCK_HZ: u32 = 25_000_000;
/// Counter cycles per millisecond.
const CYCLES_PER_MS: u64 = CLOCK_HZ as u64 / 1000;
/// CMSDK APB timer 0 (MPS2 AN385/AN386): CTRL, VALUE, RELOAD.
const TIMER0: usize = 0x4000_0000;
const CTRL: usize = 0x0;
const VALUE: usize = 0x4;
const RELOAD: usize = 0x8;
/// CTRL: enable (no interrupt, no external input).
const CTRL_ENABLE: u32 = 1;

static SYSTICKS: AtomicU32 = AtomicU32::new(0);

#[exception]
fn SysTick() {
    SYSTICKS.fetch_add(1, Ordering::Relaxed);
}

/// SysTick interrupts taken so far (for the report).
pub fn systicks() -> u32 {
    SYSTICKS.load(Ordering::Relaxed)
}

fn timer_read(offset: usize) -> u32 {
    // SAFETY: TIMER0 + offset is one of the timer's 32-bit registers.
    unsafe { read_volatile((TIMER0 + offset) as *const u32) }
}

fn timer_write(offset: usize, value: u32) {
    // SAFETY: as in `timer_read`; the timer is used by nothing else.
    unsafe { write_volatile((TIMER0 + offset) as *mut u32, value) }
}

/// Milliseconds since [`Clock::start`].
pub struct Clock {
    /// The counter's value at the last reading.
    last: u32,
    /// Cycles counted so far.
    cycles: u64,
}

impl Clock {
    /// Starts the free-running counter and SysTick's 1 kHz wake-up interrupt.
    pub fn start(mut syst: SYST) -> Self {
        timer_write(CTRL, 0);
        timer_write(RELOAD, u32::MAX);
        timer_write(VALUE, u32::MAX);
        timer_write(CTRL, CTRL_ENABLE);
        syst.set_clock_source(SystClkSource::Core);
        syst.set_reload(CLOCK_HZ / 1000 - 1);
        syst.clear_current();
        syst.enable_interrupt();
        syst.enable_counter();
        Self {
            last: u32::MAX,
            cycles: 0,
        }
    }

    /// The current time in milliseconds. Must be called at least once per counter period
    /// (171 s); the main loop calls it on every wake-up, i.e. at least every millisecond.
    pub fn now(&mut self) -> u64 {
        let value = timer_read(VALUE);
        self.cycles += u64::from(self.last.wrapping_sub(value));
        self.last = value;
        self.cycles / CYCLES_PER_MS
    }
}

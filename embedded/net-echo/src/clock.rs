//! Time from the SysTick timer: one interrupt per millisecond, counted; `now` extends the count
//! to 64 bits.

use core::sync::atomic::{AtomicU32, Ordering};

use cortex_m::peripheral::syst::SystClkSource;
use cortex_m::peripheral::SYST;
use cortex_m_rt::exception;

/// The MPS2 boards' CPU clock (QEMU's mps2.c: SYSCLK_FRQ), which SysTick counts.
const CPU_HZ: u32 = 25_000_000;

static TICKS: AtomicU32 = AtomicU32::new(0);

#[exception]
fn SysTick() {
    TICKS.fetch_add(1, Ordering::Relaxed);
}

/// Milliseconds since [`Clock::start`].
pub struct Clock {
    last: u32,
    high: u64,
}

impl Clock {
    /// Starts SysTick at 1 kHz from the CPU clock.
    pub fn start(mut syst: SYST) -> Self {
        syst.set_clock_source(SystClkSource::Core);
        syst.set_reload(CPU_HZ / 1000 - 1);
        syst.clear_current();
        syst.enable_interrupt();
        syst.enable_counter();
        Self { last: 0, high: 0 }
    }

    /// The current time in milliseconds (never goes back; the 32-bit tick count wraps after 49
    /// days, this does not).
    pub fn now(&mut self) -> u64 {
        let ticks = TICKS.load(Ordering::Relaxed);
        if ticks < self.last {
            self.high += 1 << 32;
        }
        self.last = ticks;
        self.high | u64::from(ticks)
    }
}

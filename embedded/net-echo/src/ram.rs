//! RAM use, measured: the statics (.data + .bss, from the linker's symbols) and the stack's peak
//! (the free RAM between the statics and the stack is painted at boot; the lowest word no longer
//! holding the paint marks how deep the stack went).

use core::ptr::{addr_of, read_volatile, write_volatile};

/// The paint.
const PAINT: u32 = 0x5afe_c0de;
/// Words just below the stack pointer left unpainted while painting (the painting call's own
/// frame lives there).
const SKIP: usize = 64;

extern "C" {
    static __sdata: u32;
    static __edata: u32;
    static __sbss: u32;
    static __ebss: u32;
    static __euninit: u32;
    static _stack_start: u32;
}

fn addr(symbol: *const u32) -> usize {
    symbol as usize
}

/// RAM figures in bytes.
#[derive(Clone, Copy, Debug)]
pub struct Usage {
    /// Initialised statics.
    pub data: usize,
    /// Zeroed statics.
    pub bss: usize,
    /// The deepest the stack has been since boot.
    pub stack_peak: usize,
    /// Everything: the RAM region (64 KiB).
    pub region: usize,
}

impl Usage {
    /// Statics plus the stack's peak.
    pub fn total(&self) -> usize {
        self.data + self.bss + self.stack_peak
    }
}

fn bounds() -> (usize, usize) {
    (
        addr(addr_of!(__euninit)).next_multiple_of(4),
        addr(addr_of!(_stack_start)),
    )
}

/// Paints the free RAM below the current stack frame. Call first thing in `main`.
pub fn paint() {
    let (low, _) = bounds();
    let sp = cortex_m::register::msp::read() as usize;
    let mut p = low;
    while p + 4 * SKIP < sp {
        // SAFETY: [low, sp - SKIP words) is RAM that neither a static nor a live frame uses.
        unsafe { write_volatile(p as *mut u32, PAINT) };
        p += 4;
    }
}

/// The figures now.
pub fn usage() -> Usage {
    let (low, top) = bounds();
    let mut p = low;
    // SAFETY: reads within the RAM region, below the stack.
    while p < top && unsafe { read_volatile(p as *const u32) } == PAINT {
        p += 4;
    }
    let (data, bss, origin) = (
        addr(addr_of!(__edata)) - addr(addr_of!(__sdata)),
        addr(addr_of!(__ebss)) - addr(addr_of!(__sbss)),
        addr(addr_of!(__sdata)),
    );
    Usage {
        data,
        bss,
        stack_peak: top - p,
        region: top - origin,
    }
}

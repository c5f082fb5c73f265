//! The runtime both firmwares share: semihosting output without formatting, stack painting per
//! phase, the exit with the result, and panic / HardFault handlers that fail the run instead of
//! hanging QEMU.
//!
//! Output, one line each: `phase NAME stack BYTES`, then `result ok` or
//! `result FAILED NAME step N`. scripts/embedded parses it.
#![no_std]

use core::arch::asm;
use core::ptr::{addr_of, read_volatile, write_volatile};
use cortex_m_rt::{exception, ExceptionFrame};
use cortex_m_semihosting::debug::{self, EXIT_FAILURE, EXIT_SUCCESS};
use cortex_m_semihosting::hio;
use ws_scenario::{Failure, Phase, Probe};

/// What painted stack words hold until something writes them.
const PAINT: u32 = 0x5A5A_A5A5;

extern "C" {
    /// End of .bss/.uninit (cortex-m-rt): the lowest address the stack can grow down to.
    static __sheap: u32;
}

/// Writes `bytes` to the host's stdout (ignored when no debugger is attached).
pub fn write(bytes: &[u8]) {
    if let Ok(mut out) = hio::hstdout() {
        let _ = out.write_all(bytes);
    }
}

/// Writes `n` in decimal.
pub fn write_decimal(mut n: usize) {
    let mut digits = [0u8; 10];
    let mut start = digits.len();
    loop {
        start -= 1;
        if let Some(d) = digits.get_mut(start) {
            *d = b'0' + (n % 10) as u8;
        }
        n /= 10;
        if n == 0 || start == 0 {
            break;
        }
    }
    write(digits.get(start..).unwrap_or(&[]));
}

/// The current stack pointer.
#[inline(always)]
fn sp() -> usize {
    let sp: usize;
    // SAFETY: reads a register, touches no memory.
    unsafe { asm!("mov {}, sp", out(reg) sp, options(nomem, nostack, preserves_flags)) };
    sp
}

/// Fills the free stack below this function's frame with [`PAINT`].
#[inline(never)]
fn paint() {
    let mut p = addr_of!(__sheap) as usize;
    // Leave this function's own frame (and a margin) alone.
    let end = sp() - 32;
    while p < end {
        // SAFETY: between the end of static RAM and below the live stack: unused memory, and no
        // interrupt is enabled that could push a frame there meanwhile.
        unsafe { write_volatile(p as *mut u32, PAINT) };
        p += 4;
    }
}

/// The lowest stack address written since [`paint`].
#[inline(never)]
fn lowest_written() -> usize {
    let mut p = addr_of!(__sheap) as usize;
    let end = sp();
    while p < end {
        // SAFETY: reads the memory [`paint`] filled (aligned, inside RAM).
        if unsafe { read_volatile(p as *const u32) } != PAINT {
            return p;
        }
        p += 4;
    }
    end
}

/// Runs `f` behind a call the optimizer cannot fold into the caller's frame.
#[inline(never)]
fn call<R>(f: impl FnOnce() -> R) -> R {
    f()
}

/// Measures each phase's peak stack by painting and reports it.
pub struct StackProbe;

impl Probe for StackProbe {
    fn phase<R>(&mut self, phase: Phase, f: impl FnOnce() -> R) -> R {
        let base = sp();
        paint();
        let result = call(f);
        let used = base - lowest_written();
        write(b"phase ");
        write(phase.name().as_bytes());
        write(b" stack ");
        write_decimal(used);
        write(b"\n");
        result
    }
}

/// Reports the result and ends QEMU with it as the exit status.
pub fn finish(result: Result<(), Failure>) -> ! {
    match result {
        Ok(()) => {
            write(b"result ok\n");
            exit(true)
        }
        Err(failure) => {
            write(b"result FAILED ");
            write(failure.phase.name().as_bytes());
            write(b" step ");
            write_decimal(usize::from(failure.step));
            write(b"\n");
            exit(false)
        }
    }
}

fn exit(ok: bool) -> ! {
    debug::exit(if ok { EXIT_SUCCESS } else { EXIT_FAILURE });
    // Without a debugger semihosting returns; nothing else to do.
    loop {
        core::hint::spin_loop();
    }
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    write(b"result FAILED panic\n");
    exit(false)
}

#[exception]
unsafe fn HardFault(_: &ExceptionFrame) -> ! {
    write(b"result FAILED hardfault\n");
    exit(false)
}

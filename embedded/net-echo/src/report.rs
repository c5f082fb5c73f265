//! The RAM report: printed over semihosting at boot and served as `GET /ram` (plain text), so a
//! test can read the stack's peak after a run.

use core::fmt::{self, Write};

use crate::budget::{self, STATIC_BUFFERS};
use crate::ram;

/// Formats into a byte slice, dropping what does not fit.
struct SliceWriter<'a> {
    buf: &'a mut [u8],
    len: usize,
}

impl Write for SliceWriter<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for b in s.bytes() {
            let Some(slot) = self.buf.get_mut(self.len) else {
                return Err(fmt::Error);
            };
            *slot = b;
            self.len += 1;
        }
        Ok(())
    }
}

/// The report's lines at `now` (ms).
pub fn write_report(w: &mut impl Write, now: u64) -> fmt::Result {
    let u = ram::usage();
    writeln!(
        w,
        "uptime: {now} ms (APB timer 0); SysTick interrupts taken: {}",
        crate::clock::systicks()
    )?;
    writeln!(w, "ram region: {} B", u.region)?;
    writeln!(
        w,
        "ram .data: {} B (smoltcp's socket slots: {} x {})",
        u.data,
        budget::SOCKETS,
        core::mem::size_of::<smoltcp::iface::SocketStorage<'static>>()
    )?;
    writeln!(
        w,
        "ram .bss: {} B (socket and frame buffers {} B: {} x ({} + {}) WebSocket, {} x ({} + {}) refusing, scratch {}, 2 frames of {})",
        u.bss,
        STATIC_BUFFERS,
        budget::WS_SLOTS,
        budget::WS_RX,
        budget::WS_TX,
        budget::REFUSE_SLOTS,
        budget::REFUSE_RX,
        budget::REFUSE_TX,
        budget::SCRATCH,
        budget::FRAME
    )?;
    writeln!(w, "ram stack peak: {} B", u.stack_peak)?;
    writeln!(w, "ram total: {} B of {} B", u.total(), u.region)
}

/// Counts the bytes written.
struct Counter(usize);

impl Write for Counter {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0 += s.len();
        Ok(())
    }
}

/// A `200 OK` with the report at `now` as its body, written into `out` (what does not fit is
/// cut); bytes written.
pub fn ram_response(out: &mut [u8], now: u64) -> usize {
    let mut len = Counter(0);
    let _ = write_report(&mut len, now);
    let mut w = SliceWriter { buf: out, len: 0 };
    let _ = write!(
        w,
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        len.0
    );
    let _ = write_report(&mut w, now);
    w.len
}

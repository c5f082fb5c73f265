//! What the allocation-counting tests share (`alloc.rs`, `room_alloc.rs`): a global allocator that
//! counts allocations and bytes (all threads), an in-memory transport polled by hand (so an async
//! runtime's own allocations stay out of the count), a waker that does nothing, and a parser for
//! the server's output. Included with `#[path]`, not through `common`: it installs the global
//! allocator of the test binary that includes it.
#![allow(dead_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

/// Counts into [`ALLOCS`] and [`BYTES`].
pub struct Counting;

/// Allocations and reallocations made.
pub static ALLOCS: AtomicU64 = AtomicU64::new(0);
/// Bytes asked for (allocations, and the new size of reallocations).
pub static BYTES: AtomicU64 = AtomicU64::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        BYTES.fetch_add(layout.size() as u64, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        BYTES.fetch_add(new_size as u64, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Both directions of an in-memory transport.
#[derive(Default)]
pub struct Pipe {
    pub input: VecDeque<u8>,
    pub output: Vec<u8>,
}

/// The server's end: reads what the test queued, writes into a pre-sized buffer.
pub struct Mem(pub Arc<Mutex<Pipe>>);

impl futures_io::AsyncRead for Mem {
    fn poll_read(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<std::io::Result<usize>> {
        let mut p = self.0.lock().unwrap();
        if p.input.is_empty() {
            return Poll::Pending;
        }
        let n = buf.len().min(p.input.len());
        for (dst, src) in buf.iter_mut().zip(p.input.drain(..n)) {
            *dst = src;
        }
        Poll::Ready(Ok(n))
    }
}

impl futures_io::AsyncWrite for Mem {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.0.lock().unwrap().output.extend_from_slice(buf);
        Poll::Ready(Ok(buf.len()))
    }
    fn poll_write_vectored(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let mut p = self.0.lock().unwrap();
        let mut n = 0;
        for b in bufs {
            p.output.extend_from_slice(b);
            n += b.len();
        }
        Poll::Ready(Ok(n))
    }
    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// A waker that does nothing and compares equal to its clones (`Waker::noop()` may not: then
/// a timer would re-register with the reactor on every poll). The tests poll by hand.
pub struct Nothing;

impl std::task::Wake for Nothing {
    fn wake(self: Arc<Self>) {}
}

/// The frames in a server's (unmasked) output: `(first byte, payload)`.
pub fn frames(mut wire: &[u8]) -> Vec<(u8, &[u8])> {
    let mut out = Vec::new();
    while !wire.is_empty() {
        let (len, hl) = match wire[1] & 0x7f {
            126 => (u16::from_be_bytes([wire[2], wire[3]]) as usize, 4),
            127 => (
                u64::from_be_bytes(wire[2..10].try_into().unwrap()) as usize,
                10,
            ),
            n => (n as usize, 2),
        };
        out.push((wire[0], &wire[hl..hl + len]));
        wire = &wire[hl + len..];
    }
    out
}

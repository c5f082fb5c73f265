//! The outbound byte queue of one connection: coalesced small writes, large payloads kept as
//! their own buffers (no copy), written with vectored writes, buffers recycled through a pool per
//! thread (no allocation in the steady state of an echo loop, and an empty outbox holds nothing).

use futures_io::AsyncWrite;
use std::cell::Cell;
use std::collections::VecDeque;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{Context, Poll};

/// Chunks up to this size take appended writes; larger payloads get their own chunk.
const COALESCE: usize = 64 << 10;
/// Emptied chunks kept for reuse per thread (each at most 2 x COALESCE), shared by the
/// connections polled on that thread: an idle connection keeps none after a burst.
const MAX_SPARE: usize = 16;
/// At most this many chunks are handed to one vectored write.
const MAX_SLICES: usize = 16;

/// Pending outbound bytes, in order.
#[derive(Debug, Default)]
pub(crate) struct Outbox {
    /// Chunks and whether more bytes may be appended to them.
    chunks: VecDeque<(Vec<u8>, bool)>,
    /// Bytes of the front chunk already written.
    front_pos: usize,
    /// Total bytes not yet written.
    bytes: usize,
}

thread_local! {
    /// This thread's emptied small chunks, kept for reuse.
    static SPARE: Cell<Vec<Vec<u8>>> = const { Cell::new(Vec::new()) };
}

/// An empty chunk from this thread's spares (or a new one).
fn spare_chunk() -> Vec<u8> {
    SPARE.with(|cell| {
        let mut spare = cell.take();
        let chunk = spare.pop();
        cell.set(spare);
        chunk.unwrap_or_default()
    })
}

/// Keeps an emptied chunk for reuse if it is small and the thread's spares are not full.
fn recycle(mut chunk: Vec<u8>, small: bool) {
    if !small || chunk.capacity() > 2 * COALESCE {
        return;
    }
    SPARE.with(|cell| {
        let mut spare = cell.take();
        if spare.len() < MAX_SPARE {
            chunk.clear();
            spare.push(chunk);
        }
        cell.set(spare);
    });
}

impl Outbox {
    /// Bytes not yet written.
    pub(crate) fn bytes(&self) -> usize {
        self.bytes
    }

    /// Whether everything has been written.
    pub(crate) fn is_empty(&self) -> bool {
        self.bytes == 0
    }

    /// The back chunk, with room for `room` more bytes, coalescing when possible.
    fn tail(&mut self, room: usize) -> &mut Vec<u8> {
        let fits = matches!(self.chunks.back(), Some((v, true)) if v.len() + room <= COALESCE.max(v.capacity()));
        if !fits {
            let mut v = spare_chunk();
            v.reserve(room.max(4096));
            self.chunks.push_back((v, room <= COALESCE));
        }
        match self.chunks.back_mut() {
            Some((v, _)) => v,
            None => unreachable_tail(),
        }
    }

    /// Lets `f` write into `room` bytes at the end; `f` returns how many it wrote and a value.
    pub(crate) fn write_with<T>(
        &mut self,
        room: usize,
        f: impl FnOnce(&mut [u8]) -> (usize, T),
    ) -> T {
        let v = self.tail(room);
        let old = v.len();
        v.resize(old + room, 0);
        let (n, t) = f(v.get_mut(old..).unwrap_or_default());
        let n = n.min(room);
        v.truncate(old + n);
        self.bytes += n;
        t
    }

    /// Appends a copy of `data`.
    pub(crate) fn extend(&mut self, data: &[u8]) {
        if data.is_empty() {
            return;
        }
        self.tail(data.len()).extend_from_slice(data);
        self.bytes += data.len();
    }

    /// Appends `data`, taking ownership of large buffers instead of copying them.
    pub(crate) fn push_owned(&mut self, data: Vec<u8>) {
        if data.len() <= 16 << 10 {
            self.extend(&data);
        } else {
            self.bytes += data.len();
            self.chunks.push_back((data, false));
        }
    }

    /// Writes as much as the transport takes without blocking; returns the bytes written, or
    /// `Pending` (waker registered) when nothing could be written.
    pub(crate) fn poll_write<W: AsyncWrite + Unpin + ?Sized>(
        &mut self,
        io: &mut W,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<usize>> {
        let mut total = 0;
        while !self.is_empty() {
            let mut slices = [IoSlice::new(&[]); MAX_SLICES];
            let count = self.fill_slices(&mut slices);
            let slices = slices.get(..count).unwrap_or_default();
            match Pin::new(&mut *io).poll_write_vectored(cx, slices) {
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(n)) => {
                    self.advance(n);
                    total += n;
                }
                Poll::Ready(Err(e)) if e.kind() == io::ErrorKind::Interrupted => {}
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending if total > 0 => return Poll::Ready(Ok(total)),
                Poll::Pending => return Poll::Pending,
            }
        }
        Poll::Ready(Ok(total))
    }

    /// One vectored write of everything queued followed by `tail` (bytes the caller has not
    /// queued), without blocking: `(bytes written in all, bytes of tail written)`. Nothing is
    /// written when the queue has too many chunks, or when the transport is not ready (the
    /// waker is then registered) or failed (the next [`Outbox::poll_write`] sees the error again).
    pub(crate) fn write_through<W: AsyncWrite + Unpin + ?Sized>(
        &mut self,
        io: &mut W,
        cx: &mut Context<'_>,
        tail: &[u8],
    ) -> (usize, usize) {
        if self.chunks.len() >= MAX_SLICES {
            return (0, 0);
        }
        let mut slices = [IoSlice::new(&[]); MAX_SLICES];
        let mut count = self.fill_slices(&mut slices);
        if let Some(slot) = slices.get_mut(count) {
            *slot = IoSlice::new(tail);
            count += 1;
        }
        let slices = slices.get(..count).unwrap_or_default();
        match Pin::new(&mut *io).poll_write_vectored(cx, slices) {
            Poll::Ready(Ok(n)) => {
                let queued = n.min(self.bytes);
                self.advance(queued);
                (n, n - queued)
            }
            _ => (0, 0),
        }
    }

    /// Puts the unwritten bytes of the first chunks into `slices`; returns how many it filled.
    fn fill_slices<'a>(&'a self, slices: &mut [IoSlice<'a>; MAX_SLICES]) -> usize {
        let mut count = 0;
        for (i, ((chunk, _), slot)) in self.chunks.iter().zip(slices.iter_mut()).enumerate() {
            let start = if i == 0 { self.front_pos } else { 0 };
            if let Some(bytes) = chunk.get(start..) {
                *slot = IoSlice::new(bytes);
                count = i + 1;
            }
        }
        count
    }

    /// Marks `n` bytes as written, recycling emptied small chunks.
    fn advance(&mut self, mut n: usize) {
        self.bytes -= n.min(self.bytes);
        while n > 0 {
            let Some((front, _)) = self.chunks.front() else {
                break;
            };
            let left = front.len() - self.front_pos;
            if n < left {
                self.front_pos += n;
                return;
            }
            n -= left;
            self.front_pos = 0;
            if let Some((v, small)) = self.chunks.pop_front() {
                recycle(v, small);
            }
        }
        // Drop leading empty chunks so `front_pos` stays meaningful.
        while matches!(self.chunks.front(), Some((v, _)) if v.len() == self.front_pos && self.bytes > 0)
        {
            self.chunks.pop_front();
            self.front_pos = 0;
        }
        if self.bytes == 0 {
            while let Some((v, small)) = self.chunks.pop_front() {
                recycle(v, small);
            }
            self.front_pos = 0;
        }
    }

    /// Forgets everything not yet written.
    pub(crate) fn clear(&mut self) {
        self.chunks.clear();
        self.front_pos = 0;
        self.bytes = 0;
    }
}

/// `tail` always leaves a back chunk; this is never reached.
#[cold]
fn unreachable_tail() -> ! {
    unreachable!("Outbox::tail pushed a chunk")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A sink that takes at most `max` bytes per call and records each call's slice count.
    struct Sink {
        data: Vec<u8>,
        max: usize,
        calls: Vec<usize>,
    }

    impl AsyncWrite for Sink {
        fn poll_write(
            self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<io::Result<usize>> {
            self.poll_write_vectored(cx, &[IoSlice::new(buf)])
        }
        fn poll_write_vectored(
            mut self: Pin<&mut Self>,
            _cx: &mut Context<'_>,
            bufs: &[IoSlice<'_>],
        ) -> Poll<io::Result<usize>> {
            self.calls.push(bufs.len());
            let mut left = self.max;
            let mut n = 0;
            for b in bufs {
                let take = b.len().min(left);
                self.data.extend_from_slice(&b[..take]);
                left -= take;
                n += take;
            }
            Poll::Ready(Ok(n))
        }
        fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
        fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
    }

    fn drain(out: &mut Outbox, sink: &mut Sink) {
        let mut cx = Context::from_waker(std::task::Waker::noop());
        while !out.is_empty() {
            assert!(matches!(out.poll_write(sink, &mut cx), Poll::Ready(Ok(_))));
        }
    }

    #[test]
    fn small_writes_coalesce_into_one_slice() {
        let mut out = Outbox::default();
        for i in 0..100u8 {
            out.extend(&[i; 10]);
        }
        let n = out.write_with(20, |o| {
            o[..3].copy_from_slice(b"end");
            (3, 3)
        });
        assert_eq!(n, 3);
        assert_eq!(out.bytes(), 1003);
        let mut sink = Sink {
            data: Vec::new(),
            max: usize::MAX,
            calls: Vec::new(),
        };
        drain(&mut out, &mut sink);
        assert_eq!(sink.calls, vec![1]);
        assert_eq!(sink.data.len(), 1003);
        assert_eq!(&sink.data[1000..], b"end");
    }

    #[test]
    fn large_payloads_are_not_copied_and_order_is_kept_under_partial_writes() {
        let mut out = Outbox::default();
        let big: Vec<u8> = (0..100_000u32).map(|i| i as u8).collect();
        let copy = big.clone();
        let ptr = big.as_ptr();
        out.extend(b"head");
        out.push_owned(big);
        out.extend(b"tail");
        // The large buffer was moved in, not copied.
        assert!(out.chunks.iter().any(|(c, _)| c.as_ptr() == ptr));
        let mut sink = Sink {
            data: Vec::new(),
            max: 7777,
            calls: Vec::new(),
        };
        drain(&mut out, &mut sink);
        let mut expected = b"head".to_vec();
        expected.extend(&copy);
        expected.extend(b"tail");
        assert_eq!(sink.data, expected);
        assert_eq!(out.bytes(), 0);
    }

    #[test]
    fn write_through_sends_the_queue_then_the_tail_and_reports_the_tail_part() {
        let mut out = Outbox::default();
        out.extend(b"head");
        let mut sink = Sink {
            data: Vec::new(),
            max: 7,
            calls: Vec::new(),
        };
        let mut cx = Context::from_waker(std::task::Waker::noop());
        assert_eq!(out.write_through(&mut sink, &mut cx, b"payload"), (7, 3));
        assert_eq!(sink.data, b"headpay");
        assert_eq!(sink.calls, vec![2]);
        assert!(out.is_empty());
        // A short write inside the queue writes none of the tail.
        out.extend(b"0123456789");
        assert_eq!(out.write_through(&mut sink, &mut cx, b"tail"), (7, 0));
        assert_eq!(out.bytes(), 3);
        // A transport that is not ready takes nothing and the queue is kept.
        assert_eq!(out.write_through(&mut Blocked, &mut cx, b"tail"), (0, 0));
        assert_eq!(out.bytes(), 3);
    }

    /// A transport that is never ready.
    struct Blocked;

    impl AsyncWrite for Blocked {
        fn poll_write(
            self: Pin<&mut Self>,
            _cx: &mut Context<'_>,
            _buf: &[u8],
        ) -> Poll<io::Result<usize>> {
            Poll::Pending
        }
        fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Pending
        }
        fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Pending
        }
    }

    #[test]
    fn emptied_buffers_are_reused() {
        let mut out = Outbox::default();
        let mut sink = Sink {
            data: Vec::new(),
            max: usize::MAX,
            calls: Vec::new(),
        };
        out.extend(&[1; 100]);
        let first = out.chunks.front().map(|(c, _)| c.as_ptr());
        drain(&mut out, &mut sink);
        out.extend(&[2; 100]);
        assert_eq!(out.chunks.front().map(|(c, _)| c.as_ptr()), first);
    }
}

//! The read buffer: one large buffer per executor thread, lent to a connection while it reads and
//! processes, so an idle connection holds no read buffer at all.
//!
//! A connection borrows the thread's buffer when it is about to read ([`ReadBuffer::lend`]) and
//! gives it back when its poll ends ([`ReadBuffer::settle`]). What the poll left unprocessed (a
//! partial frame, or input held back while the outbox is at its cap) is copied into an
//! exact-size buffer of the connection's own, so memory held per connection is the bytes it has
//! received and not yet processed, never a whole buffer. That copy happens once per read: later
//! messages are processed from it in place, and the large buffer is lent again only to read.
//! A connection that yields to other tasks mid-input keeps the large buffer until its next poll.

use std::cell::Cell;

thread_local! {
    /// This thread's spare read buffer (empty when lent out or not yet allocated).
    static SPARE: Cell<Vec<u8>> = const { Cell::new(Vec::new()) };
}

/// One connection's view of its input: `buf[start..end]` are the unprocessed bytes.
#[derive(Debug, Default)]
pub(crate) struct ReadBuffer {
    pub(crate) buf: Vec<u8>,
    pub(crate) start: usize,
    pub(crate) end: usize,
    /// The size of the lent buffer (`Config::read_buffer`).
    size: usize,
}

impl ReadBuffer {
    /// A buffer holding `leftover` (bytes that followed the handshake head); `size` is the size
    /// of the shared buffer it reads into.
    pub(crate) fn new(leftover: &[u8], size: usize) -> Self {
        Self {
            buf: leftover.to_vec(),
            start: 0,
            end: leftover.len(),
            size: size.max(1024),
        }
    }

    /// The unprocessed bytes.
    pub(crate) fn pending(&self) -> &[u8] {
        self.buf.get(self.start..self.end).unwrap_or_default()
    }

    /// How many unprocessed bytes there are.
    pub(crate) fn len(&self) -> usize {
        self.end - self.start
    }

    /// Whether this connection holds the large buffer.
    fn is_lent(&self) -> bool {
        self.buf.len() >= self.size
    }

    /// Makes sure the large buffer is here (moving the pending bytes into it) and returns the free
    /// space after the pending bytes, moving them to the front first if the tail is full.
    pub(crate) fn lend(&mut self) -> &mut [u8] {
        if !self.is_lent() {
            let mut big = SPARE.take();
            if big.len() < self.size {
                big = vec![0; self.size];
            }
            let len = self.len();
            if let (Some(dst), Some(src)) = (big.get_mut(..len), self.buf.get(self.start..self.end))
            {
                dst.copy_from_slice(src);
            }
            self.buf = big;
            (self.start, self.end) = (0, len);
        } else if self.start == self.end {
            (self.start, self.end) = (0, 0);
        } else if self.end == self.buf.len() && self.start > 0 {
            let len = self.len();
            self.buf.copy_within(self.start..self.end, 0);
            (self.start, self.end) = (0, len);
        }
        self.buf.get_mut(self.end..).unwrap_or_default()
    }

    /// Ends a poll that is going to wait: the large buffer goes back to the thread, the pending
    /// bytes (if any) into an exact-size buffer of our own.
    pub(crate) fn settle(&mut self) {
        if !self.is_lent() {
            return;
        }
        let own = self.pending().to_vec();
        (self.start, self.end) = (0, own.len());
        let big = std::mem::replace(&mut self.buf, own);
        let spare = SPARE.take();
        // Keep the larger of the two (a thread serving connections of several sizes keeps the
        // largest); the other is freed.
        SPARE.set(if spare.len() >= big.len() { spare } else { big });
    }

    /// Drops the unprocessed bytes (the connection is done); a lent buffer goes back to the
    /// thread without copying them.
    pub(crate) fn clear(&mut self) {
        (self.start, self.end) = (0, 0);
        self.settle();
        self.buf = Vec::new();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_idle_connection_holds_nothing_and_a_partial_frame_holds_its_bytes() {
        let mut r = ReadBuffer::new(&[], 4096);
        assert_eq!(r.buf.capacity(), 0);
        let space = r.lend();
        assert_eq!(space.len(), 4096);
        space[..5].copy_from_slice(b"hello");
        r.end += 5;
        r.start += 2;
        r.settle();
        assert_eq!(r.pending(), b"llo");
        assert_eq!(r.buf.capacity(), 3);
        // The next lend brings the pending bytes into the large buffer (the thread's spare).
        let space = r.lend();
        assert_eq!(space.len(), 4096 - 3);
        assert_eq!(r.pending(), b"llo");
        r.start = r.end;
        r.settle();
        assert_eq!(r.buf.capacity(), 0);
        assert_eq!(SPARE.take().len(), 4096);
    }

    #[test]
    fn settling_again_without_reading_copies_nothing() {
        let mut r = ReadBuffer::new(&[], 4096);
        let space = r.lend();
        space[..6].copy_from_slice(b"abcdef");
        r.end += 6;
        r.settle();
        let own = r.buf.as_ptr();
        // Messages taken from the own buffer between reads: no copy, no allocation.
        r.start += 2;
        r.settle();
        assert_eq!(r.buf.as_ptr(), own);
        assert_eq!(r.pending(), b"cdef");
    }

    #[test]
    fn clearing_a_lent_buffer_returns_it_and_keeps_nothing() {
        let mut r = ReadBuffer::new(&[], 2048);
        let _ = SPARE.take();
        let _ = r.lend();
        r.end = 100;
        r.clear();
        assert_eq!((r.buf.capacity(), r.len()), (0, 0));
        assert_eq!(SPARE.take().len(), 2048);
        // An own buffer holding a partial frame is freed too.
        let mut r = ReadBuffer::new(b"\x82\x7e", 2048);
        r.clear();
        assert_eq!((r.buf.capacity(), r.len()), (0, 0));
    }

    #[test]
    fn a_full_tail_is_moved_to_the_front() {
        let mut r = ReadBuffer::new(b"", 1024);
        let _ = r.lend();
        r.end = 1024;
        r.start = 1000;
        let space = r.lend();
        assert_eq!(space.len(), 1000);
        assert_eq!((r.start, r.end), (0, 24));
    }

    #[test]
    fn handshake_leftover_is_kept() {
        let mut r = ReadBuffer::new(b"\x81\x05", 2048);
        assert_eq!(r.pending(), b"\x81\x05");
        let _ = r.lend();
        assert_eq!(r.pending(), b"\x81\x05");
    }
}

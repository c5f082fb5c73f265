//! The replies to one read, in order: small pieces copied, large payloads referenced where they
//! were unmasked in the read buffer, so an echo is written without copying it (one vectored
//! write per read).

use std::io::{self, IoSlice, Write};
use std::ops::Range;

/// Payloads at least this long are referenced in the read buffer instead of copied.
const REFERENCE_FROM: usize = 512;

/// Most slices one `writev` takes here (the kernel allows 1024).
const MAX_SLICES: usize = 64;

/// Where a piece of the batch lives.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Piece {
    /// In the batch's own bytes.
    Copied(Range<usize>),
    /// In the read buffer.
    InBuffer(Range<usize>),
}

/// Output collected for one connection until it is written.
#[derive(Default)]
pub(super) struct Batch {
    bytes: Vec<u8>,
    pieces: Vec<Piece>,
}

impl Batch {
    /// An empty batch with room for `capacity` copied bytes.
    pub(super) fn with_capacity(capacity: usize) -> Self {
        Self {
            bytes: Vec::with_capacity(capacity),
            pieces: Vec::new(),
        }
    }

    /// Appends a copy of `data`.
    pub(super) fn push(&mut self, data: &[u8]) {
        if data.is_empty() {
            return;
        }
        let start = self.bytes.len();
        self.bytes.extend_from_slice(data);
        let end = self.bytes.len();
        match self.pieces.last_mut() {
            Some(Piece::Copied(r)) if r.end == start => r.end = end,
            _ => self.pieces.push(Piece::Copied(start..end)),
        }
    }

    /// Appends `payload`, which lies in `buf` (the read buffer, whose address is `buf_addr`):
    /// referenced when large, copied when small or when the batch has too many pieces.
    pub(super) fn push_payload(&mut self, payload: &[u8], buf_addr: usize) {
        let start = (payload.as_ptr() as usize).wrapping_sub(buf_addr);
        if payload.len() < REFERENCE_FROM || self.pieces.len() >= MAX_SLICES * 8 {
            self.push(payload);
            return;
        }
        self.pieces
            .push(Piece::InBuffer(start..start + payload.len()));
    }

    /// The collected output when it is one copied piece (or nothing: an empty slice).
    pub(super) fn single(&self) -> Option<&[u8]> {
        match self.pieces.as_slice() {
            [] => Some(&[]),
            [Piece::Copied(r)] => self.bytes.get(r.clone()),
            _ => None,
        }
    }

    /// Forgets everything collected.
    pub(super) fn clear(&mut self) {
        self.bytes.clear();
        self.pieces.clear();
    }

    /// The collected output in order, resolved against the read buffer `buf`.
    pub(super) fn parts<'a>(&'a self, buf: &'a [u8]) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.pieces.iter().map(move |p| match p {
            Piece::Copied(r) => self.bytes.get(r.clone()).unwrap_or_default(),
            Piece::InBuffer(r) => buf.get(r.clone()).unwrap_or_default(),
        })
    }
}

/// Writes `parts` in order until the socket would block; returns the bytes written.
pub(super) fn write_parts<W: Write>(sock: &mut W, parts: &[&[u8]]) -> io::Result<usize> {
    let total: usize = parts.iter().map(|p| p.len()).sum();
    let mut done = 0;
    while done < total {
        let mut skip = done;
        let mut iov = [IoSlice::new(&[]); MAX_SLICES];
        let mut count = 0;
        for p in parts {
            if count == MAX_SLICES {
                break;
            }
            if skip >= p.len() {
                skip -= p.len();
                continue;
            }
            if let Some(slot) = iov.get_mut(count) {
                *slot = IoSlice::new(p.get(skip..).unwrap_or_default());
                count += 1;
            }
            skip = 0;
        }
        // One slice goes out with send(2): cheaper in the kernel than writev(2) with one iovec.
        let written = match iov.get(..count).unwrap_or_default() {
            [one] => sock.write(one),
            many => sock.write_vectored(many),
        };
        match written {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => done += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) => return Err(e),
        }
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_keep_their_order_and_small_ones_are_copied() {
        let buf = vec![7u8; 4096];
        let addr = buf.as_ptr() as usize;
        let mut b = Batch::default();
        b.push(b"ab");
        b.push_payload(buf.get(100..1100).unwrap_or_default(), addr);
        b.push(b"cd");
        b.push_payload(buf.get(0..3).unwrap_or_default(), addr);
        let parts: Vec<&[u8]> = b.parts(&buf).collect();
        assert_eq!(parts.len(), 3);
        assert_eq!(parts[0], b"ab");
        assert_eq!(parts[1].len(), 1000);
        assert_eq!(parts[2], b"cd\x07\x07\x07");
    }

    #[test]
    fn single_is_only_for_one_copied_piece() {
        let buf = vec![1u8; 2048];
        let addr = buf.as_ptr() as usize;
        let mut b = Batch::default();
        assert_eq!(b.single(), Some(&[][..]));
        b.push(b"ab");
        b.push(b"cd");
        assert_eq!(b.single(), Some(&b"abcd"[..]));
        b.push_payload(buf.get(..1024).unwrap_or_default(), addr);
        assert_eq!(b.single(), None);
        b.clear();
        assert_eq!(b.single(), Some(&[][..]));
    }

    /// A writer that takes at most `limit` bytes per call, then would block.
    struct Trickle {
        got: Vec<u8>,
        limit: usize,
        calls: usize,
    }

    impl Write for Trickle {
        fn write(&mut self, b: &[u8]) -> io::Result<usize> {
            self.write_vectored(&[IoSlice::new(b)])
        }
        fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
            if self.calls == 3 {
                return Err(io::ErrorKind::WouldBlock.into());
            }
            self.calls += 1;
            let mut n = 0;
            for b in bufs {
                let take = b.len().min(self.limit - n);
                self.got
                    .extend_from_slice(b.get(..take).unwrap_or_default());
                n += take;
            }
            Ok(n)
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn partial_writes_resume_mid_slice_and_stop_at_would_block() {
        let mut w = Trickle {
            got: Vec::new(),
            limit: 5,
            calls: 0,
        };
        let n = write_parts(&mut w, &[b"abc", b"defgh", b"ijklmnop"]).unwrap_or(0);
        assert_eq!(n, 15);
        assert_eq!(w.got, b"abcdefghijklmno");
    }
}

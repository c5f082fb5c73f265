//! A connection's outbound bytes, in order, as slices for one vectored write: bytes of its own
//! (small writes coalesced, large payloads kept as their own buffers) and echo payloads still in
//! the engine's input buffer, referenced instead of copied until the engine releases that buffer.

use std::cell::Cell;
use std::collections::VecDeque;
use std::io::IoSlice;
use std::ops::Range;

/// Owned chunks up to this size take appended writes; larger payloads get their own chunk.
const COALESCE: usize = 64 << 10;
/// Payloads at least this long are referenced in the input buffer; shorter ones are copied (a
/// slice per small echo would cost more in the kernel than the copy).
const REFERENCE_FROM: usize = 512;
/// Emptied chunks kept for reuse per thread (each at most 2 x COALESCE).
const MAX_SPARE: usize = 16;
/// Owned buffers up to this size are copied in rather than taken over.
const TAKE_FROM: usize = 16 << 10;

/// Where a chunk's bytes are.
#[derive(Debug)]
enum Chunk {
    /// Our own bytes; `open`: more may be appended.
    Owned { bytes: Vec<u8>, open: bool },
    /// This range of the input buffer (until [`Outbound::release_input`]).
    Input(Range<usize>),
}

impl Chunk {
    fn len(&self) -> usize {
        match self {
            Chunk::Owned { bytes, .. } => bytes.len(),
            Chunk::Input(r) => r.len(),
        }
    }
}

/// Pending outbound bytes.
#[derive(Debug, Default)]
pub(crate) struct Outbound {
    chunks: VecDeque<Chunk>,
    /// Bytes of the front chunk already written.
    front_pos: usize,
    /// Total bytes not yet written.
    bytes: usize,
}

thread_local! {
    /// This thread's emptied small chunks, kept for reuse.
    static SPARE: Cell<Vec<Vec<u8>>> = const { Cell::new(Vec::new()) };
}

fn spare_chunk() -> Vec<u8> {
    SPARE.with(|cell| {
        let mut spare = cell.take();
        let chunk = spare.pop();
        cell.set(spare);
        chunk.unwrap_or_default()
    })
}

fn recycle(mut chunk: Vec<u8>) {
    if chunk.capacity() > 2 * COALESCE || chunk.capacity() == 0 {
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

impl Outbound {
    /// Bytes not yet written.
    pub(crate) fn bytes(&self) -> usize {
        self.bytes
    }

    /// Whether everything has been written.
    pub(crate) fn is_empty(&self) -> bool {
        self.bytes == 0
    }

    /// Appends a copy of `data`.
    pub(crate) fn extend(&mut self, data: &[u8]) {
        if data.is_empty() {
            return;
        }
        let fits = matches!(self.chunks.back(), Some(Chunk::Owned { bytes, open: true })
            if bytes.len() + data.len() <= COALESCE.max(bytes.capacity()));
        if !fits {
            let mut v = spare_chunk();
            v.reserve(data.len().max(4096));
            self.chunks.push_back(Chunk::Owned {
                bytes: v,
                open: data.len() <= COALESCE,
            });
        }
        if let Some(Chunk::Owned { bytes, .. }) = self.chunks.back_mut() {
            bytes.extend_from_slice(data);
            self.bytes += data.len();
        }
    }

    /// Appends `data`, taking over large buffers instead of copying them.
    pub(crate) fn push_owned(&mut self, data: Vec<u8>) {
        if data.len() < TAKE_FROM {
            self.extend(&data);
            recycle(data);
        } else {
            self.bytes += data.len();
            self.chunks.push_back(Chunk::Owned {
                bytes: data,
                open: false,
            });
        }
    }

    /// Appends `payload`, which lies in the input buffer starting at address `base`: referenced
    /// when large, copied when small.
    pub(crate) fn push_input(&mut self, payload: &[u8], base: usize) {
        if payload.len() < REFERENCE_FROM {
            self.extend(payload);
            return;
        }
        let start = (payload.as_ptr() as usize).wrapping_sub(base);
        self.bytes += payload.len();
        self.chunks
            .push_back(Chunk::Input(start..start + payload.len()));
    }

    /// Fills `slices` with the unwritten bytes in order (input references resolved against
    /// `input`, the buffer given to the driver); returns how many it filled.
    pub(crate) fn slices<'a>(&'a self, input: &'a [u8], slices: &mut [IoSlice<'a>]) -> usize {
        let mut count = 0;
        for (i, (chunk, slot)) in self.chunks.iter().zip(slices.iter_mut()).enumerate() {
            let bytes = match chunk {
                Chunk::Owned { bytes, .. } => bytes.as_slice(),
                Chunk::Input(r) => input.get(r.clone()).unwrap_or_default(),
            };
            let start = if i == 0 { self.front_pos } else { 0 };
            *slot = IoSlice::new(bytes.get(start..).unwrap_or_default());
            count = i + 1;
        }
        count
    }

    /// Marks `n` bytes as written, recycling emptied chunks.
    pub(crate) fn advance(&mut self, mut n: usize) {
        self.bytes -= n.min(self.bytes);
        while n > 0 {
            let Some(front) = self.chunks.front() else {
                break;
            };
            let left = front.len() - self.front_pos;
            if n < left {
                self.front_pos += n;
                return;
            }
            n -= left;
            self.front_pos = 0;
            if let Some(Chunk::Owned { bytes, .. }) = self.chunks.pop_front() {
                recycle(bytes);
            }
        }
        if self.bytes == 0 {
            while let Some(chunk) = self.chunks.pop_front() {
                if let Chunk::Owned { bytes, .. } = chunk {
                    recycle(bytes);
                }
            }
            self.front_pos = 0;
        }
    }

    /// Copies the bytes still referenced in `input` into our own chunks: the engine is about to
    /// reuse or give back its input buffer.
    pub(crate) fn release_input(&mut self, input: &[u8]) {
        if !self.chunks.iter().any(|c| matches!(c, Chunk::Input(_))) {
            return;
        }
        let old = std::mem::take(&mut self.chunks);
        let front_pos = std::mem::take(&mut self.front_pos);
        self.bytes = 0;
        for (i, chunk) in old.into_iter().enumerate() {
            let skip = if i == 0 { front_pos } else { 0 };
            match chunk {
                Chunk::Input(r) => {
                    let bytes = input.get(r).unwrap_or_default();
                    let bytes = bytes.get(skip..).unwrap_or_default();
                    if bytes.len() >= TAKE_FROM {
                        self.push_owned(bytes.to_vec());
                    } else {
                        self.extend(bytes);
                    }
                }
                Chunk::Owned { bytes, open } if skip == 0 => {
                    self.bytes += bytes.len();
                    self.chunks.push_back(Chunk::Owned { bytes, open });
                }
                Chunk::Owned { bytes, .. } => {
                    self.extend(bytes.get(skip..).unwrap_or_default());
                    recycle(bytes);
                }
            }
        }
    }

    /// Forgets everything not yet written.
    pub(crate) fn clear(&mut self) {
        self.chunks.clear();
        self.front_pos = 0;
        self.bytes = 0;
    }

    /// How many chunks are queued (a vectored write takes a bounded number of slices).
    #[cfg(test)]
    pub(crate) fn chunk_count(&self) -> usize {
        self.chunks.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes everything queued into a Vec, at most `max` bytes per "write".
    fn drain(out: &mut Outbound, input: &[u8], max: usize) -> Vec<u8> {
        let mut got = Vec::new();
        while !out.is_empty() {
            let mut slices = [IoSlice::new(&[]); 16];
            let n = out.slices(input, &mut slices);
            let mut take = max;
            let mut written = 0;
            for s in &slices[..n] {
                let k = s.len().min(take);
                got.extend_from_slice(&s[..k]);
                take -= k;
                written += k;
            }
            out.advance(written);
        }
        got
    }

    #[test]
    fn small_writes_coalesce_and_order_is_kept() {
        let mut out = Outbound::default();
        for i in 0..100u8 {
            out.extend(&[i; 10]);
        }
        assert_eq!(out.chunk_count(), 1);
        assert_eq!(out.bytes(), 1000);
        let got = drain(&mut out, &[], 7);
        assert_eq!(got.len(), 1000);
        assert_eq!(got[999], 99);
    }

    #[test]
    fn large_owned_payloads_are_not_copied() {
        let mut out = Outbound::default();
        let big = vec![5u8; 100_000];
        let ptr = big.as_ptr();
        out.extend(b"head");
        out.push_owned(big);
        assert!(out
            .chunks
            .iter()
            .any(|c| matches!(c, Chunk::Owned { bytes, .. } if bytes.as_ptr() == ptr)));
        let got = drain(&mut out, &[], 7777);
        assert_eq!(got.len(), 100_004);
    }

    #[test]
    fn input_references_resolve_and_survive_release() {
        let input: Vec<u8> = (0..4096u32).map(|i| i as u8).collect();
        let base = input.as_ptr() as usize;
        let mut out = Outbound::default();
        out.extend(b"h1");
        out.push_input(&input[100..1100], base);
        out.push_input(&input[5..8], base); // small: copied
        assert_eq!(out.chunk_count(), 3);
        // Part of it is written, then the engine releases the buffer.
        let mut slices = [IoSlice::new(&[]); 16];
        let n = out.slices(&input, &mut slices);
        assert_eq!(n, 3);
        assert_eq!(&slices[1][..], &input[100..1100]);
        out.advance(2 + 500);
        out.release_input(&input);
        let got = drain(&mut out, &[], usize::MAX);
        let mut want = input[600..1100].to_vec();
        want.extend_from_slice(&input[5..8]);
        assert_eq!(got, want);
    }
}

//! A connection's outbound bytes, in order, as slices for one vectored write: small writes
//! (headers, control frames, short echoes) appended to one buffer of the connection's own, large
//! payloads kept as their own buffers, and echo payloads still in the engine's input buffer,
//! referenced instead of copied until the engine releases that buffer, and frames shared by the
//! members of a [`crate::Room`], referenced (one `Arc` per member, never a copy of the frame) when
//! large and copied when small. Once everything is written
//! the queue's storage goes back to a per-thread pool, so an idle connection holds none and a
//! busy one allocates nothing per message.

use std::cell::Cell;
use std::collections::VecDeque;
use std::io::IoSlice;
use std::ops::Range;
use std::sync::Arc;

use super::receive::ECHO_FRAGMENT;
use ws_core::frame::FrameHeader;
use ws_core::Role;

/// Payloads at least this long are referenced in the input buffer; shorter ones are copied (a
/// slice per small echo would cost more in the kernel than the copy).
const REFERENCE_FROM: usize = 512;
/// Owned buffers at least this long are taken over rather than copied in.
const TAKE_FROM: usize = 16 << 10;
/// Small-write buffers larger than this are freed instead of kept in the thread's pool (which
/// holds at most [`POOL_BYTES`] in all). 256 KiB: an echo of 1 000 x 100 B messages in one read
/// fills ~100 KB, and at 64 KiB its buffer was freed and grown again, 12 allocations per read
/// (`tests/alloc.rs`).
const MAX_SPARE: usize = 256 << 10;

/// Where a piece's bytes are.
#[derive(Debug)]
enum Piece {
    /// This range of the connection's small-write buffer.
    Small(Range<usize>),
    /// A buffer of its own.
    Owned(Vec<u8>),
    /// This range of the engine's input buffer (until [`Outbound::release_input`]).
    Input(Range<usize>),
    /// A whole frame shared with other connections (a room's broadcast).
    Shared(Arc<[u8]>),
    /// This range of the small-write buffer: copies of small shared frames, whole frames back to
    /// back (kept apart from [`Piece::Small`] so that an abort can drop them too).
    SharedCopy(Range<usize>),
}

/// The queue's storage: allocated while bytes are pending, then given back to a per-thread pool
/// (so an idle connection holds 16 bytes of it, and a busy one allocates nothing per message).
#[derive(Debug, Default)]
struct Queue {
    /// Small writes, appended; emptied once everything is written.
    small: Vec<u8>,
    pieces: VecDeque<Piece>,
    /// Bytes of the front piece already written.
    front_pos: usize,
}

/// Pending outbound bytes.
#[derive(Debug, Default)]
pub(crate) struct Outbound {
    /// `None` while nothing is pending.
    queue: Option<Box<Queue>>,
    /// Total bytes not yet written.
    bytes: usize,
}

/// Where the frame that holds byte `at - 1` of `frames` (whole unmasked frames back to back) ends:
/// the first frame boundary at or past `at` (all of `frames` if a header does not parse).
fn frame_end(frames: &[u8], at: usize) -> usize {
    let mut end = 0;
    while end < at {
        let rest = frames.get(end..).unwrap_or_default();
        match FrameHeader::parse(rest, Role::Client) {
            Ok(Some((h, n))) => {
                let len = usize::try_from(h.payload_len).unwrap_or(usize::MAX);
                end = end.saturating_add(n).saturating_add(len);
            }
            _ => return frames.len(),
        }
    }
    end.min(frames.len())
}

/// Emptied queues kept for reuse, with their buffers.
#[derive(Default)]
struct Pool {
    /// Boxed: a queue moves between a connection and the pool without being reallocated.
    #[allow(clippy::vec_box)]
    queues: Vec<Box<Queue>>,
    /// What they hold in all (see [`Queue::weight`]).
    bytes: usize,
}

thread_local! {
    /// This thread's pool. A broadcast to N members takes N queues at once and gives them back
    /// once written: with 64 kept, a room of 1 000 allocated, grew and freed 936 queues per
    /// publisher read (4.7% of the loop's CPU in malloc and free in scripts/bench room-1000).
    static POOL: Cell<Pool> = const {
        Cell::new(Pool {
            queues: Vec::new(),
            bytes: 0,
        })
    };
}

/// Bytes of queues kept per thread: a room of ~5 000 members that each had a few hundred bytes
/// written at once reuses them all.
const POOL_BYTES: usize = 4 << 20;

/// A queue from the thread's pool, or a new one (out of line: the hot paths that append inline
/// the rest).
#[inline(never)]
fn pooled() -> Box<Queue> {
    POOL.with(|cell| {
        let mut pool = cell.take();
        let q = pool.queues.pop();
        if let Some(q) = &q {
            pool.bytes -= q.weight().min(pool.bytes);
        }
        cell.set(pool);
        q.unwrap_or_default()
    })
}

impl Queue {
    /// The heap bytes it holds, its own included.
    fn weight(&self) -> usize {
        std::mem::size_of::<Self>()
            + self.small.capacity()
            + self.pieces.capacity() * std::mem::size_of::<Piece>()
    }
}

thread_local! {
    /// This thread's written echo fragments of [`ECHO_FRAGMENT`] bytes, kept for the next one
    /// gathered: a fresh 512 KiB buffer per fragment cost its page faults every time (13% of the
    /// server's CPU in scenario d of scripts/bench, as the allocator gave the memory back).
    static FRAGMENTS: Cell<Vec<Vec<u8>>> = const { Cell::new(Vec::new()) };
}

/// Fragment buffers kept per thread (2 MiB at most).
const FRAGMENT_POOL: usize = 4;

/// An empty buffer of [`ECHO_FRAGMENT`] bytes for a fragment of the echo: a kept one if there is.
pub(crate) fn fragment_buffer() -> Vec<u8> {
    FRAGMENTS
        .with(|cell| {
            let mut pool = cell.take();
            let v = pool.pop();
            cell.set(pool);
            v
        })
        .unwrap_or_else(|| Vec::with_capacity(ECHO_FRAGMENT))
}

/// Keeps a written piece's buffer for the next fragment if it is one of [`fragment_buffer`]'s.
fn recycle(piece: Piece) {
    if let Piece::Owned(mut v) = piece {
        if v.capacity() == ECHO_FRAGMENT {
            v.clear();
            FRAGMENTS.with(|cell| {
                let mut pool = cell.take();
                if pool.len() < FRAGMENT_POOL {
                    pool.push(v);
                }
                cell.set(pool);
            });
        }
    }
}

impl Outbound {
    /// Bytes not yet written.
    #[inline]
    pub(crate) fn bytes(&self) -> usize {
        self.bytes
    }

    /// Whether everything has been written.
    pub(crate) fn is_empty(&self) -> bool {
        self.bytes == 0
    }

    /// The queue, taken from the thread's pool on first use.
    #[inline]
    fn queue(&mut self) -> &mut Queue {
        self.queue.get_or_insert_with(pooled)
    }

    /// Appends a copy of `data`.
    #[inline]
    pub(crate) fn extend(&mut self, data: &[u8]) {
        self.copy_in(data, false);
    }

    /// Appends a copy of `data` (whole frames shared with others when `shared`), in the same
    /// piece as the bytes before it when they are of the same kind.
    #[inline(always)]
    fn copy_in(&mut self, data: &[u8], shared: bool) {
        if data.is_empty() {
            return;
        }
        let q = self.queue();
        let start = q.small.len();
        q.small.extend_from_slice(data);
        let end = q.small.len();
        match (q.pieces.back_mut(), shared) {
            (Some(Piece::Small(r)), false) | (Some(Piece::SharedCopy(r)), true)
                if r.end == start =>
            {
                r.end = end;
            }
            (_, false) => q.pieces.push_back(Piece::Small(start..end)),
            (_, true) => q.pieces.push_back(Piece::SharedCopy(start..end)),
        }
        self.bytes += data.len();
    }

    /// Appends `data`, taking over large buffers instead of copying them.
    pub(crate) fn push_owned(&mut self, data: Vec<u8>) {
        if data.len() < TAKE_FROM {
            self.extend(&data);
        } else {
            self.bytes += data.len();
            self.queue().pieces.push_back(Piece::Owned(data));
        }
    }

    /// Appends a frame shared with other connections: referenced when large, copied when small
    /// (the same trade as [`REFERENCE_FROM`]: a slice per 18-byte frame costs the kernel more than
    /// the copy, and small copies coalesce into one slice).
    // Once per member per publish: inlined into the publish loop with the rest of that path
    // (callgrind, room-1000: 248 -> 237 instructions per delivery).
    #[inline(always)]
    pub(crate) fn push_shared(&mut self, frame: &Arc<[u8]>) {
        if frame.len() < REFERENCE_FROM {
            self.copy_in(frame, true);
            return;
        }
        self.bytes += frame.len();
        self.queue().pieces.push_back(Piece::Shared(frame.clone()));
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
        self.queue()
            .pieces
            .push_back(Piece::Input(start..start + payload.len()));
    }

    /// Fills `slices` with the unwritten bytes in order (input references resolved against
    /// `input`, the buffer given to the driver); returns how many it filled.
    pub(crate) fn slices<'a>(&'a self, input: &'a [u8], slices: &mut [IoSlice<'a>]) -> usize {
        let Some(q) = self.queue.as_deref() else {
            return 0;
        };
        let mut count = 0;
        for (i, (piece, slot)) in q.pieces.iter().zip(slices.iter_mut()).enumerate() {
            let bytes = match piece {
                Piece::Small(r) | Piece::SharedCopy(r) => {
                    q.small.get(r.clone()).unwrap_or_default()
                }
                Piece::Owned(v) => v,
                Piece::Input(r) => input.get(r.clone()).unwrap_or_default(),
                Piece::Shared(f) => f,
            };
            let start = if i == 0 { q.front_pos } else { 0 };
            *slot = IoSlice::new(bytes.get(start..).unwrap_or_default());
            count = i + 1;
        }
        count
    }

    /// Marks `n` bytes as written.
    pub(crate) fn advance(&mut self, mut n: usize) {
        self.bytes -= n.min(self.bytes);
        if let Some(q) = self.queue.as_deref_mut() {
            while n > 0 {
                let Some(front) = q.pieces.front() else {
                    break;
                };
                let len = match front {
                    Piece::Small(r) | Piece::Input(r) | Piece::SharedCopy(r) => r.len(),
                    Piece::Owned(v) => v.len(),
                    Piece::Shared(f) => f.len(),
                };
                let left = len - q.front_pos;
                if n < left {
                    q.front_pos += n;
                    return;
                }
                n -= left;
                q.front_pos = 0;
                if let Some(piece) = q.pieces.pop_front() {
                    recycle(piece);
                }
            }
        }
        if self.bytes == 0 {
            self.clear();
        }
    }

    /// Copies the bytes still referenced in `input` into the small-write buffer: the engine is
    /// about to reuse or give back its input buffer.
    pub(crate) fn release_input(&mut self, input: &[u8]) {
        let Some(q) = self.queue.as_deref_mut() else {
            return;
        };
        if !q.pieces.iter().any(|p| matches!(p, Piece::Input(_))) {
            return;
        }
        // Copied in order, so a header and the payload after it (and the next header, appended
        // to the small-write buffer after them) become one slice again.
        let old = std::mem::take(&mut q.pieces);
        for piece in old {
            let piece = match piece {
                Piece::Input(r) => {
                    let start = q.small.len();
                    q.small.extend_from_slice(input.get(r).unwrap_or_default());
                    Piece::Small(start..q.small.len())
                }
                other => other,
            };
            match (q.pieces.back_mut(), &piece) {
                (Some(Piece::Small(prev)), Piece::Small(r)) if prev.end == r.start => {
                    prev.end = r.end;
                }
                _ => q.pieces.push_back(piece),
            }
        }
    }

    /// Drops the shared frames not started yet, referenced or copied. Each is a whole frame of a
    /// whole message compressed without context takeover ([`Outbound::push_shared`] is only given
    /// those), so the bytes around them stay a valid stream. A frame in progress is kept whole.
    pub(crate) fn drop_unstarted_shared(&mut self) {
        let Some(q) = self.queue.as_deref_mut() else {
            return;
        };
        let started = q.front_pos;
        let small = &q.small;
        let mut dropped = 0;
        let mut front = true;
        q.pieces.retain_mut(|p| {
            let in_progress = std::mem::take(&mut front) && started > 0;
            match p {
                Piece::Shared(f) if !in_progress => {
                    dropped += f.len();
                    false
                }
                Piece::SharedCopy(r) if !in_progress => {
                    dropped += r.len();
                    false
                }
                // Copies back to back: cut after the frame the socket is in.
                Piece::SharedCopy(r) => {
                    let bytes = small.get(r.clone()).unwrap_or_default();
                    let end = frame_end(bytes, started);
                    dropped += r.len() - end;
                    r.end = r.start + end;
                    true
                }
                _ => true,
            }
        });
        self.bytes -= dropped.min(self.bytes);
        if self.bytes == 0 {
            self.clear();
        }
    }

    /// Forgets everything not yet written; the queue goes back to the thread's pool.
    pub(crate) fn clear(&mut self) {
        self.bytes = 0;
        let Some(mut q) = self.queue.take() else {
            return;
        };
        q.pieces.drain(..).for_each(recycle);
        q.front_pos = 0;
        q.small.clear();
        if q.small.capacity() > MAX_SPARE {
            q.small = Vec::new();
        }
        if q.pieces.capacity() > MAX_SPARE / std::mem::size_of::<Piece>() {
            q.pieces = VecDeque::new();
        }
        POOL.with(|cell| {
            let mut pool = cell.take();
            let weight = q.weight();
            if pool.bytes + weight <= POOL_BYTES {
                pool.bytes += weight;
                pool.queues.push(q);
            }
            cell.set(pool);
        });
    }

    /// How many pieces are queued.
    #[cfg(test)]
    pub(crate) fn piece_count(&self) -> usize {
        self.queue.as_ref().map_or(0, |q| q.pieces.len())
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
        assert_eq!(out.piece_count(), 1);
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
        assert!(out.queue.as_ref().is_some_and(|q| q
            .pieces
            .iter()
            .any(|p| matches!(p, Piece::Owned(v) if v.as_ptr() == ptr))));
        let got = drain(&mut out, &[], 7777);
        assert_eq!(got.len(), 100_004);
    }

    #[test]
    fn large_shared_frames_are_referenced_small_ones_copied() {
        let big: Arc<[u8]> = vec![7u8; 4096].into();
        let small: Arc<[u8]> = vec![8u8; 18].into();
        let mut a = Outbound::default();
        let mut b = Outbound::default();
        for out in [&mut a, &mut b] {
            out.push_shared(&big);
            out.push_shared(&small);
            out.push_shared(&small);
        }
        // Two queues hold the big frame; the small ones were copied (and coalesced).
        assert_eq!(Arc::strong_count(&big), 3);
        assert_eq!(Arc::strong_count(&small), 1);
        assert_eq!(a.piece_count(), 2);
        let got = drain(&mut a, &[], 1000);
        assert_eq!(got.len(), 4096 + 36);
        assert!(got[..4096].iter().all(|&x| x == 7) && got[4096..].iter().all(|&x| x == 8));
        assert_eq!(Arc::strong_count(&big), 2);
        b.clear();
        assert_eq!(Arc::strong_count(&big), 1);
    }

    #[test]
    fn input_references_resolve_and_survive_release() {
        let input: Vec<u8> = (0..4096u32).map(|i| i as u8).collect();
        let base = input.as_ptr() as usize;
        let mut out = Outbound::default();
        out.extend(b"h1");
        out.push_input(&input[100..1100], base);
        out.push_input(&input[5..8], base); // small: copied
        assert_eq!(out.piece_count(), 3);
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

    #[test]
    fn frame_end_finds_the_boundary_after_the_frame_in_progress() {
        // 2 + 3 bytes, then 4 + 200 bytes (16-bit length), then 2 + 0.
        let mut frames = vec![0x82, 3, 1, 2, 3, 0x82, 126, 0, 200];
        frames.extend_from_slice(&[9; 200]);
        frames.extend_from_slice(&[0x82, 0]);
        assert_eq!(frame_end(&frames, 0), 0);
        assert_eq!(frame_end(&frames, 1), 5);
        assert_eq!(frame_end(&frames, 5), 5);
        assert_eq!(frame_end(&frames, 6), 209);
        assert_eq!(frame_end(&frames, 209), 209);
        assert_eq!(frame_end(&frames, 210), 211);
        // Not frames: everything is kept.
        assert_eq!(frame_end(&[0x82], 1), 1);
    }

    /// What this thread's pool holds: queues, bytes, and the largest small-write buffer.
    fn pool_state() -> (usize, usize, usize) {
        POOL.with(|cell| {
            let pool = cell.take();
            let state = (
                pool.queues.len(),
                pool.bytes,
                pool.queues
                    .iter()
                    .map(|q| q.small.capacity())
                    .max()
                    .unwrap_or(0),
            );
            cell.set(pool);
            state
        })
    }

    #[test]
    fn the_pool_keeps_queues_up_to_its_bytes_and_no_oversized_buffer() {
        // Each test runs on a thread of its own: this pool starts empty.
        assert_eq!(pool_state(), (0, 0, 0));
        // 2 000 connections written to at once, 4 KiB each: 8 MB of queues, twice the pool.
        let mut outs: Vec<Outbound> = (0..2000).map(|_| Outbound::default()).collect();
        for out in &mut outs {
            out.extend(&[7; 4096]);
        }
        outs.iter_mut().for_each(Outbound::clear);
        let (queues, bytes, largest) = pool_state();
        assert!(bytes <= POOL_BYTES, "{bytes}");
        assert!(queues > 0 && queues < 2000, "{queues}");
        assert!(
            bytes > POOL_BYTES - 8192,
            "{bytes} of {POOL_BYTES}: it should fill up"
        );
        assert_eq!(largest, 4096);
        // A buffer past MAX_SPARE goes back without it (the queue itself is kept).
        let mut big = Outbound::default();
        big.extend(&vec![1; MAX_SPARE + 1]);
        POOL.with(|cell| cell.set(Pool::default()));
        big.clear();
        assert_eq!(pool_state().0, 1);
        assert_eq!(pool_state().2, 0);
    }
}

//! The inflating side: raw inflate on zlib-rs with the tail appended (RFC 7692 §7.2.2), in
//! bounded steps so the inflated size can be checked while it grows.

use ws_core::deflate::{Decompressor, Step, TAIL};
use ws_core::CloseCode;
use zlib_rs::{Inflate, InflateFlush, Status};

/// Why inflating a message failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InflateError {
    /// The inflated message would exceed the size limit (1009).
    TooBig,
    /// The payload is not a valid deflate stream (1007).
    Corrupt,
}

impl InflateError {
    /// The close code to fail the connection with.
    pub const fn close_code(self) -> CloseCode {
        match self {
            Self::TooBig => CloseCode::TOO_BIG,
            Self::Corrupt => CloseCode::INVALID_PAYLOAD,
        }
    }
}

impl std::fmt::Display for InflateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::TooBig => f.write_str("inflated message exceeds the size limit"),
            Self::Corrupt => f.write_str("compressed payload is not valid deflate data"),
        }
    }
}

impl std::error::Error for InflateError {}

/// How many inflated bytes [`Decoder::inflate_into`] produces per step at most.
pub const STEP: usize = 16 << 10;

/// One direction's decompressor.
pub struct Decoder {
    z: Inflate,
    window_bits: u8,
    /// How much of [`TAIL`] the current message has fed.
    tail_fed: usize,
    /// The peer ended its deflate stream (a block with BFINAL set) inside this message.
    stream_ended: bool,
    reset_after_message: bool,
}

impl std::fmt::Debug for Decoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Decoder")
            .field("window_bits", &self.window_bits)
            .field("reset_after_message", &self.reset_after_message)
            .finish_non_exhaustive()
    }
}

impl Decoder {
    /// An inflater for a peer compressing with at most `window_bits` (clamped to 9..=15; a larger
    /// window accepts any stream made with a smaller one). With `reset_after_message` the context
    /// is dropped after each message.
    pub fn new(window_bits: u8, reset_after_message: bool) -> Self {
        let window_bits = window_bits.clamp(9, 15);
        Self {
            z: Inflate::new(false, window_bits),
            window_bits,
            tail_fed: 0,
            stream_ended: false,
            reset_after_message,
        }
    }

    /// Whether the context is dropped after each message.
    pub fn resets_after_message(&self) -> bool {
        self.reset_after_message
    }

    /// Runs zlib on `input` into `output`: (consumed, produced, stream ended).
    fn run(
        &mut self,
        input: &[u8],
        output: &mut [u8],
    ) -> Result<(usize, usize, bool), InflateError> {
        let (in0, out0) = (self.z.total_in(), self.z.total_out());
        let status = self
            .z
            .decompress(input, output, InflateFlush::SyncFlush)
            .map_err(|_| InflateError::Corrupt)?;
        let consumed = usize::try_from(self.z.total_in() - in0).unwrap_or(usize::MAX);
        let produced = usize::try_from(self.z.total_out() - out0).unwrap_or(usize::MAX);
        Ok((consumed, produced, status == Status::StreamEnd))
    }

    /// Inflates a piece of a message and appends it to `out`, failing with
    /// [`InflateError::TooBig`] as soon as `out` would exceed `limit` bytes: output is produced in
    /// steps of at most [`STEP`] bytes, so memory never grows past `limit + STEP` however much the
    /// input would inflate. `end` marks the message's last piece.
    pub fn inflate_into(
        &mut self,
        input: &[u8],
        end: bool,
        out: &mut Vec<u8>,
        limit: usize,
    ) -> Result<(), InflateError> {
        let mut input = input;
        loop {
            let start = out.len();
            if start > limit {
                return Err(InflateError::TooBig);
            }
            // One byte more than allowed detects an overflow without inflating further.
            let room = (limit - start).saturating_add(1).min(STEP);
            reserve_bounded(out, room, limit.saturating_add(1));
            out.resize(start + room, 0);
            let step = match out.get_mut(start..) {
                Some(buf) => self.decompress(input, buf, end),
                None => Err(InflateError::Corrupt),
            };
            let step = step.inspect_err(|_| out.truncate(start))?;
            out.truncate(start + step.produced);
            if out.len() > limit {
                return Err(InflateError::TooBig);
            }
            input = input.get(step.consumed..).unwrap_or_default();
            if step.done {
                return Ok(());
            }
            if step.consumed == 0 && step.produced == 0 {
                // zlib made no progress with room and input available: not a deflate stream.
                return Err(InflateError::Corrupt);
            }
        }
    }

    /// Prepares for the next message.
    fn finish_message(&mut self) {
        if self.stream_ended || self.reset_after_message {
            self.z = Inflate::new(false, self.window_bits);
        }
        self.tail_fed = 0;
        self.stream_ended = false;
    }
}

/// Makes room for `room` more bytes, growing geometrically (amortised copies) but never past
/// `cap` unless `room` itself needs it.
fn reserve_bounded(out: &mut Vec<u8>, room: usize, cap: usize) {
    let want = out.len() + room;
    if out.capacity() >= want {
        return;
    }
    let target = out.capacity().saturating_mul(2).clamp(want, cap.max(want));
    out.reserve_exact(target - out.len());
}

impl Decompressor for Decoder {
    type Error = InflateError;

    fn decompress(
        &mut self,
        input: &[u8],
        output: &mut [u8],
        end: bool,
    ) -> Result<Step, InflateError> {
        let mut consumed = 0;
        let mut produced = 0;
        if !self.stream_ended {
            let (c, p, ended) = self.run(input, output)?;
            consumed = c;
            produced = p;
            self.stream_ended = ended;
        }
        if self.stream_ended {
            // Bytes after a final block (RFC 7692 §7.2.3.4 allows BFINAL) carry nothing.
            consumed = input.len();
            self.tail_fed = TAIL.len();
        }
        if consumed < input.len() {
            return Ok(Step {
                consumed,
                produced,
                done: false,
            });
        }
        if end && self.tail_fed < TAIL.len() {
            let tail = TAIL.get(self.tail_fed..).unwrap_or_default();
            let rest = output.get_mut(produced..).unwrap_or_default();
            let (c, p, ended) = self.run(tail, rest)?;
            self.tail_fed += c;
            produced += p;
            if ended {
                self.stream_ended = true;
                self.tail_fed = TAIL.len();
            }
        }
        let tail_done = !end || self.tail_fed == TAIL.len();
        let done = tail_done && produced < output.len();
        if done && end {
            self.finish_message();
        }
        Ok(Step {
            consumed,
            produced,
            done,
        })
    }
}

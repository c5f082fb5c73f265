//! The compressing side: raw deflate on zlib-rs with the sync-flush tail removed (RFC 7692 §7.2.1).

use ws_core::deflate::{Compressor, Step, TAIL};
use zlib_rs::{Deflate, DeflateFlush};

/// Why compressing failed (a misuse or an allocation failure, never peer data).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CompressError {
    /// The output buffer has fewer than [`Encoder::MIN_OUTPUT`] bytes.
    OutputTooSmall,
    /// zlib-rs reported an error.
    Zlib,
}

impl std::fmt::Display for CompressError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "deflate failed: {self:?}")
    }
}

impl std::error::Error for CompressError {}

/// One direction's compressor: a raw deflate stream, flushed at the end of each message, with
/// the last four bytes held back so the `00 00 ff ff` tail never reaches the caller.
pub struct Encoder {
    z: Deflate,
    held: [u8; 4],
    held_len: usize,
    in_message: bool,
    reset_after_message: bool,
}

impl std::fmt::Debug for Encoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Encoder")
            .field("reset_after_message", &self.reset_after_message)
            .finish_non_exhaustive()
    }
}

impl Encoder {
    /// The smallest output buffer [`Compressor::compress`] accepts (zlib needs more than 6 bytes
    /// of room to finish a sync flush without repeating its marker, plus 4 held back).
    pub const MIN_OUTPUT: usize = 16;

    /// A compressor with `level` (0..=9), LZ77 window `window_bits` (9..=15), zlib `mem_level`
    /// (1..=9; sizes the block buffers); out-of-range values are clamped. With
    /// `reset_after_message` the context is dropped after each message (no context takeover).
    pub fn new(level: u8, window_bits: u8, mem_level: u8, reset_after_message: bool) -> Self {
        let config = zlib_rs::DeflateConfig {
            level: i32::from(level.min(9)),
            window_bits: -i32::from(window_bits.clamp(9, 15)),
            mem_level: i32::from(mem_level.clamp(1, 9)),
            ..zlib_rs::DeflateConfig::default()
        };
        Self {
            z: Deflate::new_with_config(config),
            held: [0; 4],
            held_len: 0,
            in_message: false,
            reset_after_message,
        }
    }

    /// Whether the context is dropped after each message.
    pub fn resets_after_message(&self) -> bool {
        self.reset_after_message
    }

    /// Compresses a whole message, appending the payload (tail removed) to `out`.
    pub fn compress_message(
        &mut self,
        message: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), CompressError> {
        self.compress_piece(message, true, out)
    }
}

impl Encoder {
    /// Compresses a piece of the current message (`end`: its last piece), appending what the
    /// compressor produced so far to `out` (the tail removed at the end, as
    /// [`Encoder::compress_message`] does).
    pub fn compress_piece(
        &mut self,
        piece: &[u8],
        end: bool,
        out: &mut Vec<u8>,
    ) -> Result<(), CompressError> {
        let mut input = piece;
        let mut room = (piece.len() / 2).clamp(64, 64 << 10);
        loop {
            let start = out.len();
            out.resize(start + room, 0);
            let step = out
                .get_mut(start..)
                .map(|buf| self.compress(input, buf, end))
                .unwrap_or(Err(CompressError::OutputTooSmall));
            let step = match step {
                Ok(step) => step,
                Err(e) => {
                    out.truncate(start);
                    return Err(e);
                }
            };
            out.truncate(start + step.produced);
            input = input.get(step.consumed..).unwrap_or_default();
            if step.done {
                return Ok(());
            }
            room = (room * 2).min(1 << 20);
        }
    }
}

impl Compressor for Encoder {
    type Error = CompressError;

    fn compress(
        &mut self,
        input: &[u8],
        output: &mut [u8],
        end: bool,
    ) -> Result<Step, CompressError> {
        if output.len() < Self::MIN_OUTPUT {
            return Err(CompressError::OutputTooSmall);
        }
        if end && input.is_empty() && !self.in_message {
            // An empty message: one empty stored block, which is `00` once the tail is removed
            // (RFC 7692 §7.2.3.6). zlib would emit nothing for a flush with no new input.
            if let Some(first) = output.first_mut() {
                *first = 0;
            }
            return Ok(Step {
                consumed: 0,
                produced: 1,
                done: true,
            });
        }
        self.in_message = true;
        // Bytes held back by the previous call come first.
        let h = self.held_len;
        let (head, rest) = output.split_at_mut(h);
        head.copy_from_slice(self.held.get(..h).unwrap_or_default());
        let (in0, out0) = (self.z.total_in(), self.z.total_out());
        let flush = if end {
            DeflateFlush::SyncFlush
        } else {
            DeflateFlush::NoFlush
        };
        self.z
            .compress(input, rest, flush)
            .map_err(|_| CompressError::Zlib)?;
        let consumed = usize::try_from(self.z.total_in() - in0).unwrap_or(usize::MAX);
        let written = usize::try_from(self.z.total_out() - out0).unwrap_or(usize::MAX);
        let room_left = written < rest.len();
        let total = h + written;
        let keep = total.min(4);
        let produced = total - keep;
        if let (Some(dst), Some(src)) = (self.held.get_mut(..keep), output.get(produced..total)) {
            dst.copy_from_slice(src);
        }
        self.held_len = keep;
        let all_in = consumed >= input.len();
        let done = all_in && (!end || room_left);
        if done && end {
            // A sync flush always ends with an empty stored block: exactly the tail.
            if self.held != TAIL || self.held_len != 4 {
                return Err(CompressError::Zlib);
            }
            self.held_len = 0;
            self.in_message = false;
            if self.reset_after_message {
                self.z.reset();
            }
        }
        Ok(Step {
            consumed,
            produced,
            done,
        })
    }
}

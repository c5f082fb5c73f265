//! Incremental UTF-8 validation (RFC 6455 §8.1) that fails fast on the first invalid byte,
//! accepts a code point split across chunks, and takes an ASCII fast path.
//!
//! The bulk of each chunk is checked by `simdutf8` (SIMD, with an ASCII fast path; see the
//! `runtime-simd` feature), falling back to `core::str::from_utf8` (word-at-a-time ASCII path);
//! the at most three bytes of a code point that straddles two chunks go through a small state
//! machine that rejects a prefix as soon as no continuation can make it valid (`F4 90`, `ED A0`,
//! `E0 80`, `C0`...), so a bad text frame fails at once rather than at the end of the message.

/// Validator state carried between chunks of one text message (one byte).
///
/// ```
/// use ws_core::utf8::Utf8Validator;
/// let mut v = Utf8Validator::new();
/// // "€" (E2 82 AC) split across two chunks is fine...
/// assert!(v.feed(b"price: \xE2\x82").is_ok());
/// assert!(v.feed(b"\xAC").is_ok());
/// assert!(v.finish().is_ok());
/// // ...but a surrogate prefix fails in the chunk that holds it.
/// assert!(v.feed(b"\xED\xA0").is_err());
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Utf8Validator {
    /// 0 at a code point boundary; otherwise `needed | range << 2` (see [`Utf8Validator::step`]).
    state: u8,
}

/// The input is not valid UTF-8 (and no continuation can make it valid).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InvalidUtf8;

impl core::fmt::Display for InvalidUtf8 {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("invalid UTF-8")
    }
}

impl core::error::Error for InvalidUtf8 {}

// Allowed range of the next continuation byte (Unicode Table 3-7); 0 means 80..=BF.
const R_A0_BF: u8 = 1; // after E0 (no overlongs)
const R_80_9F: u8 = 2; // after ED (no surrogates)
const R_90_BF: u8 = 3; // after F0 (no overlongs)
const R_80_8F: u8 = 4; // after F4 (nothing above U+10FFFF)

impl Utf8Validator {
    /// A validator at the start of a message.
    pub const fn new() -> Self {
        Self { state: 0 }
    }

    /// One byte through the state machine.
    fn step(state: u8, b: u8) -> Result<u8, InvalidUtf8> {
        if state == 0 {
            return match b {
                0x00..=0x7F => Ok(0),
                0xC2..=0xDF => Ok(1),
                0xE0 => Ok(2 | R_A0_BF << 2),
                0xED => Ok(2 | R_80_9F << 2),
                0xE1..=0xEC | 0xEE..=0xEF => Ok(2),
                0xF0 => Ok(3 | R_90_BF << 2),
                0xF1..=0xF3 => Ok(3),
                0xF4 => Ok(3 | R_80_8F << 2),
                _ => Err(InvalidUtf8),
            };
        }
        let ok = match state >> 2 {
            R_A0_BF => (0xA0..=0xBF).contains(&b),
            R_80_9F => (0x80..=0x9F).contains(&b),
            R_90_BF => (0x90..=0xBF).contains(&b),
            R_80_8F => (0x80..=0x8F).contains(&b),
            _ => (0x80..=0xBF).contains(&b),
        };
        if ok {
            // One fewer byte needed; later continuation bytes take the full range.
            Ok((state & 3) - 1)
        } else {
            Err(InvalidUtf8)
        }
    }

    /// Validates the next chunk; fails as soon as a byte makes the text invalid.
    pub fn feed(&mut self, chunk: &[u8]) -> Result<(), InvalidUtf8> {
        let mut rest = chunk;
        // Finish a code point begun in an earlier chunk.
        while self.state != 0 {
            let Some((&b, tail)) = rest.split_first() else {
                return Ok(());
            };
            self.state = match Self::step(self.state, b) {
                Ok(s) => s,
                Err(e) => {
                    self.state = 0;
                    return Err(e);
                }
            };
            rest = tail;
        }
        match simdutf8::compat::from_utf8(rest) {
            Ok(_) => Ok(()),
            Err(e) if e.error_len().is_some() => Err(InvalidUtf8),
            Err(e) => {
                // An incomplete code point at the end: keep its state, or fail now if it can never
                // become valid.
                let tail = rest.get(e.valid_up_to()..).unwrap_or_default();
                let mut state = 0;
                for &b in tail {
                    state = Self::step(state, b)?;
                }
                self.state = state;
                Ok(())
            }
        }
    }

    /// Checks the message ended on a code point boundary; resets for the next message.
    pub fn finish(&mut self) -> Result<(), InvalidUtf8> {
        let state = core::mem::take(&mut self.state);
        if state == 0 {
            Ok(())
        } else {
            Err(InvalidUtf8)
        }
    }

    /// Forgets any partial code point (start of a new message).
    pub fn reset(&mut self) {
        self.state = 0;
    }
}

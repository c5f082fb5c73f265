//! Incremental UTF-8 validation (RFC 6455 §8.1) that fails fast on the first invalid byte,
//! accepts a code point split across chunks, and takes an ASCII fast path.

/// Validator state carried between chunks of one text message.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Utf8Validator {
    state: u8,
}

/// The input is not valid UTF-8 (and no continuation can make it valid).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InvalidUtf8;

impl Utf8Validator {
    /// A validator at the start of a message.
    pub const fn new() -> Self {
        Self { state: 0 }
    }

    /// Validates the next chunk; fails as soon as a byte makes the text invalid.
    pub fn feed(&mut self, chunk: &[u8]) -> Result<(), InvalidUtf8> {
        todo!()
    }

    /// Checks the message ended on a code point boundary; resets for the next message.
    pub fn finish(&mut self) -> Result<(), InvalidUtf8> {
        todo!()
    }
}

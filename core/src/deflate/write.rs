//! Writing an extension value into a caller's buffer.

use crate::error::BufferTooSmall;

/// Appends text to a caller buffer, counting what would be needed if it overflows.
pub(crate) struct Writer<'b> {
    out: &'b mut [u8],
    len: usize,
}

impl<'b> Writer<'b> {
    /// A writer at the start of `out`.
    pub(crate) fn new(out: &'b mut [u8]) -> Self {
        Self { out, len: 0 }
    }

    /// Appends `text` (it is written only if it fits; the length counts either way).
    pub(crate) fn text(&mut self, text: &str) -> &mut Self {
        let end = self.len + text.len();
        if let Some(dst) = self.out.get_mut(self.len..end) {
            dst.copy_from_slice(text.as_bytes());
        }
        self.len = end;
        self
    }

    /// Appends `; name` or `; name=bits`.
    pub(crate) fn param(&mut self, name: &str, bits: Option<u8>) -> &mut Self {
        self.text("; ").text(name);
        if let Some(bits) = bits {
            self.text("=").text(bits_str(bits));
        }
        self
    }

    /// The written text, or the room it needs.
    pub(crate) fn finish(self) -> Result<&'b str, BufferTooSmall> {
        let needed = self.len;
        let out: &'b [u8] = self.out;
        match out.get(..needed) {
            Some(done) => core::str::from_utf8(done).map_err(|_| BufferTooSmall { needed }),
            None => Err(BufferTooSmall { needed }),
        }
    }
}

/// The decimal text of a window size (8..=15; anything else is clamped into that range).
fn bits_str(bits: u8) -> &'static str {
    const NAMES: [&str; 8] = ["8", "9", "10", "11", "12", "13", "14", "15"];
    let i = usize::from(bits.clamp(8, 15) - 8);
    NAMES.get(i).copied().unwrap_or("15")
}

//! Writing a head into a caller buffer without panicking: bytes that do not fit are counted, so a
//! too-small buffer reports the total room needed.

use crate::error::BufferTooSmall;

/// A cursor over the caller's buffer that keeps counting past its end.
pub(crate) struct Out<'o> {
    buf: &'o mut [u8],
    len: usize,
}

impl<'o> Out<'o> {
    /// A cursor at the start of `buf`.
    pub(crate) fn new(buf: &'o mut [u8]) -> Self {
        Self { buf, len: 0 }
    }

    /// Appends `bytes` if they fit (once something did not fit, nothing more is written).
    pub(crate) fn put(&mut self, bytes: &[u8]) {
        let end = self.len.saturating_add(bytes.len());
        if let Some(dst) = self.buf.get_mut(self.len..end) {
            dst.copy_from_slice(bytes);
        }
        self.len = end;
    }

    /// Appends `name: value\r\n`.
    pub(crate) fn header(&mut self, name: &str, value: &str) {
        self.put(name.as_bytes());
        self.put(b": ");
        self.put(value.as_bytes());
        self.put(b"\r\n");
    }

    /// Appends `n` in decimal.
    pub(crate) fn decimal(&mut self, mut n: usize) {
        let mut digits = [0u8; 20];
        let mut start = digits.len();
        loop {
            start -= 1;
            if let Some(d) = digits.get_mut(start) {
                *d = b'0' + (n % 10) as u8;
            }
            n /= 10;
            if n == 0 || start == 0 {
                break;
            }
        }
        self.put(digits.get(start..).unwrap_or(&[]));
    }

    /// The bytes written, or the room needed when they did not fit.
    pub(crate) fn finish(self) -> Result<usize, BufferTooSmall> {
        if self.len <= self.buf.len() {
            Ok(self.len)
        } else {
            Err(BufferTooSmall { needed: self.len })
        }
    }
}

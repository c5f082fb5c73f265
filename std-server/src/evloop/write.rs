//! One non-blocking write of slices to a socket.

use std::io::{self, IoSlice, Write};

/// Writes `slices` once: `send(2)` for one slice (cheaper in the kernel than `writev(2)` with one
/// iovec), `writev(2)` for several. `Ok(0)` when the socket would block.
pub(super) fn write_once<W: Write>(sock: &mut W, slices: &[IoSlice<'_>]) -> io::Result<usize> {
    loop {
        let written = match slices {
            [] => return Ok(0),
            [one] => sock.write(one),
            many => sock.write_vectored(many),
        };
        match written {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => return Ok(n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(0),
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
            if self.calls == 1 {
                return Err(io::ErrorKind::WouldBlock.into());
            }
            self.calls += 1;
            let mut n = 0;
            for b in bufs {
                let take = b.len().min(self.limit - n);
                self.got.extend_from_slice(&b[..take]);
                n += take;
            }
            Ok(n)
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn one_write_then_would_block_is_zero() {
        let mut w = Trickle {
            got: Vec::new(),
            limit: 5,
            calls: 0,
        };
        let s = [IoSlice::new(b"abc"), IoSlice::new(b"defgh")];
        assert_eq!(write_once(&mut w, &s).unwrap_or(99), 5);
        assert_eq!(w.got, b"abcde");
        assert_eq!(write_once(&mut w, &s).unwrap_or(99), 0);
    }
}

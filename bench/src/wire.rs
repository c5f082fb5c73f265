//! The bytes on the wire: pre-masked client frames and a reader for the server's echoed frames.
//!
//! Deliberately independent of ws-core, so a bug there cannot hide in the measurement.

/// The masking key of every generated frame (any value works; a fixed one keeps runs identical).
pub const MASK_KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

/// How many leading bytes of each echoed message are compared with what was sent.
pub const VERIFY_PREFIX: usize = 64;

/// Bytes at the start of a broadcast message that carry its sequence number (little endian).
pub const SEQ_LEN: usize = 8;

/// `payload(len)` with its first [`SEQ_LEN`] bytes replaced by `seq` (a broadcast message).
pub fn seq_payload(len: usize, seq: u64) -> Vec<u8> {
    let mut p = payload(len);
    for (d, s) in p.iter_mut().zip(seq.to_le_bytes()) {
        *d = s;
    }
    p
}

/// Rewrites the sequence number of a frame built by [`client_frame`] from a [`seq_payload`]
/// (`payload_at` = where its payload starts), masking it as the frame's other bytes.
pub fn set_frame_seq(frame: &mut [u8], payload_at: usize, seq: u64) {
    let tail = frame.get_mut(payload_at..).unwrap_or_default();
    for (i, (d, s)) in tail.iter_mut().zip(seq.to_le_bytes()).enumerate() {
        *d = s ^ MASK_KEY[i % 4];
    }
}

/// The payload of every generated message: `len` bytes of a repeating non-trivial pattern.
pub fn payload(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

/// One final, masked binary frame carrying `payload` (RFC 6455 §5.2, minimal length form).
pub fn client_frame(payload: &[u8]) -> Vec<u8> {
    let mut f = Vec::with_capacity(payload.len() + 14);
    f.push(0x82);
    let len = payload.len();
    if len < 126 {
        f.push(0x80 | len as u8);
    } else if len <= 0xffff {
        f.push(0x80 | 126);
        f.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        f.push(0x80 | 127);
        f.extend_from_slice(&(len as u64).to_be_bytes());
    }
    f.extend_from_slice(&MASK_KEY);
    f.extend(payload.iter().enumerate().map(|(i, b)| b ^ MASK_KEY[i % 4]));
    f
}

/// What went wrong in the server's byte stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WireError {
    /// The server sent a close frame.
    Closed,
    /// A reserved opcode, a masked server frame or a data frame out of order.
    BadFrame,
    /// An echoed message differs from the one sent (length or leading bytes).
    Mismatch,
}

/// A parsed frame header: fin, opcode, payload length, header length.
type Head = (bool, u8, u64, usize);

/// Parses a complete unmasked server frame header from the start of `b`, or `None` if more bytes
/// are needed.
fn parse_head(b: &[u8]) -> Result<Option<Head>, WireError> {
    let (&b0, &b1) = match (b.first(), b.get(1)) {
        (Some(b0), Some(b1)) => (b0, b1),
        _ => return Ok(None),
    };
    if b1 & 0x80 != 0 {
        return Err(WireError::BadFrame);
    }
    let (len, hl) = match b1 & 0x7f {
        126 => match b.get(2..4) {
            Some(x) => (u64::from(u16::from_be_bytes([x[0], x[1]])), 4),
            None => return Ok(None),
        },
        127 => match b.get(2..10) {
            Some(x) => {
                let mut a = [0u8; 8];
                a.copy_from_slice(x);
                (u64::from_be_bytes(a), 10)
            }
            None => return Ok(None),
        },
        n => (u64::from(n), 2),
    };
    Ok(Some((b0 & 0x80 != 0, b0 & 0x0f, len, hl)))
}

/// What the reader compares each message's first [`VERIFY_PREFIX`] bytes with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Check {
    /// All of them with the expected payload (echo).
    Whole,
    /// The first [`SEQ_LEN`] are a sequence number (a broadcast message), the rest compared.
    Sequenced,
}

/// Streams the server's frames and counts complete echoed messages of the expected payload.
#[derive(Debug)]
pub struct EchoReader {
    check: Check,
    /// The current message's sequence bytes seen so far ([`Check::Sequenced`]).
    seq: [u8; SEQ_LEN],
    stash: [u8; 14],
    stash_len: usize,
    /// Payload bytes left in the current frame.
    left: u64,
    /// Whether the current frame's payload is message data (not a ping/pong being skipped).
    data: bool,
    fin: bool,
    /// Bytes of the current message received so far.
    msg_len: u64,
    /// The close frame being read: its payload's first two bytes (the code) so far.
    close: Option<CloseCode>,
}

/// The status code of a close frame, read as its payload arrives (RFC 6455 §5.5.1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct CloseCode {
    bytes: [u8; 2],
    have: usize,
}

impl Default for EchoReader {
    fn default() -> Self {
        Self::new()
    }
}

impl EchoReader {
    /// A reader at a frame boundary.
    pub const fn new() -> Self {
        Self::with_check(Check::Whole)
    }

    /// A reader of broadcast messages: see [`EchoReader::feed_each`].
    pub const fn sequenced() -> Self {
        Self::with_check(Check::Sequenced)
    }

    const fn with_check(check: Check) -> Self {
        Self {
            check,
            seq: [0; SEQ_LEN],
            stash: [0; 14],
            stash_len: 0,
            left: 0,
            data: false,
            fin: false,
            msg_len: 0,
            close: None,
        }
    }

    /// The code of the close frame that ended the stream ([`WireError::Closed`]), if it had one.
    pub fn close_code(&self) -> Option<u16> {
        self.close
            .filter(|c| c.have == 2)
            .map(|c| u16::from_be_bytes(c.bytes))
    }

    /// Consumes `input`; returns how many whole messages equal to `expected` it completed.
    pub fn feed(&mut self, input: &[u8], expected: &[u8]) -> Result<u64, WireError> {
        let mut done = 0;
        self.feed_each(input, expected, |_| done += 1)?;
        Ok(done)
    }

    /// Consumes `input`; calls `on_message` with the sequence number of each whole message it
    /// completes (0 unless the reader is [`EchoReader::sequenced`]).
    pub fn feed_each(
        &mut self,
        mut input: &[u8],
        expected: &[u8],
        mut on_message: impl FnMut(u64),
    ) -> Result<(), WireError> {
        while !input.is_empty() {
            if self.left > 0 {
                let n = (self.left.min(input.len() as u64)) as usize;
                let (chunk, rest) = input.split_at(n);
                if self.data {
                    self.check(chunk, expected)?;
                    self.msg_len += n as u64;
                }
                if let Some(c) = &mut self.close {
                    for &b in chunk.iter().take(2 - c.have) {
                        c.bytes[c.have] = b;
                        c.have += 1;
                    }
                }
                self.left -= n as u64;
                input = rest;
                if self.left == 0 {
                    if self.close.is_some() {
                        return Err(WireError::Closed);
                    }
                    if let Some(seq) = self.end_frame(expected)? {
                        on_message(seq);
                    }
                }
                continue;
            }
            // Header: parse in place when no partial header is stashed, else stash and retry.
            let head = if self.stash_len == 0 {
                match parse_head(input)? {
                    Some(h) => {
                        input = &input[h.3..];
                        Some(h)
                    }
                    None => None,
                }
            } else {
                None
            };
            let head = match head {
                Some(h) => h,
                None => {
                    let take = (14 - self.stash_len).min(input.len());
                    self.stash[self.stash_len..self.stash_len + take]
                        .copy_from_slice(&input[..take]);
                    match parse_head(&self.stash[..self.stash_len + take])? {
                        Some(h) => {
                            // Only the header's bytes are consumed from this input.
                            input = &input[h.3 - self.stash_len..];
                            self.stash_len = 0;
                            h
                        }
                        None => {
                            self.stash_len += take;
                            input = &input[take..];
                            continue;
                        }
                    }
                }
            };
            if let Some(seq) = self.start_frame(head, expected)? {
                on_message(seq);
            }
        }
        Ok(())
    }

    /// Starts a frame; a whole message's sequence number if the frame is empty and ends one.
    fn start_frame(
        &mut self,
        (fin, op, len, _): Head,
        expected: &[u8],
    ) -> Result<Option<u64>, WireError> {
        self.fin = fin;
        self.left = len;
        self.data = match op {
            0x0..=0x2 => true,
            0x9 | 0xA => false,
            // Closed once its code is in (the whole payload, up to 125 bytes).
            0x8 if len == 0 => return Err(WireError::Closed),
            0x8 => {
                self.close = Some(CloseCode::default());
                false
            }
            _ => return Err(WireError::BadFrame),
        };
        if len == 0 {
            return self.end_frame(expected);
        }
        Ok(None)
    }

    /// Ends a frame; the sequence number of the message it completes, if it completes one.
    fn end_frame(&mut self, expected: &[u8]) -> Result<Option<u64>, WireError> {
        if !self.data || !self.fin {
            return Ok(None);
        }
        let len = std::mem::take(&mut self.msg_len);
        if len != expected.len() as u64 {
            return Err(WireError::Mismatch);
        }
        Ok(Some(u64::from_le_bytes(std::mem::take(&mut self.seq))))
    }

    /// Compares the part of `chunk` that falls in the first [`VERIFY_PREFIX`] bytes (keeping the
    /// sequence bytes instead of comparing them when the reader is sequenced).
    fn check(&mut self, mut chunk: &[u8], expected: &[u8]) -> Result<(), WireError> {
        let mut start = self.msg_len as usize;
        if self.check == Check::Sequenced && start < SEQ_LEN {
            let n = chunk.len().min(SEQ_LEN - start);
            self.seq[start..start + n].copy_from_slice(&chunk[..n]);
            chunk = &chunk[n..];
            start += n;
        }
        if start >= VERIFY_PREFIX {
            return Ok(());
        }
        let n = chunk.len().min(VERIFY_PREFIX - start);
        match expected.get(start..start + n) {
            Some(e) if e == &chunk[..n] => Ok(()),
            _ => Err(WireError::Mismatch),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server_frame(payload: &[u8]) -> Vec<u8> {
        unmask(client_frame(payload), payload.len())
    }

    /// A client frame of `len` payload bytes as the server sends it: the mask bit and key
    /// dropped, the payload XORed back.
    fn unmask(mut f: Vec<u8>, len: usize) -> Vec<u8> {
        let hl = f.len() - len;
        f[1] &= 0x7f;
        f.drain(hl - 4..hl);
        let hl = hl - 4;
        for (i, b) in f[hl..].iter_mut().enumerate() {
            *b ^= MASK_KEY[i % 4];
        }
        f
    }

    #[test]
    fn client_frame_matches_rfc_layout() {
        let f = client_frame(b"Hello");
        assert_eq!(f[..2], [0x82, 0x85]);
        assert_eq!(f[2..6], MASK_KEY);
        let un: Vec<u8> = f[6..]
            .iter()
            .enumerate()
            .map(|(i, b)| b ^ MASK_KEY[i % 4])
            .collect();
        assert_eq!(un, b"Hello");
        assert_eq!(client_frame(&[0; 126])[1], 0x80 | 126);
        assert_eq!(client_frame(&[0; 65536])[1], 0x80 | 127);
    }

    #[test]
    fn counts_messages_however_the_stream_is_split() {
        for size in [0usize, 16, 125, 126, 200, 65536, 70000] {
            let p = payload(size);
            let one = server_frame(&p);
            let stream: Vec<u8> = one.iter().chain(&one).chain(&one).copied().collect();
            for step in [1usize, 3, 7, 64, 4096, stream.len()] {
                let mut r = EchoReader::new();
                let total: u64 = stream.chunks(step).map(|c| r.feed(c, &p).unwrap()).sum();
                assert_eq!(total, 3, "size {size} step {step}");
            }
        }
    }

    #[test]
    fn reports_wrong_echo_and_close() {
        let p = payload(16);
        let mut wrong = server_frame(&p);
        wrong[5] ^= 1;
        assert_eq!(EchoReader::new().feed(&wrong, &p), Err(WireError::Mismatch));
        let short = server_frame(&p[..15]);
        assert_eq!(EchoReader::new().feed(&short, &p), Err(WireError::Mismatch));
        assert_eq!(
            EchoReader::new().feed(&[0x88, 0x00], &p),
            Err(WireError::Closed)
        );
        assert_eq!(
            EchoReader::new().feed(&[0x83, 0x00], &p),
            Err(WireError::BadFrame)
        );
    }

    #[test]
    fn reads_the_close_code_however_the_stream_is_split() {
        // A message, then close 1008 "slow" (03 F0 = 1008).
        let p = payload(16);
        let mut stream = server_frame(&p);
        stream.extend_from_slice(&[0x88, 0x06, 0x03, 0xF0, b's', b'l', b'o', b'w']);
        for step in [1usize, 2, 3, 5, stream.len()] {
            let mut r = EchoReader::new();
            let mut messages = 0;
            let mut end = Ok(());
            for c in stream.chunks(step) {
                end = r.feed_each(c, &p, |_| messages += 1);
                if end.is_err() {
                    break;
                }
            }
            assert_eq!((messages, end), (1, Err(WireError::Closed)), "step {step}");
            assert_eq!(r.close_code(), Some(1008), "step {step}");
        }
        let mut r = EchoReader::new();
        assert_eq!(r.feed(&[0x88, 0x00], &p), Err(WireError::Closed));
        assert_eq!(r.close_code(), None);
    }

    #[test]
    fn reads_sequence_numbers_however_the_stream_is_split() {
        for size in [8usize, 16, 200, 16 << 10] {
            let p = payload(size);
            let stream: Vec<u8> = [7u64, 8, u64::MAX]
                .iter()
                .flat_map(|&s| {
                    let mut f = client_frame(&seq_payload(size, 0));
                    let at = f.len() - size;
                    set_frame_seq(&mut f, at, s);
                    unmask(f, size)
                })
                .collect();
            for step in [1usize, 3, 7, 64, stream.len()] {
                let mut r = EchoReader::sequenced();
                let mut seen = Vec::new();
                for c in stream.chunks(step) {
                    r.feed_each(c, &p, |s| seen.push(s)).unwrap();
                }
                assert_eq!(seen, [7, 8, u64::MAX], "size {size} step {step}");
            }
        }
        // A byte past the sequence number that differs is a mismatch.
        let mut f = unmask(client_frame(&seq_payload(16, 3)), 16);
        f[2 + SEQ_LEN] ^= 1;
        let r = EchoReader::sequenced().feed_each(&f, &payload(16), |_| {});
        assert_eq!(r, Err(WireError::Mismatch));
    }

    #[test]
    fn skips_pings_and_joins_fragments() {
        let p = payload(10);
        let mut s = vec![0x89, 0x02, 1, 2]; // ping
        s.extend_from_slice(&[0x02, 0x04]);
        s.extend_from_slice(&p[..4]);
        s.extend_from_slice(&[0x80, 0x06]);
        s.extend_from_slice(&p[4..]);
        assert_eq!(EchoReader::new().feed(&s, &p), Ok(1));
    }
}

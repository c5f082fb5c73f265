//! [`Connection::receive`]: frames in, events and replies out (RFC 6455 §5.4, §5.5, §7, §8.1).

use super::{Connection, Endpoint, Event, MessageKind, Received, State, MIN_OUTPUT};
use crate::close::parse_close_payload;
use crate::error::ProtocolError;
use crate::frame::{apply_mask, encode_frame, FrameHeader, OpCode, RawHeader};
use crate::Role;

impl Received<'_> {
    /// Nothing consumed, nothing produced: more input is needed.
    const fn need_more() -> Self {
        Self {
            consumed: 0,
            written: 0,
            event: None,
        }
    }

    /// `consumed` bytes skipped without an event.
    const fn skipped(consumed: usize) -> Self {
        Self {
            consumed,
            written: 0,
            event: None,
        }
    }
}

impl<E: Endpoint> Connection<E> {
    /// Processes bytes from the peer: parses at most one frame header and/or payload chunk and
    /// reports at most one event, unmasking payload in place. Writes at most one reply frame (a
    /// pong, a close echo or a failing close; masked in the client role) at the start of
    /// `output`, whose type guarantees the room, and says how many bytes in
    /// [`Received::written`]. `now` is the current time; receiving bytes restarts the idle timer.
    ///
    /// Data frames are handed out as they arrive: a frame whose payload is only partly in `input`
    /// yields the part present as a [`Event::Data`] chunk with `end == false`, and the rest comes
    /// out of later calls. Control frames are handed out whole: until all of one is in `input`,
    /// nothing is consumed (so the input buffer must hold [`super::MIN_INPUT`] bytes). In
    /// [`State::Closing`] every frame but the peer's close is skipped; in [`State::Closed`] all
    /// input is consumed and ignored.
    pub fn receive<'a>(
        &mut self,
        input: &'a mut [u8],
        output: &mut [u8; MIN_OUTPUT],
        now: u64,
    ) -> Received<'a> {
        if self.state == State::Closed {
            return Received::skipped(input.len());
        }
        if !input.is_empty() {
            self.idle_base = self.idle_base.max(now);
        }
        if self.frame_remaining > 0 {
            return self.payload(input, 0, output, now);
        }
        if self.state == State::Closing {
            return self.receive_closing(input);
        }
        let (header, header_len) = match FrameHeader::parse(input, E::ROLE) {
            Ok(Some(parsed)) => parsed,
            Ok(None) => return Received::need_more(),
            Err(e) => return self.fail(e, 0, output, now),
        };
        // RSV1 means "compressed" on the first frame of a data message when deflate is active.
        let rsv1_ok = self.deflate
            && matches!(header.opcode, OpCode::Text | OpCode::Binary)
            && self.recv_kind.is_none();
        if (header.rsv1 && !rsv1_ok) || header.rsv2 || header.rsv3 {
            return self.fail(ProtocolError::ReservedBitsSet, 0, output, now);
        }
        if header.opcode.is_control() {
            self.control(header, header_len, input, output, now)
        } else {
            self.data_header(header, header_len, input, output, now)
        }
    }

    /// The start of a data frame: fragmentation order and limits, then its first payload chunk.
    fn data_header<'a>(
        &mut self,
        header: FrameHeader,
        header_len: usize,
        input: &'a mut [u8],
        output: &mut [u8; MIN_OUTPUT],
        now: u64,
    ) -> Received<'a> {
        let started = match (header.opcode, self.recv_kind) {
            (OpCode::Continuation, None) => Err(ProtocolError::UnexpectedContinuation),
            (OpCode::Continuation, Some(kind)) => Ok((kind, false)),
            (_, Some(_)) => Err(ProtocolError::ExpectedContinuation),
            (OpCode::Text, None) => Ok((MessageKind::Text, true)),
            (_, None) => Ok((MessageKind::Binary, true)),
        };
        let (kind, first) = match started {
            Ok(started) => started,
            Err(e) => return self.fail(e, 0, output, now),
        };
        let len = header.payload_len;
        let size_before = if first { 0 } else { self.message_size };
        let fragments = if first {
            1
        } else {
            self.fragments.saturating_add(1)
        };
        let violation = if len > self.max_frame_payload {
            Some(ProtocolError::FrameTooLarge)
        } else if size_before.saturating_add(len) > self.max_message_size {
            Some(ProtocolError::MessageTooLarge)
        } else if fragments > self.max_fragments {
            Some(ProtocolError::TooManyFragments)
        } else {
            None
        };
        if let Some(e) = violation {
            return self.fail(e, 0, output, now);
        }
        let compressed = if first {
            header.rsv1
        } else {
            self.recv_compressed
        };
        if kind == MessageKind::Text && !compressed && first {
            self.utf8.reset();
        }
        self.recv_compressed = compressed;
        self.recv_kind = Some(kind);
        self.message_size = size_before + len;
        self.fragments = fragments;
        self.frame_remaining = len;
        self.frame_fin = header.fin;
        self.frame_mask = header.mask.unwrap_or_default();
        self.frame_offset = 0;
        self.payload(input, header_len, output, now)
    }

    /// The next chunk of the current data frame's payload, from `input[start..]`.
    fn payload<'a>(
        &mut self,
        input: &'a mut [u8],
        start: usize,
        output: &mut [u8; MIN_OUTPUT],
        now: u64,
    ) -> Received<'a> {
        let available = input.len().saturating_sub(start);
        let n = usize::try_from(self.frame_remaining).map_or(available, |r| r.min(available));
        let end_of_frame = n as u64 == self.frame_remaining;
        if self.state != State::Open {
            self.frame_remaining -= n as u64;
            return Received::skipped(start + n);
        }
        if n == 0 && !end_of_frame {
            return Received::skipped(start);
        }
        let Some(chunk) = input.get_mut(start..start + n) else {
            return Received::skipped(start);
        };
        if E::ROLE == Role::Server {
            apply_mask(chunk, self.frame_mask, usize::from(self.frame_offset));
        }
        self.frame_offset = ((usize::from(self.frame_offset) + n) % 4) as u8;
        self.frame_remaining -= n as u64;
        let end = end_of_frame && self.frame_fin;
        let kind = self.recv_kind.unwrap_or(MessageKind::Binary);
        if kind == MessageKind::Text && !self.recv_compressed {
            let valid =
                self.utf8
                    .feed(chunk)
                    .and_then(|()| if end { self.utf8.finish() } else { Ok(()) });
            if valid.is_err() {
                return self.fail(ProtocolError::InvalidUtf8, start + n, output, now);
            }
        }
        if end {
            self.recv_kind = None;
        }
        let payload: &'a [u8] = chunk;
        Received {
            consumed: start + n,
            written: 0,
            event: Some(Event::Data {
                kind,
                payload,
                end,
                compressed: self.recv_compressed,
            }),
        }
    }

    /// A whole control frame (ping, pong or close) in the Open state.
    fn control<'a>(
        &mut self,
        header: FrameHeader,
        header_len: usize,
        input: &'a mut [u8],
        output: &mut [u8; MIN_OUTPUT],
        now: u64,
    ) -> Received<'a> {
        // Control payloads are at most 125 bytes (checked by the parser), so a reply fits in
        // MIN_OUTPUT.
        let total = header_len + header.payload_len as usize;
        let Some(payload) = input.get_mut(header_len..total) else {
            return Received::need_more();
        };
        if let Some(key) = header.mask {
            apply_mask(payload, key, 0);
        }
        let payload: &'a [u8] = payload;
        let (written, event) = match header.opcode {
            OpCode::Ping => {
                let written = self.reply(OpCode::Pong, payload, output);
                (written, Event::Ping(payload))
            }
            OpCode::Pong => {
                self.deadline = super::NEVER;
                (0, Event::Pong(payload))
            }
            _ => match parse_close_payload(payload) {
                Ok((code, reason)) => {
                    let bytes = code.map(|code| code.0.to_be_bytes());
                    let body = bytes.as_ref().map_or(&[][..], |b| b.as_slice());
                    let written = self.reply(OpCode::Close, body, output);
                    self.enter_closed();
                    (written, Event::Close { code, reason })
                }
                Err(e) => {
                    let failed = self.fail(e, total, output, now);
                    self.enter_closed();
                    return failed;
                }
            },
        };
        Received {
            consumed: total,
            written,
            event: Some(event),
        }
    }

    /// Writes a control frame of at most 125 payload bytes; it always fits in `output`.
    fn reply(&mut self, opcode: OpCode, payload: &[u8], output: &mut [u8; MIN_OUTPUT]) -> usize {
        let mask = self.out_mask();
        // Infallible: MIN_OUTPUT is the largest control frame (a 0 would only mean "nothing sent").
        encode_frame(true, opcode, mask, payload, output).unwrap_or(0)
    }

    /// Closing: skip every frame until the peer's close, checking nothing but the framing.
    fn receive_closing<'a>(&mut self, input: &'a mut [u8]) -> Received<'a> {
        let Some(raw) = RawHeader::parse(input) else {
            return Received::need_more();
        };
        let skip = core::mem::take(&mut self.skip_frame);
        let is_close = raw.opcode == OpCode::Close.bits() && raw.payload_len <= 125 && !skip;
        if !is_close {
            self.frame_remaining = raw.payload_len;
            let available = input.len() - raw.header_len;
            let n = usize::try_from(raw.payload_len).map_or(available, |r| r.min(available));
            self.frame_remaining -= n as u64;
            return Received::skipped(raw.header_len + n);
        }
        let total = raw.header_len + raw.payload_len as usize;
        let Some(payload) = input.get_mut(raw.header_len..total) else {
            return Received::need_more();
        };
        if let Some(key) = raw.mask {
            apply_mask(payload, key, 0);
        }
        let payload: &'a [u8] = payload;
        self.enter_closed();
        let event = match parse_close_payload(payload) {
            Ok((code, reason)) => Event::Close { code, reason },
            Err(e) => Event::Failed(e),
        };
        Received {
            consumed: total,
            written: 0,
            event: Some(event),
        }
    }

    /// Fails the connection with `error`: writes the close frame (in the Open state), moves to
    /// Closing, reports [`Event::Failed`] having consumed `consumed` bytes. In Closing (our close
    /// already sent) nothing is written and the state becomes Closed.
    fn fail<'a>(
        &mut self,
        error: ProtocolError,
        consumed: usize,
        output: &mut [u8; MIN_OUTPUT],
        now: u64,
    ) -> Received<'a> {
        let mut written = 0;
        if self.state == State::Open {
            let code = error.close_code().0.to_be_bytes();
            written = self.reply(OpCode::Close, &code, output);
            self.enter_closing(now);
        } else {
            self.enter_closed();
        }
        self.recv_kind = None;
        // A frame failed on its header alone is left in the input and skipped in Closing.
        self.skip_frame = consumed == 0;
        Received {
            consumed,
            written,
            event: Some(Event::Failed(error)),
        }
    }
}

//! The IO-free half shared by the blocking and the async adapter: it owns the ws-core
//! [`Connection`] and the two buffers, and says at each step what IO it needs next.

use crate::Error;
use ws_core::connection::{MIN_INPUT, MIN_OUTPUT};
use ws_core::handshake::{
    write_accept_response, write_client_request, write_error_response, Accept, AcceptKey,
    ClientRequest, Header, RequestParser, ResponseParser, Status,
};
use ws_core::limits::HeadLimits;
use ws_core::{CloseCode, Connection, Endpoint, Event, MessageKind, ProtocolError, Role};

/// What the IO side must do next for a read.
pub(crate) enum Step {
    /// Read more bytes into [`Session::rx_free`], then report them with [`Session::filled`].
    Read,
    /// Write `tx[..n]` ([`Session::tx`]), then step again.
    Write(usize),
    /// A whole message of `len` bytes is at the start of the caller's buffer.
    Message(MessageKind, usize),
    /// The peer's close arrived (and its echo, if any, was written).
    Closed(Option<CloseCode>),
    /// The peer violated the protocol (the failing close was written).
    Failed(ProtocolError),
    /// The message did not fit the caller's buffer (a 1009 close was written).
    TooLarge,
}

/// A handshake step.
pub(crate) enum HandshakeStep {
    /// Read more bytes.
    Read,
    /// Write `tx[..n]`; then the handshake is over: accepted, refused with this error, or (`None`)
    /// the transmit buffer could not hold the answer.
    Write(usize, Result<(), Option<ws_core::HandshakeError>>),
}

/// The connection (of role `R`) and its buffers.
pub(crate) struct Session<'b, R> {
    pub(crate) conn: Connection<R>,
    rx: &'b mut [u8],
    /// Unconsumed received bytes are `rx[start..end]`.
    start: usize,
    end: usize,
    tx: &'b mut [u8],
    /// Bytes of the message being read, already in the caller's buffer.
    message_len: usize,
    /// What to report once the pending write is done.
    after_write: Option<Step>,
}

impl<'b, R: Endpoint> Session<'b, R> {
    /// A session for `conn` over these buffers, or `BufferTooSmall`.
    pub(crate) fn new<E>(
        conn: Connection<R>,
        rx: &'b mut [u8],
        tx: &'b mut [u8],
    ) -> Result<Self, Error<E>> {
        if rx.len() < MIN_INPUT || tx.len() < MIN_OUTPUT {
            return Err(Error::BufferTooSmall);
        }
        Ok(Self {
            conn,
            rx,
            start: 0,
            end: 0,
            tx,
            message_len: 0,
            after_write: None,
        })
    }

    /// Free room to read into (compacting first), or `BufferTooSmall` when the buffer is full.
    pub(crate) fn rx_free<E>(&mut self) -> Result<&mut [u8], Error<E>> {
        if self.start > 0 {
            self.rx.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        match self.rx.get_mut(self.end..) {
            Some(free) if !free.is_empty() => Ok(free),
            _ => Err(Error::BufferTooSmall),
        }
    }

    /// `n` bytes were read into [`Session::rx_free`].
    pub(crate) fn filled(&mut self, n: usize) {
        self.end = (self.end + n).min(self.rx.len());
    }

    /// The first `n` bytes of the transmit buffer.
    pub(crate) fn tx(&self, n: usize) -> &[u8] {
        self.tx.get(..n).unwrap_or_default()
    }

    /// Server: parses what has been read so far; once the head is complete, writes the 101 or
    /// the error response.
    pub(crate) fn accept_step(&mut self, parser: &mut RequestParser) -> HandshakeStep {
        let mut headers = [Header::EMPTY; crate::HEADER_SLOTS];
        let input = self.rx.get(..self.end).unwrap_or_default();
        let result = match parser.feed(input, &mut headers) {
            Ok(Status::Partial) => return HandshakeStep::Read,
            Ok(Status::Complete((request, len))) => request.upgrade().map(|u| (u.key, len)),
            Err(e) => Err(e),
        };
        match result {
            Ok((key, len)) => match write_accept_response(key, &Accept::default(), self.tx) {
                Ok(n) => {
                    self.start = len;
                    HandshakeStep::Write(n, Ok(()))
                }
                Err(_) => HandshakeStep::Write(0, Err(None)),
            },
            Err(e) => {
                let n = write_error_response(e, self.tx).unwrap_or(0);
                HandshakeStep::Write(n, Err(Some(e)))
            }
        }
    }

    /// Client: writes the request; returns its length and the accept value to expect.
    pub(crate) fn connect_request<E>(
        &mut self,
        request: &ClientRequest<'_>,
        nonce: [u8; 16],
    ) -> Result<(usize, AcceptKey), Error<E>> {
        write_client_request(request, nonce, self.tx).map_err(|_| Error::BufferTooSmall)
    }

    /// Client: parses the response read so far; `Ok(true)` once it is a valid 101.
    pub(crate) fn connect_step<E>(
        &mut self,
        parser: &mut ResponseParser,
        request: &ClientRequest<'_>,
        expected: &AcceptKey,
    ) -> Result<bool, Error<E>> {
        let mut headers = [Header::EMPTY; crate::HEADER_SLOTS];
        let input = self.rx.get(..self.end).unwrap_or_default();
        match parser.feed(input, &mut headers, request, expected) {
            Ok(Status::Partial) => Ok(false),
            Ok(Status::Complete((_, len))) => {
                self.start = len;
                Ok(true)
            }
            Err(e) => Err(Error::Handshake(e)),
        }
    }

    /// Advances reading a message into `dst`.
    pub(crate) fn read_step(&mut self, dst: &mut [u8]) -> Step {
        if let Some(step) = self.after_write.take() {
            return step;
        }
        loop {
            let Some(input) = self.rx.get_mut(self.start..self.end) else {
                return Step::Read;
            };
            if input.is_empty() {
                return Step::Read;
            }
            // The transmit buffer holds MIN_OUTPUT bytes (checked in `new`): this cannot fail.
            let Some(reply) = self.tx.first_chunk_mut::<MIN_OUTPUT>() else {
                return Step::Read;
            };
            let got = self.conn.receive(input, reply, 0);
            self.start += got.consumed;
            let (written, outcome) = match got.event {
                None if got.consumed == 0 => return Step::Read,
                None => (got.written, None),
                Some(Event::Data {
                    kind, payload, end, ..
                }) => {
                    let at = self.message_len;
                    let Some(room) = dst.get_mut(at..at + payload.len()) else {
                        self.message_len = 0;
                        let n = self
                            .conn
                            .send_close(Some(CloseCode::TOO_BIG), "", 0, self.tx)
                            .unwrap_or(0);
                        self.after_write = Some(Step::TooLarge);
                        return Step::Write(n);
                    };
                    room.copy_from_slice(payload);
                    self.message_len += payload.len();
                    if !end {
                        continue;
                    }
                    let len = core::mem::take(&mut self.message_len);
                    (0, Some(Step::Message(kind, len)))
                }
                Some(Event::Ping(_)) | Some(Event::Pong(_)) => (got.written, None),
                Some(Event::Close { code, .. }) => (got.written, Some(Step::Closed(code))),
                Some(Event::Failed(e)) => (got.written, Some(Step::Failed(e))),
            };
            match (written, outcome) {
                (0, Some(outcome)) => return outcome,
                (0, None) => {}
                (n, outcome) => {
                    self.after_write = outcome;
                    return Step::Write(n);
                }
            }
        }
    }

    /// Writes a data frame's header for `payload`; returns the header length and, for a client,
    /// the frame's mask key (the header's last 4 bytes): servers then send the payload as is,
    /// clients send it masked with that key, see [`Session::mask_chunk`].
    pub(crate) fn data_header<E>(
        &mut self,
        kind: MessageKind,
        len: usize,
    ) -> Result<(usize, Option<[u8; 4]>), Error<E>> {
        let n = self
            .conn
            .send_data_header(kind, len as u64, true, self.tx)
            .map_err(|_| Error::Closed)?;
        let key = match R::ROLE {
            Role::Server => None,
            Role::Client => n
                .checked_sub(4)
                .and_then(|at| self.tx.get(at..n))
                .and_then(|key| key.try_into().ok()),
        };
        Ok((n, key))
    }

    /// Copies the next chunk of `payload` (from `offset`) into the transmit buffer masked with
    /// `mask`; returns its length (0 when done).
    pub(crate) fn mask_chunk(&mut self, payload: &[u8], offset: usize, mask: [u8; 4]) -> usize {
        let rest = payload.get(offset..).unwrap_or_default();
        let n = rest.len().min(self.tx.len());
        if let (Some(dst), Some(src)) = (self.tx.get_mut(..n), rest.get(..n)) {
            dst.copy_from_slice(src);
            ws_core::frame::apply_mask(dst, mask, offset);
        }
        n
    }

    /// Writes a ping; returns its length.
    pub(crate) fn ping<E>(&mut self, payload: &[u8]) -> Result<usize, Error<E>> {
        self.conn
            .send_ping(payload, self.tx)
            .map_err(|_| Error::Closed)
    }

    /// Writes our close if the connection is still open; returns its length (0 if it was not).
    pub(crate) fn close(&mut self, code: CloseCode, reason: &str) -> usize {
        if self.conn.state() != ws_core::State::Open {
            return 0;
        }
        self.conn
            .send_close(Some(code), reason, 0, self.tx)
            .unwrap_or(0)
    }

    /// The ws-core head limits used by both parsers.
    pub(crate) fn head_limits(&self) -> HeadLimits {
        HeadLimits {
            max_head_bytes: self.rx.len().min(HeadLimits::DEFAULT.max_head_bytes),
            ..HeadLimits::DEFAULT
        }
    }
}

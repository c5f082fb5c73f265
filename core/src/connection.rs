//! The per-connection state machine (RFC 6455 §5.4, §5.5, §7, §8.1).
//!
//! Call order: [`Connection::new`] after the opening handshake; then, for every chunk of bytes the
//! transport delivers, call [`Connection::receive`] repeatedly on the unconsumed bytes until it
//! returns no event and consumes nothing (it needs more input); transmit whatever it wrote into the
//! output buffer. Send with [`Connection::send_data`], [`Connection::send_ping`],
//! [`Connection::send_close`]. Arrange to call [`Connection::handle_timeout`] at
//! [`Connection::poll_timeout`]. When [`Connection::state`] is [`State::Closed`], close the transport
//! (a server closes TCP first; a client waits briefly for the server to do it).

use crate::close::CloseCode;
use crate::error::{BufferTooSmall, ProtocolError, SendError};
use crate::limits::{Limits, Timers};
use crate::Role;

/// Room in the output buffer that [`Connection::receive`] and [`Connection::handle_timeout`] may
/// need for one reply frame (header with mask key + 125-byte control payload).
pub const MIN_OUTPUT: usize = crate::frame::MAX_HEADER_LEN + 125;

/// The kind of a data message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MessageKind {
    /// UTF-8 text (validated by the core).
    Text,
    /// Arbitrary bytes.
    Binary,
}

/// Where the close handshake stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum State {
    /// Data flows both ways.
    Open,
    /// We sent a close frame (or failed the connection) and wait for the peer's close.
    Closing,
    /// The close handshake is over, or must be abandoned: close the transport.
    Closed,
}

/// What one [`Connection::receive`] call produced.
#[derive(Debug, PartialEq, Eq)]
pub struct Received<'a> {
    /// Bytes of the input consumed; the caller drops them and passes the rest next time.
    pub consumed: usize,
    /// Bytes written at the start of the output buffer (a pong, a close echo, or a failing close).
    pub written: usize,
    /// The event, if any. `None` with `consumed == 0` means more input is needed.
    pub event: Option<Event<'a>>,
}

/// Something the peer did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event<'a> {
    /// A chunk of a data message, unmasked in place in the caller's input buffer. For text, the
    /// bytes seen so far are valid UTF-8 except that a chunk may end inside a code point.
    Data {
        /// Text or binary (the opcode of the message's first frame).
        kind: MessageKind,
        /// The chunk.
        payload: &'a [u8],
        /// Whether this chunk ends the message.
        end: bool,
    },
    /// A ping; the pong with the same payload has been written to the output.
    Ping(&'a [u8]),
    /// A pong (solicited or not).
    Pong(&'a [u8]),
    /// The peer's close frame. If we had not sent a close, the echo has been written to the
    /// output. The state is now [`State::Closed`].
    Close {
        /// The code, or `None` for an empty close payload.
        code: Option<CloseCode>,
        /// The UTF-8 reason.
        reason: &'a str,
    },
    /// The peer violated the protocol; the close frame with [`ProtocolError::close_code`] has been
    /// written to the output and the state is now [`State::Closing`].
    Failed(ProtocolError),
}

/// What a [`Connection::handle_timeout`] call did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Timeout {
    /// Nothing was due.
    Nothing,
    /// A keep-alive ping of this many bytes was written to the output.
    Ping(usize),
    /// The pong is overdue: a 1011 close of this many bytes was written; state is Closing.
    PongOverdue(usize),
    /// The peer never answered our close: drop the transport now; state is Closed.
    DropTransport,
}

/// One WebSocket connection's protocol state, for one role.
#[derive(Clone, Debug)]
pub struct Connection {
    role: Role,
}

impl Connection {
    /// A connection in the Open state, as `role`, at time `now`.
    pub fn new(role: Role, limits: Limits, timers: Timers, now: u64) -> Self {
        todo!()
    }

    /// This side's role.
    pub fn role(&self) -> Role {
        self.role
    }

    /// Where the close handshake stands.
    pub fn state(&self) -> State {
        todo!()
    }

    /// Processes bytes from the peer: parses at most one frame header and/or payload chunk and
    /// reports at most one event, unmasking payload in place. Writes at most one reply frame into
    /// `output`, masked with `mask` in the client role (pass fresh random bytes on every call; the
    /// server role ignores it). Fails only if `output` is shorter than a reply needs ([`MIN_OUTPUT`]
    /// always suffices); nothing is consumed then.
    pub fn receive<'a>(
        &mut self,
        input: &'a mut [u8],
        output: &mut [u8],
        now: u64,
        mask: [u8; 4],
    ) -> Result<Received<'a>, BufferTooSmall> {
        todo!()
    }

    /// Writes one data frame carrying `payload`. The first frame of a message carries `kind`; while
    /// a message sent with `fin = false` is unfinished, frames are continuations (`kind` must stay
    /// the same). `mask` is used in the client role.
    pub fn send_data(
        &mut self,
        kind: MessageKind,
        payload: &[u8],
        fin: bool,
        mask: [u8; 4],
        output: &mut [u8],
    ) -> Result<usize, SendError> {
        todo!()
    }

    /// Like [`Connection::send_data`] but writes only the header for a payload of `len` bytes that
    /// the caller transmits itself right after (masked with [`crate::frame::apply_mask`] and the
    /// same `mask` in the client role). Lets a server send large payloads without copying.
    pub fn send_data_header(
        &mut self,
        kind: MessageKind,
        len: u64,
        fin: bool,
        mask: [u8; 4],
        output: &mut [u8],
    ) -> Result<usize, SendError> {
        todo!()
    }

    /// Writes a ping (payload at most 125 bytes).
    pub fn send_ping(
        &mut self,
        payload: &[u8],
        mask: [u8; 4],
        output: &mut [u8],
    ) -> Result<usize, SendError> {
        todo!()
    }

    /// Writes an unsolicited pong (payload at most 125 bytes).
    pub fn send_pong(
        &mut self,
        payload: &[u8],
        mask: [u8; 4],
        output: &mut [u8],
    ) -> Result<usize, SendError> {
        todo!()
    }

    /// Writes a close frame (`code` `None` sends an empty payload; the reason must fit in 123
    /// bytes) and moves to [`State::Closing`]; no data may be sent afterwards. Arms the close
    /// timeout from `now`.
    pub fn send_close(
        &mut self,
        code: Option<CloseCode>,
        reason: &str,
        now: u64,
        mask: [u8; 4],
        output: &mut [u8],
    ) -> Result<usize, SendError> {
        todo!()
    }

    /// The time at which [`Connection::handle_timeout`] wants to be called, if any.
    pub fn poll_timeout(&self) -> Option<u64> {
        todo!()
    }

    /// Runs the timers at `now`: the keep-alive ping, the pong deadline (1011), the close deadline.
    pub fn handle_timeout(
        &mut self,
        now: u64,
        mask: [u8; 4],
        output: &mut [u8],
    ) -> Result<Timeout, BufferTooSmall> {
        todo!()
    }
}

//! The per-connection state machine (RFC 6455 §5.4, §5.5, §7, §8.1).
//!
//! Call order: [`Connection::new`] after the opening handshake; then, for every chunk of bytes the
//! transport delivers, call [`Connection::receive`] repeatedly on the unconsumed bytes until it
//! returns no event and consumes nothing (it needs more input); transmit whatever it wrote into the
//! output buffer. Send with [`Connection::send_data`], [`Connection::send_ping`],
//! [`Connection::send_close`]. Arrange to call [`Connection::handle_timeout`] at
//! [`Connection::poll_timeout`]. When [`Connection::state`] is [`State::Closed`], close the transport
//! (a server closes TCP first; a client waits briefly for the server to do it).

mod receive;
mod send;
mod timers;

use crate::close::CloseCode;
use crate::error::ProtocolError;
use crate::limits::{Limits, Timers};
use crate::utf8::Utf8Validator;
use crate::Role;

/// Room in the output buffer that [`Connection::receive`] and [`Connection::handle_timeout`] may
/// need for one reply frame (header with mask key + 125-byte control payload).
pub const MIN_OUTPUT: usize = crate::frame::MAX_HEADER_LEN + 125;

/// Room the caller's input buffer needs: a whole control frame (header with mask key + 125-byte
/// payload), which [`Connection::receive`] hands out only once all of it is present. Data frames
/// of any size pass through smaller buffers as chunks.
pub const MIN_INPUT: usize = crate::frame::MAX_HEADER_LEN + 125;

/// Room a close frame with a code and no reason needs (header with mask key + 2).
const CLOSE_FRAME_LEN: usize = 2 + 4 + 2;

/// "No deadline" / "timer disabled".
const NEVER: u64 = u64::MAX;

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
    /// bytes seen so far are valid UTF-8 except that a chunk may end inside a code point (unless
    /// the message is compressed: [`Connection::message_compressed`]).
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
    /// A pong (solicited or not); nothing is written.
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
    /// written to the output and the state is now [`State::Closing`] (frames other than the
    /// peer's close are ignored from now on). Exceptions, with state [`State::Closed`]: the
    /// offending frame was the peer's close itself (the handshake is over: close the transport),
    /// or we had already sent a close (nothing more is written: drop the transport).
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
///
/// `size_of::<Connection>()` is 96 bytes on 64-bit targets (asserted in a test); it holds no
/// buffer: payload is unmasked in the caller's input buffer and replies go to the caller's output.
///
/// A server receiving RFC 6455 §5.7's masked "Hello":
///
/// ```
/// use ws_core::{Connection, Event, Limits, MessageKind, Role, Timers};
/// let mut conn = Connection::new(Role::Server, Limits::DEFAULT, Timers::default(), 0);
/// let mut input = [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58];
/// let mut output = [0u8; ws_core::connection::MIN_OUTPUT];
/// let got = conn.receive(&mut input, &mut output, 0, [0; 4]).unwrap();
/// assert_eq!(got.consumed, 11);
/// assert_eq!(got.written, 0);
/// assert_eq!(
///     got.event,
///     Some(Event::Data { kind: MessageKind::Text, payload: b"Hello", end: true })
/// );
/// // And sending it back (servers do not mask): 81 05 "Hello".
/// let n = conn.send_data(MessageKind::Text, b"Hello", true, [0; 4], &mut output).unwrap();
/// assert_eq!(&output[..n], b"\x81\x05Hello");
/// ```
#[derive(Clone, Debug)]
pub struct Connection {
    /// [`Limits::max_frame_payload`].
    max_frame_payload: u64,
    /// [`Limits::max_message_size`].
    max_message_size: u64,
    /// [`Timers::idle_ping`], or [`NEVER`].
    idle_ping: u64,
    /// [`Timers::pong_timeout`], or [`NEVER`].
    pong_timeout: u64,
    /// [`Timers::close_timeout`], or [`NEVER`].
    close_timeout: u64,
    /// When something was last received or a keep-alive ping sent: the idle timer counts from it.
    idle_base: u64,
    /// Open: when our ping's pong is due; Closing: when the peer's close is due; else [`NEVER`].
    deadline: u64,
    /// Payload bytes of the current data frame not yet consumed (0: at a frame boundary).
    frame_remaining: u64,
    /// Bytes of the incoming message so far (including the current frame).
    message_size: u64,
    /// [`Limits::max_fragments`].
    max_fragments: u32,
    /// Frames of the incoming message so far.
    fragments: u32,
    /// Mask key of the current incoming frame.
    frame_mask: [u8; 4],
    /// Payload bytes of the current frame already unmasked, modulo 4.
    frame_offset: u8,
    /// FIN of the current incoming data frame.
    frame_fin: bool,
    role: Role,
    state: State,
    /// Kind of the incoming message in progress.
    recv_kind: Option<MessageKind>,
    /// Kind of the outgoing message in progress (sent with `fin = false`).
    send_kind: Option<MessageKind>,
    /// UTF-8 state of the incoming text message.
    utf8: Utf8Validator,
    /// permessage-deflate is active: RSV1 allowed on the first frame of a data message.
    deflate: bool,
    /// The incoming message in progress (or just ended) had RSV1 set: it is compressed.
    recv_compressed: bool,
    /// The frame at the start of the input failed the connection unconsumed: skip it whole, even
    /// if it is a close.
    skip_frame: bool,
}

impl Connection {
    /// A connection in the Open state, as `role`, at time `now`.
    pub fn new(role: Role, limits: Limits, timers: Timers, now: u64) -> Self {
        Self {
            max_frame_payload: limits.max_frame_payload,
            max_message_size: limits.max_message_size,
            idle_ping: timers.idle_ping.unwrap_or(NEVER),
            pong_timeout: timers.pong_timeout.unwrap_or(NEVER),
            close_timeout: timers.close_timeout.unwrap_or(NEVER),
            idle_base: now,
            deadline: NEVER,
            frame_remaining: 0,
            message_size: 0,
            max_fragments: limits.max_fragments,
            fragments: 0,
            frame_mask: [0; 4],
            frame_offset: 0,
            frame_fin: false,
            role,
            state: State::Open,
            recv_kind: None,
            send_kind: None,
            utf8: Utf8Validator::new(),
            deflate: false,
            recv_compressed: false,
            skip_frame: false,
        }
    }

    /// Marks permessage-deflate (RFC 7692) as negotiated, or not. When active, RSV1 is accepted on
    /// the first frame of a data message (on any other frame it still fails with 1002); such a
    /// message is reported through [`Connection::message_compressed`] and its (compressed) bytes
    /// are not UTF-8 validated by the core: validate the inflated text, e.g. with
    /// [`crate::utf8::Utf8Validator`]. The size limits apply to the bytes on the wire.
    pub fn set_deflate(&mut self, active: bool) {
        self.deflate = active;
    }

    /// Whether the incoming message that the last [`Event::Data`] belonged to had RSV1 set on its
    /// first frame (it is compressed; see [`Connection::set_deflate`]).
    pub fn message_compressed(&self) -> bool {
        self.recv_compressed
    }

    /// This side's role.
    pub fn role(&self) -> Role {
        self.role
    }

    /// Where the close handshake stands.
    pub fn state(&self) -> State {
        self.state
    }

    /// The mask key for a frame this side sends: the caller's key in the client role.
    fn out_mask(&self, mask: [u8; 4]) -> Option<[u8; 4]> {
        match self.role {
            Role::Client => Some(mask),
            Role::Server => None,
        }
    }

    /// Moves to Closing after our close frame went out at `now`; arms the close timer.
    fn enter_closing(&mut self, now: u64) {
        self.state = State::Closing;
        self.send_kind = None;
        self.deadline = now.saturating_add(self.close_timeout);
        if self.close_timeout == NEVER {
            self.deadline = NEVER;
        }
    }

    /// Moves to Closed: nothing more to do but close the transport.
    fn enter_closed(&mut self) {
        self.state = State::Closed;
        self.send_kind = None;
        self.deadline = NEVER;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn size_is_small_and_documented() {
        assert_eq!(core::mem::size_of::<Connection>(), 96);
        assert_eq!(core::mem::size_of::<Utf8Validator>(), 1);
    }
}

//! The per-connection state machine (RFC 6455 §5.4, §5.5, §7, §8.1).
//!
//! Call order: [`Connection::server`] or [`Connection::client`] after the opening handshake; then,
//! for every chunk of bytes the transport delivers, call [`Connection::receive`] repeatedly on the
//! unconsumed bytes until it returns no event and consumes nothing (it needs more input); transmit
//! whatever it wrote into the output buffer. Send with [`Connection::send_data`],
//! [`Connection::send_ping`], [`Connection::send_close`]. Arrange to call
//! [`Connection::handle_timeout`] at [`Connection::poll_timeout`]. When [`Connection::state`] is
//! [`State::Closed`], close the transport (a server closes TCP first; a client waits briefly for
//! the server to do it).
//!
//! Bytes written, one convention: every call that may write frames writes them at the start of
//! the caller's `output` and reports how many bytes it wrote as a `usize` named `written` — the
//! `Ok` value of the `send_*` calls, [`Received::written`] and [`Timeout::written`]. Nothing is
//! written past that count, and a count of 0 means there is nothing to transmit.

mod endpoint;
mod receive;
mod send;
mod timers;

pub use endpoint::{Client, Endpoint, MaskKeys, Server};

use crate::close::CloseCode;
use crate::error::ProtocolError;
use crate::limits::{Limits, Timers};
use crate::utf8::Utf8Validator;
use crate::Role;

/// Size of the output buffer [`Connection::receive`] and [`Connection::handle_timeout`] take: one
/// reply frame (header with mask key + 125-byte control payload), so they cannot run out of room.
pub const MIN_OUTPUT: usize = crate::frame::MAX_HEADER_LEN + 125;

/// Room the caller's input buffer needs: a whole control frame (header with mask key + 125-byte
/// payload), which [`Connection::receive`] hands out only once all of it is present. Data frames
/// of any size pass through smaller buffers as chunks.
pub const MIN_INPUT: usize = crate::frame::MAX_HEADER_LEN + 125;

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
    /// the message is `compressed`: then they are deflate bytes the core does not validate).
    Data {
        /// Text or binary (the opcode of the message's first frame).
        kind: MessageKind,
        /// The chunk.
        payload: &'a [u8],
        /// Whether this chunk ends the message.
        end: bool,
        /// Whether the message's first frame had RSV1 set: it is compressed with
        /// permessage-deflate (RFC 7692 §6; only with [`Connection::set_deflate`]). The same for
        /// every chunk of a message.
        compressed: bool,
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

/// What one [`Connection::handle_timeout`] call produced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeout {
    /// Bytes written at the start of the output buffer (a keep-alive ping or a 1011 close).
    pub written: usize,
    /// The timer that fired, if any.
    pub event: Option<TimerEvent>,
}

/// A timer that fired in [`Connection::handle_timeout`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TimerEvent {
    /// The connection was idle: an empty keep-alive ping was written; the pong deadline is armed.
    Ping,
    /// The pong is overdue: a 1011 close was written; state is Closing.
    PongOverdue,
    /// The peer never answered our close: drop the transport now (nothing written); state is
    /// Closed.
    DropTransport,
}

/// One WebSocket connection's protocol state, for one role: [`Server`] (the default) or
/// [`Client`], chosen at construction ([`Connection::server`], [`Connection::client`]).
///
/// `size_of::<Connection<Server>>()` is at most 96 bytes on 64-bit targets (asserted in a test);
/// it holds no buffer: payload is unmasked in the caller's input buffer and replies go to the
/// caller's output. A client connection adds its key source.
///
/// A server receiving RFC 6455 §5.7's masked "Hello":
///
/// ```
/// use ws_core::connection::MIN_OUTPUT;
/// use ws_core::{Connection, Event, Limits, MessageKind, Timers};
/// let mut conn = Connection::server(Limits::DEFAULT, Timers::default(), 0);
/// let mut input = [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58];
/// let mut output = [0u8; MIN_OUTPUT];
/// let got = conn.receive(&mut input, &mut output, 0);
/// assert_eq!(got.consumed, 11);
/// assert_eq!(got.written, 0);
/// assert_eq!(
///     got.event,
///     Some(Event::Data { kind: MessageKind::Text, payload: b"Hello", end: true, compressed: false })
/// );
/// // And sending it back (servers do not mask): 81 05 "Hello".
/// let written = conn.send_data(MessageKind::Text, b"Hello", true, &mut output).unwrap();
/// assert_eq!(&output[..written], b"\x81\x05Hello");
/// ```
///
/// A client masks with keys from the source it is built with (here a fixed key, as in §5.7's
/// example; a real client passes fresh random keys):
///
/// ```
/// use ws_core::{Connection, Limits, MessageKind, Timers};
/// let mut conn = Connection::client(Limits::DEFAULT, Timers::default(), 0, || [0x37, 0xfa, 0x21, 0x3d]);
/// let mut output = [0u8; 16];
/// let written = conn.send_data(MessageKind::Text, b"Hello", true, &mut output).unwrap();
/// assert_eq!(&output[..written], b"\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58");
/// ```
#[derive(Clone, Debug)]
pub struct Connection<E = Server> {
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
    /// The role, and a client's mask keys.
    endpoint: E,
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

impl Connection<Server> {
    /// A server connection in the Open state at time `now`.
    pub fn server(limits: Limits, timers: Timers, now: u64) -> Self {
        Self::with_endpoint(Server, limits, timers, now)
    }
}

impl<K: MaskKeys> Connection<Client<K>> {
    /// A client connection in the Open state at time `now`, masking every frame it sends with a
    /// key drawn from `keys` (RFC 6455 §5.3: unpredictable keys, e.g. from the OS's RNG).
    pub fn client(limits: Limits, timers: Timers, now: u64, keys: K) -> Self {
        Self::with_endpoint(Client(keys), limits, timers, now)
    }
}

impl<E: Endpoint> Connection<E> {
    /// A connection in the Open state for `endpoint` at time `now`.
    fn with_endpoint(endpoint: E, limits: Limits, timers: Timers, now: u64) -> Self {
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
            endpoint,
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
    /// message's [`Event::Data`] chunks say `compressed: true` and its (compressed) bytes
    /// are not UTF-8 validated by the core: validate the inflated text, e.g. with
    /// [`crate::utf8::Utf8Validator`]. The size limits apply to the bytes on the wire.
    pub fn set_deflate(&mut self, active: bool) {
        self.deflate = active;
    }

    /// This side's role.
    pub fn role(&self) -> Role {
        E::ROLE
    }

    /// Payload bytes of the current incoming frame that [`Connection::receive`] has not handed out
    /// (or, while [`State::Closing`], not skipped) yet; 0 at a frame boundary, i.e. the next input
    /// byte starts a frame header. Lets a caller that forwards payload as it arrives (a
    /// pass-through echo) know where the frame ends without parsing headers itself.
    pub fn frame_remaining(&self) -> u64 {
        self.frame_remaining
    }

    /// [`Limits::max_message_size`] as configured: for a caller that inflates compressed
    /// messages (only it sees their real size) and must hold them to the same limit.
    pub fn max_message_size(&self) -> u64 {
        self.max_message_size
    }

    /// Whether the current (or last) incoming data frame has FIN set: once its
    /// [`Connection::frame_remaining`] reaches 0, its message is complete.
    pub fn frame_fin(&self) -> bool {
        self.frame_fin
    }

    /// Where the close handshake stands.
    pub fn state(&self) -> State {
        self.state
    }

    /// The mask key for a frame this side sends: a fresh key in the client role. Drawn only for
    /// a frame that is written (one key per frame, none wasted on a failed send).
    fn out_mask(&mut self) -> Option<[u8; 4]> {
        self.endpoint.next_mask()
    }

    /// A stand-in key of the right presence, to size a frame before drawing its key.
    fn out_mask_len_only(&self) -> Option<[u8; 4]> {
        (E::ROLE == Role::Client).then_some([0; 4])
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
        assert!(core::mem::size_of::<Connection<Server>>() <= 96);
        assert_eq!(core::mem::size_of::<Utf8Validator>(), 1);
    }
}

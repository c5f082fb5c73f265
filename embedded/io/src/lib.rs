//! ws-core over the `embedded-io` (blocking) and `embedded-io-async` traits that embedded network
//! stacks implement (embassy-net's `TcpSocket`, esp-idf sockets, UART/USB drivers).
//!
//! `no_std`, no alloc: the caller gives a receive buffer (at least
//! [`ws_core::connection::MIN_INPUT`] bytes, and large enough for the peer's handshake head) and a
//! transmit buffer (at least [`ws_core::connection::MIN_OUTPUT`] bytes, and large enough for the
//! handshake answer, ~130 bytes). A message is read into a third, caller-owned buffer.
//!
//! Verbs, the same in [`blocking::WebSocket`] and [`asynch::WebSocket`]: `accept` (server) or
//! `connect` (client), `read` (the next whole message; pings are answered and the peer's close is
//! echoed on the way), `send`, `ping`, `close`. Everything the protocol decides (frames, UTF-8,
//! close codes, limits) is ws-core's; this crate only moves bytes (the IO-free part is
//! `session.rs`, shared by both).
//!
//! What it does not do: timers (call [`ws_core::Connection::handle_timeout`] through
//! [`blocking::WebSocket::connection`] if you need keep-alive pings), subprotocol or extension
//! negotiation, several messages in flight.
#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod asynch;
pub mod blocking;
mod session;

pub use ws_core::{Client, MaskKeys, Server};
use ws_core::{CloseCode, HandshakeError, MessageKind, ProtocolError};

/// Header slots the handshake parsers get (on the stack during `accept` / `connect`).
pub const HEADER_SLOTS: usize = 16;

/// A whole message, in the caller's buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Message<'d> {
    /// A text message (UTF-8, validated by ws-core).
    Text(&'d str),
    /// A binary message.
    Binary(&'d [u8]),
    /// The peer closed (its close was echoed); drop the transport.
    Close(Option<CloseCode>),
}

impl<'d> Message<'d> {
    fn new(kind: MessageKind, bytes: &'d [u8]) -> Self {
        match kind {
            // ws-core validated the text; the fallback is unreachable.
            MessageKind::Text => Self::Text(core::str::from_utf8(bytes).unwrap_or_default()),
            MessageKind::Binary => Self::Binary(bytes),
        }
    }
}

/// Why an operation failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error<E> {
    /// The transport failed.
    Io(E),
    /// The transport ended (read returned 0) before the operation finished.
    Eof,
    /// The opening handshake failed (as a server, the error response has been sent).
    Handshake(HandshakeError),
    /// The peer violated the protocol; the failing close (its code is
    /// [`ProtocolError::close_code`]) has been sent: drop the transport, or call `close` to wait
    /// for the peer's close.
    Protocol(ProtocolError),
    /// A message did not fit the caller's buffer; a 1009 close has been sent.
    MessageTooLarge,
    /// A buffer given to `accept`/`connect` is smaller than its minimum, or the handshake head did
    /// not fit the receive buffer.
    BufferTooSmall,
    /// Sending is no longer possible (a close was sent or received).
    Closed,
}

//! `ws-core`: a `no_std`, no-alloc, sans-IO implementation of the WebSocket protocol (RFC 6455).
//!
//! Bytes go in, events and bytes come out. The crate never performs IO, never reads a clock, never
//! generates random numbers and never allocates: the caller owns every buffer and passes in the
//! current time (any monotonic count, e.g. milliseconds), the handshake nonce, and — once, when
//! building a client [`Connection`] — the source of random mask keys ([`MaskKeys`]).
//!
//! What it does not do: sockets, TLS, reassembling messages into owned memory (see
//! [`reassembler::Reassembler`] for a fixed-capacity helper), compression codecs.
//!
//! Call order for a server:
//! 1. feed the request head to a [`handshake::RequestParser`] until it returns
//!    [`handshake::Status::Complete`];
//! 2. validate it with [`handshake::Request::upgrade`] and write the 101 with
//!    [`handshake::write_accept_response`] (or the error response with
//!    [`handshake::write_error_response`]);
//! 3. create a [`Connection::server`] and feed it every byte after the head with
//!    [`Connection::receive`]; send with [`Connection::send_data`] and friends; call
//!    [`Connection::handle_timeout`] when [`Connection::poll_timeout`] says so.
//!
//! A client writes its request with [`handshake::write_client_request`], checks the answer with a
//! [`handshake::ResponseParser`], then runs a [`Connection::client`], built with a source of fresh
//! random mask keys ([`MaskKeys`]) from which it masks every frame it sends. No call takes a mask
//! key: the role is a type ([`Server`], [`Client`]).
//!
//! Bytes written: every call that may write frames writes them at the start of the caller's
//! `output` and returns the count as a `usize` named `written` (the `Ok` value of the `send_*`
//! calls, [`Received::written`], [`Timeout::written`]). [`Connection::receive`] and
//! [`Connection::handle_timeout`] take a `&mut [u8; MIN_OUTPUT]`
//! ([`connection::MIN_OUTPUT`], one control frame), so they cannot run out of room and return no
//! error; the `send_*` calls take any `&mut [u8]` and fail with [`SendError::BufferTooSmall`]
//! (saying the room needed) when it is too short.
//!
//! Sizes (64-bit targets, asserted in tests): [`Connection<Server>`] at most 96 bytes, holding no
//! buffer; [`utf8::Utf8Validator`] 1 byte.
//!
//! Feature `runtime-simd`: lets `simdutf8` choose AVX2/SSE4.2 UTF-8 validation at run time (this
//! needs `std` inside `simdutf8`; the core stays `no_std`). Without it, SIMD validation is used only
//! when the build enables those target features.
#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

pub mod close;
pub mod connection;
pub mod deflate;
pub mod error;
pub mod frame;
pub mod handshake;
pub mod limits;
pub mod reassembler;
pub mod utf8;

pub use close::CloseCode;
pub use connection::{
    Client, Connection, Endpoint, Event, MaskKeys, MessageKind, Received, Server, State, Timeout,
    TimerEvent,
};
pub use error::{BufferTooSmall, HandshakeError, ProtocolError, SendError};
pub use frame::{FrameHeader, OpCode};
pub use limits::{Limits, Timers};

/// Which end of the connection this side is (RFC 6455 §5.1: clients mask, servers do not).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// Accepts connections; receives masked frames, sends unmasked ones.
    Server,
    /// Opens connections; sends masked frames, receives unmasked ones.
    Client,
}

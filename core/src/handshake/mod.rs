//! The opening handshake (RFC 6455 §4): the server's request parser and response writers, the
//! client's request writer and response validator, and the accept key.
//!
//! Both parsers share one head scanner and one header-line parser: lines end in CR LF (a bare LF
//! is rejected), header names compare case-insensitively, values are trimmed of spaces and tabs
//! and may hold only visible ASCII, spaces and tabs (else [`HandshakeError::InvalidHeaderValue`]).
//!
//! [`HandshakeError::InvalidHeaderValue`]: crate::HandshakeError::InvalidHeaderValue

mod accept;
// The compact SHA-1 and base64 (`compact-hash`), always compiled for tests: they are checked
// against sha1_smol and base64ct whichever implementation `primitives` picks.
#[cfg(any(test, feature = "compact-hash"))]
mod base64;
mod client;
mod head;
mod list;
mod primitives;
mod request;
mod response;
#[cfg(any(test, feature = "compact-hash"))]
mod sha1;
mod write;

pub use accept::{accept_key, AcceptKey, GUID};
pub use client::{write_client_request, ClientRequest, Response, ResponseParser};
pub use request::{Extension, Request, RequestParser, Upgrade};
pub use response::{write_accept_response, write_error_response, Accept, WriteError};

/// Result of feeding a streaming parser: an incomplete head is a status, not an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status<T> {
    /// The head is not complete yet: feed more bytes (all of them, from the start).
    Partial,
    /// The head is complete.
    Complete(T),
}

/// One header line, borrowing the input. The value has optional whitespace trimmed and holds only
/// visible ASCII, spaces and tabs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header<'a> {
    /// The name as sent (compare case-insensitively).
    pub name: &'a str,
    /// The value.
    pub value: &'a str,
}

impl Header<'static> {
    /// An empty header, to initialise the caller's header array: `[Header::EMPTY; 64]`.
    pub const EMPTY: Self = Self {
        name: "",
        value: "",
    };
}

//! The client side: the upgrade request writer and the response validator (RFC 6455 §4.1).

use super::{AcceptKey, Header, Status, WriteError};
use crate::error::HandshakeError;
use crate::limits::HeadLimits;

/// What the client asks for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ClientRequest<'r> {
    /// The Host header value (`host[:port]`).
    pub host: &'r str,
    /// The request target (path and query), e.g. `/chat`.
    pub path: &'r str,
    /// The Origin header, if any.
    pub origin: Option<&'r str>,
    /// Subprotocols to offer, in order of preference.
    pub subprotocols: &'r [&'r str],
    /// The `Sec-WebSocket-Extensions` offer, if any.
    pub extensions: Option<&'r str>,
    /// Extra headers (e.g. `Cookie`).
    pub extra_headers: &'r [(&'r str, &'r str)],
}

/// Writes the upgrade request; `nonce` is 16 random bytes from the caller, sent base64-encoded as
/// `Sec-WebSocket-Key`. Returns bytes written and the accept value the server must answer with.
pub fn write_client_request(
    request: &ClientRequest<'_>,
    nonce: [u8; 16],
    out: &mut [u8],
) -> Result<(usize, AcceptKey), WriteError> {
    todo!()
}

/// A push parser and validator for the server's response head.
#[derive(Clone, Copy, Debug)]
pub struct ResponseParser {
    limits: HeadLimits,
    scanned: usize,
}

/// A validated 101 response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Response<'a, 'h> {
    /// The subprotocol the server chose (one we offered).
    pub subprotocol: Option<&'a str>,
    /// The `Sec-WebSocket-Extensions` value the server chose (only extensions we offered).
    pub extensions: Option<&'a str>,
    /// Every header, in order.
    pub headers: &'h [Header<'a>],
}

impl ResponseParser {
    /// A parser with these limits.
    pub const fn new(limits: HeadLimits) -> Self {
        Self { limits, scanned: 0 }
    }

    /// Feeds all bytes received so far and, once the head is complete, validates it against what
    /// `request` offered and the `expected` accept value; returns the response and the head length.
    pub fn feed<'a, 'h>(
        &mut self,
        input: &'a [u8],
        headers: &'h mut [Header<'a>],
        request: &ClientRequest<'_>,
        expected: &AcceptKey,
    ) -> Result<Status<(Response<'a, 'h>, usize)>, HandshakeError> {
        todo!()
    }
}

//! The server's responses: the 101 and the error responses, written into caller buffers.

use crate::error::{BufferTooSmall, HandshakeError};

/// Why a response could not be written.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WriteError {
    /// The output buffer is too small.
    BufferTooSmall(BufferTooSmall),
    /// A header name or value given by the application is not a valid token / holds CR, LF or
    /// other control bytes (never reflected into the response).
    InvalidHeaderText,
}

/// What the server chose for an accepted upgrade.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Accept<'r> {
    /// The chosen subprotocol (must be one the client offered).
    pub subprotocol: Option<&'r str>,
    /// The `Sec-WebSocket-Extensions` response value, if an extension was negotiated.
    pub extensions: Option<&'r str>,
    /// Extra headers (e.g. `Set-Cookie`).
    pub extra_headers: &'r [(&'r str, &'r str)],
}

/// Writes `HTTP/1.1 101 Switching Protocols` with Upgrade, Connection, the accept value for `key`
/// and the choices in `accept`; returns bytes written.
pub fn write_accept_response(
    key: &str,
    accept: &Accept<'_>,
    out: &mut [u8],
) -> Result<usize, WriteError> {
    todo!()
}

/// Writes the error response for `error` (400/403/405 with `Allow: GET`/426 with
/// `Sec-WebSocket-Version: 13`/431) with a short text body and `Connection: close`.
pub fn write_error_response(error: HandshakeError, out: &mut [u8]) -> Result<usize, BufferTooSmall> {
    todo!()
}

//! The server's responses: the 101 and the error responses, written into caller buffers.
//!
//! Nothing from the request is copied into a response except through the accept key (base64 of a
//! hash) and values the application passes, which are checked for CR, LF and control bytes.

use super::head::{is_header_value, is_token};
use super::write::Out;
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

impl From<BufferTooSmall> for WriteError {
    fn from(e: BufferTooSmall) -> Self {
        Self::BufferTooSmall(e)
    }
}

impl core::fmt::Display for WriteError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::BufferTooSmall(e) => write!(f, "buffer too small: {} bytes needed", e.needed),
            Self::InvalidHeaderText => f.write_str("invalid header name or value"),
        }
    }
}

impl core::error::Error for WriteError {}

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

/// Whether every extra header has a token name and a writable value.
pub(crate) fn valid_extra(headers: &[(&str, &str)]) -> bool {
    headers
        .iter()
        .all(|(name, value)| is_token(name) && is_header_value(value))
}

/// Writes `HTTP/1.1 101 Switching Protocols` with Upgrade, Connection, the accept value for `key`
/// and the choices in `accept`; returns bytes written.
///
/// The subprotocol must be a token, the extensions and extra header values visible ASCII (with
/// spaces and tabs), extra header names tokens, else [`WriteError::InvalidHeaderText`]. When `out`
/// is too small, `BufferTooSmall::needed` is the total length (and `out` holds a partial head).
///
/// ```
/// use ws_core::handshake::{write_accept_response, Accept};
///
/// let mut out = [0u8; 256];
/// let accept = Accept { subprotocol: Some("chat"), ..Accept::default() };
/// let len = write_accept_response("dGhlIHNhbXBsZSBub25jZQ==", &accept, &mut out).unwrap();
/// assert_eq!(
///     &out[..len],
///     b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
///       Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: chat\r\n\r\n"
/// );
/// ```
pub fn write_accept_response(
    key: &str,
    accept: &Accept<'_>,
    out: &mut [u8],
) -> Result<usize, WriteError> {
    let valid = accept.subprotocol.is_none_or(is_token)
        && accept
            .extensions
            .is_none_or(|e| !e.is_empty() && is_header_value(e))
        && valid_extra(accept.extra_headers);
    if !valid {
        return Err(WriteError::InvalidHeaderText);
    }
    let mut w = Out::new(out);
    w.put(b"HTTP/1.1 101 Switching Protocols\r\n");
    w.header("Upgrade", "websocket");
    w.header("Connection", "Upgrade");
    w.header(
        "Sec-WebSocket-Accept",
        super::accept_key(key.as_bytes()).as_str(),
    );
    if let Some(protocol) = accept.subprotocol {
        w.header("Sec-WebSocket-Protocol", protocol);
    }
    if let Some(extensions) = accept.extensions {
        w.header("Sec-WebSocket-Extensions", extensions);
    }
    for (name, value) in accept.extra_headers {
        w.header(name, value);
    }
    w.put(b"\r\n");
    Ok(w.finish()?)
}

/// The status line, extra header and body text for an error.
fn error_parts(
    error: HandshakeError,
) -> (
    &'static str,
    Option<(&'static str, &'static str)>,
    &'static str,
) {
    use HandshakeError as E;
    let line = match error.status() {
        403 => "403 Forbidden",
        405 => "405 Method Not Allowed",
        426 => "426 Upgrade Required",
        431 => "431 Request Header Fields Too Large",
        _ => "400 Bad Request",
    };
    let extra = match error.status() {
        405 => Some(("Allow", "GET")),
        426 => Some(("Sec-WebSocket-Version", "13")),
        _ => None,
    };
    let body = match error {
        E::Malformed => "Malformed request.\n",
        E::InvalidHeaderValue => "Invalid header value.\n",
        E::HeadTooLarge => "Request head too large.\n",
        E::TooManyHeaders => "Too many headers.\n",
        E::MethodNotAllowed => "Only GET can upgrade to WebSocket.\n",
        E::UnsupportedHttpVersion => "HTTP/1.1 or later is required.\n",
        E::MissingHost => "Missing Host header.\n",
        E::MissingUpgrade => "Missing Upgrade: websocket.\n",
        E::MissingConnectionUpgrade => "Missing Connection: Upgrade.\n",
        E::MissingKey => "Missing Sec-WebSocket-Key.\n",
        E::InvalidKey => "Invalid Sec-WebSocket-Key.\n",
        E::DuplicateKey => "Duplicate Sec-WebSocket-Key.\n",
        E::UnsupportedVersion => "Only Sec-WebSocket-Version 13 is supported.\n",
        E::Forbidden => "Forbidden.\n",
        E::NotSwitchingProtocols(_)
        | E::AcceptMismatch
        | E::UnexpectedSubprotocol
        | E::UnexpectedExtension => "Bad handshake.\n",
    };
    (line, extra, body)
}

/// Writes the error response for `error` (400/403/405 with `Allow: GET`/426 with
/// `Sec-WebSocket-Version: 13`/431) with a short text body and `Connection: close`; returns
/// bytes written. The text is fixed per error: no request bytes are reflected.
pub fn write_error_response(
    error: HandshakeError,
    out: &mut [u8],
) -> Result<usize, BufferTooSmall> {
    let (line, extra, body) = error_parts(error);
    let mut w = Out::new(out);
    w.put(b"HTTP/1.1 ");
    w.put(line.as_bytes());
    w.put(b"\r\n");
    if let Some((name, value)) = extra {
        w.header(name, value);
    }
    w.put(b"Content-Type: text/plain; charset=utf-8\r\nContent-Length: ");
    w.decimal(body.len());
    w.put(b"\r\nConnection: close\r\n\r\n");
    w.put(body.as_bytes());
    w.finish()
}

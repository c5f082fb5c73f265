//! Error types. Each protocol error knows its close code, each handshake error its HTTP status.

use crate::close::CloseCode;

/// An output buffer was too small; `needed` is the total room the operation needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BufferTooSmall {
    /// Bytes the operation needs in the output buffer.
    pub needed: usize,
}

/// The peer violated RFC 6455; the connection is failed with [`ProtocolError::close_code`].
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProtocolError {
    /// RSV1-3 set without a negotiated extension that defines them (§5.2).
    ReservedBitsSet,
    /// Opcode 3-7 or 0xB-0xF (§5.2).
    ReservedOpCode,
    /// Control frame with a payload longer than 125 bytes (§5.5).
    ControlFrameTooLong,
    /// Control frame with FIN = 0 (§5.5).
    FragmentedControlFrame,
    /// A client sent an unmasked frame (§5.1).
    UnmaskedFrameFromClient,
    /// A server sent a masked frame (§5.1).
    MaskedFrameFromServer,
    /// A length not in its minimal form (§5.2).
    NonMinimalLength,
    /// A 64-bit length with the most significant bit set (§5.2).
    LengthMsbSet,
    /// Continuation frame without a message in progress (§5.4).
    UnexpectedContinuation,
    /// New text/binary frame while a fragmented message is in progress (§5.4).
    ExpectedContinuation,
    /// More fragments in one message than [`crate::Limits::max_fragments`].
    TooManyFragments,
    /// A frame payload larger than [`crate::Limits::max_frame_payload`] (1009).
    FrameTooLarge,
    /// A message larger than [`crate::Limits::max_message_size`] (1009).
    MessageTooLarge,
    /// Text message or close reason that is not valid UTF-8 (§8.1, 1007).
    InvalidUtf8,
    /// Close frame with a 1-byte payload (§5.5.1).
    InvalidClosePayload,
    /// Close code not allowed on the wire (§7.4).
    InvalidCloseCode,
}

impl ProtocolError {
    /// The close code sent to the peer for this violation.
    pub const fn close_code(self) -> CloseCode {
        match self {
            Self::InvalidUtf8 => CloseCode::INVALID_PAYLOAD,
            Self::FrameTooLarge | Self::MessageTooLarge | Self::TooManyFragments => {
                CloseCode::TOO_BIG
            }
            _ => CloseCode::PROTOCOL_ERROR,
        }
    }
}

impl core::fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{:?} (close {})", self, self.close_code().0)
    }
}

impl core::error::Error for ProtocolError {}

/// Why sending failed (an API-use condition, never caused by peer data).
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SendError {
    /// The output buffer is too small.
    BufferTooSmall(BufferTooSmall),
    /// A close frame was already sent or the connection failed: no more data may be sent.
    Closing,
    /// Control frame payload (ping/pong/close reason) longer than 125 bytes.
    ControlTooLong,
    /// A close code that may not be sent (§7.4.1).
    InvalidCloseCode,
    /// A continuation was sent without a started message, or a new message while one is open.
    FragmentOrder,
    /// A compressed message was sent without permessage-deflate active
    /// ([`crate::Connection::set_deflate`]).
    ExtensionNotActive,
}

impl From<BufferTooSmall> for SendError {
    fn from(e: BufferTooSmall) -> Self {
        Self::BufferTooSmall(e)
    }
}

impl core::fmt::Display for SendError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::BufferTooSmall(e) => e.fmt(f),
            Self::Closing => f.write_str("the connection is closing: no more data may be sent"),
            Self::ControlTooLong => f.write_str("control frame payload longer than 125 bytes"),
            Self::InvalidCloseCode => f.write_str("close code not allowed on the wire"),
            Self::FragmentOrder => f.write_str("data frame out of fragmentation order"),
            Self::ExtensionNotActive => f.write_str("permessage-deflate is not active"),
        }
    }
}

impl core::error::Error for SendError {}

impl core::fmt::Display for BufferTooSmall {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "output buffer too small: {} bytes needed", self.needed)
    }
}

impl core::error::Error for BufferTooSmall {}

/// A failed opening handshake, with the HTTP status to answer ([`HandshakeError::status`]).
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HandshakeError {
    /// The start line or a header line is not valid HTTP/1.1 (lines must end in CR LF), or a
    /// request has more than one Host header (400).
    Malformed,
    /// A header value holds a control or non-ASCII byte (400).
    InvalidHeaderValue,
    /// The head is larger than [`crate::limits::HeadLimits::max_head_bytes`] (431).
    HeadTooLarge,
    /// More headers than allowed (431).
    TooManyHeaders,
    /// Method is not GET (405, with `Allow: GET`).
    MethodNotAllowed,
    /// HTTP version below 1.1 (400).
    UnsupportedHttpVersion,
    /// Host header missing or empty (400).
    MissingHost,
    /// No `websocket` token in `Upgrade` (400).
    MissingUpgrade,
    /// No `Upgrade` token in `Connection` (400).
    MissingConnectionUpgrade,
    /// `Sec-WebSocket-Key` missing (400).
    MissingKey,
    /// `Sec-WebSocket-Key` is not base64 of 16 bytes (400).
    InvalidKey,
    /// `Sec-WebSocket-Key` appears more than once (400).
    DuplicateKey,
    /// `Sec-WebSocket-Version` is not 13 (426 with `Sec-WebSocket-Version: 13`).
    UnsupportedVersion,
    /// The application refused the request, e.g. a foreign Origin (403).
    Forbidden,
    /// Client side: the response status is not 101.
    NotSwitchingProtocols(u16),
    /// Client side: `Sec-WebSocket-Accept` missing or wrong.
    AcceptMismatch,
    /// Client side: the server chose a subprotocol we did not offer.
    UnexpectedSubprotocol,
    /// Client side: the server chose an extension we did not offer, or its
    /// `Sec-WebSocket-Extensions` answer is not the extension list grammar.
    UnexpectedExtension,
}

impl HandshakeError {
    /// The HTTP status a server answers with (client-side errors map to 400 and are never sent).
    pub const fn status(self) -> u16 {
        match self {
            Self::HeadTooLarge | Self::TooManyHeaders => 431,
            Self::MethodNotAllowed => 405,
            Self::UnsupportedVersion => 426,
            Self::Forbidden => 403,
            _ => 400,
        }
    }
}

impl core::fmt::Display for HandshakeError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{:?} (HTTP {})", self, self.status())
    }
}

impl core::error::Error for HandshakeError {}

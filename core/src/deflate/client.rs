//! The client side of the negotiation: the offer and the check of the server's answer
//! (RFC 7692 §5, §7.1).

use super::parse::{ClientBits, Elements, ParamError};
use super::write::Writer;
use super::{PerMessageDeflate, EXTENSION_NAME};
use crate::error::{BufferTooSmall, HandshakeError};

/// What the client offers. Window sizes are log2 values in 8..=15.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ClientOffer {
    /// Ask the server to compress with at most this window (`server_max_window_bits`).
    pub server_max_window_bits: Option<u8>,
    /// Offer `client_max_window_bits`: `Some(15)` sends it bare (the server may choose any
    /// window for us), `Some(n)` promises at most `n`, `None` omits it (we compress with 15).
    pub client_max_window_bits: Option<u8>,
    /// Ask the server to reset its compressor after each message.
    pub server_no_context_takeover: bool,
    /// Announce that we reset our compressor after each message.
    pub client_no_context_takeover: bool,
}

impl ClientOffer {
    /// What browsers send: `permessage-deflate; client_max_window_bits`.
    pub const DEFAULT: Self = Self {
        server_max_window_bits: None,
        client_max_window_bits: Some(15),
        server_no_context_takeover: false,
        client_no_context_takeover: false,
    };

    /// Writes the `Sec-WebSocket-Extensions` offer into `out` and returns it
    /// ([`super::MAX_HEADER_VALUE_LEN`] bytes always suffice).
    pub fn write<'b>(&self, out: &'b mut [u8]) -> Result<&'b str, BufferTooSmall> {
        let mut w = Writer::new(out);
        w.text(EXTENSION_NAME);
        if self.server_no_context_takeover {
            w.param("server_no_context_takeover", None);
        }
        if self.client_no_context_takeover {
            w.param("client_no_context_takeover", None);
        }
        if let Some(bits) = self.server_max_window_bits {
            w.param("server_max_window_bits", Some(bits));
        }
        match self.client_max_window_bits {
            None => {}
            Some(bits) if bits >= 15 => {
                w.param("client_max_window_bits", None);
            }
            Some(bits) => {
                w.param("client_max_window_bits", Some(bits));
            }
        }
        w.finish()
    }

    /// Checks the server's `Sec-WebSocket-Extensions` value against this offer and returns the
    /// parameters in force. Anything we did not allow fails the handshake (RFC 7692 §5.1, §7.1).
    pub fn accept(&self, response: &str) -> Result<PerMessageDeflate, AnswerError> {
        let mut elements = Elements::new(response);
        let element = elements.next().ok_or(AnswerError::Malformed)?;
        if elements.next().is_some() {
            return Err(AnswerError::NotOffered);
        }
        if !element.is_deflate {
            return Err(match element.params {
                Err(ParamError::Malformed) => AnswerError::Malformed,
                _ => AnswerError::NotOffered,
            });
        }
        let params = element.params.map_err(|e| match e {
            ParamError::Malformed => AnswerError::Malformed,
            ParamError::Unknown => AnswerError::UnknownParameter,
            ParamError::Duplicate => AnswerError::DuplicateParameter,
            ParamError::BadValue => AnswerError::InvalidValue,
        })?;
        if self.server_no_context_takeover && !params.server_no_context_takeover {
            return Err(AnswerError::MissingParameter);
        }
        let server_max_window_bits =
            match (self.server_max_window_bits, params.server_max_window_bits) {
                (Some(_), None) => return Err(AnswerError::MissingParameter),
                (Some(asked), Some(got)) if got > asked => return Err(AnswerError::NotAllowed),
                (_, got) => got.unwrap_or(15),
            };
        let client_max_window_bits =
            match (self.client_max_window_bits, params.client_max_window_bits) {
                (_, ClientBits::Bare) => return Err(AnswerError::InvalidValue),
                (None, ClientBits::Value(_)) => return Err(AnswerError::NotAllowed),
                (Some(ours), ClientBits::Value(got)) if got > ours => {
                    return Err(AnswerError::NotAllowed)
                }
                (_, ClientBits::Value(got)) => got,
                (ours, ClientBits::Absent) => ours.map_or(15, |b| b.clamp(8, 15)),
            };
        Ok(PerMessageDeflate {
            server_no_context_takeover: params.server_no_context_takeover,
            client_no_context_takeover: params.client_no_context_takeover
                || self.client_no_context_takeover,
            server_max_window_bits,
            client_max_window_bits,
        })
    }
}

impl Default for ClientOffer {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// Why the server's permessage-deflate answer fails the handshake.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AnswerError {
    /// Not the extension list grammar, or empty.
    Malformed,
    /// An extension other than permessage-deflate, or more than one.
    NotOffered,
    /// A parameter RFC 7692 does not define.
    UnknownParameter,
    /// A parameter given twice.
    DuplicateParameter,
    /// A window size outside 8..=15, a value where none belongs, or none where one is required.
    InvalidValue,
    /// A parameter we asked for is absent (`server_no_context_takeover`, `server_max_window_bits`).
    MissingParameter,
    /// A value we did not allow: a larger window than offered, or `client_max_window_bits`
    /// without our offer.
    NotAllowed,
}

impl core::fmt::Display for AnswerError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "permessage-deflate answer rejected: {self:?}")
    }
}

impl core::error::Error for AnswerError {}

impl From<AnswerError> for HandshakeError {
    fn from(_: AnswerError) -> Self {
        HandshakeError::UnexpectedExtension
    }
}

//! The error type of this crate.

use std::fmt;
use std::io;

/// Why an operation failed.
#[non_exhaustive]
#[derive(Debug)]
pub enum Error {
    /// The transport failed.
    Io(io::Error),
    /// The connection is closed or closing: nothing more can be sent.
    Closed,
    /// The outbound queue is over its cap: the connection is being closed with 1008.
    Backpressure,
    /// The opening handshake failed (ours or the peer's fault, see the variant).
    Handshake(ws_core::HandshakeError),
    /// The opening handshake did not complete in time.
    Timeout,
    /// The server's certificate was refused (`wss://`): expired, not valid for the host, not
    /// issued by a trusted root, not the pinned one... (rustls's reason, with its context).
    #[cfg(feature = "tls")]
    Certificate(crate::tls::rustls::CertificateError),
    /// The TLS handshake failed for another reason (no common version or cipher, an alert from
    /// the peer, a malformed record).
    #[cfg(feature = "tls")]
    Tls(crate::tls::rustls::Error),
    /// A URL that is not `ws://` or `wss://host[:port][/path]`.
    InvalidUrl(&'static str),
    /// Bad arguments to a send call (e.g. a ping or close reason longer than 125 bytes).
    InvalidInput(ws_core::SendError),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io(e) => write!(f, "io: {e}"),
            Self::Closed => f.write_str("connection closed"),
            Self::Backpressure => f.write_str("outbound queue over its cap; connection closed"),
            Self::Handshake(e) => write!(f, "handshake: {e}"),
            Self::Timeout => f.write_str("handshake timed out"),
            #[cfg(feature = "tls")]
            Self::Certificate(e) => write!(f, "server certificate refused: {e}"),
            #[cfg(feature = "tls")]
            Self::Tls(e) => write!(f, "tls: {e}"),
            Self::InvalidUrl(why) => write!(f, "invalid url: {why}"),
            Self::InvalidInput(e) => write!(f, "invalid input: {e:?}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Io(e) => Some(e),
            Self::Handshake(e) => Some(e),
            #[cfg(feature = "tls")]
            Self::Tls(e) => Some(e),
            _ => None,
        }
    }
}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Self {
        Self::Io(e)
    }
}

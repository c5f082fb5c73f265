//! `Sec-WebSocket-Accept` = base64(SHA-1(key + GUID)) (RFC 6455 §4.2.2).

use super::primitives;

/// The GUID appended to the key (RFC 6455 §1.3).
pub const GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// A computed `Sec-WebSocket-Accept` value (28 base64 characters).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AcceptKey([u8; 28]);

impl AcceptKey {
    /// The value as text.
    pub fn as_str(&self) -> &str {
        // Always base64 text (ASCII); the fallback is unreachable.
        core::str::from_utf8(&self.0).unwrap_or("")
    }
}

/// The accept value for a `Sec-WebSocket-Key` value (the 24 base64 characters, as sent).
///
/// ```
/// // The example of RFC 6455 §1.3.
/// let accept = ws_core::handshake::accept_key(b"dGhlIHNhbXBsZSBub25jZQ==");
/// assert_eq!(accept.as_str(), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
/// ```
pub fn accept_key(key: &[u8]) -> AcceptKey {
    let digest = primitives::sha1(&[key, GUID.as_bytes()]);
    let mut out = [0u8; 28];
    // 20 bytes encode to exactly 28 base64 characters, so this cannot fail.
    let _ = primitives::base64_encode(&digest, &mut out);
    AcceptKey(out)
}

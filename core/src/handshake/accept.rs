//! `Sec-WebSocket-Accept` = base64(SHA-1(key + GUID)) (RFC 6455 §4.2.2).

/// The GUID appended to the key (RFC 6455 §1.3).
pub const GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// A computed `Sec-WebSocket-Accept` value (28 base64 characters).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AcceptKey([u8; 28]);

impl AcceptKey {
    /// The value as text.
    pub fn as_str(&self) -> &str {
        todo!()
    }
}

/// The accept value for a `Sec-WebSocket-Key` value (the 24 base64 characters, as sent).
pub fn accept_key(key: &[u8]) -> AcceptKey {
    todo!()
}

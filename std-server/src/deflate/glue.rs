//! The connection driver's use of a [`Session`]: inflate incoming chunks with the message limit
//! and the UTF-8 rule applied to the inflated bytes, compress outgoing messages.

use super::{InflateError, Session};
use ws_core::{CloseCode, MessageKind};

/// Why a compressed message fails the connection: the close code and a reason for the logs.
pub(crate) type Failure = (CloseCode, &'static str);

/// Inflates one chunk of a compressed message (ws-core reported RSV1 on its first frame) and
/// appends it to `assembly`. `limit` is the message size limit, applied to the inflated size
/// (RFC 7692 §8 bombs: 1009). At the message's end, text must be valid UTF-8 (RFC 6455 §8.1, 1007);
/// ws-core could not check the compressed bytes.
pub(crate) fn inflate_chunk(
    session: Option<&mut Session>,
    kind: MessageKind,
    payload: &[u8],
    end: bool,
    assembly: &mut Vec<u8>,
    limit: u64,
) -> Result<(), Failure> {
    let Some(session) = session else {
        return Err((
            CloseCode::PROTOCOL_ERROR,
            "compressed message without the extension",
        ));
    };
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    session
        .inflate(payload, end, assembly, limit)
        .map_err(|e| match e {
            InflateError::TooBig => (e.close_code(), "inflated message too big"),
            InflateError::Corrupt => (e.close_code(), "invalid deflate data"),
        })?;
    if end && kind == MessageKind::Text && std::str::from_utf8(assembly).is_err() {
        return Err((
            CloseCode::INVALID_PAYLOAD,
            "invalid UTF-8 in an inflated text message",
        ));
    }
    Ok(())
}

/// The compressed payload for an outgoing message, or `None` to send it as is (no extension,
/// below the threshold, not worth it, or a compressor failure, which is logged).
pub(crate) fn compress(session: Option<&mut Session>, payload: &[u8]) -> Option<Vec<u8>> {
    let session = session?;
    let mut out = Vec::new();
    match session.compress(payload, &mut out) {
        Ok(true) => Some(out),
        Ok(false) => None,
        Err(e) => {
            log::error!("permessage-deflate: {e}; sending uncompressed");
            None
        }
    }
}

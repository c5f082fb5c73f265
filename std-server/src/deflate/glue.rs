//! The connection driver's use of a [`Session`] for whole outgoing messages.

use super::Session;

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

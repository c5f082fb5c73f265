//! The SHA-1 and base64 the handshake uses, and the one place that picks their implementation.
//!
//! By default they are sha1_smol and base64ct, the crates the project was specified with. The
//! `compact-hash` feature swaps in the crate's own, written for size (handshake/sha1.rs and
//! handshake/base64.rs): on thumbv7em (opt-level s, fat LTO) they take ws-core's flash from
//! 12 440 to 8 712 B and the handshake's peak stack from 920 to 664 B (scripts/embedded prints
//! both). Either way the compact ones are tested against the crates: their unit tests run in every
//! `cargo test`.

/// SHA-1 of the concatenation of `parts` (the accept key hashes key + GUID, RFC 6455 §4.2.2).
pub(super) fn sha1(parts: &[&[u8]]) -> [u8; 20] {
    #[cfg(not(feature = "compact-hash"))]
    {
        let mut hash = sha1_smol::Sha1::new();
        for part in parts {
            hash.update(part);
        }
        hash.digest().bytes()
    }
    #[cfg(feature = "compact-hash")]
    {
        let mut hash = super::sha1::Sha1::new();
        for part in parts {
            hash.update(part);
        }
        hash.digest()
    }
}

/// Writes the padded base64 (RFC 4648 §4) of `input` at the start of `out` and returns it as text;
/// `None` when `out` is shorter than `4 * ceil(len / 3)`.
pub(super) fn base64_encode<'o>(input: &[u8], out: &'o mut [u8]) -> Option<&'o str> {
    #[cfg(not(feature = "compact-hash"))]
    {
        use base64ct::{Base64, Encoding};
        Base64::encode(input, out).ok()
    }
    #[cfg(feature = "compact-hash")]
    {
        let out = out.get_mut(..input.len().div_ceil(3) * 4)?;
        super::base64::encode(input, out);
        core::str::from_utf8(out).ok()
    }
}

/// Whether `key` is the (strict, padded) base64 of exactly 16 bytes (RFC 6455 §4.2.1 item 5).
pub(super) fn is_base64_of_16_bytes(key: &str) -> bool {
    #[cfg(not(feature = "compact-hash"))]
    {
        use base64ct::{Base64, Encoding};
        let mut nonce = [0u8; 16];
        matches!(Base64::decode(key, &mut nonce), Ok(decoded) if decoded.len() == 16)
    }
    #[cfg(feature = "compact-hash")]
    {
        super::base64::is_16_bytes(key)
    }
}

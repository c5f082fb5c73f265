//! Base64 (RFC 4648 §4, padded) for the handshake's two fixed-size values: encoding the 16-byte
//! nonce and the 20-byte SHA-1 digest, and checking that a `Sec-WebSocket-Key` is the encoding of
//! 16 bytes. Written for size (the values are public: no constant time needed); it replaced
//! base64ct's decoder and encoder, 1.3 KB of thumbv7em code, with ~0.2 KB.

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// The 6-bit value of a base64 character.
fn value(c: u8) -> Option<u8> {
    match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    }
}

/// Writes the padded encoding of `input` into `out` (which must hold `4 * ceil(len / 3)` bytes;
/// a shorter `out` receives a prefix).
pub(crate) fn encode(input: &[u8], out: &mut [u8]) {
    let mut out = out.iter_mut();
    for chunk in input.chunks(3) {
        let byte = |i: usize| u32::from(chunk.get(i).copied().unwrap_or(0));
        let bits = byte(0) << 16 | byte(1) << 8 | byte(2);
        for i in 0..4 {
            let c = if i <= chunk.len() {
                let index = (bits >> (18 - 6 * i)) & 63;
                ALPHABET.get(index as usize).copied().unwrap_or(b'=')
            } else {
                b'='
            };
            if let Some(slot) = out.next() {
                *slot = c;
            }
        }
    }
}

/// Whether `key` is the padded base64 encoding of exactly 16 bytes (RFC 6455 §4.2.1 item 5):
/// 22 characters, the last carrying 2 bits (its low 4 bits zero: the canonical form), then `==`.
pub(crate) fn is_16_bytes(key: &str) -> bool {
    let bytes = key.as_bytes();
    let (Some(data), Some(b"==")) = (bytes.get(..22), bytes.get(22..)) else {
        return false;
    };
    let mut last = 0;
    for &c in data {
        match value(c) {
            Some(v) => last = v,
            None => return false,
        }
    }
    last & 0x0f == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64ct::{Base64, Encoding};
    use proptest::prelude::*;

    fn encoded(input: &[u8]) -> ([u8; 8], usize) {
        let mut out = [0u8; 8];
        encode(input, &mut out);
        (out, input.len().div_ceil(3) * 4)
    }

    #[test]
    fn rfc_4648_section_10_vectors() {
        for (input, output) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            let (out, len) = encoded(input.as_bytes());
            assert_eq!(&out[..len], output.as_bytes());
        }
    }

    #[test]
    fn keys_of_16_bytes() {
        assert!(is_16_bytes("dGhlIHNhbXBsZSBub25jZQ=="));
        assert!(is_16_bytes("AAECAwQFBgcICQoLDA0ODw=="));
        assert!(!is_16_bytes("dGhlIHNhbXBsZSBub25jZR==")); // non-zero trailing bits
        assert!(!is_16_bytes("dGhlIHNhbXBsZSBub25jZQ")); // unpadded
        assert!(!is_16_bytes("dGhlIHNhbXBsZSBub25jZQ=")); // one pad
        assert!(!is_16_bytes("AAECAwQFBgcICQoLDA0ODxA=")); // 17 bytes
        assert!(!is_16_bytes("dGhlIHNhbXBsZSBub25jZ!==")); // not the alphabet
        assert!(!is_16_bytes("dGhlIHNhbXBsZSBub25jZQ==="));
        assert!(!is_16_bytes(""));
    }

    /// Whether base64ct (strict, padded; the reference and the default) decodes `key` to 16 bytes.
    fn reference_is_key(key: &str) -> bool {
        let mut out = [0u8; 16];
        matches!(Base64::decode(key, &mut out), Ok(decoded) if decoded.len() == 16)
    }

    #[test]
    fn every_length_equals_base64ct() {
        let bytes: [u8; 64] = core::array::from_fn(|i| (i as u8).wrapping_mul(37).wrapping_add(11));
        for len in 0..=64 {
            let input = &bytes[..len];
            let mut out = [0u8; 88];
            let mut expected = [0u8; 88];
            let expected = Base64::encode(input, &mut expected).expect("88 bytes hold 64 encoded");
            encode(input, &mut out);
            assert_eq!(&out[..expected.len()], expected.as_bytes(), "length {len}");
        }
    }

    proptest! {
        #[test]
        fn encoding_equals_base64ct(input in proptest::collection::vec(any::<u8>(), 0..100)) {
            let mut out = [0u8; 136];
            let mut expected = [0u8; 136];
            let expected = Base64::encode(&input, &mut expected).expect("136 bytes hold 100 encoded");
            encode(&input, &mut out);
            prop_assert_eq!(&out[..expected.len()], expected.as_bytes());
        }

        /// Keys that are canonical encodings of 16 bytes, that have non-zero trailing bits, and
        /// anything of about that length from the alphabet and `=`: accepted exactly when base64ct
        /// decodes them to 16 bytes.
        #[test]
        fn key_validation_equals_base64ct(
            key in prop_oneof![
                "[A-Za-z0-9+/]{21}[AQgw]==",
                "[A-Za-z0-9+/]{22}==",
                "[A-Za-z0-9+/=]{20,26}",
            ],
        ) {
            prop_assert_eq!(is_16_bytes(&key), reference_is_key(&key));
        }

        #[test]
        fn encoded_nonces_are_keys(nonce in any::<[u8; 16]>()) {
            let mut key = [0u8; 24];
            encode(&nonce, &mut key);
            let key = core::str::from_utf8(&key).expect("base64 is ASCII");
            prop_assert!(reference_is_key(key));
            prop_assert!(is_16_bytes(key));
        }
    }
}

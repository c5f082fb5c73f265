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
}

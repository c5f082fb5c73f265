//! The accept key (RFC 6455 §4.2.2) and the key check, through the public API, agree with
//! sha1_smol and base64ct used directly, for any key bytes: with default features this checks the
//! glue (GUID appended, digest encoded, strict decode to 16 bytes); with `compact-hash` it is the
//! crate's own SHA-1 and base64 end to end. Their unit tests (handshake/sha1.rs, base64.rs) compare
//! them with the crates in every build.

use base64ct::{Base64, Encoding};
use proptest::prelude::*;
use ws_core::handshake::{accept_key, GUID};

fn reference(key: &[u8]) -> String {
    let mut sha1 = sha1_smol::Sha1::new();
    sha1.update(key);
    sha1.update(GUID.as_bytes());
    let mut out = [0u8; 28];
    Base64::encode(&sha1.digest().bytes(), &mut out)
        .expect("28 bytes hold base64 of 20")
        .to_owned()
}

#[test]
fn rfc_6455_section_1_3_example() {
    assert_eq!(
        accept_key(b"dGhlIHNhbXBsZSBub25jZQ==").as_str(),
        "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
    );
}

#[test]
fn every_length_around_the_block_boundaries() {
    // key + GUID (36 bytes) crosses the 55/56/64-byte padding cases at these key lengths.
    for len in 0..=200 {
        let key: Vec<u8> = (0..len).map(|i| (i * 7 + 3) as u8).collect();
        assert_eq!(
            accept_key(&key).as_str(),
            reference(&key),
            "key length {len}"
        );
    }
}

proptest! {
    #[test]
    fn equals_the_reference(key in proptest::collection::vec(any::<u8>(), 0..300)) {
        let accept = accept_key(&key);
        prop_assert_eq!(accept.as_str(), reference(&key));
    }
}

/// Whether base64ct (strict, padded) decodes `key` to exactly 16 bytes.
fn reference_is_key(key: &str) -> bool {
    let mut out = [0u8; 16];
    matches!(Base64::decode(key, &mut out), Ok(decoded) if decoded.len() == 16)
}

/// A request whose key is `key`.
fn upgrade_with_key(key: &str) -> Result<(), ws_core::HandshakeError> {
    use ws_core::handshake::{Header, RequestParser, Status};
    let head = format!(
        "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    );
    let mut parser = RequestParser::new(ws_core::limits::HeadLimits::DEFAULT);
    let mut headers = [Header::EMPTY; 16];
    match parser.feed(head.as_bytes(), &mut headers) {
        Ok(Status::Complete((request, _))) => request.upgrade().map(|_| ()),
        other => panic!("head did not parse: {other:?}"),
    }
}

proptest! {
    /// Keys that are canonical encodings of 16 bytes, that have non-zero trailing bits, and
    /// anything of about that length from the alphabet and `=`: accepted exactly when base64ct
    /// decodes them to 16 bytes.
    #[test]
    fn key_validation_equals_the_reference(
        key in prop_oneof![
            "[A-Za-z0-9+/]{21}[AQgw]==",
            "[A-Za-z0-9+/]{22}==",
            "[A-Za-z0-9+/=]{20,26}",
        ],
    ) {
        let expected = if reference_is_key(&key) {
            Ok(())
        } else {
            Err(ws_core::HandshakeError::InvalidKey)
        };
        prop_assert_eq!(upgrade_with_key(&key), expected);
    }

    #[test]
    fn encoded_nonces_are_valid_keys(nonce in any::<[u8; 16]>()) {
        let mut key = [0u8; 24];
        let key = Base64::encode(&nonce, &mut key).expect("24 bytes hold base64 of 16");
        prop_assert!(reference_is_key(key));
        prop_assert_eq!(upgrade_with_key(key), Ok(()));
    }
}

//! The accept key (RFC 6455 §4.2.2) computed by the crate's size-optimised SHA-1 and base64 equals
//! the one computed with the reference crates (sha1_smol, base64ct), for any key bytes.

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

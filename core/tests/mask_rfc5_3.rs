//! RFC 6455 §5.3: the word-at-a-time mask equals the plain byte loop, at any offset and length.

use proptest::prelude::*;
use ws_core::frame::apply_mask;

/// The plain byte loop that [`apply_mask`] must match.
fn apply_mask_bytewise(buf: &mut [u8], key: [u8; 4], offset: usize) {
    for (byte, k) in buf.iter_mut().zip(key.iter().cycle().skip(offset % 4)) {
        *byte ^= k;
    }
}

#[test]
fn rfc5_3_masking_twice_restores() {
    let original: Vec<u8> = (0..=255).collect();
    let mut buf = original.clone();
    apply_mask(&mut buf, [1, 2, 3, 4], 0);
    assert_ne!(buf, original);
    apply_mask(&mut buf, [1, 2, 3, 4], 0);
    assert_eq!(buf, original);
}

proptest! {
    #[test]
    fn rfc5_3_matches_byte_loop(data in proptest::collection::vec(any::<u8>(), 0..300),
                                key in any::<[u8; 4]>(), offset in 0usize..16) {
        let mut fast = data.clone();
        let mut slow = data.clone();
        apply_mask(&mut fast, key, offset);
        apply_mask_bytewise(&mut slow, key, offset);
        prop_assert_eq!(fast, slow);
    }

    #[test]
    fn rfc5_3_chunked_equals_whole(data in proptest::collection::vec(any::<u8>(), 0..300),
                                   key in any::<[u8; 4]>(), cuts in proptest::collection::vec(0usize..300, 0..6)) {
        let mut whole = data.clone();
        apply_mask(&mut whole, key, 0);
        let mut chunked = data.clone();
        let mut points: Vec<usize> = cuts.into_iter().map(|c| c.min(data.len())).collect();
        points.push(0);
        points.push(data.len());
        points.sort();
        for w in points.windows(2) {
            apply_mask(&mut chunked[w[0]..w[1]], key, w[0]);
        }
        prop_assert_eq!(whole, chunked);
    }
}

//! RFC 6455 §8.1 property: the incremental validator agrees with `std::str::from_utf8` however
//! the text is chunked, and fails in the chunk holding the first byte that makes it invalid.

use proptest::prelude::*;
use ws_core::utf8::Utf8Validator;

/// Mostly valid text with a few arbitrary bytes spliced in, long enough for the SIMD paths.
fn text() -> impl Strategy<Value = Vec<u8>> {
    (
        "[a-zA-Z0-9 é€😀κόσμε\u{10FFFF}\u{800}\u{FFFF}]{0,120}",
        proptest::collection::vec((any::<usize>(), any::<u8>()), 0..3),
    )
        .prop_map(|(s, edits)| {
            let mut bytes = s.into_bytes();
            for (at, byte) in edits {
                if !bytes.is_empty() {
                    let at = at % bytes.len();
                    bytes[at] = byte;
                }
            }
            bytes
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn agrees_with_std_and_fails_fast(bytes in text(), cuts in proptest::collection::vec(any::<usize>(), 0..6)) {
        let mut points: Vec<usize> = cuts.iter().map(|c| if bytes.is_empty() { 0 } else { c % bytes.len() }).collect();
        points.push(0);
        points.push(bytes.len());
        points.sort();
        let mut v = Utf8Validator::new();
        let mut failed_at_end = None; // end offset of the chunk that failed
        for w in points.windows(2) {
            if v.feed(&bytes[w[0]..w[1]]).is_err() {
                failed_at_end = Some(w[1]);
                break;
            }
        }
        match std::str::from_utf8(&bytes) {
            Ok(_) => {
                prop_assert_eq!(failed_at_end, None);
                prop_assert!(v.finish().is_ok());
            }
            Err(e) => match e.error_len() {
                Some(len) => {
                    let end = failed_at_end.expect("invalid text must fail before the end");
                    // Failed only once bytes past the valid prefix arrived, and no later than the
                    // chunk holding the byte that decides (the one after the bad sequence's start,
                    // e.g. the 90 of F4 90, or the bad byte itself).
                    let deciding = (e.valid_up_to() + len).min(bytes.len() - 1);
                    let chunk_end = points.iter().copied().find(|&p| p > deciding).unwrap_or(bytes.len());
                    prop_assert!(end > e.valid_up_to());
                    prop_assert!(end <= chunk_end, "failed at {} but decided by byte {}", end, deciding);
                }
                None => {
                    // Truncated code point at the very end: only `finish` can tell.
                    prop_assert_eq!(failed_at_end, None);
                    prop_assert!(v.finish().is_err());
                }
            },
        }
    }
}

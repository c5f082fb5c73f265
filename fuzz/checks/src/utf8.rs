//! `utf8`: the incremental validator agrees with `core::str::from_utf8` however the input is
//! split, and fails fast.

use ws_core::utf8::Utf8Validator;

/// Feeds `chunks` then finishes: `Err(i)` if chunk `i` failed (`chunks.len()` for `finish`).
fn validate<'a>(chunks: impl IntoIterator<Item = &'a [u8]>) -> Result<(), usize> {
    let mut v = Utf8Validator::new();
    let mut n = 0;
    for chunk in chunks {
        v.feed(chunk).map_err(|_| n)?;
        n += 1;
    }
    v.finish().map_err(|_| n)
}

/// Input: the text. Checks, against `core::str::from_utf8`: the verdict for every split into two
/// chunks (every 1/256th of the input when it is long) and for one byte at a time; that a first
/// chunk ending before the first error passes and one ending a byte past the invalid sequence
/// fails at once; and that `finish` rejects a cut code point and readies the validator for the
/// next message.
pub fn utf8(data: &[u8]) {
    let expected = core::str::from_utf8(data);
    let valid = expected.is_ok();
    assert_eq!(validate([data]).is_ok(), valid, "one chunk");
    assert_eq!(validate(data.chunks(1)).is_ok(), valid, "byte at a time");
    if let Err(e) = expected {
        // A byte at a time, the error must come no later than the byte after the bad sequence.
        let failed_at = validate(data.chunks(1)).expect_err("invalid");
        if let Some(bad) = e.error_len() {
            assert!(
                failed_at <= e.valid_up_to() + bad,
                "late failure at byte {failed_at}: {e}"
            );
        }
        assert!(
            failed_at >= e.valid_up_to(),
            "early failure at byte {failed_at}: {e}"
        );
    }

    let step = data.len() / 256 + 1;
    for cut in (0..=data.len()).step_by(step) {
        let (a, b) = data.split_at(cut);
        let result = validate([a, b]);
        assert_eq!(result.is_ok(), valid, "split at {cut}");
        if let Err(e) = expected {
            if cut <= e.valid_up_to() {
                assert_ne!(
                    result,
                    Err(0),
                    "valid first chunk of {cut} bytes rejected: {e}"
                );
            }
            if e.error_len().is_some_and(|bad| cut > e.valid_up_to() + bad) {
                assert_eq!(
                    result,
                    Err(0),
                    "invalid first chunk of {cut} bytes passed: {e}"
                );
            }
        }
    }

    if valid {
        let mut v = Utf8Validator::new();
        assert_eq!(v.feed(data).and_then(|()| v.finish()), Ok(()));
        // A message ending inside a code point fails at finish, not before.
        assert_eq!(v.feed("ok \u{e9}".as_bytes()[..4].as_ref()), Ok(()));
        assert!(
            v.finish().is_err(),
            "message ending inside a code point accepted"
        );
        let mut v = Utf8Validator::new();
        assert_eq!(v.feed(data).and_then(|()| v.finish()), Ok(()));
        assert_eq!(
            v.feed("\u{e9} ok".as_bytes()).and_then(|()| v.finish()),
            Ok(()),
            "not reset"
        );
    }
}

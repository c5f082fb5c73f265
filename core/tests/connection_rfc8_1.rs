//! RFC 6455 §8.1: text is validated incrementally and fails fast (1007).

mod common;
use common::*;
use ws_core::utf8::Utf8Validator;
use ws_core::{MessageKind, OpCode, ProtocolError, State};

const CLOSE_1007: [u8; 4] = [0x88, 0x02, 0x03, 0xEF];

#[test]
fn rfc8_1_invalid_first_fragment_fails_before_the_message_ends() {
    let mut d = Driver::new(server());
    // The first fragment of an unfinished message holds an invalid byte: 1007 at once.
    let events = d.feed(&client_frame(false, OpCode::Text, b"ok \xFF more"));
    assert_eq!(events, vec![Ev::Failed(ProtocolError::InvalidUtf8)]);
    assert_eq!(d.written, CLOSE_1007);
    assert_eq!(d.conn.state(), State::Closing);
}

#[test]
fn rfc8_1_impossible_prefix_at_chunk_end_fails_at_once() {
    // Autobahn 6.4.x: a fragment ending in a prefix no continuation can repair.
    for prefix in [
        &b"\xF4\x90"[..],
        b"\xED\xA0",
        b"\xE0\x80",
        b"\xF0\x80",
        b"\xC0",
        b"\xF5",
        b"\xCE\xBA\xF4\x90\x80",
    ] {
        let mut d = Driver::new(server());
        let events = d.feed(&client_frame(false, OpCode::Text, prefix));
        assert_eq!(
            events,
            vec![Ev::Failed(ProtocolError::InvalidUtf8)],
            "{prefix:x?}"
        );
    }
}

#[test]
fn rfc8_1_code_point_split_across_fragments_is_valid() {
    let mut d = Driver::new(server());
    // U+1F600 (F0 9F 98 80) split 1/3, then "€" split 2/1 across fragments.
    let bytes = [
        client_frame(false, OpCode::Text, b"a\xF0"),
        client_frame(false, OpCode::Continuation, b"\x9F\x98\x80\xE2\x82"),
        client_frame(true, OpCode::Continuation, b"\xAC"),
    ]
    .concat();
    let events = d.feed(&bytes);
    assert_eq!(
        merge_data(&events),
        vec![Ev::Data(
            MessageKind::Text,
            "a😀€".as_bytes().to_vec(),
            true
        )]
    );
    assert!(d.written.is_empty());
}

#[test]
fn rfc8_1_code_point_split_across_chunks_of_one_frame_is_valid() {
    let text = "κόσμε ünïcödé 😀".repeat(5);
    for size in 1..8 {
        let mut d = Driver::new(server());
        let events = d.feed_chunks(&client_frame(true, OpCode::Text, text.as_bytes()), size);
        assert_eq!(
            merge_data(&events),
            vec![Ev::Data(MessageKind::Text, text.as_bytes().to_vec(), true)]
        );
    }
}

#[test]
fn rfc8_1_truncated_code_point_at_message_end_is_1007() {
    let mut d = Driver::new(server());
    let events = d.feed(&client_frame(true, OpCode::Text, b"abc\xE2\x82"));
    assert_eq!(events, vec![Ev::Failed(ProtocolError::InvalidUtf8)]);
    assert_eq!(d.written, CLOSE_1007);
}

#[test]
fn rfc8_1_binary_is_not_validated() {
    let mut d = Driver::new(server());
    let events = d.feed(&client_frame(true, OpCode::Binary, b"\xFF\xFE"));
    assert_eq!(
        events,
        vec![Ev::Data(MessageKind::Binary, vec![0xFF, 0xFE], true)]
    );
}

#[test]
fn validator_agrees_with_std_on_every_two_and_three_byte_sequence_fed_bytewise() {
    let mut buf = [0u8; 3];
    for a in 0x80..=0xFFu8 {
        for b in 0..=0xFFu8 {
            for c in [0x00u8, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0] {
                buf = [a, b, c];
                let std_ok = std::str::from_utf8(&buf).is_ok();
                let std_prefix_ok = match std::str::from_utf8(&buf) {
                    Ok(_) => true,
                    Err(e) => e.error_len().is_none(),
                };
                let mut v = Utf8Validator::new();
                let fed = buf
                    .iter()
                    .all(|byte| v.feed(std::slice::from_ref(byte)).is_ok());
                assert_eq!(fed, std_prefix_ok, "{buf:x?}");
                assert_eq!(fed && v.finish().is_ok(), std_ok, "{buf:x?}");
            }
        }
    }
    let _ = buf;
}

#[test]
fn rfc8_1_impossible_continuation_in_the_next_fragment_fails_at_once() {
    for (first, second) in [
        (&b"\xF4"[..], &b"\x90"[..]),
        (b"\xED", b"\xA0"),
        (b"\xE0", b"\x80"),
        (b"\xF0", b"\x80"),
        (b"\xF0\x90", b"\xC0"),
        (b"\xE2\x82", b"A"),
    ] {
        let mut d = Driver::new(server());
        let bytes = [
            client_frame(false, OpCode::Text, first),
            client_frame(false, OpCode::Continuation, second),
        ]
        .concat();
        let events = d.feed(&bytes);
        assert_eq!(
            events,
            vec![
                Ev::Data(MessageKind::Text, first.to_vec(), false),
                Ev::Failed(ProtocolError::InvalidUtf8)
            ],
            "{first:x?} {second:x?}"
        );
        assert_eq!(d.written, CLOSE_1007);
    }
}

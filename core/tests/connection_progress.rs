//! RFC 6455 §5.2 framing as seen from outside: `frame_remaining` (payload of the current frame not
//! yet handed out) and `frame_fin`, so a caller can forward a frame as it arrives without parsing
//! headers itself.

mod common;
use common::*;
use ws_core::connection::MIN_OUTPUT;
use ws_core::{CloseCode, Event, MessageKind, State};

/// After one `receive` call: payload bytes it handed out, `frame_remaining`, `frame_fin`.
type Step = (usize, u64, bool);

/// Feeds `wire` in chunks of `chunk` bytes; after every `receive` call records
/// (bytes of payload handed out by it, frame_remaining, frame_fin).
fn progress(wire: &[u8], chunk: usize) -> Vec<Step> {
    let mut c = server();
    let mut out = [0u8; MIN_OUTPUT];
    let mut pending: Vec<u8> = Vec::new();
    let mut seen = Vec::new();
    for piece in wire.chunks(chunk) {
        pending.extend_from_slice(piece);
        loop {
            let r = c.receive(&mut pending, &mut out, 0);
            let handed = match r.event {
                Some(Event::Data { payload, .. }) => payload.len(),
                _ => 0,
            };
            let (consumed, progressed) = (r.consumed, r.consumed > 0 || r.event.is_some());
            if progressed {
                seen.push((handed, c.frame_remaining(), c.frame_fin()));
            }
            pending.drain(..consumed);
            if !progressed {
                break;
            }
        }
    }
    seen
}

#[test]
fn rfc5_2_frame_remaining_counts_payload_not_yet_handed_out() {
    // 82 85 <key> + 5 bytes: one final binary frame.
    let five = client_frame(true, ws_core::OpCode::Binary, b"Hello");
    // 02 83 <key> "abc" + 80 82 <key> "de": a fragmented message.
    let frag = [
        client_frame(false, ws_core::OpCode::Binary, b"abc"),
        client_frame(true, ws_core::OpCode::Continuation, b"de"),
    ]
    .concat();
    assert_eq!(&five[..2], &[0x82, 0x85]);
    assert_eq!(
        (frag[0], frag[1], frag[9], frag[10]),
        (0x02, 0x83, 0x80, 0x82)
    );
    let cases: [(&[u8], usize, &[Step]); 5] = [
        // Whole frame at once: handed out in one chunk, frame boundary after it.
        (&five, 64, &[(5, 0, true)]),
        // Header + 2 payload bytes, then 3.
        (&five, 8, &[(2, 3, true), (3, 0, true)]),
        // One byte at a time: nothing until the header is whole (then all 5 remain), then 1
        // byte per call.
        (
            &five,
            1,
            &[
                (0, 5, true),
                (1, 4, true),
                (1, 3, true),
                (1, 2, true),
                (1, 1, true),
                (1, 0, true),
            ],
        ),
        // A non-final frame then its final continuation.
        (&frag, 64, &[(3, 0, false), (2, 0, true)]),
        (&frag, 7, &[(1, 2, false), (2, 0, false), (2, 0, true)]),
    ];
    for (wire, chunk, want) in cases {
        assert_eq!(progress(wire, chunk), want, "chunk {chunk}: {wire:02x?}");
    }
}

#[test]
fn rfc5_2_frame_remaining_of_a_64_bit_length_frame() {
    // 82 FF <8-byte length 70 000> <key>: the header alone announces 70 000 bytes.
    let mut c = server();
    let mut out = [0u8; MIN_OUTPUT];
    let mut wire = vec![0x82, 0xFF, 0, 0, 0, 0, 0, 1, 0x11, 0x70, 1, 2, 3, 4];
    let r = c.receive(&mut wire, &mut out, 0);
    assert_eq!(r.consumed, 14);
    assert_eq!(c.frame_remaining(), 70_000);
    assert!(c.frame_fin());
    let mut part = vec![0u8; 69_999];
    let r = c.receive(&mut part, &mut out, 0);
    assert!(matches!(
        r.event,
        Some(Event::Data {
            kind: MessageKind::Binary,
            end: false,
            ..
        })
    ));
    assert_eq!(c.frame_remaining(), 1);
    let mut last = [0u8];
    let r = c.receive(&mut last, &mut out, 0);
    assert!(matches!(r.event, Some(Event::Data { end: true, .. })));
    assert_eq!(c.frame_remaining(), 0);
}

/// In Closing, a skipped frame's rest counts too: the caller knows where the next header starts.
#[test]
fn rfc7_1_frame_remaining_while_closing_counts_the_skipped_frame() {
    let mut c = server();
    let mut out = [0u8; MIN_OUTPUT];
    c.send_close(Some(CloseCode::NORMAL), "", 0, &mut out)
        .unwrap();
    assert_eq!(c.state(), State::Closing);
    let frame = client_frame(true, ws_core::OpCode::Binary, &[7; 10]);
    let mut part = frame[..8].to_vec();
    let r = c.receive(&mut part, &mut out, 0);
    assert_eq!((r.consumed, r.event), (8, None));
    assert_eq!(c.frame_remaining(), 8);
    let mut rest = frame[8..].to_vec();
    let r = c.receive(&mut rest, &mut out, 0);
    assert_eq!(r.consumed, 8);
    assert_eq!(c.frame_remaining(), 0);
}

//! RFC 7692 §6 hooks: with permessage-deflate active, RSV1 marks the first frame of a compressed
//! message; anywhere else (or without the extension) it is still 1002 (RFC 6455 §5.2).

mod common;
use common::*;
use ws_core::{MessageKind, OpCode, ProtocolError, SendError};

fn with_rsv1(mut frame: Vec<u8>) -> Vec<u8> {
    frame[0] |= 0x40;
    frame
}

fn deflate_server() -> Driver {
    let mut conn = server();
    conn.set_deflate(true);
    Driver::new(conn)
}

#[test]
fn rfc7692_rsv1_on_first_frame_marks_a_compressed_message() {
    let mut d = deflate_server();
    // Compressed bytes are not UTF-8: the core leaves them to the inflater's caller.
    let bytes = [
        with_rsv1(client_frame(false, OpCode::Text, b"\xF2\x48\xCD")),
        client_frame(true, OpCode::Continuation, b"\xC9\xC9\x07\x00"),
    ]
    .concat();
    let events = d.feed(&bytes[..9]);
    assert_eq!(
        events,
        vec![Ev::Compressed(
            MessageKind::Text,
            b"\xF2\x48\xCD".to_vec(),
            false
        )]
    );
    let events = d.feed(&bytes[9..]);
    assert_eq!(
        events,
        vec![Ev::Compressed(
            MessageKind::Text,
            b"\xC9\xC9\x07\x00".to_vec(),
            true
        )]
    );
    // The next, uncompressed message is validated again.
    assert_eq!(
        d.feed(&client_frame(true, OpCode::Text, b"\xFF")),
        vec![Ev::Failed(ProtocolError::InvalidUtf8)]
    );
}

/// RFC 7692 §6: the `compressed` flag of `Event::Data` is RSV1 of the message's first frame, on
/// every chunk of the message (continuations have RSV1 clear), whatever the input split; a ping
/// between fragments does not change it; the next message starts afresh.
#[test]
fn rfc7692_6_compressed_flag_is_rsv1_of_the_first_frame_on_every_chunk() {
    use ws_core::MessageKind::{Binary, Text};
    let cases: [(&[u8], Vec<Ev>); 4] = [
        // C2 85 <key> "Hello" masked: one compressed binary frame (payload opaque to the core).
        (
            b"\xC2\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58",
            vec![Ev::Compressed(Binary, b"Hello".to_vec(), true)],
        ),
        // 41 81 'a', ping, 80 81 'b': RSV1 on the first frame only, the flag on both chunks.
        (
            b"\x41\x81\x37\xfa\x21\x3d\x56\x89\x80\x37\xfa\x21\x3d\x80\x81\x37\xfa\x21\x3d\x55",
            vec![
                Ev::Compressed(Text, b"a".to_vec(), false),
                Ev::Ping(Vec::new()),
                Ev::Compressed(Text, b"b".to_vec(), true),
            ],
        ),
        // Uncompressed text: flag false.
        (
            b"\x81\x81\x37\xfa\x21\x3d\x56",
            vec![Ev::Data(Text, b"a".to_vec(), true)],
        ),
        // Uncompressed fragmented binary: false on both chunks.
        (
            b"\x02\x81\x37\xfa\x21\x3d\x56\x80\x81\x37\xfa\x21\x3d\x55",
            vec![Ev::Data(Binary, b"ab".to_vec(), true)],
        ),
    ];
    for (wire, want) in &cases {
        for chunk in 1..=wire.len() {
            let mut d = deflate_server();
            let got = d.feed_chunks(wire, chunk);
            assert_eq!(&merge_chunks(&got), want, "chunk size {chunk}: {wire:02x?}");
        }
    }
}

/// Merges consecutive chunks of one message that carry the same flag (a chunk whose flag differs
/// stays a separate entry, so the comparison sees it).
fn merge_chunks(events: &[Ev]) -> Vec<Ev> {
    let mut out: Vec<Ev> = Vec::new();
    for e in events {
        match (e, out.last_mut()) {
            (Ev::Compressed(_, b, end), Some(Ev::Compressed(_, acc, last)))
            | (Ev::Data(_, b, end), Some(Ev::Data(_, acc, last)))
                if !*last =>
            {
                acc.extend_from_slice(b);
                *last = *end;
            }
            (other, _) => out.push(other.clone()),
        }
    }
    out
}

#[test]
fn rfc7692_rsv1_elsewhere_is_1002() {
    let cases = [
        vec![
            client_frame(false, OpCode::Binary, b"a"),
            with_rsv1(client_frame(true, OpCode::Continuation, b"b")),
        ],
        vec![with_rsv1(client_frame(true, OpCode::Ping, b""))],
        vec![with_rsv1(client_frame(true, OpCode::Close, b""))],
    ];
    for frames in cases {
        let mut d = deflate_server();
        let events = d.feed(&frames.concat());
        assert_eq!(
            events.last(),
            Some(&Ev::Failed(ProtocolError::ReservedBitsSet))
        );
        assert_eq!(d.written, vec![0x88, 0x02, 0x03, 0xEA]);
    }
    // RSV2 and RSV3 stay reserved.
    for bit in [0x20u8, 0x10] {
        let mut frame = client_frame(true, OpCode::Text, b"a");
        frame[0] |= bit;
        let mut d = deflate_server();
        assert_eq!(
            d.feed(&frame),
            vec![Ev::Failed(ProtocolError::ReservedBitsSet)]
        );
    }
}

#[test]
fn rfc7692_send_compressed_sets_rsv1_on_the_first_frame_only() {
    let mut c = server();
    let mut out = [0u8; 16];
    assert_eq!(
        c.send_compressed_data(MessageKind::Text, b"x", true, &mut out),
        Err(SendError::ExtensionNotActive)
    );
    c.set_deflate(true);
    assert_eq!(
        c.send_compressed_data(MessageKind::Text, b"ab", false, &mut out),
        Ok(4)
    );
    assert_eq!(&out[..4], &[0x41, 0x02, b'a', b'b']);
    assert_eq!(
        c.send_compressed_data(MessageKind::Text, b"c", true, &mut out),
        Ok(3)
    );
    assert_eq!(&out[..3], &[0x80, 0x01, b'c']);
    assert_eq!(
        c.send_compressed_data_header(MessageKind::Binary, 300, true, &mut out),
        Ok(4)
    );
    assert_eq!(&out[..4], &[0xC2, 0x7E, 0x01, 0x2C]);
    // Round trip through a deflate-aware client.
    let mut client_conn = client();
    client_conn.set_deflate(true);
    let mut d = Driver::new(client_conn);
    let n = c
        .send_compressed_data(MessageKind::Binary, b"zz", true, &mut out)
        .unwrap();
    assert_eq!(
        d.feed(&out[..n]),
        vec![Ev::Compressed(MessageKind::Binary, b"zz".to_vec(), true)]
    );
}

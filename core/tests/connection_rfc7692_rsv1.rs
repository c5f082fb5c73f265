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
        vec![Ev::Data(MessageKind::Text, b"\xF2\x48\xCD".to_vec(), false)]
    );
    assert!(d.conn.message_compressed());
    let events = d.feed(&bytes[9..]);
    assert_eq!(
        events,
        vec![Ev::Data(
            MessageKind::Text,
            b"\xC9\xC9\x07\x00".to_vec(),
            true
        )]
    );
    assert!(d.conn.message_compressed());
    // The next, uncompressed message is validated again.
    assert_eq!(
        d.feed(&client_frame(true, OpCode::Text, b"\xFF")),
        vec![Ev::Failed(ProtocolError::InvalidUtf8)]
    );
    assert!(!d.conn.message_compressed());
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
        c.send_compressed_data(MessageKind::Text, b"x", true, [0; 4], &mut out),
        Err(SendError::ExtensionNotActive)
    );
    c.set_deflate(true);
    assert_eq!(
        c.send_compressed_data(MessageKind::Text, b"ab", false, [0; 4], &mut out),
        Ok(4)
    );
    assert_eq!(&out[..4], &[0x41, 0x02, b'a', b'b']);
    assert_eq!(
        c.send_compressed_data(MessageKind::Text, b"c", true, [0; 4], &mut out),
        Ok(3)
    );
    assert_eq!(&out[..3], &[0x80, 0x01, b'c']);
    assert_eq!(
        c.send_compressed_data_header(MessageKind::Binary, 300, true, [0; 4], &mut out),
        Ok(4)
    );
    assert_eq!(&out[..4], &[0xC2, 0x7E, 0x01, 0x2C]);
    // Round trip through a deflate-aware client.
    let mut client_conn = client();
    client_conn.set_deflate(true);
    let mut d = Driver::new(client_conn);
    let n = c
        .send_compressed_data(MessageKind::Binary, b"zz", true, [0; 4], &mut out)
        .unwrap();
    assert_eq!(
        d.feed(&out[..n]),
        vec![Ev::Data(MessageKind::Binary, b"zz".to_vec(), true)]
    );
    assert!(d.conn.message_compressed());
}

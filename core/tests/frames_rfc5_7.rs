//! RFC 6455 §5.7: every example frame, parsed, encoded and received through a `Connection`.

mod common;
use common::*;
use ws_core::frame::encode_frame;
use ws_core::{FrameHeader, MessageKind, OpCode, Role};

const MASK: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];
const HELLO_UNMASKED: [u8; 7] = [0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f];
const HELLO_MASKED: [u8; 11] = [
    0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
];
const HEL: [u8; 5] = [0x01, 0x03, 0x48, 0x65, 0x6c];
const LO: [u8; 4] = [0x80, 0x02, 0x6c, 0x6f];
const PING_HELLO: [u8; 7] = [0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f];
const PONG_HELLO_MASKED: [u8; 11] = [
    0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
];

fn header(fin: bool, opcode: OpCode, mask: Option<[u8; 4]>, len: u64) -> FrameHeader {
    FrameHeader {
        fin,
        rsv1: false,
        rsv2: false,
        rsv3: false,
        opcode,
        mask,
        payload_len: len,
    }
}

#[test]
fn rfc5_7_single_frame_unmasked_text() {
    assert_eq!(
        FrameHeader::parse(&HELLO_UNMASKED, Role::Client),
        Ok(Some((header(true, OpCode::Text, None, 5), 2)))
    );
    let mut out = [0u8; 16];
    let n = encode_frame(true, OpCode::Text, None, b"Hello", &mut out).unwrap();
    assert_eq!(&out[..n], &HELLO_UNMASKED);
    let mut d = Driver::new(client());
    assert_eq!(
        d.feed(&HELLO_UNMASKED),
        vec![Ev::Data(MessageKind::Text, b"Hello".to_vec(), true)]
    );
}

#[test]
fn rfc5_7_single_frame_masked_text() {
    assert_eq!(
        FrameHeader::parse(&HELLO_MASKED, Role::Server),
        Ok(Some((header(true, OpCode::Text, Some(MASK), 5), 6)))
    );
    let mut out = [0u8; 16];
    let n = encode_frame(true, OpCode::Text, Some(MASK), b"Hello", &mut out).unwrap();
    assert_eq!(&out[..n], &HELLO_MASKED);
    let mut d = Driver::new(server());
    assert_eq!(
        d.feed(&HELLO_MASKED),
        vec![Ev::Data(MessageKind::Text, b"Hello".to_vec(), true)]
    );
}

#[test]
fn rfc5_7_fragmented_unmasked_text() {
    assert_eq!(
        FrameHeader::parse(&HEL, Role::Client),
        Ok(Some((header(false, OpCode::Text, None, 3), 2)))
    );
    assert_eq!(
        FrameHeader::parse(&LO, Role::Client),
        Ok(Some((header(true, OpCode::Continuation, None, 2), 2)))
    );
    let mut out = [0u8; 16];
    let n = encode_frame(false, OpCode::Text, None, b"Hel", &mut out).unwrap();
    assert_eq!(&out[..n], &HEL);
    let n = encode_frame(true, OpCode::Continuation, None, b"lo", &mut out).unwrap();
    assert_eq!(&out[..n], &LO);
    let mut d = Driver::new(client());
    let events = d.feed(&[&HEL[..], &LO[..]].concat());
    assert_eq!(
        events,
        vec![
            Ev::Data(MessageKind::Text, b"Hel".to_vec(), false),
            Ev::Data(MessageKind::Text, b"lo".to_vec(), true),
        ]
    );
}

#[test]
fn rfc5_7_unmasked_ping_and_masked_pong() {
    assert_eq!(
        FrameHeader::parse(&PING_HELLO, Role::Client),
        Ok(Some((header(true, OpCode::Ping, None, 5), 2)))
    );
    assert_eq!(
        FrameHeader::parse(&PONG_HELLO_MASKED, Role::Server),
        Ok(Some((header(true, OpCode::Pong, Some(MASK), 5), 6)))
    );
    // A client receiving the ping answers with exactly the masked pong of §5.7 (given that key).
    let mut conn = ws_core::Connection::client(
        ws_core::Limits::DEFAULT,
        ws_core::Timers::default(),
        0,
        || MASK,
    );
    let mut input = PING_HELLO;
    let mut output = [0u8; 139];
    let r = conn.receive(&mut input, &mut output, 0);
    assert_eq!(r.consumed, 7);
    assert_eq!(r.event, Some(ws_core::Event::Ping(b"Hello")));
    assert_eq!(&output[..r.written], &PONG_HELLO_MASKED);
    // A server receiving that pong reports it and writes nothing.
    let mut d = Driver::new(server());
    assert_eq!(
        d.feed(&PONG_HELLO_MASKED),
        vec![Ev::Pong(b"Hello".to_vec())]
    );
    assert!(d.written.is_empty());
}

#[test]
fn rfc5_7_256_bytes_binary_16_bit_length() {
    let payload = vec![0xAB; 256];
    let bytes = server_frame(true, OpCode::Binary, &payload);
    assert_eq!(&bytes[..4], &[0x82, 0x7E, 0x01, 0x00]);
    assert_eq!(bytes.len(), 4 + 256);
    assert_eq!(
        FrameHeader::parse(&bytes, Role::Client),
        Ok(Some((header(true, OpCode::Binary, None, 256), 4)))
    );
    let mut d = Driver::new(client());
    assert_eq!(
        d.feed(&bytes),
        vec![Ev::Data(MessageKind::Binary, payload, true)]
    );
}

#[test]
fn rfc5_7_64k_binary_64_bit_length() {
    let payload = vec![0x5A; 65536];
    let bytes = server_frame(true, OpCode::Binary, &payload);
    assert_eq!(&bytes[..10], &[0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0]);
    assert_eq!(
        FrameHeader::parse(&bytes, Role::Client),
        Ok(Some((header(true, OpCode::Binary, None, 65536), 10)))
    );
    let mut d = Driver::new(client());
    assert_eq!(
        d.feed(&bytes),
        vec![Ev::Data(MessageKind::Binary, payload, true)]
    );
}

//! RFC 6455 §5.4 fragmentation, §5.2 RSV bits, and the size limits (1009 from the header alone).

mod common;
use common::*;
use ws_core::{Connection, Limits, MessageKind, OpCode, ProtocolError, Server, State, Timers};

const CLOSE_1002: [u8; 4] = [0x88, 0x02, 0x03, 0xEA];
const CLOSE_1009: [u8; 4] = [0x88, 0x02, 0x03, 0xF1];

#[test]
fn rfc5_4_fragments_with_interleaved_ping_stay_intact() {
    let mut d = Driver::new(server());
    let bytes = [
        client_frame(false, OpCode::Text, b"frag"),
        client_frame(true, OpCode::Ping, b"p"),
        client_frame(false, OpCode::Continuation, b"men"),
        client_frame(true, OpCode::Pong, b""),
        client_frame(true, OpCode::Continuation, b"ted"),
    ]
    .concat();
    assert_eq!(
        d.feed(&bytes),
        vec![
            Ev::Data(MessageKind::Text, b"frag".to_vec(), false),
            Ev::Ping(b"p".to_vec()),
            Ev::Data(MessageKind::Text, b"men".to_vec(), false),
            Ev::Pong(vec![]),
            Ev::Data(MessageKind::Text, b"ted".to_vec(), true),
        ]
    );
    // Only the pong was written, unmasked by the server.
    assert_eq!(d.written, vec![0x8A, 0x01, b'p']);
    assert_eq!(d.conn.state(), State::Open);
}

#[test]
fn rfc5_4_continuation_without_start_is_1002() {
    let mut d = Driver::new(server());
    let events = d.feed(&client_frame(true, OpCode::Continuation, b"x"));
    assert_eq!(
        events,
        vec![Ev::Failed(ProtocolError::UnexpectedContinuation)]
    );
    assert_eq!(d.written, CLOSE_1002);
    assert_eq!(d.conn.state(), State::Closing);
}

#[test]
fn rfc5_4_new_message_inside_fragmented_one_is_1002() {
    for opcode in [OpCode::Text, OpCode::Binary] {
        let mut d = Driver::new(server());
        let bytes = [
            client_frame(false, OpCode::Binary, b"a"),
            client_frame(true, opcode, b"b"),
        ]
        .concat();
        let events = d.feed(&bytes);
        assert_eq!(
            events.last(),
            Some(&Ev::Failed(ProtocolError::ExpectedContinuation))
        );
        assert_eq!(d.written, CLOSE_1002);
    }
}

#[test]
fn rfc5_2_rsv_bits_without_extension_are_1002() {
    for bits in [0x40u8, 0x20, 0x10] {
        let mut bytes = client_frame(true, OpCode::Text, b"hi");
        bytes[0] |= bits;
        let mut d = Driver::new(server());
        assert_eq!(
            d.feed(&bytes),
            vec![Ev::Failed(ProtocolError::ReservedBitsSet)]
        );
        assert_eq!(d.written, CLOSE_1002);
        // Also on control frames.
        let mut bytes = client_frame(true, OpCode::Ping, b"");
        bytes[0] |= bits;
        let mut d = Driver::new(server());
        assert_eq!(
            d.feed(&bytes),
            vec![Ev::Failed(ProtocolError::ReservedBitsSet)]
        );
    }
}

#[test]
fn rfc5_5_reserved_opcode_through_connection_is_1002() {
    let mut d = Driver::new(client());
    assert_eq!(
        d.feed(&[0x83, 0x00]),
        vec![Ev::Failed(ProtocolError::ReservedOpCode)]
    );
    // The client's close is masked with the key it was given.
    let mut expected = [0x88, 0x82, 1, 2, 3, 4, 0x03, 0xEA];
    ws_core::frame::apply_mask(&mut expected[6..], [1, 2, 3, 4], 0);
    assert_eq!(d.written, expected);
}

fn limited(
    max_frame_payload: u64,
    max_message_size: u64,
    max_fragments: u32,
) -> Connection<Server> {
    let limits = Limits {
        max_frame_payload,
        max_message_size,
        max_fragments,
    };
    Connection::server(limits, Timers::default(), 0)
}

#[test]
fn limits_oversize_frame_is_1009_from_the_header_alone() {
    let mut d = Driver::new(limited(100, 1000, 10));
    // Only the header of a 101-byte frame: the verdict comes before any payload.
    let bytes = client_frame(true, OpCode::Binary, &[0; 101]);
    assert_eq!(
        d.feed(&bytes[..6]),
        vec![Ev::Failed(ProtocolError::FrameTooLarge)]
    );
    assert_eq!(d.written, CLOSE_1009);
    // A 100-byte frame is fine.
    let mut d = Driver::new(limited(100, 1000, 10));
    let events = d.feed(&client_frame(true, OpCode::Binary, &[0; 100]));
    assert_eq!(
        events,
        vec![Ev::Data(MessageKind::Binary, vec![0; 100], true)]
    );
}

#[test]
fn limits_oversize_message_is_1009_from_the_header_alone() {
    let mut d = Driver::new(limited(100, 150, 10));
    let first = client_frame(false, OpCode::Binary, &[1; 100]);
    let second = client_frame(true, OpCode::Continuation, &[2; 51]);
    let events = d.feed(&[&first[..], &second[..6]].concat());
    assert_eq!(
        events,
        vec![
            Ev::Data(MessageKind::Binary, vec![1; 100], false),
            Ev::Failed(ProtocolError::MessageTooLarge),
        ]
    );
    assert_eq!(d.written, CLOSE_1009);
}

#[test]
fn limits_too_many_fragments_is_1009() {
    let mut d = Driver::new(limited(100, 1000, 3));
    let mut bytes = client_frame(false, OpCode::Binary, b"1");
    bytes.extend(client_frame(false, OpCode::Continuation, b"2"));
    bytes.extend(client_frame(false, OpCode::Continuation, b"3"));
    bytes.extend(client_frame(true, OpCode::Continuation, b"4"));
    let events = d.feed(&bytes);
    assert_eq!(events.len(), 4);
    assert_eq!(events[3], Ev::Failed(ProtocolError::TooManyFragments));
    assert_eq!(d.written, CLOSE_1009);
    // The count restarts with each message.
    let mut d = Driver::new(limited(100, 1000, 3));
    for _ in 0..3 {
        let mut msg = client_frame(false, OpCode::Text, b"a");
        msg.extend(client_frame(false, OpCode::Continuation, b"b"));
        msg.extend(client_frame(true, OpCode::Continuation, b"c"));
        assert_eq!(d.feed(&msg).len(), 3);
    }
    assert!(d.written.is_empty());
}

#[test]
fn chunks_come_out_as_bytes_arrive() {
    // A 1000-byte frame fed 10 bytes at a time never needs a 1000-byte buffer.
    let payload: Vec<u8> = (0..1000).map(|i| i as u8).collect();
    let mut d = Driver::new(server());
    let events = d.feed_chunks(&client_frame(true, OpCode::Binary, &payload), 10);
    assert!(events.len() >= 99);
    assert!(events
        .iter()
        .all(|e| matches!(e, Ev::Data(_, p, _) if p.len() <= 10)));
    assert_eq!(
        merge_data(&events),
        vec![Ev::Data(MessageKind::Binary, payload, true)]
    );
}

#[test]
fn empty_frames_are_events() {
    let mut d = Driver::new(server());
    let bytes = [
        client_frame(false, OpCode::Text, b""),
        client_frame(true, OpCode::Continuation, b""),
    ]
    .concat();
    assert_eq!(
        d.feed(&bytes),
        vec![
            Ev::Data(MessageKind::Text, vec![], false),
            Ev::Data(MessageKind::Text, vec![], true),
        ]
    );
}

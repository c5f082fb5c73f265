//! The heapless reassembler: chunks of `Event::Data` into whole messages up to N bytes, 1009 past N.

mod common;
use common::*;
use ws_core::reassembler::Reassembler;
use ws_core::{Connection, Event, Limits, MessageKind, OpCode, ProtocolError, Timers};

#[test]
fn reassembles_chunked_fragmented_messages_from_a_connection() {
    let mut conn = Connection::server(Limits::DEFAULT, Timers::default(), 0);
    let mut r = Reassembler::<32>::new();
    let wire = [
        client_frame(false, OpCode::Text, "Hé".as_bytes()),
        client_frame(true, OpCode::Ping, b""),
        client_frame(true, OpCode::Continuation, b"llo"),
        client_frame(true, OpCode::Binary, &[1, 2, 3]),
    ]
    .concat();
    let mut messages = vec![];
    let mut out = [0u8; 139];
    // Feed 2 bytes at a time through a small buffer, as a microcontroller would.
    let mut pending = vec![];
    for chunk in wire.chunks(2) {
        pending.extend_from_slice(chunk);
        loop {
            let got = conn.receive(&mut pending, &mut out, 0);
            let (consumed, event) = (got.consumed, got.event);
            if let Some(ev) = &event {
                if let Some((kind, msg)) = r.push_event(ev).unwrap() {
                    messages.push((kind, msg.to_vec()));
                }
            }
            let progressed = consumed > 0 || event.is_some();
            pending.drain(..consumed);
            if !progressed {
                break;
            }
        }
    }
    assert_eq!(
        messages,
        vec![
            (MessageKind::Text, "Héllo".as_bytes().to_vec()),
            (MessageKind::Binary, vec![1, 2, 3])
        ]
    );
}

#[test]
fn past_capacity_is_1009_and_the_next_message_works() {
    let mut r = Reassembler::<4>::new();
    assert_eq!(r.push(MessageKind::Binary, b"abc", false), Ok(None));
    let err = r.push(MessageKind::Binary, b"de", true).unwrap_err();
    assert_eq!(err, ProtocolError::MessageTooLarge);
    assert_eq!(err.close_code().0, 1009);
    assert!(r.is_empty());
    assert_eq!(
        r.push(MessageKind::Text, b"abcd", true),
        Ok(Some((MessageKind::Text, &b"abcd"[..])))
    );
    assert_eq!(r.push_event(&Event::Pong(b"x")), Ok(None));
    assert_eq!(r.len(), 0);
}

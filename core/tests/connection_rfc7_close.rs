//! RFC 6455 §5.5.1 and §7: the close handshake and close codes.

mod common;
use common::*;
use ws_core::{CloseCode, MessageKind, OpCode, ProtocolError, SendError, State};

const VALID: &[u16] = &[
    1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999,
];
const INVALID: &[u16] = &[
    0, 1, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535,
];

#[test]
fn rfc7_4_valid_codes_are_echoed_and_close() {
    for &code in VALID {
        let mut d = Driver::new(server());
        let events = d.feed(&client_frame(true, OpCode::Close, &close_body(code, "bye")));
        assert_eq!(
            events,
            vec![Ev::Close(Some(code), "bye".into())],
            "code {code}"
        );
        let [hi, lo] = code.to_be_bytes();
        assert_eq!(d.written, vec![0x88, 0x02, hi, lo], "code {code}");
        assert_eq!(d.conn.state(), State::Closed);
    }
}

#[test]
fn rfc7_4_invalid_codes_are_1002() {
    for &code in INVALID {
        let mut d = Driver::new(server());
        let events = d.feed(&client_frame(true, OpCode::Close, &close_body(code, "")));
        assert_eq!(
            events,
            vec![Ev::Failed(ProtocolError::InvalidCloseCode)],
            "code {code}"
        );
        assert_eq!(d.written, vec![0x88, 0x02, 0x03, 0xEA], "code {code}");
        // The peer's close ended the handshake: close the transport.
        assert_eq!(d.conn.state(), State::Closed);
    }
}

#[test]
fn rfc7_4_every_code_class() {
    for code in 0..=u16::MAX {
        let expected = matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999);
        assert_eq!(CloseCode(code).is_sendable(), expected, "{code}");
    }
}

#[test]
fn rfc5_5_1_empty_close_is_echoed_empty() {
    let mut d = Driver::new(server());
    assert_eq!(
        d.feed(&client_frame(true, OpCode::Close, b"")),
        vec![Ev::Close(None, String::new())]
    );
    assert_eq!(d.written, vec![0x88, 0x00]);
    assert_eq!(d.conn.state(), State::Closed);
}

#[test]
fn rfc5_5_1_one_byte_close_is_1002() {
    let mut d = Driver::new(server());
    assert_eq!(
        d.feed(&client_frame(true, OpCode::Close, &[0x03])),
        vec![Ev::Failed(ProtocolError::InvalidClosePayload)]
    );
    assert_eq!(d.written, vec![0x88, 0x02, 0x03, 0xEA]);
}

#[test]
fn rfc8_1_invalid_utf8_close_reason_is_1007() {
    let mut d = Driver::new(server());
    let mut body = close_body(1000, "");
    body.extend_from_slice(&[
        0xCE, 0xBA, 0xE1, 0xBD, 0xB9, 0xCF, 0x83, 0xCE, 0xBC, 0xCE, 0xB5, 0xED, 0xA0, 0x80,
    ]);
    assert_eq!(
        d.feed(&client_frame(true, OpCode::Close, &body)),
        vec![Ev::Failed(ProtocolError::InvalidUtf8)]
    );
    assert_eq!(d.written, vec![0x88, 0x02, 0x03, 0xEF]);
    assert_eq!(d.conn.state(), State::Closed);
}

#[test]
fn rfc5_5_1_frames_after_close_are_ignored() {
    let mut d = Driver::new(server());
    let bytes = [
        client_frame(true, OpCode::Close, &close_body(1000, "")),
        client_frame(true, OpCode::Text, b"late"),
        client_frame(true, OpCode::Ping, b""),
    ]
    .concat();
    assert_eq!(d.feed(&bytes), vec![Ev::Close(Some(1000), String::new())]);
    assert_eq!(d.written, vec![0x88, 0x02, 0x03, 0xE8]);
}

#[test]
fn rfc5_5_1_our_close_then_peer_close() {
    let mut d = Driver::new(server());
    let mut out = [0u8; 64];
    let n = d
        .conn
        .send_close(Some(CloseCode::GOING_AWAY), "bye", 0, &mut out)
        .unwrap();
    assert_eq!(&out[..n], b"\x88\x05\x03\xe9bye");
    assert_eq!(d.conn.state(), State::Closing);
    // No more data; no second close.
    assert_eq!(
        d.conn.send_data(MessageKind::Text, b"x", true, &mut out),
        Err(SendError::Closing)
    );
    assert_eq!(
        d.conn.send_close(None, "", 0, &mut out),
        Err(SendError::Closing)
    );
    assert_eq!(d.conn.send_ping(b"", &mut out), Err(SendError::Closing));
    // Data and pings from the peer are skipped while Closing; its close ends the handshake,
    // without an echo.
    let bytes = [
        client_frame(true, OpCode::Binary, &[7; 300]),
        client_frame(true, OpCode::Ping, b"p"),
        client_frame(true, OpCode::Close, &close_body(1001, "")),
    ]
    .concat();
    assert_eq!(d.feed(&bytes), vec![Ev::Close(Some(1001), String::new())]);
    assert!(d.written.is_empty());
    assert_eq!(d.conn.state(), State::Closed);
}

#[test]
fn failed_connection_skips_to_the_peers_close() {
    let mut d = Driver::new(server());
    // A reserved opcode (framing still readable), then more junk frames, then the peer's close.
    let mut bad = client_frame(true, OpCode::Binary, b"abc");
    bad[0] = 0x83;
    let bytes = [
        bad,
        client_frame(true, OpCode::Text, &[0xFF; 10]),
        client_frame(true, OpCode::Close, &close_body(1002, "")),
    ]
    .concat();
    assert_eq!(
        d.feed_chunks(&bytes, 3),
        vec![
            Ev::Failed(ProtocolError::ReservedOpCode),
            Ev::Close(Some(1002), String::new())
        ]
    );
    assert_eq!(d.written, vec![0x88, 0x02, 0x03, 0xEA]);
    assert_eq!(d.conn.state(), State::Closed);
}

#[test]
fn send_close_rules() {
    let mut c = server();
    let mut out = [0u8; 200];
    assert_eq!(
        c.send_close(Some(CloseCode(1005)), "", 0, &mut out),
        Err(SendError::InvalidCloseCode)
    );
    assert_eq!(
        c.send_close(Some(CloseCode(999)), "", 0, &mut out),
        Err(SendError::InvalidCloseCode)
    );
    let long = "x".repeat(124);
    assert_eq!(
        c.send_close(Some(CloseCode::NORMAL), &long, 0, &mut out),
        Err(SendError::ControlTooLong)
    );
    let max = "x".repeat(123);
    assert_eq!(
        c.send_close(Some(CloseCode::NORMAL), &max, 0, &mut out[..10]),
        Err(SendError::BufferTooSmall(ws_core::BufferTooSmall {
            needed: 127
        }))
    );
    assert_eq!(c.state(), State::Open);
    assert_eq!(
        c.send_close(Some(CloseCode::NORMAL), &max, 0, &mut out),
        Ok(127)
    );
    assert_eq!(c.state(), State::Closing);
}

#[test]
fn a_close_frame_failed_on_its_header_is_not_the_peers_close() {
    let mut d = Driver::new(server());
    // A close with FIN = 0, then the real close.
    let mut bad = client_frame(true, OpCode::Close, &close_body(1000, ""));
    bad[0] &= 0x7F;
    let bytes = [
        bad,
        client_frame(true, OpCode::Close, &close_body(1001, "")),
    ]
    .concat();
    let events = d.feed_chunks(&bytes, 1);
    assert_eq!(
        events,
        vec![
            Ev::Failed(ProtocolError::FragmentedControlFrame),
            Ev::Close(Some(1001), String::new())
        ]
    );
    assert_eq!(d.written, vec![0x88, 0x02, 0x03, 0xEA]);
}

/// RFC 6455 §7.4.1: 1005 (no status) and 1006 (abnormal closure) are reserved for reporting and
/// MUST NOT be set as the code in a close frame: the named constants exist, are not sendable,
/// `send_close` refuses them writing nothing, and receiving them fails the connection with 1002.
#[test]
fn rfc7_4_1_no_status_and_abnormal_are_never_sent() {
    for (code, value) in [(CloseCode::NO_STATUS, 1005u16), (CloseCode::ABNORMAL, 1006)] {
        assert_eq!(code.0, value);
        assert!(!code.is_sendable(), "{value}");
        for mut c in [server(), server()] {
            let mut out = [0xAAu8; 16];
            assert_eq!(
                c.send_close(Some(code), "", 0, &mut out),
                Err(SendError::InvalidCloseCode),
                "{value}"
            );
            assert_eq!(out, [0xAA; 16], "nothing written for {value}");
            assert_eq!(c.state(), State::Open);
        }
        let mut c = client();
        assert_eq!(
            c.send_close(Some(code), "", 0, &mut [0u8; 16]),
            Err(SendError::InvalidCloseCode)
        );
        let [hi, lo] = value.to_be_bytes();
        let mut d = Driver::new(server());
        assert_eq!(
            d.feed(&client_frame(true, OpCode::Close, &[hi, lo])),
            vec![Ev::Failed(ProtocolError::InvalidCloseCode)]
        );
        assert_eq!(d.written, [0x88, 0x02, 0x03, 0xEA]);
    }
}

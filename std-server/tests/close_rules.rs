//! Every close-code rule (RFC 6455 §7.4, §5.5.1) and every protocol violation gets the exact
//! close code from ws-core, the server closes TCP first, and a fresh client still gets an echo.

mod common;

use common::*;
use std::io::Write;
use std::time::Duration;
use ws_server::Config;

/// Sends `bytes` on a fresh connection; expects a close with `expected`, answers it, and expects
/// the server to close TCP.
fn expect_close(addr: std::net::SocketAddr, bytes: &[u8], expected: Option<u16>, what: &str) {
    let mut s = raw(addr);
    s.write_all(bytes).unwrap();
    let got = read_close(&mut s);
    assert_eq!(got, expected, "{what}");
    // Answer a server-initiated close; an echoed close needs no answer.
    let _ = s.write_all(&close_frame(got.unwrap_or(1000), b""));
    assert_closed_within(&mut s, Duration::from_secs(2));
    assert_echo_works(addr);
}

#[test]
fn valid_close_codes_are_echoed() {
    let server = start(Config::default());
    for code in [
        1000u16, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999,
    ] {
        expect_close(
            server.addr,
            &close_frame(code, b"bye"),
            Some(code),
            &format!("code {code}"),
        );
    }
    // Empty close payload: an empty close comes back.
    expect_close(server.addr, &frame(true, 8, b""), None, "empty close");
    // A 123-byte UTF-8 reason is fine.
    expect_close(
        server.addr,
        &close_frame(1000, &[b'r'; 123]),
        Some(1000),
        "long reason",
    );
}

#[test]
fn invalid_close_codes_get_1002() {
    let server = start(Config::default());
    for code in [
        0u16, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535,
    ] {
        expect_close(
            server.addr,
            &close_frame(code, b""),
            Some(1002),
            &format!("code {code}"),
        );
    }
    expect_close(
        server.addr,
        &frame(true, 8, &[0x03]),
        Some(1002),
        "1-byte close payload",
    );
    expect_close(
        server.addr,
        &close_frame(1000, &[0xce, 0xba, 0xff]),
        Some(1007),
        "bad UTF-8 reason",
    );
    expect_close(
        server.addr,
        &close_frame(1000, &[b'r'; 124]),
        Some(1002),
        "close payload of 126 bytes",
    );
}

#[test]
fn protocol_violations_get_their_close_code() {
    let server = start(Config::default());
    let unmasked = [0x81u8, 0x02, b'h', b'i'];
    let cases: Vec<(&str, Vec<u8>, u16)> = vec![
        ("unmasked client frame", unmasked.to_vec(), 1002),
        ("RSV1 without extension", frame_raw(0xC1, b"x"), 1002),
        ("RSV2", frame_raw(0xA1, b"x"), 1002),
        ("RSV3", frame_raw(0x91, b"x"), 1002),
        ("reserved opcode 3", frame(true, 3, b""), 1002),
        ("reserved opcode 0xB", frame(true, 0xB, b""), 1002),
        ("fragmented ping", frame(false, 9, b"p"), 1002),
        ("ping of 126 bytes", frame(true, 9, &[0u8; 126]), 1002),
        ("continuation without start", frame(true, 0, b"x"), 1002),
        (
            "text while a fragmented message is open",
            [frame(false, 1, b"a"), frame(true, 1, b"b")].concat(),
            1002,
        ),
        (
            "invalid UTF-8 text",
            frame(
                true,
                1,
                &[
                    0xce, 0xba, 0xe1, 0xbd, 0xb9, 0xcf, 0x83, 0xce, 0xbc, 0xce, 0xb5, 0xed, 0xa0,
                    0x80,
                ],
            ),
            1007,
        ),
        (
            "invalid UTF-8 across fragments",
            [frame(false, 1, &[0xce]), frame(true, 0, &[0x41])].concat(),
            1007,
        ),
        (
            "truncated code point at message end",
            frame(true, 1, &[0xe2, 0x82]),
            1007,
        ),
        (
            "non-minimal 16-bit length",
            vec![0x82, 0x80 | 126, 0, 5, 1, 2, 3, 4, 0, 0, 0, 0, 0],
            1002,
        ),
    ];
    for (what, bytes, code) in cases {
        expect_close(server.addr, &bytes, Some(code), what);
    }
}

#[test]
fn invalid_utf8_fails_fast_before_the_message_ends() {
    let server = start(Config::default());
    let mut s = raw(server.addr);
    // First fragment is already invalid; the message never finishes.
    s.write_all(&frame(false, 1, &[b'o', b'k', 0xff])).unwrap();
    assert_eq!(read_close(&mut s), Some(1007));
    s.write_all(&close_frame(1007, b"")).unwrap();
    assert_closed_within(&mut s, Duration::from_secs(2));
    assert_echo_works(server.addr);
}

#[test]
fn frames_after_the_close_are_ignored_and_server_closes_tcp_first() {
    let server = start(Config::default());
    let mut s = raw(server.addr);
    let mut bytes = close_frame(1000, b"");
    bytes.extend(frame(true, 1, b"too late"));
    s.write_all(&bytes).unwrap();
    assert_eq!(read_close(&mut s), Some(1000));
    // Nothing else (no echo of "too late"), then EOF from the server.
    assert_closed_within(&mut s, Duration::from_secs(2));
    assert_echo_works(server.addr);
}

//! Protocol violations and the close handshake: each violation gets its close code (RFC 6455
//! §7.4.1) and then the server closes TCP; valid close codes are echoed, invalid ones get 1002,
//! a bad reason 1007; a failed connection is dropped after the close timeout.

use crate::common::{
    assert_closed_within, assert_echo_works, close_frame, frame, frame_raw, raw, read_close,
    read_until_closed,
};
use crate::loop_engine::start;
use crate::upgrade_when_free;
use crate::{expect_close, header_only, limited_to, long_close_timeout, timer_config};
use std::io::Write;
use std::time::Duration;
use ws_server::Config;

#[test]
fn protocol_violations_get_their_close_code_then_tcp_close() {
    let mut config = Config::default();
    config.limits.max_frame_payload = 64 << 10;
    config.limits.max_message_size = 256 << 10;
    let server = start(config);
    let bad_utf8 = [
        0xce, 0xba, 0xe1, 0xbd, 0xb9, 0xcf, 0x83, 0xce, 0xbc, 0xce, 0xb5, 0xed, 0xa0, 0x80,
    ];
    let mut over_frame = header_only(0x82, (64 << 10) + 1);
    over_frame.extend_from_slice(b"some payload");
    let cases: Vec<(&str, Vec<u8>, u16)> = vec![
        ("unmasked client frame", vec![0x81, 0x02, b'h', b'i'], 1002),
        ("RSV1 without extension", frame_raw(0xC1, b"x"), 1002),
        ("RSV2", frame_raw(0xA1, b"x"), 1002),
        ("RSV3", frame_raw(0x91, b"x"), 1002),
        ("reserved opcode 3", frame(true, 3, b""), 1002),
        ("reserved opcode 0xB", frame(true, 0xB, b""), 1002),
        ("reserved opcode 0xF", frame(true, 0xF, b"x"), 1002),
        ("fragmented ping", frame(false, 9, b"p"), 1002),
        ("ping of 126 bytes", frame(true, 9, &[0u8; 126]), 1002),
        ("pong of 126 bytes", frame(true, 0xA, &[0u8; 126]), 1002),
        ("close of 126 bytes", close_frame(1000, &[b'r'; 124]), 1002),
        ("continuation without start", frame(true, 0, b"x"), 1002),
        (
            "text while a fragmented message is open",
            [frame(false, 1, b"a"), frame(true, 1, b"b")].concat(),
            1002,
        ),
        ("invalid UTF-8 text", frame(true, 1, &bad_utf8), 1007),
        (
            "invalid UTF-8 across fragments",
            [frame(false, 1, &[0xce]), frame(true, 0, &[0x41])].concat(),
            1007,
        ),
        ("truncated code point", frame(true, 1, &[0xe2, 0x82]), 1007),
        (
            "non-minimal 16-bit length",
            vec![0x82, 0x80 | 126, 0, 5, 1, 2, 3, 4, 0, 0, 0, 0, 0],
            1002,
        ),
        ("frame over max_frame_payload", over_frame, 1009),
        ("declared 1 GiB", header_only(0x81, 1 << 30), 1009),
        (
            "message over max_message_size across fragments",
            [
                frame(false, 2, &[0u8; 60 << 10]),
                frame(false, 0, &[0u8; 60 << 10]),
                frame(false, 0, &[0u8; 60 << 10]),
                frame(false, 0, &[0u8; 60 << 10]),
                header_only(0x80, 60 << 10),
            ]
            .concat(),
            1009,
        ),
    ];
    for (what, bytes, code) in cases {
        expect_close(server.addr, &bytes, Some(code), what);
    }
    assert_echo_works(server.addr);
}

#[test]
fn a_failed_connection_is_dropped_after_the_close_timeout_though_the_client_stays() {
    let server = start(limited_to(1, timer_config()));
    let mut a = raw(server.addr);
    a.write_all(&frame(true, 3, b"")).unwrap();
    assert_eq!(read_close(&mut a), Some(1002));
    // The server's FIN; a keeps its socket open and never answers.
    assert_closed_within(&mut a, Duration::from_secs(3));
    // The slot comes back once the close timeout (200 ms) has dropped a for good.
    let what = "the failed connection still holds its slot";
    drop(upgrade_when_free(server.addr, |_| {}, what));
    drop(a);
}

#[test]
fn valid_close_codes_are_echoed() {
    let server = start(Config::default());
    for code in [
        1000u16, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999,
    ] {
        let what = format!("code {code}");
        expect_close(server.addr, &close_frame(code, b"bye"), Some(code), &what);
    }
    expect_close(server.addr, &frame(true, 8, b""), None, "empty close");
    let long = close_frame(1000, &[b'r'; 123]);
    expect_close(server.addr, &long, Some(1000), "123-byte reason");
}

#[test]
fn invalid_close_codes_get_1002_and_bad_reasons_1007() {
    let server = start(Config::default());
    for code in [
        0u16, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535,
    ] {
        let what = format!("code {code}");
        expect_close(server.addr, &close_frame(code, b""), Some(1002), &what);
    }
    let one_byte = frame(true, 8, &[0x03]);
    expect_close(server.addr, &one_byte, Some(1002), "1-byte close payload");
    let bad_reason = close_frame(1000, &[0xce, 0xba, 0xff]);
    expect_close(server.addr, &bad_reason, Some(1007), "bad UTF-8 reason");
    assert_echo_works(server.addr);
}

#[test]
fn invalid_utf8_fails_fast_before_the_message_ends() {
    let server = start(Config::default());
    let mut s = raw(server.addr);
    // The first fragment is already invalid; the message never finishes.
    s.write_all(&frame(false, 1, &[b'o', b'k', 0xff])).unwrap();
    assert_eq!(read_close(&mut s), Some(1007));
    assert_closed_within(&mut s, Duration::from_secs(3));
    assert_echo_works(server.addr);
}

#[test]
fn client_close_1000_is_echoed_then_eof_without_waiting() {
    // A long close timeout: the server must not wait for anything after echoing the close.
    let server = start(long_close_timeout());
    let mut s = raw(server.addr);
    let mut bytes = close_frame(1000, b"bye");
    bytes.extend(frame(true, 1, b"too late"));
    s.write_all(&bytes).unwrap();
    // Exactly the echoed close (code, no reason) and nothing else, then EOF.
    assert_eq!(read_until_closed(&mut s), vec![0x88, 0x02, 0x03, 0xe8]);
    assert_echo_works(server.addr);
}

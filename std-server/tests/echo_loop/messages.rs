//! Echoes of every shape: all length classes, 16 MiB frames written before reading, fragments,
//! control frames between and after big frames, trickled and pipelined bytes.

use crate::common::{
    assert_closed_within, assert_echo_works, client, frame, raw, read_close, read_frame, read_head,
    read_raw_frame, read_until_closed, tcp, upgrade_request,
};
use crate::loop_engine::{start, start_small_buffers};
use crate::{close_normally, MIB};
use std::io::Write;
use std::net::TcpStream;
use std::time::Duration;
use tungstenite::Message as T;
use ws_server::Config;

/// Writes `bytes` one byte per write.
fn write_bytewise(s: &mut TcpStream, bytes: &[u8]) {
    for b in bytes {
        s.write_all(&[*b]).unwrap();
    }
}

/// Writes `wire` in one blocking write (a failure means the server stopped reading before the
/// client reads: a deadlock), then reads one frame: it must be `want` (first byte, payload).
fn assert_whole_echo(s: &mut TcpStream, wire: &[u8], want: (u8, &[u8]), what: &str) {
    if let Err(e) = s.write_all(wire) {
        panic!("the server stopped reading {what} (deadlock): {e}");
    }
    let (b0, p) = read_frame(s);
    assert!(
        b0 == want.0 && p == want.1,
        "echo of {what}: {b0:#x}, {} bytes",
        p.len()
    );
}

#[test]
fn echoes_text_and_binary_of_every_length_class() {
    let server = start(Config::default());
    let mut ws = client(server.addr);
    for len in [0usize, 1, 125, 126, 65535, 65536, 256 << 10, MIB, 5 * MIB] {
        let bin: Vec<u8> = (0..len).map(|i| (i * 31 % 251) as u8).collect();
        ws.send(T::binary(bin.clone())).unwrap();
        assert_eq!(ws.read().unwrap(), T::binary(bin), "binary of {len} bytes");
        let text: String = (0..len).map(|i| (b'a' + (i % 26) as u8) as char).collect();
        ws.send(T::text(text.clone())).unwrap();
        assert_eq!(ws.read().unwrap(), T::text(text), "text of {len} bytes");
    }
    // 5 MiB of 1- to 4-byte code points: read-buffer boundaries fall inside characters.
    let mixed = "héllo wörld ✓ 🚀 ".repeat(5 * MIB / 22);
    ws.send(T::text(mixed.clone())).unwrap();
    assert_eq!(ws.read().unwrap(), T::text(mixed));
    ws.close(Some(tungstenite::protocol::CloseFrame {
        code: 1000.into(),
        reason: "done".into(),
    }))
    .unwrap();
    loop {
        match ws.read() {
            Ok(T::Close(Some(f))) => assert_eq!(u16::from(f.code), 1000),
            Ok(other) => panic!("after our close: {other:?}"),
            Err(tungstenite::Error::ConnectionClosed) => break,
            Err(e) => panic!("{e}"),
        }
    }
}

#[test]
fn blocking_client_writing_a_16_mib_frame_before_reading_gets_the_whole_echo() {
    // 64 KiB socket buffers on both sides: the server must take each message whole past its
    // 1 MiB queue cap, whatever the kernel would have buffered.
    let server = start_small_buffers(Config::default());
    let mut s = raw(server.addr);
    socket2::SockRef::from(&s)
        .set_send_buffer_size(64 << 10)
        .unwrap();
    let big: Vec<u8> = (0..16 * MIB).map(|i| (i % 253) as u8).collect();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    // One blocking write of the whole frame (16 MiB = the default frame limit), then the read.
    let wire = frame(true, 2, &big);
    assert_whole_echo(&mut s, &wire, (0x82, &big), "the 16 MiB frame");
    // The same with 16 MiB of text, and with a 16 MiB binary message in two 8 MiB fragments.
    let text: Vec<u8> = "abc✓é".repeat(16 * MIB / 8).into_bytes();
    let wire = frame(true, 1, &text);
    assert_whole_echo(&mut s, &wire, (0x81, &text), "the 16 MiB text");
    let mut two = frame(false, 2, &big[..8 * MIB]);
    two.extend(frame(true, 0, &big[8 * MIB..]));
    assert_whole_echo(&mut s, &two, (0x82, &big), "the fragmented 16 MiB");
    close_normally(&mut s);
}

#[test]
fn fragmented_messages_are_echoed_as_one_frame() {
    let server = start(Config::default());
    let mut s = raw(server.addr);
    let mut bytes = frame(false, 1, b"Hel");
    bytes.extend(frame(true, 9, b"are you there"));
    bytes.extend(frame(false, 0, b"lo, "));
    bytes.extend(frame(true, 0, b"world"));
    s.write_all(&bytes).unwrap();
    assert_eq!(read_frame(&mut s), (0x8a, b"are you there".to_vec()));
    assert_eq!(read_frame(&mut s), (0x81, b"Hello, world".to_vec()));
    // 1 MiB binary in 4 fragments, larger than the read buffer.
    let big: Vec<u8> = (0..MIB as u32).map(|i| (i * 7) as u8).collect();
    let mut bytes = Vec::new();
    for (i, chunk) in big.chunks(MIB / 4).enumerate() {
        bytes.extend(frame(i == 3, if i == 0 { 2 } else { 0 }, chunk));
    }
    s.write_all(&bytes).unwrap();
    assert_eq!(read_frame(&mut s), (0x82, big));
    // 1.5 MiB of 3-byte characters cut every 100 001 bytes: fragments split code points.
    let text = "✓".repeat(MIB / 2).into_bytes();
    let chunks: Vec<&[u8]> = text.chunks(100_001).collect();
    let mut bytes = Vec::new();
    for (i, chunk) in chunks.iter().enumerate() {
        let op = if i == 0 { 1 } else { 0 };
        bytes.extend(frame(i + 1 == chunks.len(), op, chunk));
    }
    s.write_all(&bytes).unwrap();
    assert_eq!(read_frame(&mut s), (0x81, text));
    // Empty fragments, an empty fragmented message, and 1000 one-byte fragments.
    let mut bytes = frame(false, 1, b"");
    bytes.extend(frame(false, 0, b""));
    bytes.extend(frame(true, 0, b"x"));
    bytes.extend(frame(false, 2, b""));
    bytes.extend(frame(true, 0, b""));
    for i in 0..1000 {
        bytes.extend(frame(i == 999, if i == 0 { 1 } else { 0 }, b"z"));
    }
    s.write_all(&bytes).unwrap();
    assert_eq!(read_frame(&mut s), (0x81, b"x".to_vec()));
    assert_eq!(read_frame(&mut s), (0x82, vec![]));
    assert_eq!(read_frame(&mut s), (0x81, vec![b'z'; 1000]));
}

#[test]
fn unsolicited_pong_is_ignored_and_ping_payload_echoed() {
    let server = start(Config::default());
    let mut s = raw(server.addr);
    let mut bytes = frame(true, 0xA, b"unsolicited");
    bytes.extend(frame(true, 9, &[0xffu8; 125]));
    bytes.extend(frame(true, 9, b""));
    bytes.extend(frame(true, 1, b"after"));
    s.write_all(&bytes).unwrap();
    assert_eq!(read_frame(&mut s), (0x8a, vec![0xff; 125]));
    assert_eq!(read_frame(&mut s), (0x8a, vec![]));
    assert_eq!(read_frame(&mut s), (0x81, b"after".to_vec()));
}

#[test]
fn control_frames_and_errors_after_a_big_frame_wait_for_its_echo() {
    let server = start(Config::default());
    let mut s = raw(server.addr);
    // 3 MiB binary (echoed while it arrives), then a ping, a text and a reserved opcode, in
    // one write: the pong cannot cut into the echo, and the 1002 comes last.
    let big: Vec<u8> = (0..3 * MIB).map(|i| (i % 241) as u8).collect();
    let mut bytes = frame(true, 2, &big);
    bytes.extend(frame(true, 9, b"p"));
    bytes.extend(frame(true, 1, b"t"));
    bytes.extend(frame(true, 3, b""));
    s.write_all(&bytes).unwrap();
    let (b0, echo) = read_frame(&mut s);
    assert!(b0 == 0x82 && echo == big, "{b0:#x}, {} bytes", echo.len());
    assert_eq!(read_frame(&mut s), (0x8a, b"p".to_vec()));
    assert_eq!(read_frame(&mut s), (0x81, b"t".to_vec()));
    assert_eq!(read_close(&mut s), Some(1002));
    assert_closed_within(&mut s, Duration::from_secs(3));
}

#[test]
fn invalid_utf8_deep_inside_a_big_text_frame_gets_1007_after_the_valid_part() {
    let server = start(Config::default());
    let mut s = raw(server.addr);
    let mut text = vec![b'a'; MIB];
    text[600 << 10] = 0xff;
    s.write_all(&frame(true, 1, &text)).unwrap();
    // The text is echoed as it is validated, in fragments that never end the message; the close
    // (1007, no reason) follows them as a frame of its own, then EOF.
    let mut echoed = 0;
    let close = loop {
        let (b0, payload) = read_raw_frame(&mut s);
        if b0 & 0x0f == 8 {
            break payload;
        }
        assert_eq!(b0 & 0x80, 0, "no fragment ends the invalid message");
        assert!(payload.iter().all(|&b| b == b'a'));
        echoed += payload.len();
    };
    assert_eq!(close, vec![0x03, 0xef]);
    assert!(
        echoed <= 600 << 10,
        "nothing past the invalid byte: {echoed}"
    );
    assert!(read_until_closed(&mut s).is_empty());
    assert_echo_works(server.addr);
}

#[test]
fn handshake_and_frames_sent_one_byte_per_write() {
    let server = start(Config::default());
    let mut s = tcp(server.addr);
    write_bytewise(&mut s, upgrade_request("/one/byte").as_bytes());
    let head = read_head(&mut s);
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    let mut bytes = frame(true, 1, b"trickled");
    bytes.extend(frame(true, 2, &[7u8; 300]));
    write_bytewise(&mut s, &bytes);
    assert_eq!(read_frame(&mut s), (0x81, b"trickled".to_vec()));
    assert_eq!(read_frame(&mut s), (0x82, vec![7u8; 300]));
    close_normally(&mut s);
}

#[test]
fn thousand_pipelined_frames_in_one_write_are_answered_in_order() {
    let server = start(Config::default());
    let mut s = tcp(server.addr);
    // The upgrade request and 1000 frames in one write: bytes after the head are kept.
    let mut bytes = upgrade_request("/").into_bytes();
    for i in 0..1000u32 {
        bytes.extend(frame(true, 1, format!("message {i}").as_bytes()));
    }
    s.write_all(&bytes).unwrap();
    assert!(read_head(&mut s).starts_with("HTTP/1.1 101"));
    for i in 0..1000u32 {
        let want = format!("message {i}").into_bytes();
        assert_eq!(read_frame(&mut s), (0x81, want));
    }
    assert_echo_works(server.addr);
}

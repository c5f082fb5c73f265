//! The blocking adapter: a server and a client, each on its own thread, over an in-memory pipe
//! that delivers at most 7 bytes per read (heads and frames arrive split).

mod common;

use std::thread;
use ws_core::handshake::ClientRequest;
use ws_core::{CloseCode, HandshakeError, MessageKind, ProtocolError};
use ws_embedded_io::blocking::WebSocket;
use ws_embedded_io::{Error, Message};

const REQUEST: ClientRequest<'static> = ClientRequest {
    host: "device.local",
    path: "/ws",
    origin: None,
    subprotocols: &[],
    extensions: None,
    extra_headers: &[],
};

/// A deterministic stand-in for the platform's random number generator.
fn masks() -> impl FnMut() -> [u8; 4] {
    let mut n = 0x1234_5678u32;
    move || {
        n = n.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        n.to_be_bytes()
    }
}

#[test]
fn echo_server_and_client_text_binary_ping_close() {
    let (server_end, client_end) = common::pipe(7);
    let server = thread::spawn(move || {
        let (mut rx, mut tx, mut msg) = ([0u8; 256], [0u8; 256], [0u8; 4096]);
        let mut ws = WebSocket::accept(server_end, &mut rx, &mut tx).expect("accept");
        let mut seen = Vec::new();
        loop {
            match ws.read(&mut msg).expect("read") {
                Message::Text(t) => {
                    seen.push(format!("text {t}"));
                    let t = t.to_owned();
                    ws.send_text(&t).expect("echo text");
                }
                Message::Binary(b) => {
                    seen.push(format!("binary {}", b.len()));
                    let b = b.to_vec();
                    ws.send(MessageKind::Binary, &b).expect("echo binary");
                }
                Message::Close(code) => {
                    seen.push(format!("close {:?}", code.map(|c| c.0)));
                    break;
                }
            }
        }
        seen
    });

    let (mut rx, mut tx, mut msg) = ([0u8; 256], [0u8; 256], [0u8; 4096]);
    let mut ws = WebSocket::connect(client_end, &REQUEST, [7; 16], masks(), &mut rx, &mut tx)
        .expect("connect");
    ws.send_text("Hello, wörld").unwrap();
    assert_eq!(ws.read(&mut msg).unwrap(), Message::Text("Hello, wörld"));
    ws.ping(b"are you there").unwrap();
    // 3000 bytes through 256-byte receive buffers on both sides.
    let big: Vec<u8> = (0..3000).map(|i| (i % 251) as u8).collect();
    ws.send(MessageKind::Binary, &big).unwrap();
    assert_eq!(ws.read(&mut msg).unwrap(), Message::Binary(&big[..]));
    ws.close(CloseCode::NORMAL, "done", &mut msg).unwrap();
    assert_eq!(ws.connection().state(), ws_core::State::Closed);
    drop(ws);

    assert_eq!(
        server.join().unwrap(),
        ["text Hello, wörld", "binary 3000", "close Some(1000)"]
    );
}

#[test]
fn a_message_larger_than_the_buffer_is_refused_with_1009() {
    let (server_end, client_end) = common::pipe(64);
    let server = thread::spawn(move || {
        let (mut rx, mut tx, mut msg) = ([0u8; 256], [0u8; 256], [0u8; 100]);
        let mut ws = WebSocket::accept(server_end, &mut rx, &mut tx).expect("accept");
        let got = ws.read(&mut msg).map(|_| ());
        ws.close(CloseCode::NORMAL, "", &mut msg).ok();
        got
    });
    let (mut rx, mut tx, mut msg) = ([0u8; 256], [0u8; 256], [0u8; 512]);
    let mut ws =
        WebSocket::connect(client_end, &REQUEST, [1; 16], masks(), &mut rx, &mut tx).unwrap();
    ws.send(MessageKind::Binary, &[0xab; 101]).unwrap();
    // The server's 1009 close arrives; the client adapter echoes it.
    assert_eq!(
        ws.read(&mut msg).unwrap(),
        Message::Close(Some(CloseCode::TOO_BIG))
    );
    assert_eq!(server.join().unwrap(), Err(Error::MessageTooLarge));
}

#[test]
fn invalid_utf8_fails_the_connection_with_1007_on_the_wire() {
    let (server_end, mut raw) = common::pipe(64);
    let server = thread::spawn(move || {
        let (mut rx, mut tx, mut msg) = ([0u8; 256], [0u8; 256], [0u8; 100]);
        let mut ws = WebSocket::accept(server_end, &mut rx, &mut tx).expect("accept");
        ws.read(&mut msg).map(|_| ())
    });
    use embedded_io::Write;
    raw.write_all(
        b"GET / HTTP/1.1\r\nHost: d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
          Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n\
          \x81\x82\x00\x00\x00\x00\xc3\x28",
    )
    .unwrap();
    assert_eq!(
        server.join().unwrap(),
        Err(Error::Protocol(ProtocolError::InvalidUtf8))
    );
    let wire = raw.read_to_end();
    let head_end = wire.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    assert!(wire.starts_with(b"HTTP/1.1 101 Switching Protocols\r\n"));
    assert_eq!(&wire[head_end..], b"\x88\x02\x03\xef");
}

#[test]
fn a_bad_request_is_answered_and_reported() {
    let (server_end, mut raw) = common::pipe(64);
    let server = thread::spawn(move || {
        let (mut rx, mut tx) = ([0u8; 256], [0u8; 256]);
        WebSocket::accept(server_end, &mut rx, &mut tx).map(|_| ())
    });
    use embedded_io::Write;
    raw.write_all(b"POST / HTTP/1.1\r\nHost: d\r\n\r\n")
        .unwrap();
    assert_eq!(
        server.join().unwrap(),
        Err(Error::Handshake(HandshakeError::MethodNotAllowed))
    );
    assert!(raw
        .read_to_end()
        .starts_with(b"HTTP/1.1 405 Method Not Allowed\r\nAllow: GET\r\n"));
}

#[test]
fn buffers_below_the_minimum_are_refused() {
    let (server_end, _client) = common::pipe(64);
    let (mut rx, mut tx) = ([0u8; 64], [0u8; 256]);
    assert!(matches!(
        WebSocket::accept(server_end, &mut rx, &mut tx),
        Err(Error::BufferTooSmall)
    ));
}

//! The reference echo server over real loopback TCP, with tungstenite as the independent client.

mod common;

use common::*;
use std::io::Write;
use std::time::Duration;
use tungstenite::Message as T;
use ws_server::Config;

#[test]
fn echoes_text_and_binary_of_every_length_class() {
    let server = start(Config::default());
    let mut ws = client(server.addr);
    for len in [0usize, 1, 125, 126, 65535, 65536, 16 << 20] {
        let bin: Vec<u8> = (0..len).map(|i| (i * 31 % 251) as u8).collect();
        ws.send(T::binary(bin.clone())).unwrap();
        assert_eq!(ws.read().unwrap(), T::binary(bin), "binary of {len} bytes");
        let text: String = (0..len).map(|i| (b'a' + (i % 26) as u8) as char).collect();
        ws.send(T::text(text.clone())).unwrap();
        assert_eq!(ws.read().unwrap(), T::text(text), "text of {len} bytes");
    }
    ws.send(T::text("héllo wörld ✓")).unwrap();
    assert_eq!(ws.read().unwrap(), T::text("héllo wörld ✓"));
    ws.close(None).unwrap();
    loop {
        match ws.read() {
            Ok(T::Close(Some(f))) => assert_eq!(u16::from(f.code), 1000),
            Ok(_) => {}
            Err(tungstenite::Error::ConnectionClosed) => break,
            Err(e) => panic!("{e}"),
        }
    }
}

#[test]
fn handshake_and_frames_sent_one_byte_per_write() {
    let server = start(Config::default());
    let mut s = tcp(server.addr);
    for b in upgrade_request("/one/byte").as_bytes() {
        s.write_all(&[*b]).unwrap();
        s.flush().unwrap();
    }
    let head = read_head(&mut s);
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    let mut bytes = frame(true, 1, b"trickled");
    bytes.extend(frame(true, 2, &vec![7u8; 300]));
    for b in &bytes {
        s.write_all(&[*b]).unwrap();
    }
    assert_eq!(read_frame(&mut s), (0x81, b"trickled".to_vec()));
    assert_eq!(read_frame(&mut s), (0x82, vec![7u8; 300]));
    s.write_all(&close_frame(1000, b"")).unwrap();
    assert_eq!(read_close(&mut s), Some(1000));
    assert_closed_within(&mut s, Duration::from_secs(2));
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
        assert_eq!(
            read_frame(&mut s),
            (0x81, format!("message {i}").into_bytes())
        );
    }
    assert_echo_works(server.addr);
}

#[test]
fn fragmented_message_with_a_ping_between_fragments() {
    let server = start(Config::default());
    let mut s = raw(server.addr);
    let mut bytes = frame(false, 1, b"Hel");
    bytes.extend(frame(true, 9, b"are you there"));
    bytes.extend(frame(false, 0, b"lo, "));
    bytes.extend(frame(true, 0, b"world"));
    s.write_all(&bytes).unwrap();
    assert_eq!(read_frame(&mut s), (0x8a, b"are you there".to_vec()));
    // Fragmented input is echoed as one message.
    assert_eq!(read_frame(&mut s), (0x81, b"Hello, world".to_vec()));
    // Large fragmented binary (bigger than the read buffer).
    let big: Vec<u8> = (0..200_000u32).map(|i| i as u8).collect();
    let mut bytes = Vec::new();
    for (i, chunk) in big.chunks(50_000).enumerate() {
        let op = if i == 0 { 2 } else { 0 };
        bytes.extend(frame(i == 3, op, chunk));
    }
    s.write_all(&bytes).unwrap();
    assert_eq!(read_frame(&mut s), (0x82, big));
}

#[test]
fn unsolicited_pong_is_ignored_and_ping_payload_echoed() {
    let server = start(Config::default());
    let mut s = raw(server.addr);
    let mut bytes = frame(true, 0xA, b"unsolicited");
    bytes.extend(frame(true, 9, &[0xffu8; 125]));
    bytes.extend(frame(true, 1, b"after"));
    s.write_all(&bytes).unwrap();
    assert_eq!(read_frame(&mut s), (0x8a, vec![0xff; 125]));
    assert_eq!(read_frame(&mut s), (0x81, b"after".to_vec()));
}

#[test]
fn echo_server_runs_on_smol() {
    let server = smol::block_on(ws_server::Server::bind("127.0.0.1:0", Config::default()))
        .unwrap()
        .with_spawner(|f| smol::spawn(f).detach());
    let addr = server.local_addr();
    let handle = server.shutdown_handle();
    let th = std::thread::spawn(move || smol::block_on(server.serve(ws_server::echo_handler())));
    let mut ws = client(addr);
    ws.send(T::text("on smol")).unwrap();
    assert_eq!(ws.read().unwrap(), T::text("on smol"));
    handle.shutdown();
    match ws.read().unwrap() {
        T::Close(Some(f)) => assert_eq!(u16::from(f.code), 1001),
        other => panic!("expected close, got {other:?}"),
    }
    while ws.read().is_ok() {}
    th.join().unwrap().unwrap();
}

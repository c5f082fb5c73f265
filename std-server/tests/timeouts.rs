//! Handshake timeout, close timeout, idle ping and pong timeout, with short configured timeouts.

mod common;

use common::*;
use std::io::{Read, Write};
use std::time::{Duration, Instant};
use ws_server::Config;

#[test]
fn silent_client_is_dropped_after_the_handshake_timeout() {
    let server = start(short_timeouts());
    let mut s = tcp(server.addr);
    let took = assert_closed_within(&mut s, Duration::from_secs(3));
    assert!(
        took >= Duration::from_millis(250),
        "dropped too early: {took:?}"
    );
    assert_echo_works(server.addr);
}

#[test]
fn trickling_client_is_dropped_after_the_handshake_timeout() {
    let server = start(short_timeouts());
    let mut s = tcp(server.addr);
    let start = Instant::now();
    let request = upgrade_request("/");
    let mut dropped = false;
    for b in request.as_bytes() {
        if s.write_all(&[*b]).is_err() {
            dropped = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
        if start.elapsed() > Duration::from_secs(3) {
            break;
        }
    }
    if !dropped {
        assert_closed_within(&mut s, Duration::from_secs(3));
    }
    let took = start.elapsed();
    assert!(
        took < Duration::from_secs(3),
        "trickling client kept for {took:?}"
    );
    assert_echo_works(server.addr);
}

#[test]
fn client_that_never_answers_our_close_is_dropped_after_the_close_timeout() {
    // The application closes first (1000) and waits for the peer's close.
    let server = start_with(short_timeouts(), |_req: ws_server::Request| async {
        ws_server::Reply::Upgrade(ws_server::Upgrade::new(
            |mut ws: ws_server::WebSocket| async move {
                let _ = ws.close(ws_server::CloseCode::NORMAL, "bye").await;
                assert_eq!(ws.close_info().map(|(c, _)| c.0), Some(1000));
            },
        ))
    });
    let mut s = raw(server.addr);
    assert_eq!(read_close(&mut s), Some(1000));
    let took = assert_closed_within(&mut s, Duration::from_secs(3));
    assert!(
        took >= Duration::from_millis(200),
        "dropped before the close timeout: {took:?}"
    );
}

#[test]
fn after_a_protocol_error_the_server_sends_its_close_then_fin() {
    let server = start(short_timeouts());
    let mut s = raw(server.addr);
    s.write_all(&frame(true, 3, b"")).unwrap();
    assert_eq!(read_close(&mut s), Some(1002));
    // No need to answer: the server has failed the connection and closes TCP first.
    let took = assert_closed_within(&mut s, Duration::from_secs(3));
    assert!(took < Duration::from_millis(200), "FIN came after {took:?}");
    assert_echo_works(server.addr);
}

#[test]
fn client_that_sends_close_and_never_reads_is_closed_promptly() {
    let server = start(short_timeouts());
    let mut s = raw(server.addr);
    s.write_all(&close_frame(1000, b"bye")).unwrap();
    // The server echoes and closes TCP first without waiting for anything.
    std::thread::sleep(Duration::from_millis(100));
    let mut all = Vec::new();
    s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    s.read_to_end(&mut all).unwrap();
    assert_eq!(all, vec![0x88, 0x02, 0x03, 0xe8]);
    assert_echo_works(server.addr);
}

#[test]
fn idle_connection_is_pinged_and_closed_1011_without_pong() {
    let config = Config {
        idle_ping: Duration::from_millis(200),
        pong_timeout: Duration::from_millis(200),
        ..short_timeouts()
    };
    let server = start(config);
    let mut s = raw(server.addr);
    let t = Instant::now();
    let (b0, _) = read_frame(&mut s);
    assert_eq!(b0, 0x89, "expected a ping");
    assert!(t.elapsed() >= Duration::from_millis(150));
    assert_eq!(read_close(&mut s), Some(1011));
    assert_closed_within(&mut s, Duration::from_secs(3));
    assert_echo_works(server.addr);
}

#[test]
fn unanswered_ping_drops_the_transport_right_after_the_1011() {
    // With a long close timeout: the server must not wait for the close of a peer that stopped
    // answering pings.
    let config = Config {
        idle_ping: Duration::from_millis(200),
        pong_timeout: Duration::from_millis(200),
        close_timeout: Duration::from_secs(30),
        ..short_timeouts()
    };
    let server = start(config);
    let mut s = raw(server.addr);
    let (b0, _) = read_frame(&mut s);
    assert_eq!(b0, 0x89, "expected a ping");
    assert_eq!(read_close(&mut s), Some(1011));
    assert_closed_within(&mut s, Duration::from_secs(1));
}

#[test]
fn answered_pings_keep_the_connection_open() {
    let config = Config {
        idle_ping: Duration::from_millis(150),
        pong_timeout: Duration::from_millis(300),
        ..short_timeouts()
    };
    let server = start(config);
    let mut s = raw(server.addr);
    for _ in 0..3 {
        let (b0, p) = read_frame(&mut s);
        assert_eq!(b0, 0x89, "expected a ping");
        s.write_all(&frame(true, 0xA, &p)).unwrap();
    }
    s.write_all(&frame(true, 1, b"still here")).unwrap();
    let (b0, p) = loop {
        let f = read_frame(&mut s);
        if f.0 != 0x89 {
            break f;
        }
        s.write_all(&frame(true, 0xA, &f.1)).unwrap();
    };
    assert_eq!((b0, p.as_slice()), (0x81, &b"still here"[..]));
}

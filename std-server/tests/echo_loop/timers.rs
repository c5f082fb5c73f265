//! Timers: handshake timeout (silent, incomplete and trickling clients), idle pings and their
//! pong timeout, and an upgraded connection outliving the handshake timeout.

use crate::common::{
    assert_closed_within, assert_echo_works, assert_round_trip, frame, raw, read_answering_pings,
    read_close, read_frame, read_until_closed, tcp, trickle, upgrade_request,
};
use crate::loop_engine::start;
use crate::timer_config;
use std::io::Write;
use std::net::TcpStream;
use std::time::Duration;
use ws_server::Config;

/// [`timer_config`] with idle pings every `idle_ms` milliseconds and `pong_timeout`.
fn pinging(idle_ms: u64, pong_timeout: Duration) -> Config {
    Config {
        idle_ping: Duration::from_millis(idle_ms),
        pong_timeout,
        ..timer_config()
    }
}

/// Reads the next frame of `what`, which must be a ping, and answers it.
fn answer_ping(s: &mut TcpStream, what: &str) {
    let (b0, p) = read_frame(s);
    assert_eq!(b0, 0x89, "{what}: expected a ping");
    s.write_all(&frame(true, 0xA, &p)).unwrap();
}

#[test]
fn silent_and_incomplete_handshakes_are_dropped_after_the_handshake_timeout() {
    let server = start(timer_config());
    // 100 silent connections and 100 that send half a request: every deadline is swept.
    let mut silent: Vec<TcpStream> = (0..100).map(|_| tcp(server.addr)).collect();
    let request = upgrade_request("/");
    let mut half: Vec<TcpStream> = (0..100)
        .map(|_| {
            let mut s = tcp(server.addr);
            s.write_all(&request.as_bytes()[..request.len() / 2])
                .unwrap();
            s
        })
        .collect();
    for s in &mut silent {
        assert_closed_within(s, Duration::from_secs(5));
    }
    for s in &mut half {
        // EOF with nothing (or at most an error response): never a 101.
        let rest = read_until_closed(s);
        assert!(!rest.starts_with(b"HTTP/1.1 101"), "{rest:?}");
    }
    assert_echo_works(server.addr);
}

#[test]
fn trickling_client_is_dropped_after_the_handshake_timeout() {
    let server = start(timer_config());
    let mut s = tcp(server.addr);
    // 50 ms per byte: the request would take about 8 s to arrive.
    let request = upgrade_request("/");
    let (pause, limit) = (Duration::from_millis(50), Duration::from_secs(5));
    if !trickle(&mut s, request.as_bytes(), pause, limit) {
        assert_closed_within(&mut s, Duration::from_millis(100));
    }
    assert_echo_works(server.addr);
}

#[test]
fn answered_pings_keep_an_idle_connection_open() {
    // A pong timeout long enough that a loaded machine answers in time.
    let server = start(pinging(150, Duration::from_secs(3)));
    let mut s = raw(server.addr);
    for _ in 0..3 {
        answer_ping(&mut s, "the idle connection");
    }
    s.write_all(&frame(true, 1, b"still here")).unwrap();
    let (b0, p) = read_answering_pings(&mut s);
    assert_eq!((b0, p.as_slice()), (0x81, &b"still here"[..]));
}

#[test]
fn every_idle_connection_of_many_is_pinged() {
    let server = start(pinging(200, Duration::from_secs(3)));
    let mut conns: Vec<TcpStream> = (0..200).map(|_| raw(server.addr)).collect();
    for (i, s) in conns.iter_mut().enumerate() {
        answer_ping(s, &format!("connection {i}"));
    }
    for (i, s) in conns.iter_mut().enumerate() {
        s.write_all(&frame(true, 1, format!("{i}").as_bytes()))
            .unwrap();
        let echo = read_answering_pings(s);
        assert_eq!(echo, (0x81, format!("{i}").into_bytes()));
    }
}

#[test]
fn an_upgraded_connection_outlives_the_handshake_timeout() {
    let config = Config {
        handshake_timeout: Duration::from_millis(100),
        ..Config::default()
    };
    let server = start(config);
    let mut s = raw(server.addr);
    std::thread::sleep(Duration::from_millis(600));
    assert_round_trip(&mut s, 1, b"later");
}

#[test]
fn unanswered_ping_gets_1011_and_tcp_dropped_without_the_close_timeout() {
    let config = Config {
        close_timeout: Duration::from_secs(30),
        ..pinging(200, Duration::from_millis(200))
    };
    let server = start(config);
    let mut s = raw(server.addr);
    let (b0, _) = read_frame(&mut s);
    assert_eq!(b0, 0x89, "expected a ping");
    assert_eq!(read_close(&mut s), Some(1011));
    assert_closed_within(&mut s, Duration::from_secs(5));
    assert_echo_works(server.addr);
}

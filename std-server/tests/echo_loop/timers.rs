//! Timers: handshake timeout (silent, incomplete and trickling clients), idle pings and their
//! pong timeout, and an upgraded connection outliving the handshake timeout.

use crate::common::{
    assert_closed_within, assert_echo_works, frame, raw, read_answering_pings, read_close,
    read_frame, read_until_closed, tcp, upgrade_request,
};
use crate::loop_engine::start;
use crate::timer_config;
use std::io::Write;
use std::net::TcpStream;
use std::time::{Duration, Instant};
use ws_server::Config;

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
    let start_at = Instant::now();
    let mut dropped = false;
    // 50 ms per byte: the request would take about 8 s to arrive.
    for b in upgrade_request("/").as_bytes() {
        if s.write_all(&[*b]).is_err() {
            dropped = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
        if start_at.elapsed() > Duration::from_secs(5) {
            break;
        }
    }
    if !dropped {
        assert_closed_within(&mut s, Duration::from_millis(100));
    }
    assert_echo_works(server.addr);
}

#[test]
fn answered_pings_keep_an_idle_connection_open() {
    let config = Config {
        idle_ping: Duration::from_millis(150),
        // Long enough that a loaded machine answers in time.
        pong_timeout: Duration::from_secs(3),
        ..timer_config()
    };
    let server = start(config);
    let mut s = raw(server.addr);
    for _ in 0..3 {
        let (b0, p) = read_frame(&mut s);
        assert_eq!(b0, 0x89, "expected a ping");
        s.write_all(&frame(true, 0xA, &p)).unwrap();
    }
    s.write_all(&frame(true, 1, b"still here")).unwrap();
    let (b0, p) = read_answering_pings(&mut s);
    assert_eq!((b0, p.as_slice()), (0x81, &b"still here"[..]));
}

#[test]
fn every_idle_connection_of_many_is_pinged() {
    let config = Config {
        idle_ping: Duration::from_millis(200),
        pong_timeout: Duration::from_secs(3),
        ..timer_config()
    };
    let server = start(config);
    let mut conns: Vec<TcpStream> = (0..200).map(|_| raw(server.addr)).collect();
    for (i, s) in conns.iter_mut().enumerate() {
        let (b0, p) = read_frame(s);
        assert_eq!(b0, 0x89, "connection {i}: expected a ping");
        s.write_all(&frame(true, 0xA, &p)).unwrap();
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
    s.write_all(&frame(true, 1, b"later")).unwrap();
    assert_eq!(read_frame(&mut s), (0x81, b"later".to_vec()));
}

#[test]
fn unanswered_ping_gets_1011_and_tcp_dropped_without_the_close_timeout() {
    let config = Config {
        idle_ping: Duration::from_millis(200),
        pong_timeout: Duration::from_millis(200),
        close_timeout: Duration::from_secs(30),
        ..timer_config()
    };
    let server = start(config);
    let mut s = raw(server.addr);
    let (b0, _) = read_frame(&mut s);
    assert_eq!(b0, 0x89, "expected a ping");
    assert_eq!(read_close(&mut s), Some(1011));
    assert_closed_within(&mut s, Duration::from_secs(5));
    assert_echo_works(server.addr);
}

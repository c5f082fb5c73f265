//! Many connections: a thousand at once, partial frames of fifty interleaved through the shared
//! read buffer, clients vanishing mid-frame, and churn that frees and reuses slots.

use crate::common::{
    assert_echo_works, assert_round_trip, close_frame, frame, raw, read_close, read_frame,
    read_head, tcp, upgrade_request,
};
use crate::loop_engine::start;
use crate::{limited_to, upgrade_when_free};
use std::io::Write;
use std::net::TcpStream;
use std::time::Duration;
use ws_server::Config;

#[test]
fn thousand_concurrent_connections_each_get_their_echo() {
    let server = start(Config::default());
    let mut conns: Vec<TcpStream> = (0..1000)
        .map(|i| {
            let mut s = tcp(server.addr);
            s.write_all(upgrade_request(&format!("/c/{i}")).as_bytes())
                .unwrap();
            s
        })
        .collect();
    for (i, s) in conns.iter_mut().enumerate() {
        let head = read_head(s);
        assert!(head.starts_with("HTTP/1.1 101"), "connection {i}: {head}");
    }
    // Every connection is open at once; each sends, then each reads its own echo.
    for (i, s) in conns.iter_mut().enumerate() {
        s.write_all(&frame(true, 1, format!("conn {i}").as_bytes()))
            .unwrap();
    }
    for (i, s) in conns.iter_mut().enumerate() {
        assert_eq!(read_frame(s), (0x81, format!("conn {i}").into_bytes()));
    }
    for s in &mut conns {
        s.write_all(&close_frame(1000, b"")).unwrap();
    }
    for s in &mut conns {
        assert_eq!(read_close(s), Some(1000));
    }
}

#[test]
fn partial_frames_of_many_connections_interleave_without_mixing() {
    let server = start(Config::default());
    let mut conns: Vec<TcpStream> = (0..50).map(|_| raw(server.addr)).collect();
    // Each connection's message (text with 2- and 3-byte characters for the odd ones) is cut
    // inside the header, inside characters and across the read buffer, and the pieces of all
    // connections are sent round-robin: the engine's shared read buffer serves them in turn.
    let messages: Vec<(u8, Vec<u8>)> = (0..50usize)
        .map(|i| {
            if i % 2 == 0 {
                let body = (0..300_000 + i).map(|j| (j * (i + 1)) as u8).collect();
                (0x82, body)
            } else {
                (0x81, format!("ü✓{i}").repeat(60_000 + i).into_bytes())
            }
        })
        .collect();
    let wires: Vec<Vec<u8>> = messages
        .iter()
        .map(|(b0, body)| frame(true, b0 & 0x0f, body))
        .collect();
    let cuts = [0usize, 1, 7, 1000, 50_001, 262_145];
    for round in 0..cuts.len() {
        for (s, wire) in conns.iter_mut().zip(&wires) {
            let from = cuts[round];
            let to = cuts.get(round + 1).copied().unwrap_or(wire.len());
            s.write_all(&wire[from..to]).unwrap();
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    for (i, (s, (b0, body))) in conns.iter_mut().zip(&messages).enumerate() {
        let (got_b0, got) = read_frame(s);
        assert!(
            got_b0 == *b0 && got == *body,
            "connection {i}: {got_b0:#x} with {} bytes",
            got.len()
        );
    }
    // Then 100 pipelined small messages on each, all connections writing before any reads.
    for (i, s) in conns.iter_mut().enumerate() {
        let burst: Vec<u8> = (0..100)
            .flat_map(|k| frame(true, 1, format!("{i}:{k}").as_bytes()))
            .collect();
        s.write_all(&burst).unwrap();
    }
    for (i, s) in conns.iter_mut().enumerate() {
        for k in 0..100 {
            assert_eq!(read_frame(s), (0x81, format!("{i}:{k}").into_bytes()));
        }
    }
}

#[test]
fn clients_that_vanish_mid_frame_free_their_slots() {
    let server = start(limited_to(2, Config::default()));
    for _ in 0..3 {
        // Half a frame, then the client closes its socket.
        for _ in 0..2 {
            let mut s = raw(server.addr);
            s.write_all(&frame(true, 2, &[5u8; 1000])[..500]).unwrap();
        }
        let what = "the slots of vanished clients were not freed within 5 s";
        drop(upgrade_when_free(server.addr, |_| {}, what));
    }
}

#[test]
fn connection_churn_reuses_slots_cleanly() {
    let server = start(Config::default());
    let addr = server.addr;
    // 4 threads x 250 short connections; every third one vanishes without a close, so slots
    // are freed and reused while events for the old sockets may still be in flight.
    let threads: Vec<_> = (0..4)
        .map(|t| {
            std::thread::spawn(move || {
                for k in 0..250 {
                    let mut s = raw(addr);
                    let msg = format!("thread {t} connection {k}");
                    assert_round_trip(&mut s, 1, msg.as_bytes());
                    if k % 3 != 0 {
                        s.write_all(&close_frame(1000, b"")).unwrap();
                        assert_eq!(read_close(&mut s), Some(1000));
                    }
                }
            })
        })
        .collect();
    for th in threads {
        th.join().expect("a churn thread failed");
    }
    assert_echo_works(addr);
}

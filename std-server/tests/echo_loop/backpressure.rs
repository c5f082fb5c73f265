//! Backpressure and fairness: a slow reader gets every byte, a client that floods without
//! reading is paused with bounded memory, idle connections hold no read buffer, and a flooding
//! peer does not starve the others on the engine's one thread.

use crate::common::{assert_echo_works, client, frame, raw, read_frame, rss};
use crate::loop_engine::{exclusive, start, start_unguarded};
use crate::MIB;
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};
use tungstenite::Message as T;
use ws_server::Config;

#[test]
fn slow_reader_gets_every_byte_of_big_echoes() {
    let server = start(Config::default());
    let mut s = raw(server.addr);
    let bodies: Vec<Vec<u8>> = [2 * MIB, 3 * MIB, 100, 40_000, 2 * MIB]
        .iter()
        .enumerate()
        .map(|(k, n)| (0..*n).map(|i| (i % 199) as u8 ^ k as u8).collect())
        .collect();
    let count = bodies.len();
    let mut reader = s.try_clone().unwrap();
    // The reader takes one frame at a time with pauses: the engine's writes stop and resume.
    let slow = std::thread::spawn(move || {
        let mut got = Vec::new();
        while got.len() < count {
            got.push(read_frame(&mut reader));
            std::thread::sleep(Duration::from_millis(1));
        }
        got
    });
    for body in &bodies {
        s.write_all(&frame(true, 2, body)).unwrap();
    }
    let got = slow.join().unwrap();
    for (n, ((b0, echo), body)) in got.iter().zip(&bodies).enumerate() {
        assert!(
            *b0 == 0x82 && echo == body,
            "echo {n} differs ({} bytes, want {})",
            echo.len(),
            body.len()
        );
    }
}

#[test]
fn flooding_client_that_never_reads_is_paused_and_memory_stays_bounded() {
    let _only_me = exclusive();
    let server = start_unguarded(Config::default());
    assert_echo_works(server.addr);
    let before = rss();
    let mut peak = before;
    let mut s = raw(server.addr);
    s.set_nonblocking(true).unwrap();
    let msg = frame(true, 2, &[0x55u8; 64 << 10]);
    let ping = frame(true, 9, b"ping flood");
    let (mut msgs, mut pings) = (0usize, 0usize);
    // The frame being written and how much of it went out.
    let mut current: (Vec<u8>, usize) = (Vec::new(), 0);
    let mut sent = 0usize;
    let mut last_progress = Instant::now();
    // Echoes and pongs pile up on the server: it must stop reading instead of buffering them.
    for round in 0usize.. {
        if sent >= 512 * MIB || last_progress.elapsed() > Duration::from_millis(500) {
            break;
        }
        if current.1 == current.0.len() {
            let data = sent % (4 * MIB) < 2 * MIB;
            if data {
                msgs += 1;
            } else {
                pings += 1;
            }
            current = (if data { msg.clone() } else { ping.clone() }, 0);
        }
        match s.write(&current.0[current.1..]) {
            Ok(n) => {
                current.1 += n;
                sent += n;
                last_progress = Instant::now();
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(1));
            }
            Err(e) => panic!("write: {e}"),
        }
        if round % 256 == 0 {
            peak = peak.max(rss());
        }
    }
    if current.1 == 0 && !current.0.is_empty() {
        // Not started: not counted.
        if current.0 == msg {
            msgs -= 1;
        } else {
            pings -= 1;
        }
        current.0.clear();
    }
    std::thread::sleep(Duration::from_millis(200));
    peak = peak.max(rss());
    let grew = peak.saturating_sub(before);
    eprintln!(
        "flood: {} MiB sent before the server stopped reading; RSS grew {} KiB",
        sent / MIB,
        grew / 1024
    );
    assert!(
        sent < 256 * MIB,
        "the server kept reading a client that never reads"
    );
    // max_outbound_bytes (1 MiB) + the read buffer (256 KiB), with room for allocator slack.
    assert!(grew < 8 * MIB, "RSS grew by {} KiB", grew / 1024);
    // Others are still served while the flooder is paused.
    assert_echo_works(server.addr);
    // Once the flooder reads, everything it sent is answered, in order.
    s.set_nonblocking(false).unwrap();
    let mut reader = s.try_clone().unwrap();
    let count = std::thread::spawn(move || {
        reader
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        let (mut m, mut p) = (0usize, 0usize);
        loop {
            match read_frame(&mut reader) {
                (0x82, body) => {
                    assert_eq!(body.len(), 64 << 10);
                    m += 1;
                }
                (0x8a, body) => {
                    assert_eq!(body, b"ping flood");
                    p += 1;
                }
                (0x81, body) => {
                    assert_eq!(body, b"done");
                    return (m, p);
                }
                (b0, body) => panic!(
                    "unexpected frame {b0:#x} {:x?} after {m} echoes and {p} pongs",
                    &body[..body.len().min(40)]
                ),
            }
        }
    });
    s.write_all(&current.0[current.1..]).unwrap();
    s.write_all(&frame(true, 1, b"done")).unwrap();
    let (echoed, pongs) = count.join().unwrap();
    assert_eq!(echoed, msgs, "binary messages echoed after the pause");
    // RFC 6455 §5.5.3 lets a pong answer only the latest of several pings.
    assert!(
        (1..=pings).contains(&pongs),
        "{pongs} pongs for {pings} pings"
    );
}

#[test]
fn idle_connections_hold_no_read_buffer() {
    let _only_me = exclusive();
    let server = start_unguarded(Config::default());
    let mut conns: Vec<TcpStream> = Vec::with_capacity(2000);
    // Warm up (the shared buffers, the slab) before measuring.
    conns.extend((0..100).map(|_| raw(server.addr)));
    let before = rss();
    conns.extend((0..1000).map(|_| raw(server.addr)));
    // Each connection has had a message echoed (through the read buffer) and is idle again;
    // half of them keep a partial frame.
    for (i, s) in conns.iter_mut().enumerate() {
        s.write_all(&frame(true, 2, &[i as u8; 1000])).unwrap();
    }
    for (i, s) in conns.iter_mut().enumerate() {
        assert_eq!(read_frame(s), (0x82, vec![i as u8; 1000]));
        if i % 2 == 0 {
            s.write_all(&frame(true, 2, &[0u8; 100])[..50]).unwrap();
        }
    }
    std::thread::sleep(Duration::from_millis(200));
    let per_conn = rss().saturating_sub(before) / 1000;
    eprintln!("idle: {per_conn} bytes of RSS per connection (server and client sides)");
    assert!(per_conn < 2048, "{per_conn} bytes per idle connection");
}

// Guards the per-connection turn budget (a connection that always has input must yield to the
// others); before 464763d, other clients waited 5-8 s per step here.
#[test]
fn flooding_peer_does_not_starve_others_on_the_one_thread() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    let server = start(Config::default());
    let addr = server.addr;
    let stop = Arc::new(AtomicBool::new(false));
    let mut flood = raw(addr);
    let mut flood_reader = flood.try_clone().unwrap();
    let stop_r = stop.clone();
    let reader = std::thread::spawn(move || {
        let mut buf = vec![0u8; 1 << 16];
        let mut total = 0usize;
        while !stop_r.load(Ordering::Relaxed) {
            match flood_reader.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => total += n,
            }
        }
        total
    });
    let pings: Vec<u8> = (0..2000).flat_map(|_| frame(true, 9, b"flood")).collect();
    let stop_w = stop.clone();
    let writer = std::thread::spawn(move || {
        let t = Instant::now();
        while !stop_w.load(Ordering::Relaxed) && t.elapsed() < Duration::from_secs(20) {
            if flood.write_all(&pings).is_err() {
                break;
            }
        }
    });
    std::thread::sleep(Duration::from_millis(200));
    let t = Instant::now();
    // The slowest client: (handshake + echo, handshake alone).
    let mut worst = (Duration::ZERO, Duration::ZERO);
    for i in 0..20 {
        let t0 = Instant::now();
        let mut ws = client(addr);
        let handshake = t0.elapsed();
        ws.send(T::text(format!("hello {i}"))).unwrap();
        assert_eq!(ws.read().unwrap(), T::text(format!("hello {i}")));
        worst = worst.max((t0.elapsed(), handshake));
    }
    let took = t.elapsed();
    stop.store(true, Ordering::Relaxed);
    writer.join().unwrap();
    let pongs = reader.join().unwrap();
    eprintln!(
        "20 echo clients served in {took:?} (slowest: {:?}, of which handshake {:?}) while \
         the flooder got {} KiB of pongs",
        worst.0,
        worst.1,
        pongs / 1024
    );
    assert!(pongs > 0, "the flooder was not served at all");
    assert!(
        took < Duration::from_secs(10),
        "echo clients starved: {took:?}"
    );
}

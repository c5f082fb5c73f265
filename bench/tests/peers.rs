//! The generator against the real peer echo servers (spawned binaries) over loopback.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command};
use std::time::{Duration, Instant};
use ws_bench::load::{self, LoadConfig};
use ws_bench::report::Record;
use ws_bench::room::{self, RoomConfig, RoomResult, StallEnd};

/// A spawned echo server, killed (by its own pid) when dropped.
struct Server(Child, SocketAddr);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn spawn(bin: &str) -> Server {
    let addr = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let child = Command::new(bin)
        .args(["--addr", &addr.to_string()])
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(addr).is_err() {
        assert!(Instant::now() < deadline, "{bin} did not start listening");
        std::thread::sleep(Duration::from_millis(20));
    }
    Server(child, addr)
}

fn load(s: &Server, conns: usize, size: usize, window: usize) -> load::LoadResult {
    let cfg = LoadConfig {
        addr: s.1,
        conns,
        size,
        window,
        warmup: Duration::from_millis(50),
        duration: Duration::from_millis(300),
        server_pid: Some(s.0.id()),
    };
    load::run(&cfg).unwrap()
}

fn check_echo_scenarios(bin: &str) {
    let s = spawn(bin);
    for (conns, size, window) in [(8, 16, 4), (2, 70_000, 2), (1, 1 << 20, 1)] {
        let r = load(&s, conns, size, window);
        assert!(r.messages > 0, "{bin}: {conns}x{size}: no echo");
        assert!(
            r.latency_ns.len() == r.messages,
            "one latency sample per message"
        );
        assert!(r.server_cpu_s.is_some());
    }
    let r =
        ws_bench::idle::run(s.1, 50, s.0.id(), Duration::from_millis(50), Duration::ZERO).unwrap();
    assert_eq!(r.conns, 50);
    assert!(r.rss_before_kib > 0 && r.rss_after_kib > 0);
}

#[test]
fn drives_fastwebsockets() {
    check_echo_scenarios(env!("CARGO_BIN_EXE_fws-echo"));
}

#[test]
fn drives_tokio_tungstenite() {
    check_echo_scenarios(env!("CARGO_BIN_EXE_tt-echo"));
}

#[test]
fn ws_load_prints_one_json_record() {
    let s = spawn(env!("CARGO_BIN_EXE_tt-echo"));
    let out = Command::new(env!("CARGO_BIN_EXE_ws-load"))
        .args([
            "--addr",
            &s.1.to_string(),
            "--scenario",
            "rtt",
            "--warmup",
            "0.05",
        ])
        .args(["--duration", "0.2", "--label", "tokio-tungstenite"])
        .args(["--server-pid", &s.0.id().to_string()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rec: Record = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((rec.scenario.as_str(), rec.conns, rec.size), ("rtt", 1, 16));
    assert!(rec.msgs_per_s > 0.0 && rec.p50_us > 0.0 && rec.p99_us >= rec.p50_us);
}

#[test]
fn ws_load_fails_without_a_server() {
    let addr = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_ws-load"))
        .args(["--addr", &addr.to_string(), "--duration", "0.1"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());
}

#[test]
fn a_silent_server_fails_the_handshake_instead_of_hanging() {
    // Accepts (the kernel completes the TCP handshake) and never answers.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let mut s = TcpStream::connect(addr).unwrap();
    let start = Instant::now();
    let r = ws_bench::handshake::client_handshake_within(&mut s, addr, Duration::from_millis(200));
    assert!(r.is_err());
    assert!(start.elapsed() < Duration::from_secs(5));
    drop(listener);
}

fn room(addr: SocketAddr, pid: Option<u32>, members: usize, size: usize) -> RoomResult {
    let cfg = RoomConfig {
        server_pid: pid,
        ..room_config(addr, members, size)
    };
    room::run(&cfg).unwrap()
}

fn check_room(bin: &str) {
    let s = spawn(bin);
    for size in [16, 20_000] {
        let r = room(s.1, Some(s.0.id()), 10, size);
        assert_eq!((r.closed, r.missing), (0, 0), "{bin} x {size} B");
        assert!(r.delivered > 0, "{bin} x {size} B: nothing delivered");
        assert!(r.deliveries >= r.delivered);
        assert_eq!(r.latency_ns.len(), r.delivered, "one latency per message");
        assert!(r.server_cpu_s.is_some() && r.rss_before_kib.is_some());
        assert!(
            r.peak_rss_kib >= r.rss_before_kib,
            "VmHWM is at least VmRSS"
        );
    }
}

#[test]
fn fastwebsockets_room_delivers_every_message_in_order() {
    check_room(env!("CARGO_BIN_EXE_fws-room"));
}

#[test]
fn tokio_tungstenite_room_delivers_every_message_in_order() {
    check_room(env!("CARGO_BIN_EXE_tt-room"));
}

#[test]
fn a_stalled_member_is_not_awaited_and_its_unbounded_queue_is_read_back() {
    // tt-room queues without bound: the stalled member, reading at last, gets every message.
    let s = spawn(env!("CARGO_BIN_EXE_tt-room"));
    let cfg = RoomConfig {
        stalled: 1,
        server_pid: Some(s.0.id()),
        ..room_config(s.1, 10, 16)
    };
    let r = room::run(&cfg).unwrap();
    assert_eq!((r.closed, r.missing), (0, 0), "a reading member was lost");
    assert!(r.delivered > 0);
    let [stalled] = r.stalled[..] else {
        panic!("{:?}", r.stalled)
    };
    assert_eq!(stalled.end, StallEnd::Open);
    assert_eq!(stalled.skipped, 0);
    assert!(stalled.received >= r.published, "{stalled:?}");
    assert_eq!(r.released, [], "tt-room closed a connection");
}

#[test]
fn a_stalled_member_closed_by_the_server_reports_the_code_and_when() {
    // The thread room below sends member 2 (the stalled one) a 1008 in place of message 50.
    let cfg = RoomConfig {
        stalled: 1,
        duration: Duration::from_millis(500),
        ..room_config(thread_room(3, Cut::Close(2, 50)), 3, 16)
    };
    let r = room::run(&cfg).unwrap();
    assert_eq!((r.closed, r.missing), (0, 0));
    let [stalled] = r.stalled[..] else {
        panic!("{:?}", r.stalled)
    };
    assert!(
        matches!(
            stalled.end,
            StallEnd::Closed {
                code: Some(1008),
                after: Some(_)
            }
        ),
        "{stalled:?}"
    );
    // Probes before it stalled are not counted: of messages 0..50, those after the join.
    assert!(stalled.received > 0 && stalled.received < 50, "{stalled:?}");
    assert_eq!(stalled.skipped, 0);
}

fn room_config(addr: SocketAddr, members: usize, size: usize) -> RoomConfig {
    RoomConfig {
        addr,
        members,
        size,
        window: 4,
        rate: None,
        warmup: Duration::from_millis(50),
        duration: Duration::from_millis(300),
        server_pid: None,
        stall: Duration::from_secs(2),
        stalled: 0,
    }
}

/// What [`thread_room`] does to one member.
#[derive(Clone, Copy)]
enum Cut {
    /// Leaves out this message for this member.
    Drop(usize, u64),
    /// Sends this member a close 1008 in place of this message, and nothing after.
    Close(usize, u64),
}

/// A room on plain threads that leaves out message `drop_seq` for member 1 only: the generator
/// must lose exactly that member.
fn lossy_room(members: usize, drop_seq: u64) -> SocketAddr {
    thread_room(members, Cut::Drop(1, drop_seq))
}

/// A room on plain threads, member 0 publishing, doing `cut` to one member.
fn thread_room(members: usize, cut: Cut) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut streams = Vec::new();
        for _ in 0..members {
            let (mut s, _) = listener.accept().unwrap();
            let mut head = Vec::new();
            let mut b = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") {
                s.read_exact(&mut b).unwrap();
                head.push(b[0]);
            }
            let accept = ws_bench::handshake::ACCEPT;
            write!(
                s,
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\
                 Connection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"
            )
            .unwrap();
            streams.push(Some(s));
        }
        // Member 0 publishes 16-byte binary frames: 2 header bytes, the key, the payload.
        let mut publisher = streams[0].as_ref().unwrap().try_clone().unwrap();
        let mut frame = [0u8; 22];
        while publisher.read_exact(&mut frame).is_ok() {
            let mut out = vec![0x82, 16];
            out.extend((0..16).map(|i| frame[6 + i] ^ frame[2 + i % 4]));
            let seq = u64::from_le_bytes(out[2..10].try_into().unwrap());
            for (i, slot) in streams.iter_mut().enumerate() {
                match cut {
                    Cut::Drop(m, at) if (i, seq) == (m, at) => continue,
                    Cut::Close(m, at) if i == m && seq >= at => {
                        if seq == at {
                            let _ = slot.as_mut().map(|s| s.write_all(&[0x88, 2, 0x03, 0xF0]));
                        }
                        continue;
                    }
                    _ => {}
                }
                // A member the generator dropped is dropped here too.
                if slot.as_mut().is_some_and(|s| s.write_all(&out).is_err()) {
                    *slot = None;
                }
            }
        }
    });
    addr
}

#[test]
fn a_member_missing_a_message_is_lost_and_the_others_go_on() {
    let r = room(lossy_room(5, 5), None, 5, 16);
    assert_eq!((r.closed, r.missing), (0, 1));
    assert!(r.delivered > 0, "the four others still get every message");
}

#[test]
fn an_echo_server_is_not_a_room() {
    // Only the publisher hears its messages: the others never join.
    let s = spawn(env!("CARGO_BIN_EXE_tt-echo"));
    let cfg = RoomConfig {
        addr: s.1,
        members: 3,
        size: 16,
        window: 1,
        rate: None,
        warmup: Duration::ZERO,
        duration: Duration::from_millis(100),
        server_pid: None,
        stall: Duration::from_millis(50),
        stalled: 0,
    };
    let e = room::run(&cfg).unwrap_err();
    assert!(e.contains("joined"), "{e}");
}

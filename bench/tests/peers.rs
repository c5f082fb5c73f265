//! The generator against the real peer echo servers (spawned binaries) over loopback.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command};
use std::time::{Duration, Instant};
use ws_bench::load::{self, LoadConfig};
use ws_bench::report::Record;

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

//! permessage-deflate interop with an independent implementation: the Python `websockets` library
//! (its own RFC 7692 code on CPython's zlib), installed by `scripts/install-pywebsockets`, as a
//! client of our echo server and as an echo server for our client. The peer script counts the
//! frames that arrive with RSV1, so both directions are proven to be compressed, not just agreed.

mod common;

use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use ws_server::{CloseCode, Config, Message};

/// The interpreter of the virtualenv made by `scripts/install-pywebsockets`.
fn python() -> PathBuf {
    let path = std::env::var_os("WS_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let home = std::env::var_os("PYWS_HOME")
                .map(PathBuf::from)
                .unwrap_or_else(|| {
                    PathBuf::from(std::env::var_os("HOME").expect("HOME"))
                        .join(".cache/ws-pywebsockets")
                });
            home.join("venv/bin/python")
        });
    assert!(
        path.exists(),
        "{} missing: run scripts/install-pywebsockets",
        path.display()
    );
    path
}

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/deflate_interop.py")
}

/// Kills the peer if a test fails before it exits.
struct Peer(Child);

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Peer {
    /// Waits up to `limit` for the peer to exit; returns its stdout and whether it succeeded.
    fn finish(mut self, limit: Duration) -> (String, bool) {
        let start = Instant::now();
        let status = loop {
            if let Some(status) = self.0.try_wait().expect("wait") {
                break status;
            }
            assert!(
                start.elapsed() < limit,
                "python peer did not finish in {limit:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        let mut out = String::new();
        if let Some(mut stdout) = self.0.stdout.take() {
            stdout.read_to_string(&mut out).expect("peer stdout");
        }
        (out, status.success())
    }
}

/// The number after `key=` in `line`.
fn count(line: &str, key: &str) -> usize {
    let at = line
        .find(key)
        .unwrap_or_else(|| panic!("{key} missing in {line:?}"))
        + key.len();
    line[at..]
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

#[test]
fn python_websockets_client_against_our_server() {
    let server = common::start(Config::default());
    let peer = Peer(
        Command::new(python())
            .arg(script())
            .arg("client")
            .arg(format!("ws://{}/", server.addr))
            .stdout(Stdio::piped())
            .spawn()
            .expect("python"),
    );
    let (out, ok) = peer.finish(Duration::from_secs(60));
    assert!(ok, "python client failed: {out}");
    let line = out
        .lines()
        .find(|l| l.starts_with("CLIENT OK"))
        .expect(&out);
    eprintln!("{line}");
    assert!(line.contains("extensions=permessage-deflate"), "{line}");
    // 100..300 000-byte texts, 100 000 zeros and the fragmented message come back compressed; the
    // short ones and the incompressible 5 000 bytes are sent plain.
    assert!(count(line, "compressed_in=") >= 6, "{line}");
    server.shutdown();
}

#[test]
fn our_client_against_python_websockets_server() {
    let mut peer = Peer(
        Command::new(python())
            .arg(script())
            .arg("server")
            .stdout(Stdio::piped())
            .spawn()
            .expect("python"),
    );
    let mut stdout = BufReader::new(peer.0.stdout.take().expect("stdout"));
    let mut first = String::new();
    stdout.read_line(&mut first).expect("port line");
    let port: u16 = first
        .trim()
        .strip_prefix("PORT ")
        .expect(&first)
        .parse()
        .unwrap();
    let texts: Vec<String> = [10usize, 200, 5000, 100_000]
        .iter()
        .map(|&n| "permessage-deflate interop ".repeat(n / 27 + 1)[..n].to_owned())
        .collect();
    async_std::task::block_on(async {
        let mut ws = ws_server::connect(&format!("ws://127.0.0.1:{port}/"))
            .await
            .expect("connect");
        assert!(ws.deflate().is_some(), "extension not negotiated");
        for t in &texts {
            ws.send(Message::Text(t.clone())).await.unwrap();
            assert_eq!(ws.recv().await, Some(Message::Text(t.clone())));
        }
        let zeros = vec![0u8; 200_000];
        ws.send(Message::Binary(zeros.clone())).await.unwrap();
        assert_eq!(ws.recv().await, Some(Message::Binary(zeros)));
        ws.close(CloseCode::NORMAL, "").await.unwrap();
        while ws.recv().await.is_some() {}
    });
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).expect("peer output");
    peer.0.stdout = None;
    let (_, ok) = peer.finish(Duration::from_secs(30));
    assert!(ok, "python server failed: {rest}");
    let line = rest
        .lines()
        .find(|l| l.starts_with("SERVER OK"))
        .expect(&rest);
    eprintln!("{line}");
    assert!(line.contains("offer=permessage-deflate"), "{line}");
    assert!(line.contains("answer=permessage-deflate"), "{line}");
    // 200, 5 000, 100 000-byte texts and the zeros were compressed by our client.
    assert!(count(line, "compressed_in=") >= 4, "{line}");
}

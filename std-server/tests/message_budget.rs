//! Memory an attacker cannot multiply: many connections each send a small compressed message
//! that inflates past the message limit, at once. The echo streams it (inflated, validated and
//! re-compressed in bounded steps) so it holds a few buffers per connection whatever the
//! message inflates to; an application that reassembles messages draws on one budget for all
//! connections, and past it the connection that would exceed it is closed with 1013 before the
//! memory is taken. Peak RSS is measured on the real process (VmHWM, reset between phases).

mod common;

use common::{frame_raw, read_close, tcp, upgrade_request};
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::time::Duration;
use ws_server::deflate::Encoder;
use ws_server::{Config, HttpResponse, Limits, MessageBudget, Reply, Request, Upgrade, WebSocket};

const MIB: usize = 1 << 20;
/// Connections sending at once.
const N: usize = 20;
/// The message limit in this test.
const LIMIT: usize = 8 * MIB;

/// A masked, compressed binary frame whose payload inflates to `LIMIT + 1 MiB` of zeros
/// (compressed in pieces, so making it does not raise this process's peak).
fn bomb() -> Vec<u8> {
    let mut enc = Encoder::new(9, 15, 8, true);
    let mut z = Vec::new();
    let piece = vec![0u8; MIB];
    let pieces = LIMIT / MIB + 1;
    for i in 0..pieces {
        enc.compress_piece(&piece, i + 1 == pieces, &mut z).unwrap();
    }
    // FIN + RSV1 + binary.
    frame_raw(0xc2, &z)
}

/// The process's peak resident set since the last reset, in bytes.
fn peak() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    let kib: usize = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kib * 1024
}

/// Resets the peak to the current resident set (Linux: clear_refs 5).
fn reset_peak() {
    std::fs::write("/proc/self/clear_refs", "5").unwrap();
}

fn config(budget: usize) -> Config {
    Config {
        limits: Limits {
            max_message_size: LIMIT as u64,
            ..Limits::DEFAULT
        },
        message_budget: MessageBudget::new(budget),
        ..Config::default()
    }
}

/// `N` clients send the bomb to `path` at once, all the first halves before any second half (so
/// every connection holds a partly inflated message at the same time); returns the close codes
/// they got.
fn attack(addr: SocketAddr, path: &str, bomb: &[u8]) -> Vec<Option<u16>> {
    let halfway = std::sync::Arc::new(std::sync::Barrier::new(N));
    let threads: Vec<_> = (0..N)
        .map(|_| {
            let bomb = bomb.to_vec();
            let path = path.to_owned();
            let halfway = halfway.clone();
            std::thread::spawn(move || {
                let mut s = tcp(addr);
                s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
                let request = upgrade_request(&path).replace(
                    "Sec-WebSocket-Version: 13\r\n",
                    "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Extensions: permessage-deflate\r\n",
                );
                s.write_all(request.as_bytes()).unwrap();
                let head = common::read_head(&mut s);
                assert!(head.contains("permessage-deflate"), "{head}");
                let (first, second) = bomb.split_at(bomb.len() / 2);
                s.write_all(first).unwrap();
                halfway.wait();
                std::thread::sleep(Duration::from_millis(300));
                // The server may have closed already (its close is read below).
                let _ = s.write_all(second);
                let code = read_close(&mut s);
                let mut rest = Vec::new();
                let _ = s.read_to_end(&mut rest);
                code
            })
        })
        .collect();
    threads.into_iter().map(|t| t.join().unwrap()).collect()
}

#[test]
fn bombs_from_many_connections_cannot_multiply_memory() {
    let bomb = bomb();
    assert!(bomb.len() < 64 << 10, "the bomb is {} bytes", bomb.len());
    let budget = 16 * MIB;
    let handler = |req: Request| async move {
        match req.path.as_str() {
            "/echo" => Reply::Upgrade(Upgrade::new(WebSocket::echo)),
            "/app" => Reply::Upgrade(Upgrade::new(|mut ws: WebSocket| async move {
                while ws.recv().await.is_some() {}
            })),
            _ => Reply::Http(HttpResponse::text(404, "")),
        }
    };
    let server = common::start_with(config(budget), handler);

    reset_peak();
    let base = peak();
    let codes = attack(server.addr, "/echo", &bomb);
    let echo_peak = peak().saturating_sub(base);
    eprintln!(
        "echo: {N} bombs of {} MiB: peak +{} KiB",
        LIMIT / MIB + 1,
        echo_peak >> 10
    );
    assert!(codes.iter().all(|c| *c == Some(1009)), "{codes:?}");
    // Streaming: a few buffers per connection (before: each reassembled its 8 MiB).
    assert!(echo_peak < 24 * MIB, "echo peak +{} MiB", echo_peak / MIB);

    reset_peak();
    let base = peak();
    let codes = attack(server.addr, "/app", &bomb);
    let app_peak = peak().saturating_sub(base);
    eprintln!(
        "app: {N} bombs, budget {} MiB: peak +{} KiB",
        budget / MIB,
        app_peak >> 10
    );
    // No message fits the budget whole: every connection is refused, none holds more than its
    // share (before: N x 8 MiB at once).
    assert!(
        codes.iter().all(|c| matches!(c, Some(1013) | Some(1009))),
        "{codes:?}"
    );
    assert!(codes.contains(&Some(1013)), "{codes:?}");
    assert!(
        app_peak < budget + 24 * MIB,
        "app peak +{} MiB with a {} MiB budget",
        app_peak / MIB,
        budget / MIB
    );
}

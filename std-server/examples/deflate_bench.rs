//! permessage-deflate benchmark: compression ratio and codec throughput for text messages with
//! the default settings (no context takeover) and with context takeover, and loopback echo
//! throughput (our client and server) with and without the extension.
//!
//! Run: `cargo run --release -p ws-server --example deflate_bench` (numbers vary with load; the
//! figures quoted in the docs came from this program).

use std::time::Instant;
use ws_core::deflate::ServerPolicy;
use ws_core::Role;
use ws_server::deflate::{DeflateConfig, Session};
use ws_server::{ClientConfig, Config, Message, Server};

/// Chat-like JSON messages, 60..300 bytes.
fn chat_corpus(n: usize) -> Vec<Vec<u8>> {
    let users = ["alice", "bob", "carol", "dave", "eve"];
    let words = [
        "hello",
        "anyone",
        "seen",
        "the",
        "new",
        "release",
        "websocket",
        "compression",
        "works",
        "great",
        "thanks",
        "see",
        "you",
        "tomorrow",
        "lunch",
        "at",
        "noon",
        "?",
        "ok",
        "sure",
    ];
    let mut x = 12345u32;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        x as usize
    };
    (0..n)
        .map(|i| {
            let text: Vec<&str> = (0..3 + next() % 40)
                .map(|_| words[next() % words.len()])
                .collect();
            format!(
                r#"{{"type":"message","room":"lobby","id":{i},"user":"{}","ts":{},"text":"{}"}}"#,
                users[next() % users.len()],
                1_700_000_000 + i * 7,
                text.join(" ")
            )
            .into_bytes()
        })
        .collect()
}

/// 16 KiB texts, each made of its own chat messages (so messages do not repeat each other).
fn large_corpus(n: usize) -> Vec<Vec<u8>> {
    let base = chat_corpus(n * 100).concat();
    base.chunks_exact(16_384)
        .take(n)
        .map(<[u8]>::to_vec)
        .collect()
}

/// (ratio, compress MB/s, inflate MB/s) for `corpus` sent server to client with `policy`.
fn codec(corpus: &[Vec<u8>], policy: ServerPolicy, level: u8) -> (f64, f64, f64) {
    let mem_level = std::env::var("MEM")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(4);
    let cfg = DeflateConfig {
        policy,
        level,
        mem_level,
        min_message_size: 0,
        ..DeflateConfig::DEFAULT
    };
    let params = cfg
        .policy
        .negotiate(["permessage-deflate; client_max_window_bits"])
        .unwrap()
        .params;
    let mut server = Session::new(params, Role::Server, &cfg);
    let mut client = Session::new(params, Role::Client, &cfg);
    let total: usize = corpus.iter().map(Vec::len).sum();
    let t = Instant::now();
    let mut wires = Vec::with_capacity(corpus.len());
    for m in corpus {
        let mut w = Vec::new();
        if !server.compress(m, &mut w).unwrap() {
            w = m.clone(); // sent plain (incompressible)
            wires.push((w, false));
            continue;
        }
        wires.push((w, true));
    }
    let ct = t.elapsed().as_secs_f64();
    let wire: usize = wires.iter().map(|(w, _)| w.len()).sum();
    let t = Instant::now();
    let mut out = Vec::new();
    for (w, compressed) in &wires {
        out.clear();
        if *compressed {
            client.inflate(w, true, &mut out, 1 << 24).unwrap();
        }
    }
    let it = t.elapsed().as_secs_f64();
    let mb = total as f64 / 1e6;
    (wire as f64 / total as f64, mb / ct, mb / it)
}

/// Messages per second echoed over loopback by our server to our client.
fn echo(corpus: &[Vec<u8>], deflate: DeflateConfig) -> (f64, bool) {
    async_std::task::block_on(async {
        let config = Config {
            deflate,
            ..Config::default()
        };
        let server = Server::bind("127.0.0.1:0", config.clone()).await.unwrap();
        let addr = server.local_addr();
        let handle = server.shutdown_handle();
        let task = async_std::task::spawn(server.serve(ws_server::echo_handler()));
        let client_cfg = ClientConfig {
            connection: config.connection(),
            ..ClientConfig::default()
        };
        let mut ws = ws_server::connect_with(&format!("ws://{addr}/"), client_cfg)
            .await
            .unwrap();
        let negotiated = ws.deflate().is_some();
        let t = Instant::now();
        for m in corpus {
            let text = String::from_utf8(m.clone()).unwrap();
            ws.send(Message::Text(text)).await.unwrap();
            assert!(matches!(ws.recv().await, Some(Message::Text(_))));
        }
        let rate = corpus.len() as f64 / t.elapsed().as_secs_f64();
        handle.shutdown();
        let _ = task.await;
        (rate, negotiated)
    })
}

fn main() {
    let chat = chat_corpus(5000);
    let large = large_corpus(300);
    let defaults = DeflateConfig::DEFAULT.policy;
    let takeover = ServerPolicy {
        server_no_context_takeover: false,
        client_no_context_takeover: false,
        ..defaults
    };
    println!("| corpus | settings | level | wire/original | compress MB/s | inflate MB/s |");
    println!("|---|---|--:|--:|--:|--:|");
    for (name, corpus) in [("chat JSON 60-300 B", &chat), ("text 16 KiB", &large)] {
        for (label, policy) in [
            ("no context takeover (default)", defaults),
            ("context takeover", takeover),
        ] {
            for level in [1u8, 6] {
                let (ratio, c, i) = codec(corpus, policy, level);
                println!("| {name} | {label} | {level} | {ratio:.3} | {c:.1} | {i:.1} |");
            }
        }
    }
    println!();
    println!("| corpus | extension | round trips/s (loopback, one client) |");
    println!("|---|---|--:|");
    for (name, corpus) in [
        ("chat JSON 60-300 B", &chat[..2000]),
        ("text 16 KiB", &large[..]),
    ] {
        for (label, cfg) in [
            ("off", DeflateConfig::DISABLED),
            ("on (default)", DeflateConfig::DEFAULT),
        ] {
            let (rate, negotiated) = echo(corpus, cfg);
            assert_eq!(negotiated, cfg.policy.enabled);
            println!("| {name} | {label} | {rate:.0} |");
        }
    }
}

//! Load check of the chat room (a benchmark, not a test): N members (default 1 000) join, one of
//! them posts a message per round, and we measure how long until every member has it, plus the
//! server's memory (VmRSS of the server process).
//!
//! `cargo run --release -p ws-apps --example chat_load -- [members] [rounds]`
//!
//! The server runs in a child process (this binary re-executed with `--server`) so its RSS is its
//! own; the clients are async tasks using this crate's client (`ws_server::connect`). Each round's
//! message is committed to SQLite (fsync) before the broadcast, so the figures include that.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use ws_apps::{AppConfig, Apps};
use ws_server::{Config, Message, Server};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--server") {
        let dir = args
            .get(2)
            .cloned()
            .unwrap_or_else(|| "chat-load-data".into());
        return run_server(&dir);
    }
    let members: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(1000);
    let rounds: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(30);
    run_clients(members, rounds.max(1));
}

fn run_server(dir: &str) {
    let mut app = AppConfig::new(dir);
    app.notify_token = Some("load".into());
    async_std::task::block_on(async {
        let server = Server::bind("127.0.0.1:0", Config::default())
            .await
            .expect("bind");
        app.public_origins = ws_apps::origin::defaults_for(server.local_addr());
        let apps = Apps::open(app).expect("open apps");
        println!("{}", server.local_addr());
        server.serve(apps.handler()).await.expect("serve");
    });
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

fn run_clients(members: usize, rounds: usize) {
    let dir = std::env::temp_dir().join(format!("ws-chat-load-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let exe = std::env::current_exe().expect("current exe");
    let mut child = Command::new(exe)
        .arg("--server")
        .arg(&dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn server");
    let pid = child.id();
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("server address");
    let url = format!("ws://{}/chat/ws", line.trim());
    let rss_start = rss_kib(pid);

    // (round, arrival time) from every member.
    let (tx, rx) = mpsc::channel::<(usize, Instant)>();
    let (joined_tx, joined_rx) = mpsc::channel::<()>();
    let mut sender = None;
    let t_join = Instant::now();
    for i in 0..members {
        let ws = async_std::task::block_on(ws_server::connect(&url)).expect("connect");
        let (mut reader, writer) = ws.split();
        if i == 0 {
            sender = Some(writer);
        }
        let (tx, joined_tx) = (tx.clone(), joined_tx.clone());
        async_std::task::spawn(async move {
            while let Some(m) = reader.recv().await {
                let Message::Text(t) = m else { continue };
                let now = Instant::now();
                if t.contains("\"history_end\"") {
                    let _ = joined_tx.send(());
                } else if let Some(at) = t.find("round ") {
                    let n: String = t[at + 6..]
                        .chars()
                        .take_while(char::is_ascii_digit)
                        .collect();
                    if let Ok(r) = n.parse() {
                        let _ = tx.send((r, now));
                    }
                }
            }
        });
    }
    for _ in 0..members {
        joined_rx
            .recv_timeout(Duration::from_secs(30))
            .expect("every member joined");
    }
    let join_time = t_join.elapsed();
    let rss_joined = rss_kib(pid);
    let sender = sender.expect("a sender");

    let mut all_have_it = Vec::with_capacity(rounds);
    let mut per_member = Vec::with_capacity(rounds * members);
    for r in 0..rounds {
        let t0 = Instant::now();
        sender
            .send(Message::Text(format!("{{\"message\":\"round {r}\"}}")))
            .expect("send");
        let mut last = t0;
        for _ in 0..members {
            let (round, at) = rx
                .recv_timeout(Duration::from_secs(30))
                .expect("every member got the message");
            assert_eq!(round, r, "rounds do not overlap");
            per_member.push(at.duration_since(t0));
            last = last.max(at);
        }
        all_have_it.push(last.duration_since(t0));
        std::thread::sleep(Duration::from_millis(60)); // stay under the 20 msg/s rate limit
    }
    let rss_end = rss_kib(pid);
    all_have_it.sort();
    per_member.sort();
    println!("chat load: {members} members, {rounds} broadcasts (message committed to SQLite before each broadcast)");
    println!("  join of all members:            {}", ms(join_time));
    println!(
        "  time until EVERY member has it: p50 {}  p99 {}  max {}",
        ms(percentile(&all_have_it, 0.5)),
        ms(percentile(&all_have_it, 0.99)),
        ms(percentile(&all_have_it, 1.0))
    );
    println!(
        "  per-member delivery latency:    p50 {}  p99 {}",
        ms(percentile(&per_member, 0.5)),
        ms(percentile(&per_member, 0.99))
    );
    println!(
        "  server RSS: {:.1} MiB at start, {:.1} MiB with {members} members, {:.1} MiB after the broadcasts",
        rss_start as f64 / 1024.0,
        rss_joined as f64 / 1024.0,
        rss_end as f64 / 1024.0
    );
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);
}

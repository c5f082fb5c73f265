//! Multi-node chat benchmark (not a test): members spread over `serve --redis` nodes, messages
//! posted at a fixed rate, end-to-end delivery latency (post to arrival at each member) and the
//! nodes' CPU time per delivered message; `sqlite` mode runs the same load on one node with
//! SQLite for comparison.
//!
//! ```text
//! cargo build --release -p ws-apps --bin ws-server --example cluster_load
//! target/release/examples/cluster_load redis  [members per node] [msgs/s] [seconds]
//! target/release/examples/cluster_load sqlite [members in all]  [msgs/s] [seconds]
//! ```
//!
//! Defaults: 1 000 members per node on 2 nodes (redis) or 2 000 on one (sqlite), 20 msgs/s,
//! 10 s. Servers are child processes on free loopback ports (redis-server from Debian, the
//! `ws-server` binary next to this example), killed at the end; the clients are async tasks
//! with ws-server's client in this process, on the same cores (the machine has 2).

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use ws_server::Message;

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

fn wait_listening(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "nothing listens on {port}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn cpu_seconds(pid: u32) -> f64 {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let rest = text.rfind(')').map_or("", |i| &text[i + 1..]);
    let mut f = rest.split_whitespace();
    let ut: f64 = f.nth(11).and_then(|v| v.parse().ok()).unwrap_or(0.0);
    let st: f64 = f.next().and_then(|v| v.parse().ok()).unwrap_or(0.0);
    (ut + st) / 100.0
}

fn micros_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(0)
}

struct Kill(Child);

impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn node(port: u16, dir: &std::path::Path, redis: Option<&str>) -> Kill {
    let exe = std::env::current_exe().expect("exe");
    let bin: PathBuf = exe
        .parent()
        .and_then(|p| p.parent())
        .map(|p| p.join("ws-server"))
        .expect("target dir");
    let mut cmd = Command::new(&bin);
    cmd.args(["--log-level", "warn", "serve", "--addr"])
        .arg(format!("127.0.0.1:{port}"))
        .arg("--data-dir")
        .arg(dir)
        .args(["--session-secret", "bench", "--notify-token", "bench"])
        .args(["--rate", "1000", "--rate-per-address", "1000000"])
        .args(["--max-outbound-bytes", "16777216"])
        .stdout(Stdio::null());
    if let Some(url) = redis {
        cmd.args(["--redis", url]);
    }
    let child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("start {}: {e} (build it first)", bin.display()));
    wait_listening(port);
    Kill(child)
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)] as f64 / 1000.0
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let mode = args.get(1).map(String::as_str).unwrap_or("redis");
    let clustered = mode == "redis";
    let n: usize = args
        .get(2)
        .and_then(|a| a.parse().ok())
        .unwrap_or(if clustered { 1000 } else { 2000 });
    let rate: f64 = args.get(3).and_then(|a| a.parse().ok()).unwrap_or(20.0);
    let seconds: f64 = args.get(4).and_then(|a| a.parse().ok()).unwrap_or(10.0);
    let tmp = std::env::temp_dir().join(format!("ws-cluster-load-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).expect("temp dir");

    let mut procs = Vec::new();
    let mut redis_pid = None;
    let mut ports = Vec::new();
    if clustered {
        let rp = free_port();
        let r = Command::new("/usr/bin/redis-server")
            .args(["--bind", "127.0.0.1", "--port", &rp.to_string()])
            .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
            .arg("--dir")
            .arg(&tmp)
            .stdout(Stdio::null())
            .spawn()
            .expect("start redis-server (scripts/install-redis)");
        wait_listening(rp);
        redis_pid = Some(r.id());
        let url = format!("redis://127.0.0.1:{rp}");
        for i in 0..2 {
            let p = free_port();
            let dir = tmp.join(format!("node{i}"));
            procs.push(node(p, &dir, Some(&url)));
            ports.push(p);
        }
        procs.push(Kill(r));
    } else {
        let p = free_port();
        procs.push(node(p, &tmp.join("node"), None));
        ports.push(p);
    }
    let node_pids: Vec<u32> = procs
        .iter()
        .map(|k| k.0.id())
        .filter(|p| Some(*p) != redis_pid)
        .collect();

    // Members: n per node (redis) or n on the one node; each reports every message's latency.
    let per_node = n;
    let (lat_tx, lat_rx) = mpsc::channel::<u64>();
    let (joined_tx, joined_rx) = mpsc::channel::<()>();
    let mut senders = Vec::new();
    let t_join = Instant::now();
    for (ni, port) in ports.iter().enumerate() {
        let url = format!("ws://127.0.0.1:{port}/chat/ws");
        for i in 0..per_node {
            let ws = async_std::task::block_on(ws_server::connect(&url)).expect("connect");
            let (mut reader, writer) = ws.split();
            if i == 0 {
                senders.push(writer);
            }
            let (lat_tx, joined_tx) = (lat_tx.clone(), joined_tx.clone());
            async_std::task::spawn(async move {
                while let Some(m) = reader.recv().await {
                    let Message::Text(t) = m else { continue };
                    if t.contains("\"history_end\"") {
                        let _ = joined_tx.send(());
                    } else if let Some(at) = t.find("\"message\":\"t") {
                        let sent: String = t[at + 12..]
                            .chars()
                            .take_while(char::is_ascii_digit)
                            .collect();
                        if let Ok(sent) = sent.parse::<u64>() {
                            let _ = lat_tx.send(micros_now().saturating_sub(sent));
                        }
                    }
                }
            });
            let _ = ni;
        }
    }
    drop(lat_tx);
    let members = per_node * ports.len();
    for _ in 0..members {
        joined_rx
            .recv_timeout(Duration::from_secs(60))
            .expect("every member joined");
    }
    let join_time = t_join.elapsed();

    let cpu0: f64 = node_pids.iter().map(|p| cpu_seconds(*p)).sum();
    let rcpu0 = redis_pid.map_or(0.0, cpu_seconds);
    let total = (rate * seconds).round() as usize;
    let start = Instant::now();
    for k in 0..total {
        let due = start + Duration::from_secs_f64(k as f64 / rate);
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        let body = format!("{{\"message\":\"t{}\"}}", micros_now());
        senders[k % senders.len()]
            .send(Message::Text(body))
            .expect("send");
    }
    let expected = total * members;
    let mut lat = Vec::with_capacity(expected);
    let deadline = Instant::now() + Duration::from_secs(60);
    while lat.len() < expected && Instant::now() < deadline {
        match lat_rx.recv_timeout(Duration::from_secs(5)) {
            Ok(l) => lat.push(l),
            Err(_) => break,
        }
    }
    let cpu = node_pids.iter().map(|p| cpu_seconds(*p)).sum::<f64>() - cpu0;
    let rcpu = redis_pid.map_or(0.0, cpu_seconds) - rcpu0;
    lat.sort_unstable();
    let delivered = lat.len();
    println!(
        "{mode}: {} node(s) x {per_node} members, {total} messages at {rate}/s: {delivered} of {expected} deliveries; \
         join {:.1} s; latency p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms; node CPU {:.2} s = {:.2} µs per delivered message; \
         redis-server CPU {:.2} s",
        ports.len(),
        join_time.as_secs_f64(),
        percentile(&lat, 0.5),
        percentile(&lat, 0.99),
        percentile(&lat, 1.0),
        cpu,
        cpu * 1e6 / delivered.max(1) as f64,
        rcpu,
    );
    drop(senders);
    drop(procs);
    let _ = std::fs::remove_dir_all(&tmp);
}

//! Real processes for the multi-node tests: Debian's redis-server and haproxy and `ws-server
//! serve --redis` nodes, each on a free loopback port, in a temporary directory, killed by PID
//! when dropped; and a chat member that resumes by epoch + offset as the page does.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::apps_support::{TempDir, Ws};
use tungstenite::client::IntoClientRequest;

/// The session secret every node shares.
pub const SECRET: &str = "cluster-test-secret";
/// The notify token every node shares.
pub const TOKEN: &str = "cluster-test-token";

/// A free loopback port (bound, then released).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

fn addr(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

fn which(bin: &str) -> PathBuf {
    for dir in ["/usr/bin", "/usr/sbin", "/usr/local/bin", "/usr/local/sbin"] {
        let p = Path::new(dir).join(bin);
        if p.exists() {
            return p;
        }
    }
    panic!("{bin} is not installed: run scripts/install-redis (scripts/setup does)");
}

/// A child process killed (SIGKILL, by its PID) and reaped when dropped.
pub struct Proc(pub Child);

impl Proc {
    /// Kills it now (SIGKILL) and waits for it.
    pub fn kill(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Waits until `port` accepts connections (or panics after 10 s).
pub fn wait_listening(port: u16, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(addr(port)).is_err() {
        assert!(Instant::now() < deadline, "{what} did not listen on {port}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Redis persistence of a test server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Persistence {
    /// Nothing on disk: a restart loses everything.
    None,
    /// Append-only file, fsync on every write.
    Aof,
}

/// A redis-server on a free port with its data in a temp dir.
pub struct Redis {
    pub port: u16,
    pub dir: TempDir,
    persistence: Persistence,
    /// More configuration directives (`--name value`).
    pub extra: Vec<String>,
    proc: Option<Proc>,
}

impl Redis {
    /// Starts one.
    pub fn start(persistence: Persistence) -> Redis {
        Redis::start_with(persistence, &[])
    }

    /// Starts one with more directives, e.g. `["--stream-node-max-entries", "5"]`.
    pub fn start_with(persistence: Persistence, extra: &[&str]) -> Redis {
        let mut r = Redis {
            port: free_port(),
            dir: TempDir::new("redis"),
            persistence,
            extra: extra.iter().map(|s| s.to_string()).collect(),
            proc: None,
        };
        r.restart();
        r
    }

    /// `redis://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Stops it (SIGKILL: with `appendfsync always` every acknowledged write is on disk).
    pub fn stop(&mut self) {
        if let Some(mut p) = self.proc.take() {
            p.kill();
        }
    }

    /// Starts it (again) on the same port and directory.
    pub fn restart(&mut self) {
        self.stop();
        let aof = if self.persistence == Persistence::Aof {
            "yes"
        } else {
            "no"
        };
        let child = Command::new(which("redis-server"))
            .args(["--bind", "127.0.0.1", "--port", &self.port.to_string()])
            .args(["--save", "", "--appendonly", aof, "--appendfsync", "always"])
            .args(["--daemonize", "no", "--protected-mode", "no"])
            .args(&self.extra)
            .arg("--dir")
            .arg(self.dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start redis-server");
        self.proc = Some(Proc(child));
        let deadline = Instant::now() + Duration::from_secs(10);
        while !self.pong() {
            assert!(
                Instant::now() < deadline,
                "redis-server did not answer PING"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Sends it `kill -<sig>` by its PID (e.g. STOP, CONT).
    pub fn signal(&self, sig: &str) {
        let pid = self.proc.as_ref().expect("running").0.id();
        let ok = Command::new("kill")
            .arg(format!("-{sig}"))
            .arg(pid.to_string())
            .status()
            .expect("run kill");
        assert!(ok.success(), "kill -{sig} {pid}");
    }

    /// Whether it answers PING.
    pub fn pong(&self) -> bool {
        let Ok(mut s) = TcpStream::connect(addr(self.port)) else {
            return false;
        };
        let _ = s.set_read_timeout(Some(Duration::from_secs(1)));
        let mut buf = [0u8; 64];
        s.write_all(b"PING\r\n").is_ok()
            && s.read(&mut buf)
                .is_ok_and(|n| buf[..n].starts_with(b"+PONG"))
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.stop(); // before its directory is removed
    }
}

/// A `ws-server serve --redis` process (killed before its directory is removed).
pub struct Node {
    pub proc: Proc,
    pub port: u16,
    pub dir: TempDir,
}

impl Node {
    /// Starts a node on `port` sharing `redis`; pages are served under `origins` (ports).
    pub fn start(port: u16, redis: &str, origin_ports: &[u16]) -> Node {
        Node::start_with(port, redis, origin_ports, &[])
    }

    /// [`Node::start`] with more flags for `serve`.
    pub fn start_with(port: u16, redis: &str, origin_ports: &[u16], extra: &[&str]) -> Node {
        let dir = TempDir::new("node");
        let origins: Vec<String> = origin_ports
            .iter()
            .map(|p| format!("http://127.0.0.1:{p}"))
            .collect();
        let child = Command::new(env!("CARGO_BIN_EXE_ws-server"))
            .args(["--log-level", "warn", "serve", "--addr"])
            .arg(format!("127.0.0.1:{port}"))
            .arg("--data-dir")
            .arg(dir.path())
            .args(["--redis", redis, "--notify-token", TOKEN])
            .args(if extra.contains(&"--session-secret-file") {
                &[][..]
            } else {
                &["--session-secret", SECRET][..]
            })
            .args(["--rate", "1000", "--rate-per-address", "100000"])
            .arg("--public-origin")
            .arg(origins.join(","))
            .args(extra)
            .stdout(Stdio::null())
            .spawn()
            .expect("start ws-server serve");
        wait_listening(port, "node");
        Node {
            port,
            dir,
            proc: Proc(child),
        }
    }

    /// Its address.
    pub fn addr(&self) -> SocketAddr {
        addr(self.port)
    }
}

/// haproxy, round robin over the nodes' ports.
pub struct Haproxy {
    pub proc: Proc,
    pub port: u16,
    pub dir: TempDir,
}

impl Haproxy {
    /// Starts it in front of `nodes`.
    pub fn start(port: u16, nodes: &[u16]) -> Haproxy {
        let dir = TempDir::new("haproxy");
        let mut cfg = format!(
            "global\n  maxconn 4000\n\
             defaults\n  mode http\n  timeout connect 1s\n  timeout client 60s\n  \
             timeout server 60s\n  timeout tunnel 60s\n  retries 3\n  option redispatch 1\n\
             frontend web\n  bind 127.0.0.1:{port}\n  default_backend nodes\n\
             backend nodes\n  balance roundrobin\n"
        );
        for (i, p) in nodes.iter().enumerate() {
            cfg.push_str(&format!(
                "  server n{i} 127.0.0.1:{p} check inter 200ms fall 1 rise 1\n"
            ));
        }
        let path = dir.path().join("haproxy.cfg");
        std::fs::write(&path, cfg).expect("write haproxy.cfg");
        let child = Command::new(which("haproxy"))
            .arg("-db")
            .arg("-f")
            .arg(&path)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start haproxy");
        wait_listening(port, "haproxy");
        Haproxy {
            port,
            dir,
            proc: Proc(child),
        }
    }

    /// Its address.
    pub fn addr(&self) -> SocketAddr {
        addr(self.port)
    }
}

/// Opens `/chat/ws` with `query` at `via` (a node or haproxy); `None` if it cannot.
pub fn chat_socket(via: SocketAddr, query: &str) -> Option<Ws> {
    let url = format!("ws://{via}/chat/ws{query}");
    let mut req = url.into_client_request().ok()?;
    req.headers_mut()
        .insert("Origin", format!("http://{via}").parse().ok()?);
    let s = TcpStream::connect(via).ok()?;
    // The handshake may wait for a loaded machine; then reads poll every 100 ms.
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    s.set_write_timeout(Some(Duration::from_secs(5))).ok()?;
    let (ws, _) = tungstenite::client(req, s).ok()?;
    ws.get_ref()
        .set_read_timeout(Some(Duration::from_millis(100)))
        .ok()?;
    Some(ws)
}

/// One chat message as a member has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Got {
    pub epoch: String,
    pub id: u64,
    pub uid: String,
    pub body: String,
}

/// A chat member that keeps its place (epoch + offset) and resumes with it, as chat.js does.
pub struct Member {
    pub via: SocketAddr,
    pub ws: Option<Ws>,
    pub token: Option<String>,
    pub uid: Option<String>,
    pub epoch: Option<String>,
    pub last: u64,
    pub got: Vec<Got>,
    pub resets: Vec<String>,
    pub statuses: Vec<String>,
    pub errors: Vec<String>,
    pub reconnects: usize,
    pub history_ends: usize,
}

impl Member {
    /// Joins through `via`.
    pub fn join(via: SocketAddr) -> Member {
        let mut m = Member {
            via,
            ws: None,
            token: None,
            uid: None,
            epoch: None,
            last: 0,
            got: Vec::new(),
            resets: Vec::new(),
            statuses: Vec::new(),
            errors: Vec::new(),
            reconnects: 0,
            history_ends: 0,
        };
        assert!(m.connect(), "join {via}");
        m
    }

    /// (Re)connects with the member token and the position; reads up to history_end.
    pub fn connect(&mut self) -> bool {
        let mut q = Vec::new();
        if let Some(t) = &self.token {
            q.push(format!("member={t}"));
        }
        if self.last > 0 {
            q.push(format!("since={}", self.last));
        }
        if let Some(e) = &self.epoch {
            q.push(format!("epoch={e}"));
        }
        let query = if q.is_empty() {
            String::new()
        } else {
            format!("?{}", q.join("&"))
        };
        let Some(ws) = chat_socket(self.via, &query) else {
            return false;
        };
        self.ws = Some(ws);
        let ends = self.history_ends;
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.history_ends == ends {
            if Instant::now() > deadline || !self.pump_once() {
                self.ws = None;
                return false;
            }
        }
        true
    }

    /// Reads one message if one comes within 100 ms; false if the connection is gone.
    pub fn pump_once(&mut self) -> bool {
        let Some(ws) = self.ws.as_mut() else {
            return false;
        };
        match ws.read() {
            Ok(tungstenite::Message::Text(t)) => {
                let v: serde_json::Value = serde_json::from_str(t.as_str()).expect("JSON");
                self.handle(&v);
                true
            }
            Ok(tungstenite::Message::Close(_)) => {
                self.ws = None;
                false
            }
            Ok(_) => true,
            Err(tungstenite::Error::Io(e))
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                true
            }
            Err(_) => {
                self.ws = None;
                false
            }
        }
    }

    fn handle(&mut self, v: &serde_json::Value) {
        let s = |k: &str| v[k].as_str().unwrap_or_default().to_owned();
        match v["type"].as_str() {
            Some("hello") => {
                self.token = Some(s("member"));
                self.uid = Some(s("uid"));
            }
            Some("message") => {
                let epoch = s("epoch");
                let id = v["id"].as_u64().expect("id");
                if self.epoch.as_deref() != Some(epoch.as_str()) {
                    self.epoch = Some(epoch.clone());
                    self.last = 0;
                }
                assert!(
                    id > self.last,
                    "message {id} after {}: a duplicate or out of order",
                    self.last
                );
                self.last = id;
                self.got.push(Got {
                    epoch,
                    id,
                    uid: s("uid"),
                    body: s("message"),
                });
            }
            Some("reset") => {
                self.resets.push(s("reason"));
                self.epoch = Some(s("epoch"));
                self.last = 0;
            }
            Some("history_end") => {
                if let Some(e) = v["epoch"].as_str() {
                    self.epoch = Some(e.to_owned());
                }
                self.history_ends += 1;
            }
            Some("status") => self.statuses.push(s("redis")),
            Some("error") => self.errors.push(s("error")),
            other => panic!("unexpected chat message {other:?}: {v}"),
        }
    }

    /// Sends a chat message (false if the connection is gone).
    pub fn say(&mut self, text: &str) -> bool {
        let msg = serde_json::json!({ "message": text }).to_string();
        self.ws
            .as_mut()
            .is_some_and(|ws| ws.send(tungstenite::Message::text(msg)).is_ok())
    }

    /// Reads (reconnecting through `via` with its position when dropped) until `done` or
    /// `timeout`; returns whether `done` held.
    pub fn pump_until(&mut self, timeout: Duration, mut done: impl FnMut(&Member) -> bool) -> bool {
        let deadline = Instant::now() + timeout;
        while !done(self) {
            if Instant::now() > deadline {
                return false;
            }
            if self.ws.is_none() {
                std::thread::sleep(Duration::from_millis(50));
                if self.connect() {
                    self.reconnects += 1;
                }
                continue;
            }
            self.pump_once();
        }
        true
    }

    /// The bodies it has, in order.
    pub fn bodies(&self) -> Vec<&str> {
        self.got.iter().map(|g| g.body.as_str()).collect()
    }
}

//! Helpers for the apps tests: the apps served on a loopback port from a fresh data directory, a
//! raw HTTP client, login, and tungstenite WebSocket clients with cookies and Origin.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use tungstenite::client::IntoClientRequest;
use tungstenite::http::HeaderValue;
use ws_apps::{AppConfig, Apps};
use ws_server::{Config, Server, ShutdownHandle};

/// A fresh, empty directory under the system temp dir, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    /// Creates `<tmp>/ws-apps-<name>-<pid>-<n>`.
    pub fn new(name: &str) -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let p = std::env::temp_dir().join(format!(
            "ws-apps-{name}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("create temp dir");
        TempDir(p)
    }

    /// The path.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The apps served on a background thread.
pub struct AppServer {
    pub addr: SocketAddr,
    pub apps: Apps,
    handle: ShutdownHandle,
    thread: Option<JoinHandle<std::io::Result<()>>>,
}

impl AppServer {
    /// Serves the apps configured by `app` with server `config` on a free loopback port.
    pub fn start(app: AppConfig, config: Config) -> AppServer {
        AppServer::start_on(app, config, "127.0.0.1:0")
    }

    /// Serves the apps on `addr` (e.g. the address of a server that was stopped: a restart).
    pub fn start_on(app: AppConfig, config: Config, addr: &str) -> AppServer {
        let server = async_std::task::block_on(Server::bind(addr, config)).expect("bind");
        let addr = server.local_addr();
        let mut app = app;
        if app.public_origins.is_empty() {
            app.public_origins = ws_apps::origin::defaults_for(addr);
        }
        let apps = Apps::open(app).expect("open apps");
        let handle = server.shutdown_handle();
        let handler = apps.handler();
        let thread = std::thread::spawn(move || async_std::task::block_on(server.serve(handler)));
        AppServer {
            addr,
            apps,
            handle,
            thread: Some(thread),
        }
    }

    /// Serves the apps with their defaults and a known notify token, data in `dir`.
    pub fn start_default(dir: &Path) -> AppServer {
        let mut app = AppConfig::new(dir);
        app.notify_token = Some(TOKEN.into());
        AppServer::start(app, Config::default())
    }

    /// `http://addr`.
    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Graceful shutdown; waits until `serve` returned.
    pub fn stop(mut self) {
        self.handle.shutdown();
        if let Some(t) = self.thread.take() {
            t.join().expect("server thread").expect("serve");
        }
    }
}

impl Drop for AppServer {
    fn drop(&mut self) {
        self.handle.shutdown();
    }
}

/// The notify token the default test server uses.
pub const TOKEN: &str = "test-token-123";

/// A parsed HTTP response.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Resp {
    /// The first header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Sends one HTTP/1.1 request and reads the whole response (the server closes after it).
pub fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Resp {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    s.write_all(req.as_bytes()).expect("write request");
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).expect("read response");
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").expect("response head");
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|c| c.parse().ok())
        .expect("status line");
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    Resp {
        status,
        headers,
        body: body.to_owned(),
    }
}

/// Logs in as `name`; returns the `Cookie` header value (`ws_session=...`).
pub fn login(addr: SocketAddr, name: &str) -> String {
    let body = format!("name={}", form_encode(name));
    let r = http(
        addr,
        "POST",
        "/login",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        &body,
    );
    assert_eq!(r.status, 303, "login: {r:?}");
    assert_eq!(r.header("location"), Some("/vote"));
    let set = r.header("set-cookie").expect("Set-Cookie");
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Lax"),
        "{set}"
    );
    set.split(';').next().expect("cookie pair").to_owned()
}

fn form_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The count shown for candidate `id` on the server-rendered voting page.
pub fn page_count(addr: SocketAddr, cookie: &str, id: i64) -> u64 {
    let r = http(addr, "GET", "/vote", &[("Cookie", cookie)], "");
    assert_eq!(r.status, 200, "{r:?}");
    let marker = format!("id=\"count-{id}\">");
    let at = r.body.find(&marker).expect("count element") + marker.len();
    r.body[at..]
        .split('<')
        .next()
        .and_then(|n| n.trim().parse().ok())
        .expect("count number")
}

/// A tungstenite client.
pub type Ws = tungstenite::WebSocket<TcpStream>;

/// Opens a WebSocket to `path` with optional cookie and Origin; `Err(status)` if refused.
pub fn ws_connect(
    addr: SocketAddr,
    path: &str,
    cookie: Option<&str>,
    origin: Option<&str>,
) -> Result<Ws, u16> {
    let mut req = format!("ws://{addr}{path}")
        .into_client_request()
        .expect("request");
    if let Some(c) = cookie {
        req.headers_mut()
            .insert("Cookie", HeaderValue::from_str(c).expect("cookie header"));
    }
    if let Some(o) = origin {
        req.headers_mut()
            .insert("Origin", HeaderValue::from_str(o).expect("origin header"));
    }
    let s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.set_write_timeout(Some(Duration::from_secs(10))).unwrap();
    match tungstenite::client(req, s) {
        Ok((ws, resp)) => {
            assert_eq!(resp.status(), 101);
            Ok(ws)
        }
        Err(tungstenite::HandshakeError::Failure(tungstenite::Error::Http(resp))) => {
            Err(resp.status().as_u16())
        }
        Err(e) => panic!("handshake: {e}"),
    }
}

/// The next text message as JSON (skipping pings/pongs); panics on close or timeout.
pub fn next_json(ws: &mut Ws) -> serde_json::Value {
    loop {
        match ws.read().expect("read a message") {
            tungstenite::Message::Text(t) => {
                return serde_json::from_str(t.as_str()).expect("JSON")
            }
            tungstenite::Message::Close(c) => panic!("closed: {c:?}"),
            _ => {}
        }
    }
}

/// Reads until the server's close frame; returns its code (panics on a data message timeout).
pub fn wait_close(ws: &mut Ws) -> Option<u16> {
    loop {
        match ws.read() {
            Ok(tungstenite::Message::Close(c)) => return c.map(|f| u16::from(f.code)),
            Ok(_) => {}
            Err(tungstenite::Error::ConnectionClosed) | Err(tungstenite::Error::AlreadyClosed) => {
                return None
            }
            Err(e) => panic!("waiting for close: {e}"),
        }
    }
}

/// Sends a text message.
pub fn send_text(ws: &mut Ws, text: &str) {
    ws.send(tungstenite::Message::text(text)).expect("send");
}

//! A minimal W3C WebDriver client for the browser tests: chromedriver + headless Chromium.
//!
//! Why not fantoccini: it needs tokio, hyper and a TLS stack (minutes of build on a 2-core machine) for
//! a dozen JSON calls over a loopback socket. This client speaks HTTP/1.1 with `Connection: close` over a
//! std `TcpStream` and uses serde_json; it implements exactly the commands the tests use.
//!
//! Processes are cleaned up on drop: each session is deleted (Chromium quits), chromedriver is killed by
//! its PID, and any Chromium still running on one of our fresh profile directories is killed by PID.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// The W3C key of an element reference.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// The chromedriver binary Debian's chromium-driver package installs.
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// A running chromedriver process.
pub struct Driver {
    child: Child,
    port: u16,
    profiles: Vec<PathBuf>,
}

/// One browser (its own Chromium process and profile, so its own cookies).
pub struct Browser {
    port: u16,
    session: String,
}

/// An element reference.
#[derive(Clone, Debug)]
pub struct Element(String);

fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
    l.local_addr().expect("local addr").port()
}

fn http(port: u16, method: &str, path: &str, body: Option<&Value>) -> Result<Value, String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).map_err(|e| format!("connect: {e}"))?;
    s.set_read_timeout(Some(Duration::from_secs(60))).ok();
    let payload = body.map(|b| b.to_string()).unwrap_or_default();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\
         Content-Type: application/json; charset=utf-8\r\nContent-Length: {}\r\n\r\n{payload}",
        payload.len()
    );
    s.write_all(req.as_bytes())
        .map_err(|e| format!("write: {e}"))?;
    let (_head, body) = read_response(&mut s).map_err(|e| format!("{method} {path}: {e}"))?;
    let v: Value = serde_json::from_slice(&body).map_err(|e| {
        format!(
            "{method} {path}: bad JSON ({e}): {}",
            String::from_utf8_lossy(&body)
        )
    })?;
    if let Some(err) = v["value"].get("error") {
        return Err(format!("{method} {path}: {err}: {}", v["value"]["message"]));
    }
    Ok(v["value"].clone())
}

/// Reads one HTTP/1.1 response (Content-Length or chunked body); chromedriver keeps connections open.
fn read_response(s: &mut TcpStream) -> Result<(String, Vec<u8>), String> {
    let mut raw = Vec::new();
    let mut buf = [0u8; 8192];
    let split = loop {
        if let Some(p) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            break p;
        }
        let n = s.read(&mut buf).map_err(|e| format!("read: {e}"))?;
        if n == 0 {
            return Err("connection closed before the end of the head".into());
        }
        raw.extend_from_slice(&buf[..n]);
    };
    let head = String::from_utf8_lossy(&raw[..split]).to_ascii_lowercase();
    let mut body = raw[split + 4..].to_vec();
    let length = head.lines().find_map(|l| {
        l.strip_prefix("content-length:")
            .and_then(|v| v.trim().parse::<usize>().ok())
    });
    let chunked = head.contains("transfer-encoding: chunked");
    loop {
        let done = match length {
            Some(n) => body.len() >= n,
            None if chunked => body.windows(5).any(|w| w == b"0\r\n\r\n"),
            None => false,
        };
        if done {
            break;
        }
        let n = s.read(&mut buf).map_err(|e| format!("read: {e}"))?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&buf[..n]);
    }
    if chunked {
        body = dechunk(&body);
    }
    Ok((head, body))
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = b.windows(2).position(|w| w == b"\r\n") {
        let size =
            usize::from_str_radix(String::from_utf8_lossy(&b[..eol]).trim(), 16).unwrap_or(0);
        if size == 0 || b.len() < eol + 2 + size {
            break;
        }
        out.extend_from_slice(&b[eol + 2..eol + 2 + size]);
        b = &b[(eol + 4 + size).min(b.len())..];
    }
    out
}

impl Driver {
    /// Starts chromedriver on a free loopback port and waits until it is ready.
    pub fn start() -> Driver {
        assert!(
            Path::new(CHROMEDRIVER).exists() && Path::new("/usr/bin/chromium").exists(),
            "headless Chromium is missing: run scripts/install-browser (scripts/setup does)"
        );
        let port = free_port();
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn chromedriver");
        let d = Driver {
            child,
            port,
            profiles: Vec::new(),
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(v) = http(port, "GET", "/status", None) {
                if v["ready"] == json!(true) {
                    return d;
                }
            }
            assert!(
                Instant::now() < deadline,
                "chromedriver did not become ready"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Opens a new headless Chromium with a fresh profile directory.
    pub fn browser(&mut self) -> Browser {
        self.browser_with(&[])
    }

    /// Opens a new headless Chromium with a fresh profile directory and `extra` flags (e.g.
    /// `--ignore-certificate-errors-spki-list=...` for a development certificate).
    pub fn browser_with(&mut self, extra: &[String]) -> Browser {
        let profile = std::env::temp_dir().join(format!(
            "ws-apps-chromium-{}-{}-{}",
            std::process::id(),
            self.port,
            self.profiles.len()
        ));
        let _ = std::fs::remove_dir_all(&profile);
        std::fs::create_dir_all(&profile).expect("create profile dir");
        self.profiles.push(profile.clone());
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--disable-dev-shm-usage", "--window-size=1000,800",
                    format!("--user-data-dir={}", profile.display()),
                ]
            }
        }}});
        let mut caps = caps;
        if let Some(args) =
            caps["capabilities"]["alwaysMatch"]["goog:chromeOptions"]["args"].as_array_mut()
        {
            args.extend(extra.iter().map(|a| json!(a)));
        }
        let v = http(self.port, "POST", "/session", Some(&caps)).expect("new WebDriver session");
        let session = v["sessionId"].as_str().expect("sessionId").to_owned();
        Browser {
            port: self.port,
            session,
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // Chromium quits with its session; give it 3 s, then kill what is left on our profiles (by PID).
        let deadline = Instant::now() + Duration::from_secs(3);
        while !pids_using(&self.profiles).is_empty() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        for pid in pids_using(&self.profiles) {
            let _ = Command::new("kill").arg("-9").arg(pid.to_string()).status();
        }
        for p in &self.profiles {
            let _ = std::fs::remove_dir_all(p);
        }
    }
}

/// PIDs of processes whose command line names one of `profiles`.
fn pids_using(profiles: &[PathBuf]) -> Vec<u32> {
    let mut out = Vec::new();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return out;
    };
    for e in dir.flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        let Ok(cmd) = std::fs::read(e.path().join("cmdline")) else {
            continue;
        };
        let cmd = String::from_utf8_lossy(&cmd);
        if profiles
            .iter()
            .any(|p| cmd.contains(&format!("--user-data-dir={}", p.display())))
        {
            out.push(pid);
        }
    }
    out
}

impl Browser {
    fn cmd(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let p = format!("/session/{}{path}", self.session);
        http(self.port, method, &p, body.as_ref()).unwrap_or_else(|e| panic!("WebDriver: {e}"))
    }

    /// The cookies of the current page's site, as WebDriver reports them (`name`, `secure`,
    /// `httpOnly`...; HttpOnly ones too, which JavaScript cannot see).
    pub fn cookies(&self) -> Value {
        self.cmd("GET", "/cookie", None)
    }

    /// Navigates and waits for the page load.
    pub fn goto(&self, url: &str) {
        self.cmd("POST", "/url", Some(json!({ "url": url })));
    }

    /// The current URL.
    pub fn url(&self) -> String {
        self.cmd("GET", "/url", None)
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// Runs synchronous JavaScript (`return ...;`) and gives its result.
    pub fn js(&self, script: &str) -> Value {
        self.cmd(
            "POST",
            "/execute/sync",
            Some(json!({ "script": script, "args": [] })),
        )
    }

    /// Polls `script` (a boolean JavaScript expression) until true; panics with `what` after 15 s.
    pub fn wait_for(&self, script: &str, what: &str) {
        let deadline = Instant::now() + Duration::from_secs(15);
        let expr = format!("return !!({script});");
        while self.js(&expr) != json!(true) {
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what} ({script})"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Finds one element by CSS selector.
    pub fn find(&self, css: &str) -> Element {
        let v = self.cmd(
            "POST",
            "/element",
            Some(json!({ "using": "css selector", "value": css })),
        );
        Element(v[ELEMENT_KEY].as_str().expect("element id").to_owned())
    }

    /// Types text into an element.
    pub fn type_into(&self, el: &Element, text: &str) {
        self.cmd(
            "POST",
            &format!("/element/{}/value", el.0),
            Some(json!({ "text": text })),
        );
    }

    /// Clicks an element.
    pub fn click(&self, el: &Element) {
        self.cmd("POST", &format!("/element/{}/click", el.0), Some(json!({})));
    }

    /// Double-clicks an element with real pointer input actions.
    pub fn double_click(&self, el: &Element) {
        let origin = json!({ ELEMENT_KEY: el.0 });
        let actions = json!({"actions": [{
            "type": "pointer", "id": "mouse", "parameters": {"pointerType": "mouse"},
            "actions": [
                {"type": "pointerMove", "duration": 0, "origin": origin, "x": 0, "y": 0},
                {"type": "pointerDown", "button": 0}, {"type": "pointerUp", "button": 0},
                {"type": "pointerDown", "button": 0}, {"type": "pointerUp", "button": 0}
            ]
        }]});
        self.cmd("POST", "/actions", Some(actions));
        self.cmd("DELETE", "/actions", None);
    }

    /// Presses and releases each key of `keys` (WebDriver key values, e.g. "\u{E004}" for Tab,
    /// "\u{E007}" for Enter, " " for Space) on whatever has the focus.
    pub fn keys(&self, keys: &str) {
        let actions: Vec<Value> = keys
            .chars()
            .flat_map(|k| {
                let k = k.to_string();
                [
                    json!({"type": "keyDown", "value": k}),
                    json!({"type": "keyUp", "value": k}),
                ]
            })
            .collect();
        let actions = json!({"actions": [{"type": "key", "id": "keyboard", "actions": actions}]});
        self.cmd("POST", "/actions", Some(actions));
        self.cmd("DELETE", "/actions", None);
    }

    /// Sets the window's size in CSS pixels (e.g. 390 x 844, a phone).
    pub fn set_size(&self, width: u32, height: u32) {
        self.cmd(
            "POST",
            "/window/rect",
            Some(json!({"width": width, "height": height})),
        );
    }

    /// A tap on `el` with a touch pointer.
    pub fn tap(&self, el: &Element) {
        let origin = json!({ ELEMENT_KEY: el.0 });
        let actions = json!({"actions": [{
            "type": "pointer", "id": "finger", "parameters": {"pointerType": "touch"},
            "actions": [
                {"type": "pointerMove", "duration": 0, "origin": origin, "x": 0, "y": 0},
                {"type": "pointerDown", "button": 0}, {"type": "pointerUp", "button": 0}
            ]
        }]});
        self.cmd("POST", "/actions", Some(actions));
        self.cmd("DELETE", "/actions", None);
    }

    /// The text of an open `alert()` dialog, if one is open.
    pub fn alert_text(&self) -> Option<String> {
        let p = format!("/session/{}/alert/text", self.session);
        http(self.port, "GET", &p, None)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
    }

    /// Reloads the page.
    pub fn refresh(&self) {
        self.cmd("POST", "/refresh", Some(json!({})));
    }

    /// The visible text of an element.
    pub fn text(&self, el: &Element) -> String {
        self.cmd("GET", &format!("/element/{}/text", el.0), None)
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// Saves a PNG screenshot of the viewport under `<target>/screenshots/<name>.png`; returns its path.
    pub fn screenshot(&self, name: &str) -> PathBuf {
        use base64ct::{Base64, Encoding};
        let b64 = self.cmd("GET", "/screenshot", None);
        let png = Base64::decode_vec(b64.as_str().unwrap_or_default()).expect("screenshot base64");
        assert!(png.starts_with(b"\x89PNG"), "screenshot is a PNG");
        let dir = target_dir().join("screenshots");
        std::fs::create_dir_all(&dir).expect("create screenshots dir");
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).expect("write screenshot");
        path
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = http(
            self.port,
            "DELETE",
            &format!("/session/{}", self.session),
            None,
        );
    }
}

/// The cargo target directory (`CARGO_TARGET_DIR` or the workspace's `target/`).
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"))
}

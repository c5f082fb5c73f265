//! Shared helpers for the loopback integration tests: an in-process server on its own thread,
//! a tungstenite client, raw frame writing/reading, plain HTTP exchanges, RSS measurement.
#![allow(dead_code)]

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use ws_server::{Config, Handler, Server, ShutdownHandle};

/// A server running on a background thread (async-std executor).
pub struct TestServer {
    pub addr: SocketAddr,
    pub handle: ShutdownHandle,
    pub thread: Option<JoinHandle<std::io::Result<()>>>,
}

impl TestServer {
    /// Triggers the graceful shutdown and waits for `serve` to return; returns how long it took.
    pub fn shutdown(mut self) -> Duration {
        let t = Instant::now();
        self.handle.shutdown();
        if let Some(th) = self.thread.take() {
            th.join().expect("server thread").expect("serve result");
        }
        t.elapsed()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.handle.shutdown();
    }
}

/// Starts the echo server with `config` on a free loopback port.
pub fn start(config: Config) -> TestServer {
    start_with(config, ws_server::echo_handler())
}

/// Starts a server with `handler`.
pub fn start_with<H: Handler>(config: Config, handler: H) -> TestServer {
    let server = async_std::task::block_on(Server::bind("127.0.0.1:0", config)).expect("bind");
    let addr = server.local_addr();
    let handle = server.shutdown_handle();
    let thread = std::thread::spawn(move || async_std::task::block_on(server.serve(handler)));
    TestServer {
        addr,
        handle,
        thread: Some(thread),
    }
}

/// Short timeouts for tests that exercise them.
pub fn short_timeouts() -> Config {
    Config {
        handshake_timeout: Duration::from_millis(300),
        close_timeout: Duration::from_millis(300),
        ..Config::default()
    }
}

/// A TCP connection with read/write timeouts so no test can hang.
pub fn tcp(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.set_write_timeout(Some(Duration::from_secs(10))).unwrap();
    s.set_nodelay(true).unwrap();
    s
}

/// A tungstenite client connected to `addr`.
pub fn client(addr: SocketAddr) -> tungstenite::WebSocket<TcpStream> {
    client_at(addr, "/")
}

/// A tungstenite client connected to `addr` on `path`.
pub fn client_at(addr: SocketAddr, path: &str) -> tungstenite::WebSocket<TcpStream> {
    let (ws, resp) =
        tungstenite::client(format!("ws://{addr}{path}"), tcp(addr)).expect("handshake");
    assert_eq!(resp.status(), 101);
    ws
}

/// Reads the next message of a tungstenite client: it must be a close with `code`; then reads
/// until the connection ends.
pub fn assert_close_code(ws: &mut tungstenite::WebSocket<TcpStream>, code: u16) {
    match ws.read().unwrap() {
        tungstenite::Message::Close(Some(f)) => assert_eq!(u16::from(f.code), code),
        other => panic!("expected {code}, got {other:?}"),
    }
    while ws.read().is_ok() {}
}

/// Asserts that a fresh client gets its message echoed (the server survived whatever came before).
pub fn assert_echo_works(addr: SocketAddr) {
    let mut ws = client(addr);
    ws.send(tungstenite::Message::text("still alive")).unwrap();
    let m = ws.read().unwrap();
    assert_eq!(m, tungstenite::Message::text("still alive"));
    close_and_drain(&mut ws);
}

/// Sends a close from a tungstenite client and reads until the connection ends.
pub fn close_and_drain(ws: &mut tungstenite::WebSocket<TcpStream>) {
    ws.close(None).unwrap();
    while ws.read().is_ok() {}
}

/// Writes `bytes` one per write with `pause` after each, for at most `limit`; returns whether
/// a write failed (the server dropped the connection).
pub fn trickle(s: &mut TcpStream, bytes: &[u8], pause: Duration, limit: Duration) -> bool {
    let start = Instant::now();
    for b in bytes {
        if s.write_all(&[*b]).is_err() {
            return true;
        }
        std::thread::sleep(pause);
        if start.elapsed() > limit {
            break;
        }
    }
    false
}

/// The upgrade request for `path`.
pub fn upgrade_request(path: &str) -> String {
    format!(
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
}

/// Reads an HTTP response head byte by byte (so nothing after it is consumed).
pub fn read_head(s: &mut TcpStream) -> String {
    let mut head = Vec::new();
    let mut b = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        let n = s.read(&mut b).expect("read head");
        assert_eq!(
            n,
            1,
            "EOF in response head: {:?}",
            String::from_utf8_lossy(&head)
        );
        head.push(b[0]);
    }
    String::from_utf8(head).unwrap()
}

/// A raw, upgraded connection.
pub fn raw(addr: SocketAddr) -> TcpStream {
    let mut s = tcp(addr);
    s.write_all(upgrade_request("/").as_bytes()).unwrap();
    let head = read_head(&mut s);
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    assert!(head.contains("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="), "{head}");
    s
}

/// A masked client frame.
pub fn frame(fin: bool, opcode: u8, payload: &[u8]) -> Vec<u8> {
    frame_raw(if fin { 0x80 } else { 0 } | opcode, payload)
}

/// A masked client frame with the first byte given.
pub fn frame_raw(b0: u8, payload: &[u8]) -> Vec<u8> {
    let key = [0x37, 0xfa, 0x21, 0x3d];
    let mut out = vec![b0];
    push_len(&mut out, 0x80, payload.len() as u64);
    out.extend_from_slice(&key);
    out.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    out
}

/// Appends the second header byte (`mask_bit` | length code) and the extended length of a frame
/// with `len` payload bytes, in the shortest encoding (RFC 6455 §5.2).
pub fn push_len(out: &mut Vec<u8>, mask_bit: u8, len: u64) {
    match len {
        0..=125 => out.push(mask_bit | len as u8),
        126..=0xffff => {
            out.push(mask_bit | 126);
            out.extend_from_slice(&(len as u16).to_be_bytes());
        }
        _ => {
            out.push(mask_bit | 127);
            out.extend_from_slice(&len.to_be_bytes());
        }
    }
}

/// An unmasked server frame with the first byte given.
pub fn server_frame(b0: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![b0];
    push_len(&mut out, 0, payload.len() as u64);
    out.extend_from_slice(payload);
    out
}

/// A close frame with `code` and `reason`.
pub fn close_frame(code: u16, reason: &[u8]) -> Vec<u8> {
    let mut p = code.to_be_bytes().to_vec();
    p.extend_from_slice(reason);
    frame(true, 8, &p)
}

thread_local! {
    /// Echoed messages whose fragments are still arriving, per socket (see [`read_frame`]).
    static PARTIAL: std::cell::RefCell<std::collections::HashMap<i32, (u8, Vec<u8>)>> =
        std::cell::RefCell::default();
}

/// The next control frame or whole data message from the server: `(first byte, payload)`, the
/// first byte of a message being its first frame's with FIN set. The echo sends a message that
/// arrived in pieces as fragments, with control frames (pongs, pings, a close) between them:
/// those come back as they arrive, and the message once its last fragment has (so the order is
/// what a reader of whole messages sees).
pub fn read_frame(s: &mut TcpStream) -> (u8, Vec<u8>) {
    use std::os::fd::AsRawFd;
    let fd = s.as_raw_fd();
    loop {
        let (b0, payload) = read_raw_frame(s);
        if b0 & 0x08 != 0 {
            if b0 & 0x0f == 8 {
                // Nothing follows a close: a message cut by it never completes (and the socket's
                // number may be reused by the next connection).
                PARTIAL.with(|m| m.borrow_mut().remove(&fd));
            }
            return (b0, payload);
        }
        let mut message = PARTIAL.with(|m| m.borrow_mut().remove(&fd));
        match (&message, b0 & 0x0f) {
            (None, 0) => panic!("a continuation frame without a message"),
            (Some(_), op) if op != 0 => panic!("a new message inside a fragmented one"),
            (None, _) => message = Some((b0 | 0x80, Vec::new())),
            (Some(_), _) => {}
        }
        let (first, mut bytes) = message.unwrap_or_default();
        bytes.extend_from_slice(&payload);
        if b0 & 0x80 != 0 {
            return (first, bytes);
        }
        PARTIAL.with(|m| m.borrow_mut().insert(fd, (first, bytes)));
    }
}

/// The next frame exactly as the server sent it: `(first byte, payload)`.
pub fn read_raw_frame(s: &mut TcpStream) -> (u8, Vec<u8>) {
    let mut h = [0u8; 2];
    s.read_exact(&mut h).expect("frame header");
    assert_eq!(h[1] & 0x80, 0, "server frames are not masked");
    let len = match h[1] & 0x7f {
        126 => {
            let mut b = [0u8; 2];
            s.read_exact(&mut b).unwrap();
            u16::from_be_bytes(b) as usize
        }
        127 => {
            let mut b = [0u8; 8];
            s.read_exact(&mut b).unwrap();
            u64::from_be_bytes(b) as usize
        }
        n => n as usize,
    };
    let mut p = vec![0u8; len];
    s.read_exact(&mut p).expect("frame payload");
    (h[0], p)
}

/// Reads frames until a close; returns its code (None for an empty close).
pub fn read_close(s: &mut TcpStream) -> Option<u16> {
    loop {
        let (b0, p) = read_frame(s);
        if b0 & 0x0f == 8 {
            assert_eq!(b0 & 0x80, 0x80);
            return (p.len() >= 2).then(|| u16::from_be_bytes([p[0], p[1]]));
        }
    }
}

/// Sends one unfragmented message (`opcode`, `payload`) and asserts it comes back unchanged.
pub fn assert_round_trip(s: &mut TcpStream, opcode: u8, payload: &[u8]) {
    s.write_all(&frame(true, opcode, payload)).unwrap();
    assert_eq!(read_frame(s), (0x80 | opcode, payload.to_vec()));
}

/// Reads frames, answering each ping with its pong, until another frame comes; returns it.
pub fn read_answering_pings(s: &mut TcpStream) -> (u8, Vec<u8>) {
    loop {
        let f = read_frame(s);
        if f.0 != 0x89 {
            return f;
        }
        s.write_all(&frame(true, 0xA, &f.1)).unwrap();
    }
}

/// Reads until the server closes (EOF or reset) and returns the bytes; panics after 5 s.
pub fn read_until_closed(s: &mut TcpStream) -> Vec<u8> {
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return out,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => panic!(
                "the server did not close within 5 s; got {:?}",
                String::from_utf8_lossy(&out)
            ),
            Err(_) => return out,
        }
    }
}

/// Sends `request` on a fresh connection; the whole response, once the server has closed
/// (within 5 s, else panics).
pub fn http_response(addr: SocketAddr, request: &[u8]) -> String {
    let mut s = tcp(addr);
    s.write_all(request).unwrap();
    String::from_utf8_lossy(&read_until_closed(&mut s)).into_owned()
}

/// Asserts the server closes the TCP connection within `within` (EOF or reset).
pub fn assert_closed_within(s: &mut TcpStream, within: Duration) -> Duration {
    let t = Instant::now();
    s.set_read_timeout(Some(within)).unwrap();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return t.elapsed(),
            Ok(_) => continue,
            Err(e)
                if e.kind() == std::io::ErrorKind::WouldBlock
                    || e.kind() == std::io::ErrorKind::TimedOut =>
            {
                panic!("server did not close the connection within {within:?}")
            }
            Err(_) => return t.elapsed(),
        }
    }
}

/// This process's resident set size in bytes.
pub fn rss() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
    let pages: usize = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * 4096
}

/// The frames in bytes the server sent, exactly as sent: `(first byte, payload)`; panics on a
/// partial frame at the end (so bytes written inside another frame's payload show up).
pub fn parse_frames(mut wire: &[u8]) -> Vec<(u8, Vec<u8>)> {
    let mut out = Vec::new();
    while !wire.is_empty() {
        assert!(wire.len() >= 2, "a partial header at the end: {wire:x?}");
        assert_eq!(wire[1] & 0x80, 0, "server frames are not masked");
        let (len, hl) = match wire[1] & 0x7f {
            126 => (u16::from_be_bytes([wire[2], wire[3]]) as usize, 4),
            127 => (
                u64::from_be_bytes(wire[2..10].try_into().expect("8 bytes")) as usize,
                10,
            ),
            n => (n as usize, 2),
        };
        assert!(wire.len() >= hl + len, "a partial frame at the end");
        out.push((wire[0], wire[hl..hl + len].to_vec()));
        wire = &wire[hl + len..];
    }
    out
}

// ---- room members (tests/room.rs on the task server, tests/app_loop.rs on the event loop) ----

/// The policy of the stalled-member tests: closed after 500 ms above 256 KiB (long enough for a
/// reader on a loaded machine: a debug build on two shared cores).
pub fn stall_policy() -> ws_server::RoomPolicy {
    ws_server::RoomPolicy {
        backlog: 256 << 10,
        // Long enough for a reader on a loaded machine (a debug build on two shared cores, other
        // tests running: 500 ms closed a reader once in a few runs).
        grace: Duration::from_secs(2),
        ..ws_server::RoomPolicy::DEFAULT
    }
}

/// Message `i` of `size` bytes: its number, then filler.
pub fn numbered(i: u32, size: usize) -> Vec<u8> {
    let mut p = i.to_be_bytes().to_vec();
    p.resize(size, b'x' + (i % 3) as u8);
    p
}

/// Reads `n` binary messages and checks they are numbered 0..n in order with `size` bytes.
pub fn read_numbered(s: &mut TcpStream, n: u32, size: usize) {
    for i in 0..n {
        let (b0, p) = read_frame(s);
        assert_eq!(b0, 0x82, "message {i}: {b0:#x}");
        assert_eq!(p, numbered(i, size), "message {i} differs");
    }
}

/// A thread per member reading numbered messages of `size` bytes, in order, until an empty
/// binary message; each returns how many it read and its socket.
pub fn read_until_empty(sockets: Vec<TcpStream>, size: usize) -> Vec<JoinHandle<(u32, TcpStream)>> {
    sockets
        .into_iter()
        .map(|mut s| {
            std::thread::spawn(move || {
                let mut i = 0u32;
                loop {
                    let (b0, p) = read_frame(&mut s);
                    assert_eq!(b0, 0x82);
                    if p.is_empty() {
                        return (i, s);
                    }
                    assert_eq!(p, numbered(i, size), "message {i} differs");
                    i += 1;
                }
            })
        })
        .collect()
}

/// A member that stopped reading, reading at last: asserts it got an in-order prefix of the
/// `sent` numbered messages of `size` bytes, short of all of them, then the 1008 (or the end of
/// the connection, if the close timeout dropped it first). Returns how many it got and the close
/// code (`None`: the connection ended without one).
pub fn assert_stalled_member_was_closed(
    mut s: TcpStream,
    sent: u32,
    size: usize,
) -> (u32, Option<u16>) {
    let mut i = 0u32;
    let end = loop {
        let mut h = [0u8; 1];
        if s.peek(&mut h).map_or(true, |n| n == 0) {
            break None;
        }
        let (b0, p) = read_frame(&mut s);
        if b0 == 0x88 {
            break Some(u16::from_be_bytes([p[0], p[1]]));
        }
        assert_eq!(p, numbered(i, size), "stalled member: message {i} differs");
        i += 1;
    };
    assert!(i < sent, "the stalled member got everything");
    assert!(matches!(end, None | Some(1008)), "{end:?}");
    (i, end)
}

//! What Autobahn does not test on the firmware, checked over real TCP through QEMU's port forward
//! after the fuzzingclient run: connections served at once, the refusal past them, a freed slot
//! taken again, UTF-8 fail-fast on a live connection, and the keep-alive ping on time (the
//! firmware's hardware timers: SysTick wakes it, the APB timer keeps time).
//! Frames are written and read with ws-core's client role.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use ws_core::{CloseCode, Connection, Event, Limits, MessageKind, Role, Timers};

/// WebSocket connections the firmware serves at once (embedded/net-echo/src/budget.rs WS_SLOTS).
pub const WS_SLOTS: usize = 4;
/// The firmware's keep-alive interval (budget.rs IDLE_PING_MS).
pub const IDLE_PING: Duration = Duration::from_secs(10);
/// How late the ping may come: SysTick is 1 ms, the rest is QEMU's scheduling.
const PING_SLACK: Duration = Duration::from_secs(2);

/// RFC 6455 §1.3's key and the accept value it must get.
const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";
const ACCEPT: &str = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

/// A client connection: the socket, ws-core's client state, and bytes read but not yet parsed.
struct Client {
    tcp: TcpStream,
    conn: Connection,
    input: Vec<u8>,
}

fn request() -> String {
    format!(
        "GET / HTTP/1.1\r\nHost: mcu\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: {KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
}

/// Connects and sends the upgrade request; returns the socket and the whole response head (and
/// anything after it) once the head is complete or the server closed.
fn open(addr: &str) -> Result<(TcpStream, Vec<u8>), String> {
    let mut tcp = TcpStream::connect(addr).map_err(|e| format!("connect {addr}: {e}"))?;
    tcp.set_read_timeout(Some(Duration::from_secs(10)))
        .map_err(|e| e.to_string())?;
    tcp.write_all(request().as_bytes())
        .map_err(|e| format!("send request: {e}"))?;
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    while !got.windows(4).any(|w| w == b"\r\n\r\n") {
        match tcp.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) => return Err(format!("read response: {e}")),
        }
    }
    Ok((tcp, got))
}

impl Client {
    /// A connection that must be upgraded.
    fn upgrade(addr: &str) -> Result<Client, String> {
        let (tcp, got) = open(addr)?;
        let text = String::from_utf8_lossy(&got);
        let Some(end) = text.find("\r\n\r\n") else {
            return Err(format!("no complete response head: {text:?}"));
        };
        if !text.starts_with("HTTP/1.1 101 ")
            || !text.contains(&format!("Sec-WebSocket-Accept: {ACCEPT}\r\n"))
        {
            return Err(format!("expected a 101 with the accept key, got {text:?}"));
        }
        let conn = Connection::new(Role::Client, Limits::DEFAULT, Timers::default(), 0);
        Ok(Client {
            tcp,
            conn,
            input: got[end + 4..].to_vec(),
        })
    }

    /// Sends one message in `fragments` frames (masked, as a client must).
    fn send(&mut self, kind: MessageKind, payload: &[u8], fragments: usize) -> Result<(), String> {
        let size = payload.len().div_ceil(fragments.max(1)).max(1);
        let mut chunks: Vec<&[u8]> = payload.chunks(size).collect();
        if chunks.is_empty() {
            chunks.push(&[]);
        }
        let last = chunks.len() - 1;
        for (i, chunk) in chunks.into_iter().enumerate() {
            let mut out = vec![0u8; chunk.len() + 14];
            let n = self
                .conn
                .send_data(kind, chunk, i == last, [0x12, 0x34, 0x56, 0x78], &mut out)
                .map_err(|e| format!("send_data: {e}"))?;
            self.tcp
                .write_all(&out[..n])
                .map_err(|e| format!("write: {e}"))?;
        }
        Ok(())
    }

    /// Reads until ws-core reports an event; returns it as owned parts: (data message, ping,
    /// close code). Data chunks are gathered into one message.
    fn next(&mut self, limit: Duration) -> Result<Got, String> {
        let deadline = Instant::now() + limit;
        let mut message = Vec::new();
        let mut out = [0u8; ws_core::connection::MIN_OUTPUT];
        loop {
            let rec = self
                .conn
                .receive(&mut self.input, &mut out, 0, [1, 2, 3, 4])
                .map_err(|e| format!("receive: {e}"))?;
            let (consumed, written) = (rec.consumed, rec.written);
            let got = match rec.event {
                Some(Event::Data { payload, end, .. }) => {
                    message.extend_from_slice(payload);
                    end.then(|| Got::Message(std::mem::take(&mut message)))
                }
                Some(Event::Ping(_)) => Some(Got::Ping),
                Some(Event::Pong(_)) => None,
                Some(Event::Close { code, .. }) => Some(Got::Close(code)),
                Some(Event::Failed(e)) => {
                    return Err(format!("the server broke the protocol: {e}"))
                }
                None => None,
            };
            self.input.drain(..consumed);
            if written > 0 {
                self.tcp
                    .write_all(&out[..written])
                    .map_err(|e| format!("write reply: {e}"))?;
            }
            if let Some(got) = got {
                return Ok(got);
            }
            if consumed > 0 {
                continue;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(format!("nothing within {} s", limit.as_secs()));
            }
            self.tcp
                .set_read_timeout(Some(left))
                .map_err(|e| e.to_string())?;
            let mut buf = [0u8; 4096];
            match self.tcp.read(&mut buf) {
                Ok(0) => return Err("the server closed TCP".to_owned()),
                Ok(n) => self.input.extend_from_slice(&buf[..n]),
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    return Err(format!("nothing within {} s", limit.as_secs()))
                }
                Err(e) => return Err(format!("read: {e}")),
            }
        }
    }

    /// Expects the server to close TCP (EOF) within `limit`.
    fn expect_eof(&mut self, limit: Duration) -> Result<(), String> {
        self.tcp
            .set_read_timeout(Some(limit))
            .map_err(|e| e.to_string())?;
        let mut buf = [0u8; 1024];
        loop {
            match self.tcp.read(&mut buf) {
                Ok(0) => return Ok(()),
                Ok(_) => {}
                Err(e) if e.kind() == ErrorKind::ConnectionReset => return Ok(()),
                Err(e) => return Err(format!("expected the server to close TCP: {e}")),
            }
        }
    }
}

/// What [`Client::next`] saw.
#[derive(Debug, PartialEq, Eq)]
enum Got {
    Message(Vec<u8>),
    Ping,
    Close(Option<CloseCode>),
}

/// Runs every check against the firmware at `addr` (`127.0.0.1:PORT`); one line per check passed.
pub fn run(addr: &str) -> Result<Vec<String>, String> {
    let mut passed = Vec::new();
    let t = Duration::from_secs(10);

    // Every slot at once: all upgraded before any message, then each echoes its own message.
    let mut clients = (0..WS_SLOTS)
        .map(|i| Client::upgrade(addr).map_err(|e| format!("connection {i}: {e}")))
        .collect::<Result<Vec<_>, _>>()?;
    for (i, c) in clients.iter_mut().enumerate() {
        let text = format!("connection {i}: héllo, wörld ✓ {}", "x".repeat(300 * i));
        c.send(MessageKind::Text, text.as_bytes(), 3)?;
    }
    for (i, c) in clients.iter_mut().enumerate() {
        let want = format!("connection {i}: héllo, wörld ✓ {}", "x".repeat(300 * i));
        match c.next(t)? {
            Got::Message(m) if m == want.as_bytes() => {}
            other => return Err(format!("connection {i}: expected its echo, got {other:?}")),
        }
    }
    passed.push(format!(
        "{WS_SLOTS} connections open at once, each echoed its own fragmented text"
    ));

    // One more is refused with a 503 and closed.
    let (mut extra, head) = open(addr)?;
    let text = String::from_utf8_lossy(&head).into_owned();
    if !text.starts_with("HTTP/1.1 503 ") {
        return Err(format!(
            "connection {}: expected a 503, got {text:?}",
            WS_SLOTS + 1
        ));
    }
    let mut rest = Vec::new();
    let _ = extra.read_to_end(&mut rest);
    passed.push(format!(
        "connection {} refused: HTTP/1.1 503, then closed",
        WS_SLOTS + 1
    ));

    // UTF-8 fail-fast: an invalid byte in the first fragment of a text message gets 1007 before
    // the message ends, then the server closes TCP.
    let mut c = clients.remove(0);
    let mut out = [0u8; 32];
    let n = c
        .conn
        .send_data(MessageKind::Text, b"ok \xff", false, [9, 8, 7, 6], &mut out)
        .map_err(|e| format!("send_data: {e}"))?;
    c.tcp.write_all(&out[..n]).map_err(|e| e.to_string())?;
    match c.next(t)? {
        Got::Close(Some(CloseCode(1007))) => {}
        other => {
            return Err(format!(
                "invalid UTF-8: expected a 1007 close, got {other:?}"
            ))
        }
    }
    c.expect_eof(t)?;
    passed
        .push("invalid UTF-8 in an unfinished message: close 1007 at once, then TCP closed".into());

    // The freed slot serves again (once both sides closed TCP it listens anew; until then a new
    // connection gets the 503 and is retried).
    let started = Instant::now();
    let mut again = loop {
        match Client::upgrade(addr) {
            Ok(c) => break c,
            Err(e) if started.elapsed() < t => {
                let _ = e;
                std::thread::sleep(Duration::from_millis(100));
            }
            Err(e) => return Err(format!("the freed slot never served again: {e}")),
        }
    };
    again.send(MessageKind::Binary, &[0, 1, 2, 255], 1)?;
    if again.next(t)? != Got::Message(vec![0, 1, 2, 255]) {
        return Err("the freed slot: wrong echo".to_owned());
    }
    clients.insert(0, again);
    passed.push(format!(
        "the freed slot served a new connection after {} ms",
        started.elapsed().as_millis()
    ));

    // Keep-alive: an idle connection gets a ping IDLE_PING after the last bytes it sent.
    let c = &mut clients[1];
    c.send(MessageKind::Text, b"then silence", 1)?;
    let sent = Instant::now();
    if c.next(t)? != Got::Message(b"then silence".to_vec()) {
        return Err("keep-alive: wrong echo".to_owned());
    }
    match c.next(IDLE_PING + PING_SLACK + t)? {
        Got::Ping => {}
        other => return Err(format!("keep-alive: expected a ping, got {other:?}")),
    }
    let after = sent.elapsed();
    if after + Duration::from_millis(50) < IDLE_PING || after > IDLE_PING + PING_SLACK {
        return Err(format!(
            "keep-alive: ping after {} ms, expected {} ms",
            after.as_millis(),
            IDLE_PING.as_millis()
        ));
    }
    passed.push(format!(
        "keep-alive ping after {} ms idle (interval {} ms)",
        after.as_millis(),
        IDLE_PING.as_millis()
    ));

    // Close handshakes: each remaining connection gets its 1000 echoed, then the server closes TCP.
    for (i, c) in clients.iter_mut().enumerate() {
        let mut out = [0u8; 16];
        let n = c
            .conn
            .send_close(Some(CloseCode(1000)), "", 0, [5, 5, 5, 5], &mut out)
            .map_err(|e| format!("send_close: {e}"))?;
        c.tcp.write_all(&out[..n]).map_err(|e| e.to_string())?;
        loop {
            match c.next(t)? {
                Got::Close(Some(CloseCode(1000))) => break,
                Got::Ping => continue,
                other => {
                    return Err(format!(
                        "connection {i}: expected close 1000, got {other:?}"
                    ))
                }
            }
        }
        c.expect_eof(t)?;
    }
    passed.push(format!(
        "{WS_SLOTS} close handshakes: 1000 echoed, then the server closed TCP"
    ));
    Ok(passed)
}

//! An application on the event loop hears each message before its connection processes the
//! bytes that follow it, however many arrive in one read: its answer to a message goes out
//! before the server's reaction to a later frame (RFC 6455 §7.1.7 fail, §5.5.1 close reply).
//! Autobahn 3.2, 3.3, 4.1.3, 4.1.4, 4.2.3, 4.2.4 and 5.15 send a message and then a bad frame in
//! one TCP segment; before the fix the loop read both, failed the connection, and only then
//! gave the application the message, whose answer the closing connection refused (the suite
//! marked those cases NON-STRICT for `ws-server echo --engine app-loop`).

mod common;

use common::{close_frame, frame, frame_raw, read_frame, read_head, tcp, upgrade_request};
use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::thread::JoinHandle;
use ws_server::evloop::{App, AppLoop, Conn};
use ws_server::{Config, Message, ShutdownHandle};

/// Answers every message with `re: ` and its text.
struct Reply;

impl App for Reply {
    fn on_message(&mut self, conn: &mut Conn<'_>, msg: Message) {
        let text = String::from_utf8_lossy(msg.as_bytes()).into_owned();
        conn.send(Message::Text(format!("re: {text}"))).unwrap();
    }
}

struct Server {
    addr: SocketAddr,
    stop: ShutdownHandle,
    thread: JoinHandle<std::io::Result<()>>,
}

fn start() -> Server {
    let server = AppLoop::bind("127.0.0.1:0", Config::default(), Reply).unwrap();
    let addr = server.local_addr();
    let stop = server.shutdown_handle();
    let thread = std::thread::spawn(move || server.run());
    Server { addr, stop, thread }
}

impl Server {
    fn stop(self) {
        self.stop.shutdown();
        self.thread.join().unwrap().unwrap();
    }
}

/// Writes `bytes` in one call (one segment on loopback), right after an upgrade or with the
/// request head itself.
fn send_upgraded(addr: SocketAddr, bytes: &[u8], with_head: bool) -> TcpStream {
    let mut s = tcp(addr);
    let mut out = upgrade_request("/").into_bytes();
    if with_head {
        out.extend_from_slice(bytes);
    }
    s.write_all(&out).unwrap();
    let head = read_head(&mut s);
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    if !with_head {
        s.write_all(bytes).unwrap();
    }
    s
}

fn assert_reply(s: &mut TcpStream, text: &str) {
    assert_eq!(read_frame(s), (0x81, format!("re: {text}").into_bytes()));
}

fn assert_close(s: &mut TcpStream, code: u16) {
    let (b0, payload) = read_frame(s);
    assert_eq!(b0, 0x88, "expected a close, got {b0:#04x} {payload:?}");
    assert_eq!(
        payload.get(..2),
        Some(&code.to_be_bytes()[..]),
        "{payload:?}"
    );
}

#[test]
fn the_answer_to_a_message_precedes_the_1002_for_a_reserved_bit_after_it() {
    // Autobahn 3.2: "Hello, world!", the same with RSV2 set (0xA1), a ping; one segment.
    let mut wire = frame(true, 1, b"Hello, world!");
    wire.extend(frame_raw(0x80 | 0x20 | 1, b"Hello, world!"));
    wire.extend(frame(true, 9, b""));
    let server = start();
    for with_head in [false, true] {
        let mut s = send_upgraded(server.addr, &wire, with_head);
        assert_reply(&mut s, "Hello, world!");
        // No pong: nothing after the bad frame is processed.
        assert_close(&mut s, 1002);
    }
    server.stop();
}

#[test]
fn the_answer_to_a_message_precedes_the_1002_for_a_reserved_opcode_and_a_stray_continuation() {
    let server = start();
    // Autobahn 4.1.3: opcode 3 (reserved, RFC 6455 §5.2).
    let mut wire = frame(true, 1, b"before 3");
    wire.extend(frame(true, 3, b""));
    let mut s = send_upgraded(server.addr, &wire, false);
    assert_reply(&mut s, "before 3");
    assert_close(&mut s, 1002);
    drop(s);
    // Autobahn 5.15: a fragmented message, then a continuation with nothing to continue.
    let mut wire = frame(false, 1, b"frag");
    wire.extend(frame(true, 0, b"ment1"));
    wire.extend(frame(false, 0, b"stray"));
    wire.extend(frame(true, 1, b"never"));
    let mut s = send_upgraded(server.addr, &wire, false);
    assert_reply(&mut s, "fragment1");
    assert_close(&mut s, 1002);
    // Our EOF ends the server's linger at once (the shutdown would wait for it).
    drop(s);
    server.stop();
}

#[test]
fn the_answer_to_a_message_precedes_the_reply_to_a_close_behind_it() {
    let mut wire = frame(true, 1, b"last words");
    wire.extend(close_frame(1000, b""));
    let server = start();
    let mut s = send_upgraded(server.addr, &wire, false);
    assert_reply(&mut s, "last words");
    assert_close(&mut s, 1000);
    drop(s);
    server.stop();
}

#[test]
fn many_messages_in_one_read_are_each_answered_in_order_before_the_failure() {
    // 2000 small messages (about 34 KB: one read of the loop's buffer or two), then opcode 0xB.
    let n = 2000;
    let mut wire = Vec::new();
    for i in 0..n {
        wire.extend(frame(true, 1, format!("m{i}").as_bytes()));
    }
    wire.extend(frame(true, 0xB, b""));
    let server = start();
    let mut s = send_upgraded(server.addr, &wire, true);
    for i in 0..n {
        assert_reply(&mut s, &format!("m{i}"));
    }
    assert_close(&mut s, 1002);
    // Our EOF ends the server's linger at once (the shutdown would wait for it).
    drop(s);
    server.stop();
}

//! Applications on the event loop (`ws_server::evloop::AppLoop`) over real loopback TCP: the
//! callbacks fire with the right ids, a published message reaches every member in order (a burst
//! of large ones included), a member that stops reading is closed per the `RoomPolicy` while the
//! others lose nothing, each topic's members are judged by that topic's policy, members leave their topics when they close, other threads publish through
//! a `LoopHandle`, and the graceful shutdown sends 1001 and tells the application.

mod common;

use common::{
    assert_stalled_member_was_closed, client_at, frame, http_response, numbered, read_close,
    read_frame, read_head, read_numbered, read_until_empty, tcp, upgrade_request,
};
use std::collections::HashMap;
use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use ws_server::evloop::{App, AppLoop, Conn, ConnId, Head, LoopHandle};
use ws_server::{CloseCode, Config, HttpResponse, Message, Published, RoomPolicy, ShutdownHandle};

/// What the application saw, for the test to check.
#[derive(Default)]
struct Log {
    opened: Vec<(u64, String)>,
    closed: Vec<(u64, u16, String)>,
    /// Each publish's report.
    reports: Vec<Published>,
    /// Each publish of `/both`: its report in `room`, then in `ticker`.
    both: Vec<[Published; 2]>,
}

/// The application under test. Paths: `/` joins the topic `room` and publishes what it sends,
/// `/pub` publishes without joining, `/echo` answers `<conn number> <text>`, `/two` joins `room`
/// and `other`, `/ticker` joins `ticker`, `/both` publishes to `room` and `ticker` without
/// joining; any other path is refused with 404.
struct Relay {
    log: Arc<Mutex<Log>>,
    paths: HashMap<ConnId, String>,
}

impl App for Relay {
    fn admit(&mut self, head: &Head<'_, '_>) -> Result<(), HttpResponse> {
        match head.path {
            "/" | "/pub" | "/echo" | "/two" | "/ticker" | "/both" => Ok(()),
            _ => Err(HttpResponse::text(404, "no such topic")),
        }
    }

    fn on_open(&mut self, conn: &mut Conn<'_>, path: &str) {
        lock(&self.log)
            .opened
            .push((conn.id().number(), path.to_owned()));
        if path == "/" || path == "/two" {
            assert!(conn.subscribe("room"));
        }
        if path == "/two" {
            assert!(conn.subscribe("other"));
        }
        if path == "/ticker" {
            assert!(conn.subscribe("ticker"));
        }
        self.paths.insert(conn.id(), path.to_owned());
    }

    fn on_message(&mut self, conn: &mut Conn<'_>, msg: Message) {
        if self.paths.get(&conn.id()).map(String::as_str) == Some("/echo") {
            let text = String::from_utf8_lossy(msg.as_bytes()).into_owned();
            if text == "close" {
                conn.close(CloseCode(4000), "asked to");
                return;
            }
            let reply = format!("{} {text}", conn.id().number());
            conn.send(Message::Text(reply)).unwrap();
            return;
        }
        if self.paths.get(&conn.id()).map(String::as_str) == Some("/both") {
            let report = [conn.publish("room", &msg), conn.publish("ticker", &msg)];
            lock(&self.log).both.push(report);
            return;
        }
        let report = conn.publish("room", &msg);
        lock(&self.log).reports.push(report);
    }

    fn on_close(&mut self, conn: &mut Conn<'_>, code: CloseCode, reason: &str) {
        self.paths.remove(&conn.id());
        // Gone: nothing can be sent to it, and it is in no topic any more.
        assert!(conn.send(Message::Text("late".into())).is_err());
        assert!(!conn.unsubscribe("room"));
        lock(&self.log)
            .closed
            .push((conn.id().number(), code.0, reason.to_owned()));
    }
}

fn lock(log: &Mutex<Log>) -> MutexGuard<'_, Log> {
    log.lock().unwrap_or_else(|p| p.into_inner())
}

/// A [`Relay`] serving on its own thread.
struct Server {
    addr: SocketAddr,
    log: Arc<Mutex<Log>>,
    handle: LoopHandle,
    stop: ShutdownHandle,
    thread: Option<JoinHandle<std::io::Result<()>>>,
}

impl Server {
    fn start(policy: RoomPolicy) -> Self {
        Self::start_with(policy, &[], Duration::from_secs(2))
    }

    /// A server whose topics `own` have policies of their own, the others `policy`; a
    /// connection it closes is dropped `close_timeout` later if its peer has not answered.
    fn start_with(policy: RoomPolicy, own: &[(&str, RoomPolicy)], close_timeout: Duration) -> Self {
        let log = Arc::new(Mutex::new(Log::default()));
        let app = Relay {
            log: log.clone(),
            paths: HashMap::new(),
        };
        let config = Config {
            close_timeout,
            ..Config::default()
        };
        let mut server = AppLoop::bind("127.0.0.1:0", config, app)
            .unwrap()
            .with_policy(policy);
        for (topic, policy) in own {
            server = server.with_topic_policy(topic, *policy);
        }
        let addr = server.local_addr();
        let handle = server.handle();
        let stop = server.shutdown_handle();
        let thread = Some(std::thread::spawn(move || server.run()));
        Self {
            addr,
            log,
            handle,
            stop,
            thread,
        }
    }

    fn log(&self) -> MutexGuard<'_, Log> {
        lock(&self.log)
    }

    /// Waits (up to 10 s) until `done` holds for the log.
    fn wait_for(&self, what: &str, done: impl Fn(&Log) -> bool) {
        let t = Instant::now();
        while !done(&self.log()) {
            assert!(t.elapsed() < Duration::from_secs(10), "timed out: {what}");
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    /// Shuts down and waits for the loop to return.
    fn stop(mut self) {
        self.stop.shutdown();
        if let Some(t) = self.thread.take() {
            t.join().unwrap().unwrap();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(t) = self.thread.take() {
            self.stop.shutdown();
            let _ = t.join();
        }
    }
}

/// A raw upgraded connection on `path`.
fn raw_at(addr: SocketAddr, path: &str) -> TcpStream {
    let mut s = tcp(addr);
    s.write_all(upgrade_request(path).as_bytes()).unwrap();
    let head = read_head(&mut s);
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    s
}

/// Publishes numbered messages of `size` through `publisher`, one every 2 ms, until `closed()`
/// (asked after each one) says the stalled member `who` was closed, and 50 more after; returns how
/// many were sent. Fails past 20 s.
fn publish_past_a_close(
    publisher: &mut TcpStream,
    size: usize,
    who: &str,
    mut closed: impl FnMut() -> bool,
) -> u32 {
    let started = Instant::now();
    let mut sent = 0u32;
    let mut closed_at = None;
    while closed_at.is_none_or(|at| sent < at + 50) {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{who} was not closed"
        );
        publisher
            .write_all(&frame(true, 2, &numbered(sent, size)))
            .unwrap();
        sent += 1;
        if closed_at.is_none() && closed() {
            closed_at = Some(sent);
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    sent
}

/// `n` members of `room`, each joined once the application has seen it open.
fn members(server: &Server, n: usize) -> Vec<TcpStream> {
    members_at(server, "/", n)
}

/// `n` connections on `path`, each returned once the application has seen it open.
fn members_at(server: &Server, path: &str, n: usize) -> Vec<TcpStream> {
    let before = server.log().opened.len();
    let sockets: Vec<TcpStream> = (0..n).map(|_| raw_at(server.addr, path)).collect();
    server.wait_for("members opened", |l| l.opened.len() == before + n);
    sockets
}

#[test]
fn open_message_and_close_callbacks_fire_with_the_right_ids() {
    let server = Server::start(RoomPolicy::DEFAULT);
    let mut a = client_at(server.addr, "/echo");
    let mut b = client_at(server.addr, "/echo");
    a.send(tungstenite::Message::text("hi")).unwrap();
    b.send(tungstenite::Message::text("ho")).unwrap();
    let ra = a.read().unwrap().into_text().unwrap();
    let rb = b.read().unwrap().into_text().unwrap();
    let id_a: u64 = ra.strip_suffix(" hi").unwrap().parse().unwrap();
    let id_b: u64 = rb.strip_suffix(" ho").unwrap().parse().unwrap();
    assert_ne!(id_a, id_b);
    {
        let log = server.log();
        assert!(log.opened.contains(&(id_a, "/echo".into())));
        assert!(log.opened.contains(&(id_b, "/echo".into())));
        assert!(log.closed.is_empty());
    }
    // A closes normally; the application closes B with 4000.
    a.close(None).unwrap();
    while a.read().is_ok() {}
    server.wait_for("a closed", |l| l.closed.len() == 1);
    assert_eq!(server.log().closed[0], (id_a, 1005, String::new()));
    b.send(tungstenite::Message::text("close")).unwrap();
    match b.read().unwrap() {
        tungstenite::Message::Close(Some(f)) => {
            assert_eq!(u16::from(f.code), 4000);
            assert_eq!(f.reason, "asked to");
        }
        other => panic!("expected a close, got {other:?}"),
    }
    while b.read().is_ok() {}
    server.wait_for("b closed", |l| l.closed.len() == 2);
    assert_eq!(server.log().closed[1], (id_b, 4000, "asked to".into()));
    // The request filter: another path is answered 404 and never opens.
    let resp = http_response(server.addr, upgrade_request("/elsewhere").as_bytes());
    assert!(resp.starts_with("HTTP/1.1 404"), "{resp}");
    assert!(resp.ends_with("no such topic"), "{resp}");
    assert_eq!(server.log().opened.len(), 2);
    server.stop();
}

#[test]
fn a_burst_of_large_messages_reaches_every_member_in_order() {
    // 100 members, 100 x 16 KiB published at once (1.6 MiB, past each member's 1 MiB outbound
    // cap): every member reads, none may be closed or lose a message.
    const MEMBERS: usize = 100;
    const COUNT: u32 = 100;
    const SIZE: usize = 16 << 10;
    let server = Server::start(RoomPolicy::DEFAULT);
    let sockets = members(&server, MEMBERS);
    let mut publisher = raw_at(server.addr, "/pub");
    let writer = std::thread::spawn(move || {
        let mut burst = Vec::new();
        for i in 0..COUNT {
            burst.extend_from_slice(&frame(true, 2, &numbered(i, SIZE)));
        }
        publisher.write_all(&burst).unwrap();
        publisher
    });
    let readers: Vec<_> = sockets
        .into_iter()
        .map(|mut s| {
            std::thread::spawn(move || {
                read_numbered(&mut s, COUNT, SIZE);
                s
            })
        })
        .collect();
    let _publisher = writer.join().unwrap();
    let _sockets: Vec<TcpStream> = readers.into_iter().map(|r| r.join().unwrap()).collect();
    server.wait_for("every publish reported", |l| {
        l.reports.len() == COUNT as usize
    });
    for r in &server.log().reports {
        assert_eq!((r.delivered, r.removed, r.frames), (MEMBERS, 0, 1));
    }
    assert!(
        server.log().closed.is_empty(),
        "a member that reads was closed"
    );
    server.stop();
}

#[test]
fn a_member_that_stops_reading_is_closed_after_the_grace_period_and_the_others_lose_nothing() {
    const READERS: usize = 5;
    const SIZE: usize = 64 << 10;
    let policy = common::stall_policy();
    // The 1008 waits behind the frame the stalled member's socket is in: with a 2 s close
    // timeout a loaded machine cut that frame (EOF mid-frame) before the member read it.
    let server = Server::start_with(policy, &[], Duration::from_secs(10));
    let stalled = members(&server, 1).remove(0);
    let readers = members(&server, READERS);
    let readers = read_until_empty(readers, SIZE);
    // Publish at a pace the readers keep up with until the stalled member is removed (its kernel
    // buffers fill first, then its backlog stays above 256 KiB for 500 ms), and a while after.
    let mut publisher = raw_at(server.addr, "/pub");
    let sent = publish_past_a_close(&mut publisher, SIZE, "the stalled member", || {
        server.log().reports.iter().any(|r| r.removed > 0)
    });
    publisher.write_all(&frame(true, 2, &[])).unwrap();
    let mut sockets = Vec::new();
    for r in readers {
        let (got, s) = r.join().unwrap();
        assert_eq!(got, sent, "a reading member lost messages");
        sockets.push(s);
    }
    {
        let log = server.log();
        assert_eq!(log.reports.len(), sent as usize + 1);
        assert_eq!(log.reports.iter().map(|r| r.removed).sum::<usize>(), 1);
        let last = log.reports.last().copied().unwrap_or_default();
        assert_eq!((last.delivered, last.removed), (READERS, 0));
    }
    assert_stalled_member_was_closed(stalled, sent, SIZE);
    drop(sockets);
    server.stop();
}

#[test]
fn each_topic_judges_its_members_by_its_own_policy() {
    // A chat (`room`, on the loop's policy: lossless with a grace period) and a ticker with a
    // small cap of its own (closed as soon as 256 KiB its socket has not taken are still there a
    // millisecond later), the same messages published to both, a stalled member and a reader in
    // each. The ticker closes its stalled member with 1008 at its cap; in the same time the chat
    // keeps its own, which then gets every message. (With one policy for every topic, both
    // stalled members would be treated alike.)
    const SIZE: usize = 64 << 10;
    // The default's 1 MiB but a minute's grace, not 5 s: with two test processes on the two
    // cores, the loop ran 5 s behind the publisher and the chat's stalled member, above 1 MiB
    // since the ticker's was closed, was judged again past 5 s.
    let chat = RoomPolicy {
        grace: Duration::from_secs(60),
        ..RoomPolicy::DEFAULT
    };
    let ticker = RoomPolicy {
        backlog: 256 << 10,
        grace: Duration::ZERO,
        ..RoomPolicy::DEFAULT
    };
    // 10 s to read the ticker's stalled member's 1008 behind its 5-9 MB of kernel buffers: with
    // 2 s, on a loaded machine, the connection was dropped in the middle of a frame.
    let server = Server::start_with(chat, &[("ticker", ticker)], Duration::from_secs(10));
    let chat_stalled = members_at(&server, "/", 1).remove(0);
    let ticker_stalled = members_at(&server, "/ticker", 1).remove(0);
    let mut readers = members_at(&server, "/", 1);
    readers.extend(members_at(&server, "/ticker", 1));
    let readers = read_until_empty(readers, SIZE);
    let mut publisher = raw_at(server.addr, "/both");
    let mut ticker_stalled = Some(ticker_stalled);
    let mut closing = None;
    // Until the ticker's stalled member is closed (its kernel buffers fill first, then its
    // queue passes 256 KiB), and 50 messages (3.2 MB, over 100 ms) after.
    let sent = publish_past_a_close(&mut publisher, SIZE, "the ticker's stalled member", || {
        if !server.log().both.iter().any(|[_, t]| t.removed > 0) {
            return false;
        }
        // Closed: it reads at last, an in-order prefix then the 1008.
        if let Some(s) = ticker_stalled.take() {
            closing = Some(std::thread::spawn(move || {
                assert_stalled_member_was_closed(s, u32::MAX, SIZE)
            }));
        }
        true
    });
    let (got, code) = closing.unwrap().join().unwrap();
    assert!(got < sent, "the ticker's stalled member got everything");
    assert_eq!(
        code,
        Some(1008),
        "the ticker's stalled member got {got} messages, no 1008"
    );
    publisher.write_all(&frame(true, 2, &[])).unwrap();
    let mut sockets = Vec::new();
    for r in readers {
        let (got, s) = r.join().unwrap();
        assert_eq!(got, sent, "a reading member lost messages");
        sockets.push(s);
    }
    server.wait_for("every publish reported", |l| {
        l.both.len() == sent as usize + 1
    });
    {
        let log = server.log();
        let removed = |i: usize| log.both.iter().map(|r| r[i].removed).sum::<usize>();
        assert_eq!((removed(0), removed(1)), (0, 1));
        let [chat, tick] = log.both.last().copied().unwrap_or_default();
        assert_eq!((chat.delivered, tick.delivered), (2, 1));
        assert_eq!(log.closed.len(), 1, "{:?}", log.closed);
        assert_eq!(log.closed[0].1, 1008);
    }
    // The chat's stalled member, reading at last: every message, in order.
    let (got, _s) = read_until_empty(vec![chat_stalled], SIZE)
        .remove(0)
        .join()
        .unwrap();
    assert_eq!(got, sent, "the chat's stalled member lost messages");
    drop(sockets);
    server.stop();
}

#[test]
fn members_leave_every_topic_when_they_close() {
    let server = Server::start(RoomPolicy::DEFAULT);
    let mut stay = members(&server, 2);
    let mut two = client_at(server.addr, "/two");
    server.wait_for("three opened", |l| l.opened.len() == 3);
    let mut publisher = raw_at(server.addr, "/pub");
    publisher.write_all(&frame(true, 1, b"one")).unwrap();
    server.wait_for("first publish", |l| l.reports.len() == 1);
    assert_eq!(server.log().reports[0].delivered, 3);
    assert_eq!(
        two.read().unwrap(),
        tungstenite::Message::text("one"),
        "a member of two topics"
    );
    two.close(None).unwrap();
    while two.read().is_ok() {}
    server.wait_for("closed", |l| l.closed.len() == 1);
    publisher.write_all(&frame(true, 1, b"two")).unwrap();
    server.wait_for("second publish", |l| l.reports.len() == 2);
    assert_eq!(server.log().reports[1].delivered, 2);
    for s in &mut stay {
        assert_eq!(read_frame(s), (0x81, b"one".to_vec()));
        assert_eq!(read_frame(s), (0x81, b"two".to_vec()));
    }
    server.stop();
}

#[test]
fn other_threads_publish_through_a_loop_handle() {
    let server = Server::start(RoomPolicy::DEFAULT);
    let mut sockets = members(&server, 3);
    let handles: Vec<_> = (0..4u8)
        .map(|t| {
            let handle = server.handle.clone();
            std::thread::spawn(move || {
                for i in 0..25u8 {
                    handle.publish("room", Message::Binary(vec![t, i])).unwrap();
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    // A topic nobody is in: nothing happens.
    server
        .handle
        .publish("nobody", Message::Text("lost".into()))
        .unwrap();
    for s in &mut sockets {
        // Each thread's messages arrive in its order, all 100 of them.
        let mut next = [0u8; 4];
        for _ in 0..100 {
            let (b0, p) = read_frame(s);
            assert_eq!(b0, 0x82);
            let (t, i) = (usize::from(p[0]), p[1]);
            assert_eq!(i, next[t], "thread {t}");
            next[t] += 1;
        }
        assert_eq!(next, [25; 4]);
    }
    server.stop();
}

#[test]
fn the_graceful_shutdown_closes_members_with_1001_and_tells_the_application() {
    let server = Server::start(RoomPolicy::DEFAULT);
    let mut sockets = members(&server, 3);
    let log = server.log.clone();
    let stopper = std::thread::spawn(move || server.stop());
    for s in &mut sockets {
        assert_eq!(read_close(s), Some(1001));
        s.write_all(&common::close_frame(1001, b"")).unwrap();
    }
    stopper.join().unwrap();
    let log = lock(&log);
    assert_eq!(log.closed.len(), 3);
    assert!(log.closed.iter().all(|(_, code, _)| *code == 1001));
}

#[test]
fn members_with_permessage_deflate_share_one_compressed_frame() {
    let server = Server::start(RoomPolicy::DEFAULT);
    let addr = server.addr;
    // Our own client offers permessage-deflate; two members read until an empty message.
    let members: Vec<_> = (0..2)
        .map(|_| {
            std::thread::spawn(move || {
                async_std::task::block_on(async move {
                    let mut ws = ws_server::connect(&format!("ws://{addr}/")).await.unwrap();
                    assert!(ws.deflate().is_some(), "permessage-deflate not negotiated");
                    let mut got = Vec::new();
                    while let Some(m) = ws.recv().await {
                        if m.is_empty() {
                            break;
                        }
                        got.push(m);
                    }
                    got
                })
            })
        })
        .collect();
    server.wait_for("members opened", |l| l.opened.len() == 2);
    let text = "a chat line that compresses well, ".repeat(100);
    let mut publisher = raw_at(addr, "/pub");
    publisher
        .write_all(&frame(true, 1, text.as_bytes()))
        .unwrap();
    publisher.write_all(&frame(true, 2, &[])).unwrap();
    for m in members {
        assert_eq!(m.join().unwrap(), vec![Message::Text(text.clone())]);
    }
    let first = server.log().reports[0];
    // One compressed frame for both (no plain one: nobody needed it).
    assert_eq!((first.delivered, first.frames), (2, 1));
    server.stop();
}

// Before the bound, a loop that did not keep up let its handle's queue grow without limit.
#[test]
fn a_loop_handle_refuses_past_its_queue_limit_while_the_loop_is_not_taking() {
    use ws_server::evloop::HANDLE_QUEUE_LIMIT;
    // Bound but not running: nothing takes the queue.
    let app = Relay {
        log: Arc::default(),
        paths: HashMap::new(),
    };
    let server = AppLoop::bind("127.0.0.1:0", Config::default(), app).unwrap();
    let handle = server.handle();
    let chunk = 1 << 20;
    for _ in 0..HANDLE_QUEUE_LIMIT / chunk {
        handle
            .publish("room", Message::Binary(vec![0; chunk]))
            .unwrap();
    }
    let err = handle
        .publish("room", Message::Binary(vec![0; 1]))
        .unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::WouldBlock);
}

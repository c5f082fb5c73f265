//! Rooms over real sockets: every member that reads gets every message in order (a burst of
//! large messages included), a member that stops reading is closed by the room's policy while the
//! others lose nothing, and members with permessage-deflate share one compressed frame.

mod common;

use common::{
    assert_stalled_member_was_closed, frame, numbered, raw, read_frame, read_numbered,
    read_until_empty, start_with,
};
use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};
use ws_server::{Config, Message, Reply, Request, Room, Upgrade, WebSocket};

/// A server where every connection joins `room` and publishes what it receives to it.
fn room_server(room: Arc<Room>, config: Config) -> common::TestServer {
    start_with(config, move |_req: Request| {
        let room = room.clone();
        async move {
            Reply::Upgrade(Upgrade::new(move |ws: WebSocket| async move {
                let (mut reader, writer) = ws.split();
                room.subscribe(&writer);
                while let Some(m) = reader.recv().await {
                    room.publish(&m);
                }
                room.unsubscribe(&writer);
            }))
        }
    })
}

/// Waits until the room has `n` members.
fn wait_members(room: &Room, n: usize) {
    let t = Instant::now();
    while room.len() != n {
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "{} of {n} joined",
            room.len()
        );
        std::thread::sleep(Duration::from_millis(2));
    }
}

#[test]
fn a_burst_of_large_messages_reaches_every_reading_member_in_order() {
    // The case: 100 members, 100 x 16 KiB published at once (1.6 MiB, past the 1 MiB
    // outbound cap of each member). Every member reads; none may be closed or lose a message.
    const MEMBERS: usize = 100;
    const COUNT: u32 = 100;
    const SIZE: usize = 16 << 10;
    let room = Arc::new(Room::new());
    let server = room_server(room.clone(), Config::default());
    let mut sockets: Vec<TcpStream> = (0..MEMBERS).map(|_| raw(server.addr)).collect();
    wait_members(&room, MEMBERS);
    // The publisher is a member too (it gets its own messages): it writes from its own thread.
    let mut out = sockets[0].try_clone().unwrap();
    let publisher = std::thread::spawn(move || {
        let mut burst = Vec::new();
        for i in 0..COUNT {
            burst.extend_from_slice(&frame(true, 2, &numbered(i, SIZE)));
        }
        out.write_all(&burst).unwrap();
    });
    let readers: Vec<_> = sockets
        .drain(..)
        .map(|mut s| {
            std::thread::spawn(move || {
                read_numbered(&mut s, COUNT, SIZE);
                s
            })
        })
        .collect();
    publisher.join().unwrap();
    let sockets: Vec<TcpStream> = readers.into_iter().map(|r| r.join().unwrap()).collect();
    assert_eq!(room.len(), MEMBERS, "a member that reads was dropped");
    drop(sockets);
    server.shutdown();
}

/// Message size of the stalled-member test: a few fill a socket's buffers.
const STALL_SIZE: usize = 64 << 10;

/// What the publisher saw: how many messages it published, and the number of the one whose
/// publish removed the stalled member.
struct Publishing {
    sent: u32,
    removed_at: u32,
}

/// Publishes numbered messages to `room` (with `readers` reading members and one stalled one) at
/// a pace the readers keep up with, until the stalled member is removed and 50 more, then the
/// end marker (an empty binary message). Checks every publish's report on the way.
fn publish_until_the_stalled_member_is_removed(room: &Room, readers: usize) -> Publishing {
    let started = Instant::now();
    let mut sent = 0u32;
    let mut removed_at = None;
    while removed_at.is_none_or(|at| sent < at + 50) {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the stalled member was not closed"
        );
        let report = room.publish(&Message::Binary(numbered(sent, STALL_SIZE)));
        assert_eq!(report.frames, 1);
        if report.removed > 0 {
            assert_eq!(report.removed, 1);
            assert!(removed_at.is_none(), "a second member was removed");
            removed_at = Some(sent);
        } else {
            // Queued to the stalled member too, without waiting for it to read.
            assert_eq!(
                report.delivered,
                readers + usize::from(removed_at.is_none())
            );
        }
        sent += 1;
        std::thread::sleep(Duration::from_millis(2));
    }
    let report = room.publish(&Message::Binary(Vec::new()));
    assert_eq!((report.delivered, report.removed), (readers, 0));
    Publishing {
        sent,
        removed_at: removed_at.unwrap_or(sent),
    }
}

#[test]
fn a_member_that_stops_reading_is_closed_after_the_grace_period_and_the_others_lose_nothing() {
    const READERS: usize = 5;
    let policy = common::stall_policy();
    let room = Arc::new(Room::with_policy(policy));
    // The 1008 waits behind what the stalled member was sent before: a close timeout longer
    // than the test keeps the server from dropping the connection before it reads them.
    let config = Config {
        close_timeout: Duration::from_secs(120),
        ..Config::default()
    };
    let server = room_server(room.clone(), config);
    let stalled = raw(server.addr);
    wait_members(&room, 1);
    let readers: Vec<TcpStream> = (0..READERS).map(|_| raw(server.addr)).collect();
    wait_members(&room, READERS + 1);
    // Readers read until the end marker (an empty binary message).
    let readers = read_until_empty(readers, STALL_SIZE);
    // The publisher on a thread of its own: were a publish to wait for the stalled member (which
    // reads nothing until the end), the test would fail here instead of hanging. Its kernel
    // buffers fill first, then its backlog stays above 256 KiB for 2 s and the room closes it.
    let (done, finished) = std::sync::mpsc::channel();
    let publisher = {
        let room = room.clone();
        std::thread::spawn(move || {
            let _ = done.send(publish_until_the_stalled_member_is_removed(&room, READERS));
        })
    };
    let published = match finished.recv_timeout(Duration::from_secs(120)) {
        Ok(p) => p,
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
            panic!("the publisher was held up by the member that stopped reading")
        }
        // It failed a check: its panic is the test's.
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
            std::panic::resume_unwind(publisher.join().unwrap_err())
        }
    };
    let mut sockets = Vec::new();
    for r in readers {
        let (got, s) = r.join().unwrap();
        assert_eq!(got, published.sent, "a reading member lost messages");
        sockets.push(s);
    }
    assert_eq!(room.len(), READERS);
    drop(sockets);
    // The stalled member, reading at last: an in-order prefix of what was queued to it before
    // the room closed it, then the room's 1008 (the close timeout is longer than the test).
    let (got, end) = assert_stalled_member_was_closed(stalled, published.sent, STALL_SIZE);
    assert_eq!(end, Some(1008));
    assert!(got <= published.removed_at, "sent {got} after its removal");
    server.shutdown();
}

/// A member on our own client (which offers permessage-deflate): its messages in a channel.
fn deflate_member(
    addr: SocketAddr,
    tx: std::sync::mpsc::Sender<Message>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        async_std::task::block_on(async move {
            let mut ws = ws_server::connect(&format!("ws://{addr}/")).await.unwrap();
            assert!(ws.deflate().is_some(), "permessage-deflate not negotiated");
            while let Some(m) = ws.recv().await {
                let last = m.is_empty();
                tx.send(m).unwrap();
                if last {
                    break;
                }
            }
            let _ = ws.close(ws_server::CloseCode::NORMAL, "").await;
        })
    })
}

#[test]
fn members_with_the_same_deflate_settings_share_one_compressed_frame() {
    const DEFLATE: usize = 10;
    let room = Arc::new(Room::new());
    let server = room_server(room.clone(), Config::default());
    let (tx, rx) = std::sync::mpsc::channel();
    let members: Vec<_> = (0..DEFLATE)
        .map(|_| deflate_member(server.addr, tx.clone()))
        .collect();
    // Two members without the extension (raw sockets offer none).
    let mut plain = [raw(server.addr), raw(server.addr)];
    wait_members(&room, DEFLATE + 2);
    let text = "the same words again and again. ".repeat(1000);
    let report = room.publish(&Message::Text(text.clone()));
    // One plain frame and one compressed frame, for 12 members.
    assert_eq!((report.delivered, report.frames), (DEFLATE + 2, 2));
    let report = room.publish(&Message::Text(String::new()));
    assert_eq!(
        report.frames, 1,
        "an empty message is sent plain to everyone"
    );
    // Each member: the text, then the empty message.
    let got: Vec<Message> = (0..2 * DEFLATE)
        .map(|_| rx.recv_timeout(Duration::from_secs(10)).unwrap())
        .collect();
    let texts = got
        .iter()
        .filter(|m| **m == Message::Text(text.clone()))
        .count();
    assert_eq!(texts, DEFLATE, "a deflate member got other bytes");
    for s in &mut plain {
        assert_eq!(read_frame(s), (0x81, text.clone().into_bytes()));
    }
    for m in members {
        m.join().unwrap();
    }
    server.shutdown();
}

#[test]
fn client_role_members_frame_each_message_themselves() {
    // Our own clients in a room, against the echo server: each client masks its frames with its
    // own keys, so the room hands them the message (no shared frame) and the echo proves the
    // server received a valid masked frame from each.
    let server = common::start(Config::default());
    let addr = server.addr;
    let room = Room::new();
    async_std::task::block_on(async {
        let mut a = ws_server::connect(&format!("ws://{addr}/")).await.unwrap();
        let mut b = ws_server::connect(&format!("ws://{addr}/")).await.unwrap();
        assert!(room.subscribe(&a.writer()) && room.subscribe(&b.writer()));
        let report = room.publish(&Message::Text("to the echo".into()));
        assert_eq!((report.delivered, report.frames), (2, 0));
        for ws in [&mut a, &mut b] {
            assert_eq!(ws.recv().await, Some(Message::Text("to the echo".into())));
            ws.close(ws_server::CloseCode::NORMAL, "").await.unwrap();
        }
    });
    // Closed members leave at the next publish.
    let report = room.publish(&Message::Text("nobody".into()));
    assert_eq!((report.delivered, report.removed), (0, 2));
    assert!(room.is_empty());
    server.shutdown();
}

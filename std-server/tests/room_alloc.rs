//! A room's published frame is made once and shared: delivering it to every member allocates
//! nothing near a copy per member, and with permessage-deflate it is compressed once per set of
//! settings. Members are real connections (the server's handshake, driver and write path) over
//! in-memory streams polled by hand, so only this crate's allocations are counted, by a global
//! allocator that counts bytes (all threads).

#[path = "common/in_memory.rs"]
mod in_memory;

use in_memory::{frames, Mem, Nothing, Pipe, BYTES};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::task::{Context, Waker};
use ws_server::deflate::Decoder;
use ws_server::{
    serve_connection, Config, Handler, Message, Prepared, Reply, Request, Room, Upgrade, WebSocket,
    Writer,
};

/// The tests count allocations of the whole process: one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

type Task = Pin<Box<dyn Future<Output = ()> + Send>>;

/// A member connection: its transport and the server's task for it.
struct Member {
    pipe: Arc<Mutex<Pipe>>,
    task: Task,
    deflate: bool,
}

/// Connections that join `room` and read until closed.
fn handler(room: Arc<Room>) -> Arc<dyn Handler> {
    keeping_writers(room, Arc::default())
}

/// [`handler`], also keeping each connection's writer in `writers`.
fn keeping_writers(room: Arc<Room>, writers: Arc<Mutex<Vec<Writer>>>) -> Arc<dyn Handler> {
    Arc::new(move |_req: Request| {
        let room = room.clone();
        let writers = writers.clone();
        async move {
            Reply::Upgrade(Upgrade::new(move |ws: WebSocket| async move {
                let (mut reader, writer) = ws.split();
                writers.lock().unwrap().push(writer.clone());
                room.subscribe(&writer);
                while reader.recv().await.is_some() {}
                room.unsubscribe(&writer);
            }))
        }
    })
}

/// Upgrades a member (offering permessage-deflate if `deflate`) and waits until it joined.
fn join(room: &Arc<Room>, handler: &Arc<dyn Handler>, deflate: bool, cx: &mut Context) -> Member {
    let pipe = Arc::new(Mutex::new(Pipe::default()));
    let offer = if deflate {
        "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
    } else {
        ""
    };
    let head = format!(
        "GET /room HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n{offer}\r\n"
    );
    pipe.lock().unwrap().input.extend(head.as_bytes());
    let peer = "127.0.0.1:1".parse().unwrap();
    let config = Arc::new(Config::default());
    let mut task: Task = Box::pin(serve_connection(
        Mem(pipe.clone()),
        peer,
        config,
        handler.clone(),
    ));
    let before = room.len();
    for _ in 0..1000 {
        assert!(task.as_mut().poll(cx).is_pending());
        if room.len() > before {
            break;
        }
    }
    assert_eq!(room.len(), before + 1, "the member did not join");
    let mut p = pipe.lock().unwrap();
    let response = String::from_utf8_lossy(&p.output).into_owned();
    assert!(response.starts_with("HTTP/1.1 101"), "{response}");
    assert_eq!(
        response.contains("permessage-deflate"),
        deflate,
        "{response}"
    );
    p.output.clear();
    p.output.reserve(8 << 20);
    drop(p);
    Member {
        pipe,
        task,
        deflate,
    }
}

/// Polls every member until each has `want` bytes of output.
fn deliver(members: &mut [Member], want: usize, cx: &mut Context) {
    for m in members.iter_mut() {
        for _ in 0..10_000 {
            assert!(m.task.as_mut().poll(cx).is_pending());
            if m.pipe.lock().unwrap().output.len() >= want {
                break;
            }
        }
        assert_eq!(m.pipe.lock().unwrap().output.len(), want);
    }
}

#[test]
fn a_published_frame_is_shared_not_copied_per_member() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    const MEMBERS: usize = 50;
    const COUNT: usize = 10;
    const SIZE: usize = 64 << 10;
    let waker = Waker::from(Arc::new(Nothing));
    let mut cx = Context::from_waker(&waker);
    let room = Arc::new(Room::new());
    let h = handler(room.clone());
    let mut members: Vec<Member> = (0..MEMBERS)
        .map(|_| join(&room, &h, false, &mut cx))
        .collect();
    let messages: Vec<Message> = (0..=COUNT)
        .map(|i| Message::Binary(vec![i as u8; SIZE]))
        .collect();
    let frame_len = SIZE + 10; // a 64-bit length: 10-byte header
                               // Warm-up: queues and pools get their storage.
    room.publish(&messages[0]);
    deliver(&mut members, frame_len, &mut cx);
    for m in &members {
        m.pipe.lock().unwrap().output.clear();
    }
    let before = BYTES.load(Ordering::Relaxed);
    for msg in &messages[1..] {
        let report = room.publish(msg);
        assert_eq!((report.delivered, report.frames), (MEMBERS, 1));
    }
    let published = BYTES.load(Ordering::Relaxed) - before;
    deliver(&mut members, COUNT * frame_len, &mut cx);
    let total = BYTES.load(Ordering::Relaxed) - before;
    eprintln!(
        "{COUNT} x {SIZE} B to {MEMBERS} members: {published} B allocated by publish, {total} B \
         with delivery (a copy per member would be {} B)",
        COUNT * MEMBERS * SIZE
    );
    // One frame per message (its payload plus a header), and a little bookkeeping per member.
    assert!(published < (COUNT * (frame_len + 64) + MEMBERS * 1024) as u64);
    assert!(total < (COUNT * (frame_len + 64) + MEMBERS * 4096) as u64);
    for m in &members {
        let p = m.pipe.lock().unwrap();
        let got = frames(&p.output);
        assert_eq!(got.len(), COUNT);
        for (i, (b0, payload)) in got.iter().enumerate() {
            assert_eq!(*b0, 0x82);
            assert!(
                *payload == messages[i + 1].as_bytes(),
                "message {i} differs"
            );
        }
    }
}

// A fan-out written by hand (each recipient chosen, as the Redis chat's node-local delivery
// does) shares the frame as a room does.
#[test]
fn a_prepared_message_is_shared_not_copied_per_writer() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    const MEMBERS: usize = 50;
    const SIZE: usize = 64 << 10;
    let waker = Waker::from(Arc::new(Nothing));
    let mut cx = Context::from_waker(&waker);
    let room = Arc::new(Room::new());
    let writers = Arc::new(Mutex::new(Vec::new()));
    let h = keeping_writers(room.clone(), writers.clone());
    let mut members: Vec<Member> = (0..MEMBERS)
        .map(|_| join(&room, &h, false, &mut cx))
        .collect();
    let writers = writers.lock().unwrap().clone();
    let frame_len = SIZE + 10;
    // Warm-up: queues get their storage.
    let mut warm = Prepared::new(Message::Binary(vec![0; SIZE]));
    for w in &writers {
        w.send_prepared(&mut warm).unwrap();
    }
    deliver(&mut members, frame_len, &mut cx);
    for m in &members {
        m.pipe.lock().unwrap().output.clear();
    }
    let msg = Message::Binary(vec![7; SIZE]);
    let before = BYTES.load(Ordering::Relaxed);
    let mut prepared = Prepared::new(msg.clone());
    for w in &writers {
        w.send_prepared(&mut prepared).unwrap();
    }
    let sent = BYTES.load(Ordering::Relaxed) - before;
    eprintln!(
        "{SIZE} B prepared to {MEMBERS} writers: {sent} B allocated (a copy per member would be \
         {} B)",
        MEMBERS * SIZE
    );
    assert_eq!(prepared.frames_made(), 1);
    assert!(sent < (2 * frame_len + MEMBERS * 1024) as u64, "{sent}");
    deliver(&mut members, frame_len, &mut cx);
    for m in &members {
        let p = m.pipe.lock().unwrap();
        assert_eq!(frames(&p.output), [(0x82, msg.as_bytes())]);
    }
}

#[test]
fn deflate_publish_compresses_once_per_settings() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    const MEMBERS: usize = 40;
    let waker = Waker::from(Arc::new(Nothing));
    let mut cx = Context::from_waker(&waker);
    let room = Arc::new(Room::new());
    let h = handler(room.clone());
    // Half offer permessage-deflate, half do not.
    let mut members: Vec<Member> = (0..MEMBERS)
        .map(|i| join(&room, &h, i % 2 == 0, &mut cx))
        .collect();
    let text: String = (0..4000)
        .map(|i| format!("message {i} of the room; "))
        .collect();
    let size = text.len();
    // Warm-up: the thread's shared compressor is made.
    room.publish(&Message::Text("warm up ".repeat(100)));
    for m in members.iter_mut() {
        for _ in 0..100 {
            let _ = m.task.as_mut().poll(&mut cx);
        }
        m.pipe.lock().unwrap().output.clear();
    }
    let before = BYTES.load(Ordering::Relaxed);
    let report = room.publish(&Message::Text(text.clone()));
    let published = BYTES.load(Ordering::Relaxed) - before;
    eprintln!(
        "{size} B text to {MEMBERS} members, half with deflate: {published} B allocated by \
         publish, {} frames",
        report.frames
    );
    assert_eq!((report.delivered, report.frames), (MEMBERS, 2));
    // The plain frame, and one compression (its output buffer starts at half the input): never
    // one per deflate member (20 x 32 KiB or more).
    assert!(published < (3 * size) as u64, "{published}");
    let mut compressed: Option<Vec<u8>> = None;
    for m in members.iter_mut() {
        for _ in 0..1000 {
            let _ = m.task.as_mut().poll(&mut cx);
            if !m.pipe.lock().unwrap().output.is_empty() && {
                let p = m.pipe.lock().unwrap();
                frames(&p.output).len() == 1 && p.output.len() > 2
            } {
                break;
            }
        }
        let p = m.pipe.lock().unwrap();
        let got = frames(&p.output);
        assert_eq!(got.len(), 1);
        let (b0, payload) = got[0];
        if m.deflate {
            assert_eq!(b0, 0xC1, "RSV1: compressed");
            // Every deflate member got the same bytes.
            match &compressed {
                Some(c) => assert!(c == payload),
                None => compressed = Some(payload.to_vec()),
            }
            let mut out = Vec::new();
            Decoder::new(15, true)
                .inflate_into(payload, true, &mut out, 1 << 20)
                .unwrap();
            assert!(out == text.as_bytes(), "inflated text differs");
        } else {
            assert_eq!(b0, 0x81);
            assert!(payload == text.as_bytes());
        }
    }
    assert!(compressed.is_some_and(|c| c.len() < size / 4));
}

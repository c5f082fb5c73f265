//! A message published on the event loop (`ws_server::evloop`) is framed once and shared: 50
//! members over real loopback TCP get a 256 KiB message while the whole process allocates about
//! one copy of it (a copy per member would be 50); and a small message to 300 members allocates
//! nothing per member once the loop has written to them before (their write queues come back
//! from the thread's pool). Counted by a global allocator (all threads; the tests of this file
//! take turns); the members read into buffers made before the count starts. A message an
//! application hears allocates its payload and nothing else.

mod common;
#[path = "common/in_memory.rs"]
mod in_memory;

use common::raw;
use in_memory::{ALLOCS, BYTES};
use std::io::Read;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use ws_server::evloop::{App, AppLoop, Conn};
use ws_server::{Config, Message};

/// Every connection joins `room`; nobody publishes but the test.
struct Members(Arc<AtomicUsize>);

impl App for Members {
    fn on_open(&mut self, conn: &mut Conn<'_>, _path: &str) {
        conn.subscribe("room");
        self.0.fetch_add(1, Ordering::SeqCst);
    }

    fn on_message(&mut self, _conn: &mut Conn<'_>, _msg: Message) {}
}

/// The counts are process-wide: one test at a time.
static TURN: Mutex<()> = Mutex::new(());

/// A loop whose every connection is in `room`, on its own thread, with `members` joined.
struct Room {
    handle: ws_server::evloop::LoopHandle,
    stop: ws_server::ShutdownHandle,
    thread: std::thread::JoinHandle<std::io::Result<()>>,
    sockets: Vec<std::net::TcpStream>,
}

impl Room {
    fn start(members: usize) -> Self {
        let joined = Arc::new(AtomicUsize::new(0));
        let server =
            AppLoop::bind("127.0.0.1:0", Config::default(), Members(joined.clone())).unwrap();
        let addr = server.local_addr();
        let handle = server.handle();
        let stop = server.shutdown_handle();
        let thread = std::thread::spawn(move || server.run());
        let sockets: Vec<_> = (0..members).map(|_| raw(addr)).collect();
        let t = Instant::now();
        while joined.load(Ordering::SeqCst) < members {
            assert!(
                t.elapsed() < Duration::from_secs(10),
                "members did not join"
            );
            std::thread::sleep(Duration::from_millis(2));
        }
        Self {
            handle,
            stop,
            thread,
            sockets,
        }
    }

    fn stop(self) {
        self.stop.shutdown();
        drop(self.sockets);
        self.thread.join().unwrap().unwrap();
    }
}

#[test]
fn a_small_broadcast_allocates_nothing_per_member() {
    const MEMBERS: usize = 300;
    let _turn = TURN.lock().unwrap_or_else(|p| p.into_inner());
    let mut room = Room::start(MEMBERS);
    let mut frame = [0u8; 18];
    let mut round = |room: &mut Room, n: u8| {
        room.handle
            .publish("room", Message::Binary(vec![n; 16]))
            .unwrap();
        for s in &mut room.sockets {
            s.read_exact(&mut frame).unwrap();
            assert_eq!(frame[..2], [0x82, 16]);
            assert!(frame[2..].iter().all(|&b| b == n));
        }
        // Let the loop finish its writes (the queues go back to the pool once written).
        std::thread::sleep(Duration::from_millis(50));
    };
    round(&mut room, 1);
    let before = ALLOCS.load(Ordering::SeqCst);
    round(&mut room, 2);
    let allocations = ALLOCS.load(Ordering::SeqCst) - before;
    eprintln!("{allocations} allocations to deliver 16 bytes to {MEMBERS} members");
    // The message, its frame, the handle's queue entry and the topic's name: a handful. A queue
    // per member (a 64-queue pool did that) would be 236 or more, each grown as it is filled.
    assert!(allocations < 32, "{allocations} allocations");
    room.stop();
}

#[test]
fn a_published_frame_is_shared_not_copied_per_member() {
    const MEMBERS: usize = 50;
    const SIZE: usize = 256 << 10;
    let _turn = TURN.lock().unwrap_or_else(|p| p.into_inner());
    let mut room = Room::start(MEMBERS);
    let msg = Message::Binary(vec![7u8; SIZE]);
    // The frame: 10 header bytes (127, then a 64-bit length), then the payload.
    let mut frame = vec![0u8; SIZE + 10];
    // Let the loop settle (its last writes of the 101s, the pools warmed).
    std::thread::sleep(Duration::from_millis(50));
    let before = BYTES.load(Ordering::SeqCst);
    room.handle.publish("room", msg).unwrap();
    for s in &mut room.sockets {
        s.read_exact(&mut frame).unwrap();
        assert_eq!(frame[..2], [0x82, 127]);
        assert!(frame[10..].iter().all(|&b| b == 7));
    }
    let allocated = BYTES.load(Ordering::SeqCst) - before;
    eprintln!("allocated {allocated} bytes to deliver {SIZE} bytes to {MEMBERS} members");
    // One frame (payload + header) and bookkeeping; a copy per member would be 12.5 MiB.
    assert!(allocated < (2 * SIZE) as u64, "{allocated} bytes allocated");
    room.stop();
}

/// Counts the messages it hears.
struct Counter(Arc<AtomicUsize>);

impl App for Counter {
    fn on_message(&mut self, _conn: &mut Conn<'_>, _msg: Message) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn a_message_heard_allocates_its_payload_only() {
    const MESSAGES: usize = 200;
    let _turn = TURN.lock().unwrap_or_else(|p| p.into_inner());
    let heard = Arc::new(AtomicUsize::new(0));
    let server = AppLoop::bind("127.0.0.1:0", Config::default(), Counter(heard.clone())).unwrap();
    let addr = server.local_addr();
    let stop = server.shutdown_handle();
    let thread = std::thread::spawn(move || server.run());
    let mut s = raw(addr);
    let burst: Vec<u8> = (0..MESSAGES)
        .flat_map(|i| common::frame(true, 0x2, &[i as u8; 16]))
        .collect();
    let send = |s: &mut std::net::TcpStream, total: usize| {
        std::io::Write::write_all(s, &burst).unwrap();
        let t = Instant::now();
        while heard.load(Ordering::SeqCst) < total {
            assert!(t.elapsed() < Duration::from_secs(10), "messages not heard");
            std::thread::sleep(Duration::from_millis(1));
        }
    };
    // The first burst warms the loop (its event list, the thread's spare message box).
    send(&mut s, MESSAGES);
    let before = ALLOCS.load(Ordering::SeqCst);
    send(&mut s, 2 * MESSAGES);
    let allocations = ALLOCS.load(Ordering::SeqCst) - before;
    eprintln!("{allocations} allocations for {MESSAGES} messages heard");
    // One per message, its payload (the application owns it). The driver holds a complete
    // message boxed (8 bytes per connection, not 32); a new box per message made it 2 per
    // message (400 here).
    assert!(
        allocations <= MESSAGES as u64 + 20,
        "{allocations} allocations"
    );
    stop.shutdown();
    drop(s);
    thread.join().unwrap().unwrap();
}

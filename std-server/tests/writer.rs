//! Split connections: writers on other tasks, the per-connection outbound cap (1008 past it,
//! without blocking the sender), a broadcast that a slow peer cannot hold up, and replies to one
//! read coalesced into one write.

mod common;

use async_io::{Async, Timer};
use common::*;
use futures_io::{AsyncRead, AsyncWrite};
use std::io::{self, Write};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tungstenite::Message as T;
use ws_server::{Config, Error, Message, Reply, Request, Upgrade, WebSocket, Writer};

#[test]
fn writer_over_the_cap_fails_at_once_and_closes_1008() {
    let (tx, rx) = mpsc::channel();
    let tx = Mutex::new(tx);
    let server = start_with(Config::default(), move |_req: Request| {
        let tx = tx.lock().unwrap().clone();
        async move {
            Reply::Upgrade(Upgrade::new(move |ws: WebSocket| async move {
                let (mut reader, writer) = ws.split();
                let t = Instant::now();
                let mut sent = 0usize;
                let result = loop {
                    match writer.send(Message::Binary(vec![1u8; 64 << 10])) {
                        Ok(()) => sent += 1,
                        Err(e) => break e,
                    }
                };
                tx.send((sent, matches!(result, Error::Backpressure), t.elapsed()))
                    .unwrap();
                assert!(matches!(
                    writer.send(Message::Text("x".into())),
                    Err(Error::Closed)
                ));
                while reader.recv().await.is_some() {}
            }))
        }
    });
    let mut s = raw(server.addr);
    let (sent, backpressure, took) = rx.recv_timeout(Duration::from_secs(5)).unwrap();
    assert!(backpressure, "expected Error::Backpressure");
    assert!(sent <= 17, "accepted {sent} x 64 KiB past a 1 MiB cap");
    assert!(
        took < Duration::from_millis(500),
        "sending blocked for {took:?}"
    );
    // The peer gets what was already queued, then 1008.
    assert_eq!(read_close(&mut s), Some(1008));
    s.write_all(&close_frame(1008, b"")).unwrap();
    assert_closed_within(&mut s, Duration::from_secs(2));
}

#[test]
fn broadcast_to_a_slow_peer_does_not_block_the_others() {
    type Peers = Arc<Mutex<Vec<Writer>>>;
    let peers: Peers = Arc::default();
    let handler_peers = peers.clone();
    let server = start_with(Config::default(), move |_req: Request| {
        let peers = handler_peers.clone();
        async move {
            Reply::Upgrade(Upgrade::new(move |ws: WebSocket| async move {
                let (mut reader, writer) = ws.split();
                peers.lock().unwrap().push(writer);
                while let Some(m) = reader.recv().await {
                    if m == Message::Text("go".into()) {
                        let peers = peers.clone();
                        // The broadcaster is its own task, as in a chat server.
                        async_std::task::spawn(async move {
                            for i in 0..100u32 {
                                let all: Vec<Writer> = peers.lock().unwrap().clone();
                                for w in all {
                                    let _ = w.send(Message::Binary(vec![i as u8; 64 << 10]));
                                }
                                Timer::after(Duration::from_millis(2)).await;
                            }
                        });
                    }
                }
            }))
        }
    });
    // The slow peer connects first and never reads.
    let mut slow = raw(server.addr);
    let mut fast = client(server.addr);
    while peers.lock().unwrap().len() < 2 {
        std::thread::sleep(Duration::from_millis(5));
    }
    fast.send(T::text("go")).unwrap();
    for i in 0..100u32 {
        assert_eq!(
            fast.read().unwrap(),
            T::binary(vec![i as u8; 64 << 10]),
            "message {i}"
        );
    }
    // The slow peer was cut off with 1008 (after what fit in its queue and socket buffers).
    assert_eq!(read_close(&mut slow), Some(1008));
    let _ = slow.write_all(&close_frame(1008, b""));
    assert_closed_within(&mut slow, Duration::from_secs(2));
}

/// A transport that counts write calls.
struct Counting<S> {
    inner: S,
    writes: Arc<AtomicUsize>,
}

impl<S: AsyncRead + Unpin> AsyncRead for Counting<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Counting<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.writes.fetch_add(1, Ordering::Relaxed);
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }
    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.writes.fetch_add(1, Ordering::Relaxed);
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_close(cx)
    }
}

#[test]
fn replies_to_frames_of_one_read_leave_in_one_write() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let writes = Arc::new(AtomicUsize::new(0));
    let counter = writes.clone();
    let th = std::thread::spawn(move || {
        let (s, _) = listener.accept().unwrap();
        let io = Counting {
            inner: Async::new(s).unwrap(),
            writes: counter,
        };
        // WebSocket over any futures-io stream (no HTTP handshake in this test).
        let ws = WebSocket::from_upgraded(
            io,
            ws_core::Role::Server,
            &ws_server::ConnectionConfig::default(),
            &[],
        );
        async_std::task::block_on(ws.echo());
    });
    let mut s = tcp(addr);
    let mut bytes = Vec::new();
    for i in 0..1000u32 {
        bytes.extend(frame(true, 1, format!("{i:04}").as_bytes()));
        if i % 10 == 0 {
            bytes.extend(frame(true, 9, b"p"));
        }
    }
    s.write_all(&bytes).unwrap();
    for i in 0..1000u32 {
        assert_eq!(read_frame(&mut s), (0x81, format!("{i:04}").into_bytes()));
        if i % 10 == 0 {
            assert_eq!(read_frame(&mut s), (0x8a, b"p".to_vec()));
        }
    }
    let n = writes.load(Ordering::Relaxed);
    eprintln!(
        "1100 frames ({} bytes) answered with {n} write call(s)",
        bytes.len()
    );
    assert!(n <= 4, "{n} writes for 1100 frames that arrived together");
    s.write_all(&close_frame(1000, b"")).unwrap();
    assert_eq!(read_close(&mut s), Some(1000));
    th.join().unwrap();
}

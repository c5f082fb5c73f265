//! Broadcast room on tokio-tungstenite 0.30, written as its own chat example
//! (`examples/server.rs`) writes one: a map of every member's unbounded sender; each message a
//! member sends is cloned into every sender (the sender's own included: the benchmark's
//! protocol), and each member's queue is forwarded into its socket. Single-threaded runtime, as
//! `tt-echo`. Every upgrade (any path) joins; the benchmark uses `/room`.
//!
//! `Message::Binary` holds `Bytes`, so a clone shares the payload. The queues are unbounded: a
//! slow member costs memory, never a message.
//!
//! Usage: `tt-room [--addr 127.0.0.1:9005]`

use futures_channel::mpsc::{unbounded, UnboundedSender};
use futures_util::{future, pin_mut, StreamExt, TryStreamExt};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::Message;

type PeerMap = Arc<Mutex<HashMap<SocketAddr, UnboundedSender<Message>>>>;

async fn handle_connection(peers: PeerMap, stream: TcpStream, addr: SocketAddr) {
    let Ok(ws) = tokio_tungstenite::accept_async(stream).await else {
        return;
    };
    let (tx, rx) = unbounded();
    lock(&peers).insert(addr, tx);
    let (outgoing, incoming) = ws.split();
    let broadcast_incoming = incoming.try_for_each(|msg| {
        if msg.is_text() || msg.is_binary() {
            for peer in lock(&peers).values() {
                // Err only for a member already gone (removed below).
                let _ = peer.unbounded_send(msg.clone());
            }
        }
        future::ok(())
    });
    let receive_from_others = rx.map(Ok).forward(outgoing);
    pin_mut!(broadcast_incoming, receive_from_others);
    future::select(broadcast_incoming, receive_from_others).await;
    lock(&peers).remove(&addr);
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn main() -> std::io::Result<()> {
    ws_bench::raise_fd_limit()?;
    let addr = ws_bench::addr_arg("127.0.0.1:9005");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()?;
    rt.block_on(async move {
        let listener = TcpListener::bind(&addr).await?;
        eprintln!("tt-room listening on {addr}");
        let peers = PeerMap::default();
        loop {
            let (stream, peer) = listener.accept().await?;
            stream.set_nodelay(true)?;
            tokio::spawn(handle_connection(peers.clone(), stream, peer));
        }
    })
}

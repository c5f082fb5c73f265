//! Broadcast room on fastwebsockets 0.10 (tokio + hyper upgrade), the way a tokio user writes
//! one: every connection joins one `tokio::sync::broadcast` channel; a reader task publishes each
//! data message into it, a writer task sends everything the channel yields. Single-threaded
//! runtime, as `fws-echo`. Every upgrade (any path) joins; the benchmark uses `/room`.
//!
//! A member whose writer falls more than [`CAPACITY`] messages behind skips what it missed
//! (`RecvError::Lagged`, tokio's policy for a slow receiver); the load generator counts it lost.
//!
//! Usage: `fws-room [--addr 127.0.0.1:9004]`

use fastwebsockets::{upgrade, FragmentCollectorRead, Frame, OpCode, Payload, WebSocketError};
use http_body_util::Empty;
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use tokio::net::TcpListener;
use tokio::sync::{broadcast, mpsc};

/// Messages the channel keeps for its slowest receiver (the benchmark keeps at most 256 in flight).
const CAPACITY: usize = 1024;

/// A published message: its opcode (text or binary) and payload, shared by every receiver.
type Msg = (OpCode, Bytes);

async fn handle_client(
    fut: upgrade::UpgradeFut,
    room: broadcast::Sender<Msg>,
) -> Result<(), WebSocketError> {
    let ws = fut.await?;
    let (rx, mut tx) = ws.split(tokio::io::split);
    let mut rx = FragmentCollectorRead::new(rx);
    let mut inbox = room.subscribe();
    // Frames the protocol obliges the reader to answer (pong, close) go through the writer.
    let (control_tx, mut control_rx) = mpsc::unbounded_channel::<Msg>();
    let writer = tokio::spawn(async move {
        loop {
            // The payload is written from the channel's shared bytes: no copy per member.
            let (op, bytes) = tokio::select! {
                m = inbox.recv() => match m {
                    Ok(m) => m,
                    Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(broadcast::error::RecvError::Closed) => break,
                },
                c = control_rx.recv() => match c {
                    Some(c) => c,
                    None => break,
                },
            };
            tx.write_frame(Frame::new(true, op, None, Payload::Borrowed(&bytes)))
                .await?;
            if op == OpCode::Close {
                break;
            }
        }
        Ok::<(), WebSocketError>(())
    });
    loop {
        let frame = rx
            .read_frame(&mut |f: Frame<'_>| {
                let sent = control_tx.send((f.opcode, Bytes::copy_from_slice(&f.payload)));
                async move { sent.map_err(|_| WebSocketError::ConnectionClosed) }
            })
            .await;
        let frame = match frame {
            Ok(f) => f,
            Err(_) => break,
        };
        match frame.opcode {
            OpCode::Close => break,
            OpCode::Text | OpCode::Binary => {
                // Err only when no one is subscribed; this member is.
                let _ = room.send((frame.opcode, Bytes::copy_from_slice(&frame.payload)));
            }
            _ => {}
        }
    }
    drop(control_tx);
    writer.abort();
    Ok(())
}

async fn server_upgrade(
    mut req: Request<Incoming>,
    room: broadcast::Sender<Msg>,
) -> Result<Response<Empty<Bytes>>, WebSocketError> {
    let (response, fut) = upgrade::upgrade(&mut req)?;
    tokio::task::spawn(async move {
        // Errors are the load generator hanging up: nothing to report.
        let _ = tokio::task::unconstrained(handle_client(fut, room)).await;
    });
    Ok(response)
}

fn main() -> std::io::Result<()> {
    ws_bench::raise_fd_limit()?;
    let addr = ws_bench::addr_arg("127.0.0.1:9004");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()?;
    rt.block_on(async move {
        let listener = TcpListener::bind(&addr).await?;
        eprintln!("fws-room listening on {addr}");
        let (room, _) = broadcast::channel::<Msg>(CAPACITY);
        loop {
            let (stream, _) = listener.accept().await?;
            stream.set_nodelay(true)?;
            let room = room.clone();
            tokio::spawn(async move {
                let io = hyper_util::rt::TokioIo::new(stream);
                let service = service_fn(move |req| server_upgrade(req, room.clone()));
                let conn = http1::Builder::new()
                    .serve_connection(io, service)
                    .with_upgrades();
                let _ = conn.await;
            });
        }
    })
}

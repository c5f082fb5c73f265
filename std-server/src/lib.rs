//! `ws-server`: the async WebSocket server and client on [`ws_core`].
//!
//! Written against the `futures-io` traits (`AsyncRead + AsyncWrite + Unpin + Send`) and
//! `async-io` (a runtime-independent reactor for sockets and timers), so it runs on any executor;
//! connection tasks are spawned through a [`Spawner`] (async-std's by default, feature
//! `async-std-runtime`; `Server::with_spawner(|f| { smol::spawn(f).detach(); })` for smol).
//!
//! - [`Server`]: reads each request head with a timeout, lets a [`Handler`] answer HTTP or
//!   upgrade, enforces the connection limit (503), shuts down gracefully (1001 to everyone).
//! - [`WebSocket`]: `recv`/`send`/`ping`/`close`, reassembly up to the message limit, idle pings,
//!   pong and close timeouts, a byte-bounded outbound queue, [`WebSocket::split`] into a
//!   [`Reader`] and a cloneable [`Writer`]. See [`WebSocket`] for progress and cancel safety.
//! - [`connect`]: the client role (random masks and nonce, Accept checked by ws-core).
//! - [`serve_connection`]: the server's request handling over any stream (TLS, your listener).
//! - [`deflate`]: permessage-deflate (RFC 7692), negotiated by default ([`Config::deflate`]).
//! - [`evloop`]: a second engine without async: one thread, one edge-triggered epoll, each
//!   connection a ws-core state machine and a socket (about 0.25 KiB idle, 3 syscalls per
//!   echo); the echo (`ws-server echo --engine loop`) and applications written as callbacks
//!   with topics ([`evloop::AppLoop`]; `ws-server room --engine loop`). Behind the cargo
//!   feature `evloop` (off by default: it adds mio, slab and rustix).
//!
//! - [`Room`]: publish a message to every member connection, framed once (and compressed once
//!   per set of deflate settings), each member's queue holding a reference to the shared bytes;
//!   a member that falls behind is handled by the room's documented [`RoomPolicy`].
//!
//! A server that echoes on `/echo`, broadcasts on `/chat` and serves a page elsewhere:
//!
//! ```no_run
//! use std::sync::Arc;
//! use ws_server::{Config, HttpResponse, Message, Reply, Request, Room, Server, Upgrade, WebSocket};
//!
//! # async_std::task::block_on(async {
//! let room = Arc::new(Room::new());
//! let handler = move |req: Request| {
//!     let room = room.clone();
//!     async move {
//!         match req.path.as_str() {
//!             "/echo" => Reply::Upgrade(Upgrade::new(WebSocket::echo)),
//!             "/chat" => Reply::Upgrade(Upgrade::new(move |ws: WebSocket| async move {
//!                 let (mut reader, writer) = ws.split();
//!                 room.subscribe(&writer);
//!                 while let Some(msg) = reader.recv().await {
//!                     // Never blocks: framed once, queued to every member by reference; a
//!                     // member that stays behind past the room's grace period is closed (1008).
//!                     room.publish(&msg);
//!                 }
//!                 room.unsubscribe(&writer);
//!             })),
//!             _ => Reply::Http(HttpResponse::html("<h1>hello</h1>")),
//!         }
//!     }
//! };
//! let server = Server::bind("127.0.0.1:9001", Config::default()).await?;
//! server.serve(handler).await?;
//! # Ok::<(), std::io::Error>(())
//! # });
//!
//! // A client:
//! # async_std::task::block_on(async {
//! let mut ws = ws_server::connect("ws://127.0.0.1:9001/echo").await?;
//! ws.send(Message::Text("hi".into())).await?;
//! assert_eq!(ws.recv().await, Some(Message::Text("hi".into())));
//! ws.close(ws_server::CloseCode::NORMAL, "bye").await?;
//! # Ok::<(), ws_server::Error>(())
//! # });
//! ```
//!
//! With the feature `tls`: `wss://` in [`connect`] and [`Server::with_tls`] (rustls; see the
//! `tls` module). What it does not do: TLS on the event-loop engine, HTTP keep-alive or chunked
//! request bodies (one request per connection, `Connection: close`).
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod accept;
mod budget;
mod client;
mod config;
mod conn;
pub mod deflate;
mod driver;
mod echo;
mod error;
#[cfg(feature = "evloop")]
pub mod evloop;
mod http;
mod io_util;
mod message;
mod room;
mod server;
mod shared;
mod tcp;
#[cfg(feature = "tls")]
pub mod tls;
mod upgrade;
mod websocket;

pub use budget::{MessageBudget, DEFAULT_MESSAGE_BUDGET};
pub use client::{client_handshake, connect, connect_with};
pub use config::{ClientConfig, Config, ConnectionConfig};
pub use conn::Stream;
pub use echo::echo_handler;
pub use error::Error;
pub use http::{BoxFuture, Handler, HttpResponse, Reply, Request, Upgrade};
pub use message::Message;
pub use room::{Prepared, Published, Room, RoomPolicy};
pub use server::{serve_connection, Server, ShutdownHandle, Spawner};
pub use websocket::{Reader, WebSocket, Writer};
// The ws-core types that appear in this crate's public signatures (the permessage-deflate ones are
// in [`deflate`]), so that a user needs no direct dependency on ws-core.
pub use ws_core::error::{HandshakeError, SendError};
pub use ws_core::limits::HeadLimits;
pub use ws_core::{CloseCode, Limits, MessageKind, Role};

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
//!   [`Reader`] and a cloneable [`Writer`]. See the `websocket` module docs for cancel safety.
//! - [`connect`]: the client role (random masks and nonce, Accept checked by ws-core).
//!
//! What it does not do: TLS (`wss://`), extensions (permessage-deflate), HTTP keep-alive or
//! chunked request bodies (one request per connection, `Connection: close`).
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod accept;
pub mod apps;
mod client;
mod config;
mod conn;
pub mod deflate;
mod echo;
mod error;
mod http;
mod io_util;
mod message;
mod outbox;
mod server;
mod shared;
mod tcp;
mod websocket;

pub use client::{client_handshake, connect, connect_with};
pub use config::{ClientConfig, Config};
pub use conn::Stream;
pub use echo::echo_handler;
pub use error::Error;
pub use http::{BoxFuture, Handler, HttpResponse, Reply, Request, Upgrade};
pub use message::Message;
pub use server::{serve_connection, Server, ShutdownHandle, Spawner};
pub use websocket::{Reader, WebSocket, Writer};
pub use ws_core::{CloseCode, Limits};

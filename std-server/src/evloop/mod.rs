//! The event-loop echo engine: one thread, one edge-triggered epoll (mio), every connection a
//! ws-core [`Connection`](ws_core::Connection) plus its socket in a slab. No task, no reactor
//! object and no timer entry per connection: an idle connection holds about a quarter KiB.
//!
//! It answers what [`crate::echo_handler`] answers, over the same [`Config`]: every valid upgrade
//! (any path) is accepted and every text and binary message echoed; other requests get ws-core's
//! 4xx; past `max_connections`, 503. Timers (handshake, idle ping, pong, close) run from one
//! sweep when the earliest deadline is due. A graceful shutdown ([`crate::ShutdownHandle::shutdown`]) stops
//! accepting, sends 1001 to every open connection and returns once all are closed or the close
//! timeout has passed.
//!
//! What it leaves out, compared with [`crate::Server`]: permessage-deflate (the offer is
//! declined), subprotocols (none chosen), request bodies and applications other than echo.
//! [`crate::Server`] is the general server; this engine is for services that need the most
//! connections per byte and the fewest syscalls per message.

mod alarm;
mod engine;
mod peer;
mod scratch;
mod write;

use crate::config::Config;
use std::io;
use std::net::SocketAddr;

/// A bound echo server on its own event loop; [`EchoLoop::run`] serves until stopped.
pub struct EchoLoop {
    inner: engine::Engine,
}

impl EchoLoop {
    /// Binds `addr` (e.g. `127.0.0.1:9001`; port 0 picks a free one).
    pub fn bind(addr: &str, config: Config) -> io::Result<Self> {
        let addr: SocketAddr = addr
            .parse()
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, format!("{addr}: {e}")))?;
        Ok(Self {
            inner: engine::Engine::bind(addr, config)?,
        })
    }

    /// Serves on a listening socket the caller made (e.g. with `SO_REUSEPORT`, so that several
    /// loops, one per process or thread, share a port and the kernel spreads connections).
    pub fn from_listener(listener: std::net::TcpListener, config: Config) -> io::Result<Self> {
        Ok(Self {
            inner: engine::Engine::from_std(listener, config)?,
        })
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> SocketAddr {
        self.inner.local_addr
    }

    /// A handle that stops this server gracefully (1001 to every client; [`EchoLoop::run`]
    /// returns when done).
    pub fn shutdown_handle(&self) -> crate::ShutdownHandle {
        crate::ShutdownHandle::for_loop(self.inner.stop_flag.clone(), self.inner.waker.clone())
    }

    /// Serves on the calling thread until a graceful shutdown completes.
    pub fn run(self) -> io::Result<()> {
        self.inner.run()
    }
}

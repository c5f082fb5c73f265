//! The event-loop engine: one thread, one edge-triggered epoll (mio), every connection a
//! ws-core [`Connection`](ws_core::Connection) plus its socket in a slab. No task, no reactor
//! object and no timer entry per connection: an idle connection holds about a quarter KiB.
//!
//! [`EchoLoop`] answers what [`crate::echo_handler`] answers, over the same [`Config`]: every valid upgrade
//! (any path) is accepted and every text and binary message echoed; other requests get ws-core's
//! 4xx; past `max_connections`, 503. Timers (handshake, idle ping, pong, close) run from one
//! sweep when the earliest deadline is due. A graceful shutdown ([`crate::ShutdownHandle::shutdown`]) stops
//! accepting, sends 1001 to every open connection and returns once all are closed or the close
//! timeout has passed.
//!
//! Applications run on the same loop through [`AppLoop`]: an [`App`]'s callbacks (open,
//! message, close, and an optional request filter) run on the loop's thread, with topics that a
//! connection joins and leaves ([`Conn::subscribe`], [`Conn::publish`]): a published message is
//! framed once and each member's queue holds a reference; members are judged by their topic's
//! [`crate::RoomPolicy`] as a [`crate::Room`]'s are (one for every topic,
//! [`AppLoop::with_policy`], and any topic's own, [`AppLoop::with_topic_policy`]); a message is
//! heard before the bytes behind it are processed, and everything the callbacks for the messages
//! of one read queued to a connection leaves in one vectored write. A [`LoopHandle`] publishes
//! from other threads.
//!
//! ```no_run
//! use ws_server::evloop::{App, AppLoop, Conn};
//! use ws_server::{Config, Message};
//!
//! /// Everyone in one room: each message goes to every member.
//! struct Chat;
//!
//! impl App for Chat {
//!     fn on_open(&mut self, conn: &mut Conn<'_>, _path: &str) {
//!         conn.subscribe("chat");
//!     }
//!     fn on_message(&mut self, conn: &mut Conn<'_>, msg: Message) {
//!         conn.publish("chat", &msg);
//!     }
//! }
//!
//! let server = AppLoop::bind("127.0.0.1:9001", Config::default(), Chat)?;
//! server.run()?;
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! It has permessage-deflate, negotiated as [`crate::Server`] does (a published message is
//! compressed once per set of settings). What it leaves out, compared with [`crate::Server`]:
//! subprotocols (none chosen), TLS, request bodies and plain HTTP pages (a request that is not an
//! upgrade gets ws-core's 4xx, or the [`App::admit`] answer), and callbacks that wait (a callback runs to the end
//! on the loop's thread; work that blocks belongs on another thread, which answers through a
//! [`LoopHandle`]). [`crate::Server`] is the general server; this engine is for services that need
//! the most connections per byte and the fewest syscalls per message.

mod alarm;
mod app;
mod engine;
mod hub;
mod peer;
mod scratch;
mod topics;
mod write;

pub use app::{App, Conn, ConnId, Head};

use crate::config::Config;
use crate::driver::Mode;
use crate::message::Message;
use crate::room::RoomPolicy;
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

/// Payload bytes [`LoopHandle::publish`] may have waiting for the loop at once (64 MiB, a room
/// member's hard limit): past it the loop is not keeping up, and a publisher is told so instead
/// of the queue growing without bound.
pub const HANDLE_QUEUE_LIMIT: usize = 64 << 20;

/// Publishes handed to a loop by other threads, and their payload bytes.
#[derive(Debug, Default)]
pub(crate) struct Inbox(Mutex<(Vec<(String, Message)>, usize)>);

impl Inbox {
    fn lock(&self) -> std::sync::MutexGuard<'_, (Vec<(String, Message)>, usize)> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues `msg`, or gives it back when the queue is at [`HANDLE_QUEUE_LIMIT`].
    fn push(&self, topic: &str, msg: Message) -> Result<(), Message> {
        let mut q = self.lock();
        if q.1 > 0 && q.1.saturating_add(msg.len()) > HANDLE_QUEUE_LIMIT {
            return Err(msg);
        }
        q.1 += msg.len();
        q.0.push((topic.to_owned(), msg));
        Ok(())
    }

    fn take(&self) -> Vec<(String, Message)> {
        let mut q = self.lock();
        q.1 = 0;
        std::mem::take(&mut q.0)
    }
}

/// The echo: [`Mode::Echo`] answers every message inside the driver; no callback runs.
struct Echo;

impl App for Echo {
    fn on_message(&mut self, _conn: &mut Conn<'_>, _msg: Message) {}
}

/// A bound echo server on its own event loop; [`EchoLoop::run`] serves until stopped.
pub struct EchoLoop {
    inner: engine::Engine<Echo>,
}

impl EchoLoop {
    /// Binds `addr` (e.g. `127.0.0.1:9001`; port 0 picks a free one).
    pub fn bind(addr: &str, config: Config) -> io::Result<Self> {
        Ok(Self {
            inner: engine::Engine::bind(parse(addr)?, config, Echo, Mode::Echo)?,
        })
    }

    /// Serves on a listening socket the caller made (e.g. with `SO_REUSEPORT`, so that several
    /// loops, one per process or thread, share a port and the kernel spreads connections).
    pub fn from_listener(listener: std::net::TcpListener, config: Config) -> io::Result<Self> {
        Ok(Self {
            inner: engine::Engine::from_std(listener, config, Echo, Mode::Echo)?,
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

/// An [`App`] served on its own event loop; [`AppLoop::run`] serves until stopped.
pub struct AppLoop<A> {
    inner: engine::Engine<A>,
}

impl<A: App> AppLoop<A> {
    /// Binds `addr` (e.g. `127.0.0.1:9001`; port 0 picks a free one) to serve `app`.
    pub fn bind(addr: &str, config: Config, app: A) -> io::Result<Self> {
        Ok(Self {
            inner: engine::Engine::bind(parse(addr)?, config, app, Mode::Messages)?,
        })
    }

    /// Serves `app` on a listening socket the caller made (e.g. with `SO_REUSEPORT`).
    pub fn from_listener(
        listener: std::net::TcpListener,
        config: Config,
        app: A,
    ) -> io::Result<Self> {
        Ok(Self {
            inner: engine::Engine::from_std(listener, config, app, Mode::Messages)?,
        })
    }

    /// Sets the backpressure policy for the members of every topic without one of its own
    /// (default [`RoomPolicy::DEFAULT`]).
    pub fn with_policy(mut self, policy: RoomPolicy) -> Self {
        self.inner.set_policy(policy);
        self
    }

    /// Sets the backpressure policy for the members of `topic` (replacing one set before), for
    /// the loop's life: it holds whether the topic has members or not, and other topics keep the
    /// [`AppLoop::with_policy`] one.
    ///
    /// A chat and a price ticker on one loop, say: the chat lossless with a grace period (the
    /// default: a member gets every message or is closed with 1008 and resumes from its history),
    /// the ticker with a small cap (a member whose socket has not taken 256 KiB of old prices by
    /// the next publish a millisecond later is closed with 1008, and fetches the current prices
    /// when it reconnects). The cap is the soft limit with no grace, not the hard limit: on the
    /// loop, everything one event publishes is queued before that event's write, so a small hard
    /// limit would also close members that read, whenever one read carries many messages
    /// (measured: with a 512 KiB hard limit, a reader of 64 KiB messages published every 2 ms was
    /// closed with 7 frames, 458 822 bytes, queued by one read of the publisher).
    ///
    /// ```no_run
    /// # use ws_server::evloop::{App, AppLoop, Conn};
    /// # use ws_server::{Config, Message, RoomPolicy};
    /// # use std::time::Duration;
    /// # struct Feeds;
    /// # impl App for Feeds { fn on_message(&mut self, _: &mut Conn<'_>, _: Message) {} }
    /// let ticker = RoomPolicy {
    ///     backlog: 256 << 10,
    ///     grace: Duration::ZERO,
    ///     ..RoomPolicy::DEFAULT
    /// };
    /// AppLoop::bind("127.0.0.1:9001", Config::default(), Feeds)?
    ///     .with_topic_policy("ticker", ticker)
    ///     .run()?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn with_topic_policy(mut self, topic: &str, policy: RoomPolicy) -> Self {
        self.inner.set_topic_policy(topic, policy);
        self
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> SocketAddr {
        self.inner.local_addr
    }

    /// A handle that stops this server gracefully (1001 to every client; [`AppLoop::run`]
    /// returns when done).
    pub fn shutdown_handle(&self) -> crate::ShutdownHandle {
        crate::ShutdownHandle::for_loop(self.inner.stop_flag.clone(), self.inner.waker.clone())
    }

    /// A handle that publishes to this loop's topics from any thread.
    pub fn handle(&self) -> LoopHandle {
        LoopHandle {
            inbox: self.inner.inbox.clone(),
            waker: self.inner.waker.clone(),
        }
    }

    /// Serves on the calling thread until a graceful shutdown completes.
    pub fn run(self) -> io::Result<()> {
        self.inner.run()
    }
}

/// Publishes to an [`AppLoop`]'s topics from other threads (an HTTP endpoint, a timer): the
/// message waits in a queue, the loop is woken and publishes it as [`Conn::publish`] does.
#[derive(Clone, Debug)]
pub struct LoopHandle {
    inbox: Arc<Inbox>,
    waker: Arc<mio::Waker>,
}

impl LoopHandle {
    /// Queues `msg` for every member of `topic` (as they are when the loop takes it). Fails
    /// with [`io::ErrorKind::WouldBlock`] while [`HANDLE_QUEUE_LIMIT`] bytes already wait for the
    /// loop (it is not keeping up: try later, or drop the message); a single message is always
    /// taken into an empty queue.
    pub fn publish(&self, topic: &str, msg: Message) -> io::Result<()> {
        if let Err(msg) = self.inbox.push(topic, msg) {
            return Err(io::Error::new(
                io::ErrorKind::WouldBlock,
                format!(
                    "{} bytes to {topic:?} refused: {HANDLE_QUEUE_LIMIT} bytes already wait for the loop",
                    msg.len()
                ),
            ));
        }
        self.waker.wake()
    }
}

/// `addr` as a socket address.
fn parse(addr: &str) -> io::Result<SocketAddr> {
    addr.parse()
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, format!("{addr}: {e}")))
}

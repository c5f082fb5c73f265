//! The listener: accepts connections, enforces the connection limit, spawns one task per
//! connection and runs the graceful shutdown (stop accepting, 1001 to every client, wait up to
//! the close timeout).

use crate::config::Config;
use crate::http::{BoxFuture, Handler};
use crate::shared::{Item, Shared};
use async_io::{Async, Timer};
use std::collections::HashMap;
use std::future::poll_fn;
use std::io;
use std::net::{SocketAddr, TcpListener, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::task::{Poll, Waker};
use std::time::{Duration, Instant};
use ws_core::CloseCode;

/// Runs a connection's future on some executor (e.g. `|f| { smol::spawn(f).detach(); }`).
pub type Spawner = Arc<dyn Fn(BoxFuture<'static, ()>) + Send + Sync>;

/// The TLS configuration of a server's connections, if it serves TLS.
#[cfg(feature = "tls")]
pub(crate) type ServerTls = Option<crate::tls::TlsAcceptor>;
/// Without the feature `tls` a server never has one.
#[cfg(not(feature = "tls"))]
pub(crate) type ServerTls = Option<NoTls>;

/// No TLS configuration can exist without the feature `tls` (an empty enum, cloned like the
/// acceptor would be).
#[cfg(not(feature = "tls"))]
#[derive(Clone)]
pub(crate) enum NoTls {}

/// Most connections answered 503 at once; past it, excess connections are dropped unanswered.
const MAX_OVERFLOW: usize = 1024;

/// State shared by the listener, its connections and shutdown handles.
#[derive(Default)]
pub(crate) struct ServerState {
    /// Upgraded connections (for the 1001 on shutdown).
    conns: Mutex<HashMap<u64, Weak<Shared>>>,
    /// Connections being served (handshake or upgraded).
    pub(crate) active: AtomicUsize,
    /// Connections being answered 503.
    overflow: AtomicUsize,
    shutdown: AtomicBool,
    accept_waker: Mutex<Option<Waker>>,
}

impl ServerState {
    fn conns(&self) -> MutexGuard<'_, HashMap<u64, Weak<Shared>>> {
        self.conns.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Registers an upgraded connection; closes it with 1001 right away if shutting down.
    pub(crate) fn register(&self, id: u64, shared: &Arc<Shared>) {
        self.conns().insert(id, Arc::downgrade(shared));
        if self.shutdown.load(Ordering::SeqCst) {
            shared.push(Item::Close(
                CloseCode::GOING_AWAY,
                "server shutting down".into(),
            ));
        }
    }

    /// Forgets a connection.
    pub(crate) fn unregister(&self, id: u64) {
        self.conns().remove(&id);
    }

    fn trigger(&self) {
        self.shutdown.store(true, Ordering::SeqCst);
        let waker = self
            .accept_waker
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some(w) = waker {
            w.wake();
        }
    }
}

/// Decrements the active count when a connection task ends (however it ends).
pub(crate) struct ActiveGuard(pub(crate) Arc<ServerState>);

impl Drop for ActiveGuard {
    fn drop(&mut self) {
        self.0.active.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Triggers the graceful shutdown of a server from any thread or task: a [`Server`]
/// ([`Server::shutdown_handle`]) or, with feature `evloop`, an event-loop engine
/// (`EchoLoop::shutdown_handle`). One name for both engines.
#[derive(Clone)]
pub struct ShutdownHandle(Trigger);

/// What a [`ShutdownHandle`] sets off.
#[derive(Clone)]
enum Trigger {
    /// The async server's state.
    Tasks(Arc<ServerState>),
    /// An event loop's flag and waker.
    #[cfg(feature = "evloop")]
    Loop(Arc<AtomicBool>, Arc<mio::Waker>),
}

impl std::fmt::Debug for ShutdownHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShutdownHandle").finish_non_exhaustive()
    }
}

impl ShutdownHandle {
    /// An event loop's handle: sets `flag` and rings `waker`.
    #[cfg(feature = "evloop")]
    pub(crate) fn for_loop(flag: Arc<AtomicBool>, waker: Arc<mio::Waker>) -> Self {
        Self(Trigger::Loop(flag, waker))
    }

    /// Stops accepting, sends 1001 to every client; the server's `serve` (or `run`) returns once
    /// they are gone or the close timeout passed.
    pub fn shutdown(&self) {
        match &self.0 {
            Trigger::Tasks(state) => state.trigger(),
            #[cfg(feature = "evloop")]
            Trigger::Loop(flag, waker) => {
                flag.store(true, Ordering::SeqCst);
                if let Err(e) = waker.wake() {
                    log::error!("cannot wake the event loop: {e}");
                }
            }
        }
    }
}

/// A bound WebSocket/HTTP server.
pub struct Server {
    listener: Async<TcpListener>,
    config: Arc<Config>,
    state: Arc<ServerState>,
    spawner: Option<Spawner>,
    tls: ServerTls,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("local_addr", &self.local_addr())
            .finish_non_exhaustive()
    }
}

impl Server {
    /// Binds to `addr` (e.g. `127.0.0.1:9001`; port 0 picks a free port).
    pub async fn bind(addr: &str, config: Config) -> io::Result<Server> {
        let addr = addr
            .to_socket_addrs()?
            .next()
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no address"))?;
        let listener = Async::<TcpListener>::bind(addr)?;
        Ok(Server {
            listener,
            config: Arc::new(config),
            state: Arc::default(),
            spawner: None,
            tls: None,
        })
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .get_ref()
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)))
    }

    /// The configuration in use.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// A handle that triggers the graceful shutdown.
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        ShutdownHandle(Trigger::Tasks(self.state.clone()))
    }

    /// Runs connection tasks with `spawner` instead of the default (async-std's, with the
    /// `async-std-runtime` feature).
    pub fn with_spawner<F>(mut self, spawner: F) -> Self
    where
        F: Fn(BoxFuture<'static, ()>) + Send + Sync + 'static,
    {
        self.spawner = Some(Arc::new(spawner));
        self
    }

    /// Serves every connection over TLS with `acceptor` (feature `tls`): the TLS handshake runs
    /// in the connection's task, counted by [`Config::max_connections`] and bounded by
    /// [`Config::handshake_timeout`] together with the request head. Keep a clone of `acceptor`
    /// to reload the certificate while serving.
    #[cfg(feature = "tls")]
    pub fn with_tls(mut self, acceptor: crate::tls::TlsAcceptor) -> Self {
        self.tls = Some(acceptor);
        self
    }

    /// Accepts connections and serves them with `handler` until a shutdown is triggered; then
    /// sends 1001 to every client and returns once all are closed or the close timeout passed.
    pub async fn serve<H: Handler>(self, handler: H) -> io::Result<()> {
        let spawner = match self.spawner.clone() {
            Some(s) => s,
            None => default_spawner()?,
        };
        let handler: Arc<dyn Handler> = Arc::new(handler);
        log::info!("listening on {}", self.local_addr());
        while let Some(accepted) = self.accept_or_shutdown().await {
            let (stream, peer) = match accepted {
                Ok(a) => a,
                Err(e) => {
                    log::warn!("accept failed: {e}; retrying in 100 ms");
                    Timer::after(Duration::from_millis(100)).await;
                    continue;
                }
            };
            let _ = stream.get_ref().set_nodelay(true);
            let id = crate::conn::next_id();
            let active = self.state.active.fetch_add(1, Ordering::SeqCst);
            if active >= self.config.max_connections {
                self.state.active.fetch_sub(1, Ordering::SeqCst);
                self.refuse_busy(stream, peer, id, &spawner);
                continue;
            }
            let guard = ActiveGuard(self.state.clone());
            let fut = crate::accept::handle(
                Box::new(crate::tcp::Tcp(stream)),
                self.tls.clone(),
                peer,
                id,
                self.config.clone(),
                handler.clone(),
                self.state.clone(),
            );
            spawner(Box::pin(async move {
                let _guard = guard;
                fut.await;
            }));
        }
        drop(self.listener);
        let conns: Vec<Arc<Shared>> = self
            .state
            .conns()
            .values()
            .filter_map(Weak::upgrade)
            .collect();
        log::info!(
            "shutting down: closing {} connection(s) with 1001",
            conns.len()
        );
        for shared in conns {
            shared.push(Item::Close(
                CloseCode::GOING_AWAY,
                "server shutting down".into(),
            ));
        }
        let deadline = Instant::now() + self.config.close_timeout + Duration::from_millis(100);
        while self.state.active.load(Ordering::SeqCst) > 0 && Instant::now() < deadline {
            Timer::after(Duration::from_millis(10)).await;
        }
        let left = self.state.active.load(Ordering::SeqCst);
        if left > 0 {
            log::warn!("shutdown: {left} connection(s) still open after the close timeout");
        }
        Ok(())
    }

    /// The next accepted connection, or `None` once shutdown was triggered.
    async fn accept_or_shutdown(
        &self,
    ) -> Option<io::Result<(Async<std::net::TcpStream>, SocketAddr)>> {
        let accept = self.listener.accept();
        let mut accept = std::pin::pin!(accept);
        poll_fn(|cx| {
            if self.state.shutdown.load(Ordering::SeqCst) {
                return Poll::Ready(None);
            }
            *self
                .state
                .accept_waker
                .lock()
                .unwrap_or_else(|p| p.into_inner()) = Some(cx.waker().clone());
            if self.state.shutdown.load(Ordering::SeqCst) {
                return Poll::Ready(None);
            }
            accept.as_mut().poll(cx).map(Some)
        })
        .await
    }

    /// Answers 503 to a connection past the limit (or drops it past the overflow bound, or on a
    /// TLS server).
    fn refuse_busy(
        &self,
        stream: Async<std::net::TcpStream>,
        peer: SocketAddr,
        id: u64,
        spawner: &Spawner,
    ) {
        if self.state.overflow.fetch_add(1, Ordering::SeqCst) >= MAX_OVERFLOW {
            self.state.overflow.fetch_sub(1, Ordering::SeqCst);
            log::warn!("conn={id} peer={peer} refused: too many connections (dropped)");
            return;
        }
        if self.tls.is_some() {
            // A 503 would need a TLS handshake first: the very work an overloaded server should
            // not take on. Closing at once tells the client as much.
            self.state.overflow.fetch_sub(1, Ordering::SeqCst);
            log::warn!("conn={id} peer={peer} refused: too many connections (TLS port: closed)");
            return;
        }
        log::warn!("conn={id} peer={peer} refused: too many connections (503)");
        let state = self.state.clone();
        spawner(Box::pin(async move {
            crate::accept::answer_busy(Box::new(crate::tcp::Tcp(stream))).await;
            state.overflow.fetch_sub(1, Ordering::SeqCst);
        }));
    }
}

use std::future::Future;

/// Serves one already accepted connection over any futures-io stream (e.g. TLS, a Unix socket,
/// a listener of your own) with the same request handling, limits, timeouts and logging as
/// [`Server::serve`], outside any server's connection limit and graceful shutdown. `peer` is
/// reported in [`crate::Request::peer`] and the logs.
pub async fn serve_connection<S: crate::Stream + 'static>(
    stream: S,
    peer: SocketAddr,
    config: Arc<Config>,
    handler: Arc<dyn Handler>,
) {
    let id = crate::conn::next_id();
    let state = Arc::new(ServerState::default());
    crate::accept::handle(Box::new(stream), None, peer, id, config, handler, state).await;
}

/// The default executor: async-std's, when the feature is on.
fn default_spawner() -> io::Result<Spawner> {
    #[cfg(feature = "async-std-runtime")]
    {
        Ok(Arc::new(|f: BoxFuture<'static, ()>| {
            async_std::task::spawn(f);
        }))
    }
    #[cfg(not(feature = "async-std-runtime"))]
    {
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "no spawner: call Server::with_spawner or enable the async-std-runtime feature",
        ))
    }
}

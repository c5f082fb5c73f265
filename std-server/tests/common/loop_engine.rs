//! Runs the event-loop echo engine (`ws_server::evloop::EchoLoop`) on its own thread for the
//! loopback tests in `echo_loop/` (and `passthrough_control.rs`).
//!
//! `WS_TEST_ENGINE=tasks` runs the same tests against the task server (`Server` with
//! `echo_handler()`, permessage-deflate off as the loop declines it): the control that shows a
//! test asserts a rule the reference server keeps, not a quirk of the new engine.
#![allow(dead_code)]

use std::io;
use std::net::SocketAddr;
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use ws_server::deflate::DeflateConfig;
use ws_server::Config;

/// Tests measuring this process's RSS take it exclusively; every engine holds it shared.
static RSS_LOCK: RwLock<()> = RwLock::new(());

/// Exclusive use of the process (no other test's engine or big buffers alive meanwhile).
pub fn exclusive() -> RwLockWriteGuard<'static, ()> {
    RSS_LOCK.write().unwrap_or_else(|p| p.into_inner())
}

/// Shared use, for a test that runs engines of its own (not through [`start`]).
pub fn shared() -> RwLockReadGuard<'static, ()> {
    RSS_LOCK.read().unwrap_or_else(|p| p.into_inner())
}

/// Whether `WS_TEST_ENGINE=tasks` asks for the control run on the task server.
pub fn control_run() -> bool {
    std::env::var("WS_TEST_ENGINE").is_ok_and(|v| v == "tasks")
}

/// An engine serving on a background thread until [`Engine::stop`] (or drop).
pub struct Engine {
    /// The bound loopback address.
    pub addr: SocketAddr,
    stop: Box<dyn Fn() + Send + Sync>,
    thread: Option<JoinHandle<io::Result<()>>>,
    _shared: Option<RwLockReadGuard<'static, ()>>,
}

/// Starts the engine under test with `config` on a free loopback port.
pub fn start(config: Config) -> Engine {
    let guard = shared();
    let mut engine = start_unguarded(config);
    engine._shared = Some(guard);
    engine
}

/// [`start`] for a test that already holds [`exclusive`].
pub fn start_unguarded(config: Config) -> Engine {
    if control_run() {
        return start_tasks(config);
    }
    let lp = ws_server::evloop::EchoLoop::bind("127.0.0.1:0", config).expect("bind the loop");
    let addr = lp.local_addr();
    let stopper = lp.shutdown_handle();
    let thread = std::thread::spawn(move || lp.run());
    Engine {
        addr,
        stop: Box::new(move || stopper.shutdown()),
        thread: Some(thread),
        _shared: None,
    }
}

/// [`start`] on a listener whose accepted sockets have a 64 KiB receive buffer (no autotuning),
/// so a test about a peer that writes before it reads cannot pass on the kernel's buffering: on
/// this machine type loopback buffers grow to 32 MiB, on others to 6 MiB.
pub fn start_small_buffers(config: Config) -> Engine {
    if control_run() {
        return start(config);
    }
    let guard = shared();
    let socket =
        socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).expect("socket");
    socket.set_recv_buffer_size(64 << 10).expect("SO_RCVBUF");
    let addr: SocketAddr = "127.0.0.1:0".parse().expect("address");
    socket.bind(&addr.into()).expect("bind");
    socket.listen(128).expect("listen");
    let lp = ws_server::evloop::EchoLoop::from_listener(socket.into(), config).expect("the loop");
    let addr = lp.local_addr();
    let stopper = lp.shutdown_handle();
    let thread = std::thread::spawn(move || lp.run());
    Engine {
        addr,
        stop: Box::new(move || stopper.shutdown()),
        thread: Some(thread),
        _shared: Some(guard),
    }
}

/// The task server with the echo handler (the control engine).
pub fn start_tasks(mut config: Config) -> Engine {
    config.deflate = DeflateConfig::DISABLED;
    let server = async_std::task::block_on(ws_server::Server::bind("127.0.0.1:0", config))
        .expect("bind the task server");
    let addr = server.local_addr();
    let handle = server.shutdown_handle();
    let thread = std::thread::spawn(move || {
        async_std::task::block_on(server.serve(ws_server::echo_handler()))
    });
    Engine {
        addr,
        stop: Box::new(move || handle.shutdown()),
        thread: Some(thread),
        _shared: None,
    }
}

impl Engine {
    /// Triggers the graceful shutdown without waiting.
    pub fn trigger_stop(&self) {
        (self.stop)();
    }

    /// Triggers the graceful shutdown and waits (at most `within`, else panics) for `run` to
    /// return; gives its result.
    pub fn stop(mut self, within: Duration) -> io::Result<()> {
        (self.stop)();
        self.join(within)
    }

    /// Waits (at most `within`, else panics) for `run` to return by itself.
    pub fn join(&mut self, within: Duration) -> io::Result<()> {
        let thread = self.thread.take().expect("joined twice");
        let deadline = Instant::now() + within;
        while !thread.is_finished() {
            assert!(
                Instant::now() < deadline,
                "run() did not return within {within:?} of the stop"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        thread.join().expect("the engine thread panicked")
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        (self.stop)();
        // Bounded: a stuck engine is left behind rather than hanging the test binary.
        if let Some(thread) = self.thread.take() {
            let deadline = Instant::now() + Duration::from_secs(10);
            while !thread.is_finished() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(5));
            }
        }
    }
}

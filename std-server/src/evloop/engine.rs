//! The loop: accept, dispatch readiness events to connections, hand the application what they
//! bring, write what it queued, run due timers, shut down.

use super::alarm::Alarm;
use super::app::{App, Conn, ConnId};
use super::hub::Hub;
use super::peer::{Outcome, Peer, NEVER};
use super::scratch::{AppEvent, Scratch, Turn};
use super::Inbox;
use crate::config::Config;
use crate::driver::Mode;
use mio::net::TcpListener;
use mio::{Events, Interest, Poll, Token, Waker};
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The listening socket's token (connections use their slab index).
const LISTENER: Token = Token(usize::MAX - 1);
/// The token of the waker that a [`crate::ShutdownHandle`] rings.
const WAKER: Token = Token(usize::MAX - 2);
/// The token of the alarm (the timerfd for deadlines).
const ALARM: Token = Token(usize::MAX - 3);
/// Connections past the limit beyond which a new one is dropped without a 503.
const REFUSAL_SLACK: usize = 1024;

/// One event loop and everything it owns.
pub(super) struct Engine<A> {
    app: A,
    /// Echo (the built-in echo's fast path) or messages for `app`.
    mode: Mode,
    /// Publishes from other threads ([`super::LoopHandle`]), taken when the waker rings.
    pub(super) inbox: Arc<Inbox>,
    poll: Poll,
    listener: Option<TcpListener>,
    pub(super) waker: Arc<Waker>,
    pub(super) stop_flag: Arc<AtomicBool>,
    pub(super) local_addr: SocketAddr,
    config: Config,
    hub: Hub,
    epoch: Instant,
    /// No connection has a deadline before this (ms); the sweep finds the exact ones.
    next_due: u64,
    /// Rings at `next_due` (or the end of the shutdown grace period).
    alarm: Alarm,
    /// Connections that stopped reading to let others run.
    again: Vec<usize>,
    /// Shutting down: when to give up waiting for the closes (ms).
    grace_until: Option<u64>,
}

impl<A: App> Engine<A> {
    /// Binds `addr` and sets up the poller.
    pub(super) fn bind(addr: SocketAddr, config: Config, app: A, mode: Mode) -> io::Result<Self> {
        Self::with_listener(TcpListener::bind(addr)?, config, app, mode)
    }

    /// Sets up the poller around a listening socket (made non-blocking here).
    pub(super) fn from_std(
        listener: std::net::TcpListener,
        config: Config,
        app: A,
        mode: Mode,
    ) -> io::Result<Self> {
        listener.set_nonblocking(true)?;
        Self::with_listener(TcpListener::from_std(listener), config, app, mode)
    }

    fn with_listener(
        mut listener: TcpListener,
        config: Config,
        app: A,
        mode: Mode,
    ) -> io::Result<Self> {
        let poll = Poll::new()?;
        poll.registry()
            .register(&mut listener, LISTENER, Interest::READABLE)?;
        let waker = Arc::new(Waker::new(poll.registry(), WAKER)?);
        let local_addr = listener.local_addr()?;
        let alarm = Alarm::new(poll.registry(), ALARM)?;
        Ok(Self {
            app,
            mode,
            inbox: Arc::default(),
            poll,
            listener: Some(listener),
            waker,
            stop_flag: Arc::new(AtomicBool::new(false)),
            local_addr,
            config,
            hub: Hub::new(),
            epoch: Instant::now(),
            next_due: NEVER,
            alarm,
            again: Vec::new(),
            grace_until: None,
        })
    }

    /// Sets the policy for members of the loop's topics that have none of their own.
    pub(super) fn set_policy(&mut self, policy: crate::room::RoomPolicy) {
        self.hub.topics.default_policy = policy;
    }

    /// Sets the policy for members of `topic`.
    pub(super) fn set_topic_policy(&mut self, topic: &str, policy: crate::room::RoomPolicy) {
        self.hub.topics.set_policy(topic, policy);
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(NEVER)
    }

    /// Serves until a graceful shutdown completes.
    pub(super) fn run(mut self) -> io::Result<()> {
        let mut events = Events::with_capacity(256);
        let mut scratch = Scratch::new(&self.config, self.mode);
        let what = match self.mode {
            Mode::Echo => "echo server",
            Mode::Messages => "application server",
        };
        log::info!("event-loop {what} listening on {}", self.local_addr);
        // One clock read per wake-up (the time the poll returned) serves the whole iteration.
        let mut now = self.now_ms();
        loop {
            // Deadlines wake the loop through the alarm (on Linux without a poll timeout); those
            // waiting for another turn need none.
            let timeout = if self.again.is_empty() {
                self.alarm.poll_timeout(now)
            } else {
                Some(Duration::ZERO)
            };
            // Those who yielded get their next turn after everyone the poller reports now.
            let again = std::mem::take(&mut self.again);
            match self.poll.poll(&mut events, timeout) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {
                    self.again = again;
                    continue;
                }
                Err(e) => return Err(e),
            }
            now = self.now_ms();
            self.hub.now = now;
            for event in events.iter() {
                match event.token() {
                    LISTENER => self.accept(now, &mut scratch),
                    WAKER => self.publish_from_inbox(now),
                    ALARM => self.alarm.rang(),
                    Token(key) => {
                        let readable = event.is_readable() || event.is_error();
                        self.serve(key, readable, event.is_read_closed(), now, &mut scratch);
                    }
                }
            }
            for key in again {
                self.serve(key, false, false, now, &mut scratch);
            }
            if self.stop_flag.load(Ordering::SeqCst) && self.grace_until.is_none() {
                self.begin_shutdown(now);
            }
            if now >= self.next_due {
                self.sweep(now);
                let at = self.next_due.min(self.grace_until.unwrap_or(NEVER));
                self.alarm.set(at, now)?;
            }
            if let Some(until) = self.grace_until {
                if self.hub.peers.is_empty() || now >= until {
                    log::info!(
                        "event loop stopped ({} connection(s) dropped at the end of the grace period)",
                        self.hub.peers.len()
                    );
                    return Ok(());
                }
            }
        }
    }

    /// Accepts every pending connection.
    fn accept(&mut self, now: u64, scratch: &mut Scratch) {
        loop {
            let Some(listener) = self.listener.as_ref() else {
                return;
            };
            let (sock, peer_addr) = match listener.accept() {
                Ok(pair) => pair,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    // Out of descriptors, mostly: the pending ones wait in the backlog.
                    log::warn!("accept failed: {e}");
                    return;
                }
            };
            let count = self.hub.peers.len();
            if count >= self.config.max_connections.saturating_add(REFUSAL_SLACK) {
                log::warn!("peer={peer_addr} dropped: far past the connection limit");
                continue;
            }
            let id = crate::conn::next_id();
            let busy = count >= self.config.max_connections;
            if let Err(e) = sock.set_nodelay(true) {
                log::debug!("conn={id} TCP_NODELAY: {e}");
            }
            let peer = if busy {
                log::warn!("conn={id} peer={peer_addr} refused: connection limit (503)");
                Peer::busy(sock, id, now)
            } else {
                let deadline = now.saturating_add(ms(self.config.handshake_timeout));
                log::debug!("conn={id} peer={peer_addr} accepted");
                Peer::new(sock, id, deadline)
            };
            let entry = self.hub.peers.vacant_entry();
            let key = entry.key();
            let peer = entry.insert(Box::new(peer));
            let interest = Interest::READABLE | Interest::WRITABLE;
            if let Err(e) = self
                .poll
                .registry()
                .register(peer.socket(), Token(key), interest)
            {
                log::warn!("conn={id} cannot register: {e}");
                self.hub.peers.remove(key);
                continue;
            }
            // A 503 goes out at once; a new connection waits for its first readable edge.
            self.serve(key, false, false, now, scratch);
        }
    }

    /// Lets connection `key` handle an event (or another turn).
    fn serve(&mut self, key: usize, readable: bool, closed: bool, now: u64, scratch: &mut Scratch) {
        let Some(peer) = self.hub.peers.get_mut(key) else {
            return;
        };
        let me = ConnId { key, id: peer.id() };
        scratch.turn = Turn::default();
        let mut outcome =
            peer.on_ready(readable, closed, now, &self.config, scratch, &mut self.app);
        loop {
            if !scratch.to_app.events.is_empty() {
                // Before the outcome: a connection that sent a message and then its EOF is
                // heard, then closed.
                self.dispatch(me, &mut scratch.to_app.events);
            }
            // Stopped at a message: the rest of its read is processed now that the application
            // has heard it (and queued its answer), before anyone else reads into the buffer.
            let Some(at) = scratch.resume.take() else {
                break;
            };
            if let Outcome::Remove(_) = outcome {
                break;
            }
            let Some(peer) = self.hub.peers.get_mut(key) else {
                break;
            };
            outcome = peer.resume(at, now, &self.config, scratch, &mut self.app);
        }
        self.after(key, outcome, now);
        self.flush(now);
    }

    /// Hands the application what connection `me` brought.
    fn dispatch(&mut self, me: ConnId, events: &mut Vec<AppEvent>) {
        let mut conn = Conn {
            hub: &mut self.hub,
            me,
        };
        for event in events.drain(..) {
            match event {
                AppEvent::Open(path) => self.app.on_open(&mut conn, &path),
                AppEvent::Message(msg) => self.app.on_message(&mut conn, msg),
            }
        }
    }

    /// Publishes what other threads handed in.
    fn publish_from_inbox(&mut self, now: u64) {
        for (topic, msg) in self.inbox.take() {
            self.hub.publish(&topic, &msg);
        }
        self.flush(now);
    }

    /// Writes the output the application queued (each connection once, however many messages
    /// it was given); connections whose write fails are removed (and the application told).
    fn flush(&mut self, now: u64) {
        while let Some(key) = self.hub.touched.pop() {
            if let Some(peer) = self.hub.peers.get_mut(key) {
                let outcome = peer.flush(now);
                self.after(key, outcome, now);
            }
        }
    }

    /// Applies what a connection asked for.
    fn after(&mut self, key: usize, outcome: Outcome, now: u64) {
        match outcome {
            Outcome::Remove(why) => self.remove(key, why),
            Outcome::Again | Outcome::Keep => {
                // Once per iteration: a connection served both for an event and for its turn
                // must not be queued twice (it would get one more turn per iteration, for ever).
                if outcome == Outcome::Again && !self.again.contains(&key) {
                    self.again.push(key);
                }
                if let Some(peer) = self.hub.peers.get(key) {
                    self.next_due = self.next_due.min(peer.next_deadline());
                    if let Err(e) = self.alarm.ensure(self.next_due, now) {
                        log::error!("cannot arm the timer: {e}");
                    }
                }
            }
        }
    }

    /// Drops connection `key` (its socket closes); an upgraded one leaves its topics and the
    /// application hears of it.
    fn remove(&mut self, key: usize, why: &str) {
        let Some(mut peer) = self.hub.peers.try_remove(key) else {
            return;
        };
        let _ = self.poll.registry().deregister(peer.socket());
        let id = peer.id();
        log::debug!("conn={id} removed: {why}");
        let Some((code, reason)) = peer.close_info() else {
            return;
        };
        drop(peer);
        if self.mode == Mode::Messages {
            self.hub.topics.leave_all(key);
            let mut conn = Conn {
                hub: &mut self.hub,
                me: ConnId { key, id },
            };
            self.app.on_close(&mut conn, code, &reason);
        }
    }

    /// Runs every deadline that is due and finds the next one.
    fn sweep(&mut self, now: u64) {
        let mut next = NEVER;
        let mut done = Vec::new();
        for (key, peer) in self.hub.peers.iter_mut() {
            let mut at = peer.next_deadline();
            if at <= now {
                match peer.on_timer(now) {
                    Outcome::Remove(why) => {
                        done.push((key, why));
                        continue;
                    }
                    Outcome::Again | Outcome::Keep => at = peer.next_deadline(),
                }
            }
            next = next.min(at);
        }
        for (key, why) in done {
            self.remove(key, why);
        }
        self.next_due = next;
        // What the application queued when it heard of those closes.
        self.flush(now);
    }

    /// Stops accepting and sends 1001 to every open connection.
    fn begin_shutdown(&mut self, now: u64) {
        if let Some(mut listener) = self.listener.take() {
            let _ = self.poll.registry().deregister(&mut listener);
        }
        let open = self.hub.peers.iter().filter(|(_, p)| p.is_open()).count();
        log::info!("shutting down: closing {open} connection(s) with 1001");
        let keys: Vec<usize> = self.hub.peers.iter().map(|(key, _)| key).collect();
        for key in keys {
            if let Some(peer) = self.hub.peers.get_mut(key) {
                let outcome = peer.on_shutdown(now);
                self.after(key, outcome, now);
            }
        }
        // What the application queued when it heard of connections that ended meanwhile.
        self.flush(now);
        let until = now.saturating_add(ms(self.config.close_timeout));
        self.grace_until = Some(until);
        if let Err(e) = self.alarm.ensure(until, now) {
            log::error!("cannot arm the shutdown timer: {e}");
        }
    }
}

/// A duration in whole milliseconds.
fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(NEVER)
}

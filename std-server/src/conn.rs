//! The async engine's connection: the [`Driver`] over a futures-io stream, with the read buffer,
//! one runtime-independent timer and the writers' queue. It moves bytes and readiness only; every
//! protocol decision is the driver's. Everything lives in the struct, so every future built on
//! [`Conn::poll_next`] is cancel-safe.
//!
//! One poll round: take the writers' queue into the driver; let it process buffered input; write
//! its output (all replies to one read leave in one vectored write); send FIN when it says so;
//! read more while it wants input; run its timer.

mod read_buffer;

use crate::config::ConnectionConfig;
use crate::deflate::DeflateConfig;
use crate::driver::{Driver, Mode};
use crate::message::Message;
use crate::shared::{Item, Shared};
use async_io::Timer;
use futures_io::{AsyncRead, AsyncWrite};
use read_buffer::ReadBuffer;
use std::future::Future;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use ws_core::deflate::PerMessageDeflate;
use ws_core::{CloseCode, Role, SendError};

/// A transport: any futures-io byte stream.
pub trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

/// How long one poll may keep reading, processing and writing before yielding to other tasks.
const YIELD_AFTER: Duration = Duration::from_micros(500);

/// At most this many slices go to one vectored write.
const MAX_SLICES: usize = 64;

/// A fresh connection id for logs.
pub(crate) fn next_id() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// What one read attempt did.
enum Read {
    /// Bytes, EOF or an error arrived.
    Progress,
    /// The transport has no bytes now; our waker is registered.
    Blocked,
}

/// One connection of the async engine.
pub(crate) struct Conn {
    /// The transport, until the driver is done with it.
    io: Option<Box<dyn Stream>>,
    driver: Driver,
    /// Unprocessed input; the thread's shared read buffer while reading (see [`ReadBuffer`]).
    input: ReadBuffer,
    pub(crate) shared: Arc<Shared>,
    /// The driver's clock starts here (ms).
    epoch: Instant,
    timer: Timer,
    timer_at: Option<Instant>,
    pub(crate) subprotocol: Option<String>,
}

impl Conn {
    /// A connection over an upgraded `io`; `leftover` are bytes that followed the handshake head.
    pub(crate) fn new(
        io: Box<dyn Stream>,
        role: Role,
        config: &ConnectionConfig,
        leftover: &[u8],
        id: u64,
        subprotocol: Option<String>,
    ) -> Self {
        let driver = Driver::new(role, Mode::Messages, config, 0, id);
        Self {
            io: Some(io),
            input: ReadBuffer::new(leftover, config.read_buffer),
            shared: Arc::new(Shared::new(
                id,
                config.max_outbound_bytes.max(1),
                driver.framing(),
            )),
            driver,
            epoch: Instant::now(),
            timer: Timer::never(),
            timer_at: None,
            subprotocol,
        }
    }

    /// The connection id.
    pub(crate) fn id(&self) -> u64 {
        self.shared.id
    }

    /// Echo every message instead of handing messages out.
    pub(crate) fn set_mode(&mut self, mode: Mode) {
        self.driver.set_mode(mode);
    }

    /// Activates permessage-deflate with the agreed parameters (right after the handshake).
    pub(crate) fn enable_deflate(&mut self, params: PerMessageDeflate, config: &DeflateConfig) {
        self.driver.enable_deflate(params, config);
        self.shared.lock().framing = self.driver.framing();
    }

    /// The agreed permessage-deflate parameters, if the extension is active.
    pub(crate) fn deflate_params(&self) -> Option<PerMessageDeflate> {
        self.driver.deflate_params()
    }

    /// Why the connection closed (or is closing), if known.
    pub(crate) fn close_info(&self) -> Option<(CloseCode, String)> {
        self.driver.close_info()
    }

    /// Whether the transport is gone.
    pub(crate) fn is_done(&self) -> bool {
        self.io.is_none()
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Queues one whole data message.
    pub(crate) fn send_message(&mut self, msg: Message) -> Result<(), SendError> {
        let r = self.driver.send(msg);
        self.publish_queued();
        r
    }

    /// Queues a ping.
    pub(crate) fn send_ping(&mut self, payload: &[u8]) -> Result<(), SendError> {
        self.driver.ping(payload)
    }

    /// Starts the close handshake (once; later calls are no-ops).
    pub(crate) fn send_close(&mut self, code: CloseCode, reason: &str) -> Result<(), SendError> {
        let now = self.now_ms();
        self.driver.close(code, reason, now)
    }

    /// Tells writers how much is queued in the driver.
    fn publish_queued(&self) {
        self.shared
            .outbox
            .store(self.driver.queued(), Ordering::Relaxed);
    }

    /// Moves the writers' queue into the driver and registers the waker for new items.
    fn drain_queue(&mut self, cx: &mut Context<'_>) {
        let items: Vec<Item> = {
            let mut q = self.shared.lock();
            match &q.waker {
                Some(w) if w.will_wake(cx.waker()) => {}
                _ => q.waker = Some(cx.waker().clone()),
            }
            if q.items.is_empty() {
                return;
            }
            q.items.drain(..).collect()
        };
        let now = self.now_ms();
        for item in items {
            match item {
                Item::Msg(_) | Item::Frame(_) => {
                    // Count the bytes in the driver before uncounting them from the queue, so
                    // writers never see less than is really pending.
                    let len = item.len();
                    if self.driver.is_open() {
                        let _ = match item {
                            Item::Frame(f) => self.driver.send_frame(&f),
                            Item::Msg(m) => self.driver.send(m),
                            Item::Close(..) | Item::Abort(..) => Ok(()),
                        };
                        self.publish_queued();
                    }
                    self.shared.queued.fetch_sub(len, Ordering::Relaxed);
                }
                Item::Close(code, reason) => {
                    if self.driver.is_open() {
                        log::info!("conn={} closing {}: {reason}", self.id(), code.0);
                    }
                    let _ = self.driver.close(code, &reason, now);
                }
                Item::Abort(code, reason) => {
                    if self.driver.is_open() {
                        log::info!("conn={} closing {}: {reason}", self.id(), code.0);
                    }
                    let _ = self.driver.abort(code, &reason, now);
                }
            }
        }
        self.publish_queued();
    }

    /// Drives the connection; `Ready(Some)` for a complete message (Messages mode),
    /// `Ready(None)` once the transport is closed.
    pub(crate) fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<Message>> {
        let (r, yielded) = self.drive(cx);
        // A connection that yields with input left is polled again at once: it keeps the shared
        // buffer. Otherwise the buffer goes back and what is left of the input is copied once
        // into a buffer of its own.
        if !yielded || self.input.len() == 0 {
            self.input.settle();
        }
        r
    }

    /// One poll of [`Conn::poll_next`]; also whether it ended by yielding to other tasks.
    fn drive(&mut self, cx: &mut Context<'_>) -> (Poll<Option<Message>>, bool) {
        // A peer that keeps the socket busy must not hold the executor thread: once a poll has
        // run for YIELD_AFTER, yield (wake ourselves and return Pending) so other tasks run.
        let started = Instant::now();
        let (mut read_blocked, mut write_blocked) = (false, false);
        loop {
            if self.driver.is_done() {
                self.finish();
                return (Poll::Ready(None), false);
            }
            if started.elapsed() >= YIELD_AFTER {
                cx.waker().wake_by_ref();
                return (Poll::Pending, true);
            }
            self.drain_queue(cx);
            let now = self.now_ms();
            let mut progress = self.process_input(now);
            if let Some(m) = self.driver.take_message() {
                let _ = self.poll_write(cx);
                self.release_input();
                return (Poll::Ready(Some(m)), false);
            }
            // A transport that said Pending has our waker: do not ask it again in this poll.
            if !write_blocked {
                match self.poll_write(cx) {
                    Poll::Ready(Ok(n)) => progress |= n > 0,
                    Poll::Ready(Err(e)) => {
                        self.driver.transport_error(&e);
                        continue;
                    }
                    Poll::Pending => write_blocked = true,
                }
            }
            // Before the buffer can move (a read compacts it): echoes referenced in it are copied.
            self.release_input();
            if self.driver.wants_fin() {
                progress |= self.poll_fin(cx, now);
            }
            if self.driver.wants_read() && !read_blocked {
                match self.poll_read(cx, now) {
                    Read::Progress => progress = true,
                    Read::Blocked => read_blocked = true,
                }
            }
            progress |= self.poll_timers(cx);
            if !progress {
                return (Poll::Pending, false);
            }
        }
    }

    /// Lets the driver process the buffered input; returns whether it consumed any.
    fn process_input(&mut self, now: u64) -> bool {
        if self.input.len() == 0 {
            return false;
        }
        let start = self.input.start;
        let end = self.input.end;
        let Some(buf) = self.input.buf.get_mut(..end) else {
            return false;
        };
        let (pos, stop) = self.driver.receive(buf, start, now);
        self.input.start = pos.min(end);
        self.publish_queued();
        // Stopped with input left and no reason to wait (its event budget): go on next round.
        pos != start || (stop == crate::driver::Stop::Paused && self.driver.wants_read())
    }

    /// Copies output that still references the input buffer.
    fn release_input(&mut self) {
        let input = self.input.buf.get(..self.input.end).unwrap_or_default();
        self.driver.release_input(input);
    }

    /// Writes the driver's output without blocking: the bytes written, or `Pending` (waker
    /// registered) when nothing could be written.
    fn poll_write(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        let mut total = 0;
        while self.driver.queued() > 0 {
            let Some(io) = self.io.as_mut() else {
                return Poll::Ready(Err(io::ErrorKind::NotConnected.into()));
            };
            let input = self.input.buf.get(..self.input.end).unwrap_or_default();
            let r = {
                let mut slices = [IoSlice::new(&[]); MAX_SLICES];
                let n = self.driver.transmit_slices(input, &mut slices);
                let slices = slices.get(..n).unwrap_or_default();
                Pin::new(&mut **io).poll_write_vectored(cx, slices)
            };
            match r {
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(n)) => {
                    let now = self.now_ms();
                    self.driver.transmitted(n, now);
                    total += n;
                }
                Poll::Ready(Err(e)) if e.kind() == io::ErrorKind::Interrupted => {}
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending if total > 0 => break,
                Poll::Pending => return Poll::Pending,
            }
        }
        self.publish_queued();
        Poll::Ready(Ok(total))
    }

    /// Writes until the driver's output is empty (or the transport fails).
    pub(crate) fn poll_flush(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.driver.queued() > 0 {
            match self.poll_write(cx) {
                Poll::Ready(Ok(_)) => {}
                Poll::Ready(Err(e)) => {
                    self.driver.transport_error(&e);
                    self.finish();
                    return Poll::Ready(Err(e));
                }
                Poll::Pending => return Poll::Pending,
            }
        }
        Poll::Ready(Ok(()))
    }

    /// Shuts the write side down (FIN) as the driver asked; returns whether it happened.
    fn poll_fin(&mut self, cx: &mut Context<'_>, now: u64) -> bool {
        let Some(io) = self.io.as_mut() else {
            return false;
        };
        match Pin::new(io).poll_close(cx) {
            Poll::Ready(_) => {
                self.driver.fin_sent(now);
                true
            }
            Poll::Pending => false,
        }
    }

    /// Reads more input into the thread's shared buffer.
    fn poll_read(&mut self, cx: &mut Context<'_>, now: u64) -> Read {
        let Some(io) = self.io.as_mut() else {
            return Read::Blocked;
        };
        let buf = self.input.lend();
        if buf.is_empty() {
            // The buffer is full of input the driver has not taken (it waits for the output to
            // drain): nothing to read into.
            return Read::Blocked;
        }
        match Pin::new(io).poll_read(cx, buf) {
            Poll::Ready(Ok(0)) => {
                self.driver.receive_eof(now);
                Read::Progress
            }
            Poll::Ready(Ok(n)) => {
                self.input.end += n;
                Read::Progress
            }
            Poll::Ready(Err(e)) if e.kind() == io::ErrorKind::Interrupted => Read::Progress,
            Poll::Ready(Err(e)) => {
                self.driver.transport_error(&e);
                Read::Progress
            }
            Poll::Pending => Read::Blocked,
        }
    }

    /// Runs the driver's due deadline and arms the timer for the next; returns whether one fired.
    fn poll_timers(&mut self, cx: &mut Context<'_>) -> bool {
        let Some(at_ms) = self.driver.poll_timeout() else {
            return false;
        };
        let now = self.now_ms();
        if now >= at_ms {
            self.driver.handle_timeout(now);
            return true;
        }
        let at = self.epoch + Duration::from_millis(at_ms);
        // Re-arm only for an earlier deadline: one that moved later (the idle timer restarts
        // with every read) is picked up when the armed timer fires, so reads do not notify the
        // reactor (each `set_at` does).
        if self.timer_at.is_none_or(|t| at < t) {
            self.timer.set_at(at);
            self.timer_at = Some(at);
        }
        if Pin::new(&mut self.timer).poll(cx).is_ready() {
            self.timer_at = None;
            return true;
        }
        false
    }

    /// Drops the transport once the driver is done.
    fn finish(&mut self) {
        if self.io.take().is_none() {
            return;
        }
        self.input.clear();
        self.shared.outbox.store(0, Ordering::Relaxed);
        self.shared.lock().closed = true;
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        if self.io.is_some() {
            self.driver.abandon("dropped by the application");
            self.finish();
        }
    }
}

//! The connection driver: one ws-core [`Connection`] over a futures-io stream, with the read
//! buffer, the outbox, the timers and the writers' queue. Everything it holds lives in the struct,
//! so every future built on [`Conn::poll_next`] is cancel-safe.
//!
//! One poll round: take the writers' queue into the outbox; process buffered input (stopping when
//! a message is complete, or while the outbox is at its cap); write the outbox (all replies to one
//! read leave in one vectored write); read more; run the timers.

mod core;
mod input;
mod read_buffer;
mod timers;

use self::core::Core;
use crate::config::Config;
use crate::deflate::{glue, DeflateConfig, Session};
use crate::frame_plan::Passthrough;
use crate::message::Message;
use crate::outbox::Outbox;
use crate::shared::{Item, Shared};
use async_io::Timer;
use futures_io::{AsyncRead, AsyncWrite};
use read_buffer::ReadBuffer;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use ws_core::connection::MIN_OUTPUT;
use ws_core::deflate::PerMessageDeflate;
use ws_core::frame::{apply_mask, MAX_HEADER_LEN};
use ws_core::{CloseCode, Limits, MessageKind, Role, SendError, State};

/// A transport: any futures-io byte stream.
pub trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

/// What one read attempt did.
enum Read {
    /// Bytes, EOF or an error arrived.
    Progress,
    /// The transport has no bytes now; our waker is registered.
    Blocked,
    /// No read was attempted (no room in the buffer, or no transport).
    NotAttempted,
}

/// How long one poll may keep reading, processing and writing before yielding to other tasks.
const YIELD_AFTER: Duration = Duration::from_micros(500);

/// The close code reported when the transport ended without a close frame (never sent).
pub(crate) const ABNORMAL: CloseCode = CloseCode::ABNORMAL;

/// A fresh connection id for logs.
pub(crate) fn next_id() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// How data messages are consumed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Reassemble into [`Message`]s for the application.
    Messages,
    /// Echo every message back (whole messages in the read buffer without copying them out).
    Echo,
}

/// One connection's driver.
pub(crate) struct Conn {
    io: Option<Box<dyn Stream>>,
    core: Core,
    role: Role,
    limits: Limits,
    /// Unprocessed input; the thread's shared read buffer while reading (see [`ReadBuffer`]).
    input: ReadBuffer,
    /// Bytes of the current frame the core has not consumed yet (0: at a frame boundary).
    frame_left: u64,
    /// Whether `frame_left` is tracked (given up once the peer sends an unparsable header).
    track: bool,
    /// Whether the current frame is echoed as it arrives.
    passthrough: Passthrough,
    out: Outbox,
    pub(crate) shared: Arc<Shared>,
    assembly: Vec<u8>,
    assembling: bool,
    epoch: Instant,
    timer: Timer,
    timer_at: Option<Instant>,
    close_timeout: Duration,
    transport_deadline: Option<Instant>,
    close_info: Option<(CloseCode, String)>,
    /// We failed the connection (protocol error): as a server, send FIN once our close is out.
    failed: bool,
    /// Our write side is shut down (FIN sent).
    write_shut: bool,
    /// The peer stopped answering pings: drop the transport as soon as our close is written
    /// instead of waiting the close timeout for an answer that will not come.
    drop_when_flushed: bool,
    done: bool,
    bytes_in: u64,
    bytes_out: u64,
    pub(crate) subprotocol: Option<String>,
    /// permessage-deflate state, once negotiated.
    deflate: Option<Box<Session>>,
}

impl Conn {
    /// A driver for an upgraded `io`; `leftover` are bytes that followed the handshake head.
    pub(crate) fn new(
        io: Box<dyn Stream>,
        role: Role,
        config: &Config,
        leftover: &[u8],
        id: u64,
        subprotocol: Option<String>,
    ) -> Self {
        let close_timeout = config.close_timeout;
        Self {
            io: Some(io),
            core: Core::new(role, config.limits, config.timers(), 0),
            role,
            limits: config.limits,
            input: ReadBuffer::new(leftover, config.read_buffer),
            frame_left: 0,
            track: true,
            passthrough: Passthrough::Off,
            out: Outbox::default(),
            shared: Arc::new(Shared::new(id, config.max_outbound_bytes.max(1))),
            assembly: Vec::new(),
            assembling: false,
            epoch: Instant::now(),
            timer: Timer::never(),
            timer_at: None,
            close_timeout,
            transport_deadline: None,
            close_info: None,
            failed: false,
            write_shut: false,
            drop_when_flushed: false,
            done: false,
            bytes_in: leftover.len() as u64,
            bytes_out: 0,
            subprotocol,
            deflate: None,
        }
    }

    /// The connection id.
    pub(crate) fn id(&self) -> u64 {
        self.shared.id
    }

    /// Activates permessage-deflate with the agreed parameters (right after the handshake).
    pub(crate) fn enable_deflate(&mut self, params: PerMessageDeflate, config: &DeflateConfig) {
        self.core.set_deflate(true);
        self.deflate = Some(Box::new(Session::new(params, self.role, config)));
    }

    /// The agreed permessage-deflate parameters, if the extension is active.
    pub(crate) fn deflate_params(&self) -> Option<PerMessageDeflate> {
        self.deflate.as_ref().map(|d| d.params())
    }

    /// Why the connection closed (or is closing), if known.
    pub(crate) fn close_info(&self) -> Option<(CloseCode, String)> {
        self.close_info.clone()
    }

    /// Whether the transport is gone.
    pub(crate) fn is_done(&self) -> bool {
        self.done
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn set_close_info(&mut self, code: CloseCode, reason: &str) {
        if self.close_info.is_none() {
            self.close_info = Some((code, reason.to_owned()));
        }
    }

    /// Queues one whole data message (copying `payload` unless it is large and owned).
    pub(crate) fn send_message(&mut self, msg: Message) -> Result<(), SendError> {
        let kind = msg.kind();
        self.send_owned(kind, msg.into_bytes())
    }

    fn send_owned(&mut self, kind: MessageKind, mut payload: Vec<u8>) -> Result<(), SendError> {
        let Self {
            core, out, deflate, ..
        } = self;
        let compressed = match glue::compress(deflate.as_deref_mut(), &payload) {
            Some(z) => {
                payload = z;
                true
            }
            None => false,
        };
        if let Some(mask) = send_header(core, out, kind, payload.len(), compressed)? {
            apply_mask(&mut payload, mask, 0);
        }
        out.push_owned(payload);
        Ok(())
    }

    /// Queues a ping.
    pub(crate) fn send_ping(&mut self, payload: &[u8]) -> Result<(), SendError> {
        let Self { core, out, .. } = self;
        out.write_with(MIN_OUTPUT, |o| split(core.send_ping(payload, o)))
    }

    /// Queues a close frame (once; later calls are no-ops) and arms the close timeout.
    pub(crate) fn send_close(&mut self, code: CloseCode, reason: &str) -> Result<(), SendError> {
        if self.core.state() != State::Open {
            return Ok(());
        }
        if self.drop_if_mid_echo("close", code, reason) {
            return Ok(());
        }
        let reason = truncate(reason, 123);
        let now = self.now_ms();
        let Self { core, out, .. } = self;
        out.write_with(MIN_OUTPUT, |o| {
            split(core.send_close(Some(code), reason, now, o))
        })?;
        self.set_close_info(code, reason);
        Ok(())
    }

    /// While a passed-through frame is echoed (its header is on the wire and its payload follows
    /// as it arrives), a control frame would land inside that payload: the transport is dropped
    /// instead (`what` was to be sent; `code` and `reason` are logged as the outcome). Returns
    /// whether it was.
    fn drop_if_mid_echo(&mut self, what: &str, code: CloseCode, reason: &str) -> bool {
        if self.passthrough == Passthrough::Off {
            return false;
        }
        log::info!(
            "conn={} {what} due in the middle of an echoed frame: dropping the transport",
            self.id()
        );
        self.set_close_info(code, reason);
        self.finish();
        true
    }

    /// Moves the writers' queue into the outbox and registers the waker for new items.
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
        for item in items {
            match item {
                Item::Msg(m) => {
                    // Count the bytes in the outbox before uncounting them from the queue, so
                    // writers never see less than is really pending.
                    let len = m.len();
                    if self.core.state() == State::Open {
                        let _ = self.send_message(m);
                        self.shared
                            .outbox
                            .store(self.out.bytes(), Ordering::Relaxed);
                    }
                    self.shared.queued.fetch_sub(len, Ordering::Relaxed);
                }
                Item::Close(code, reason) => {
                    if code == CloseCode::POLICY {
                        log::warn!(
                            "conn={} outbound queue over its cap; closing 1008",
                            self.id()
                        );
                    }
                    let _ = self.send_close(code, &reason);
                }
            }
        }
        self.shared
            .outbox
            .store(self.out.bytes(), Ordering::Relaxed);
    }

    /// Drives the connection; `Ready(Some)` for a complete message (Messages mode),
    /// `Ready(None)` once the transport is closed.
    pub(crate) fn poll_next(&mut self, cx: &mut Context<'_>, mode: Mode) -> Poll<Option<Message>> {
        let (r, yielded) = self.drive(cx, mode);
        // A connection that yields with input left is polled again at once: it keeps the shared
        // buffer. Otherwise the buffer goes back and what is left of the input is copied once
        // into a buffer of its own (also when a message is returned: the application may await
        // other things before it asks for the next one, and the following messages are then
        // taken from that copy without touching the shared buffer).
        if !yielded || self.input.len() == 0 {
            self.input.settle();
        }
        r
    }

    /// One poll of [`Conn::poll_next`], reading into the shared buffer; also whether it ended
    /// by yielding to other tasks.
    fn drive(&mut self, cx: &mut Context<'_>, mode: Mode) -> (Poll<Option<Message>>, bool) {
        // A peer that keeps the socket busy must not hold the executor thread: once a poll has
        // run for YIELD_AFTER, yield (wake ourselves and return Pending) so other tasks run.
        // Time rather than a count of rounds: a yield costs a reschedule (tens of microseconds
        // under load), which a count small enough for fairness would pay several times per
        // large message.
        let started = Instant::now();
        let (mut read_blocked, mut write_blocked) = (false, false);
        loop {
            if self.done {
                return (Poll::Ready(None), false);
            }
            if started.elapsed() >= YIELD_AFTER {
                cx.waker().wake_by_ref();
                return (Poll::Pending, true);
            }
            self.drain_queue(cx);
            if let Some(m) = self.process_input(mode, cx) {
                let _ = self.poll_write(cx);
                return (Poll::Ready(Some(m)), false);
            }
            // A transport that said Pending has our waker: do not ask it again in this poll (each
            // ask costs a syscall and, with async-io, an epoll_ctl).
            let mut progress = if write_blocked {
                false
            } else {
                match self.poll_write(cx) {
                    Poll::Ready(Ok(n)) => n > 0,
                    Poll::Ready(Err(e)) => {
                        self.abort(&e);
                        continue;
                    }
                    Poll::Pending => {
                        write_blocked = true;
                        false
                    }
                }
            };
            if self.drop_when_flushed && self.out.is_empty() {
                self.finish();
                continue;
            }
            if self.core.state() == State::Closed {
                if self.transport_deadline.is_none() {
                    self.transport_deadline = Some(Instant::now() + self.close_timeout);
                }
                if self.out.is_empty() {
                    progress |= self.poll_finish_closed(cx);
                }
            } else {
                if self.failed && self.out.is_empty() && !self.write_shut {
                    progress |= self.poll_shutdown_write(cx);
                }
                if !self.reading_paused() && !read_blocked {
                    match self.poll_read(cx) {
                        Read::Progress => progress = true,
                        Read::Blocked => read_blocked = true,
                        Read::NotAttempted => {}
                    }
                }
            }
            progress |= self.poll_timers(cx);
            if !progress {
                return (Poll::Pending, false);
            }
        }
    }

    /// Whether input waits for the outbox to drain below its cap (backpressure). Not while a
    /// frame is passed through: the peer may be writing the whole frame before it reads (a
    /// blocking client does), so the rest of the frame is taken and queued, as much memory as
    /// assembling it would take (bounded by the frame size limit).
    fn reading_paused(&self) -> bool {
        self.out.bytes() >= self.shared.cap && self.passthrough == Passthrough::Off
    }

    /// Writes the outbox without blocking.
    fn poll_write(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        if self.out.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let Some(io) = self.io.as_mut() else {
            return Poll::Ready(Err(io::ErrorKind::NotConnected.into()));
        };
        let r = self.out.poll_write(io, cx);
        if let Poll::Ready(Ok(n)) = r {
            self.bytes_out += n as u64;
        }
        self.shared
            .outbox
            .store(self.out.bytes(), Ordering::Relaxed);
        r
    }

    /// Writes until the outbox is empty (or the transport fails).
    pub(crate) fn poll_flush(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while !self.out.is_empty() {
            match self.poll_write(cx) {
                Poll::Ready(Ok(_)) => {}
                Poll::Ready(Err(e)) => {
                    self.abort(&e);
                    return Poll::Ready(Err(e));
                }
                Poll::Pending => return Poll::Pending,
            }
        }
        Poll::Ready(Ok(()))
    }

    /// Reads more input into the thread's shared buffer; returns whether anything happened.
    fn poll_read(&mut self, cx: &mut Context<'_>) -> Read {
        let Some(io) = self.io.as_mut() else {
            return Read::NotAttempted;
        };
        let buf = self.input.lend();
        if buf.is_empty() {
            return Read::NotAttempted;
        }
        match Pin::new(io).poll_read(cx, buf) {
            Poll::Ready(Ok(0)) => {
                self.set_close_info(ABNORMAL, "transport closed without a close frame");
                self.finish();
                Read::Progress
            }
            Poll::Ready(Ok(n)) => {
                self.input.end += n;
                self.bytes_in += n as u64;
                Read::Progress
            }
            Poll::Ready(Err(e)) if e.kind() == io::ErrorKind::Interrupted => Read::Progress,
            Poll::Ready(Err(e)) => {
                self.abort(&e);
                Read::Progress
            }
            Poll::Pending => Read::Blocked,
        }
    }

    /// After failing the connection (server role): our close frame is out, so send FIN right
    /// away (the peer sees the close, then EOF; it need not answer) and keep reading until its
    /// EOF or the close timeout, so unread input does not turn our close into a reset.
    fn poll_shutdown_write(&mut self, cx: &mut Context<'_>) -> bool {
        if self.role != Role::Server {
            return false;
        }
        let Some(io) = self.io.as_mut() else {
            return false;
        };
        match Pin::new(io).poll_close(cx) {
            Poll::Ready(_) => {
                self.write_shut = true;
                if self.transport_deadline.is_none() {
                    self.transport_deadline = Some(Instant::now() + self.close_timeout);
                }
                true
            }
            Poll::Pending => false,
        }
    }

    /// After the close handshake: the server closes TCP first; the client waits for the
    /// server's FIN (bounded by the transport deadline).
    fn poll_finish_closed(&mut self, cx: &mut Context<'_>) -> bool {
        let Some(io) = self.io.as_mut() else {
            self.finish();
            return true;
        };
        match self.role {
            Role::Server => match Pin::new(io).poll_close(cx) {
                Poll::Ready(_) => {
                    self.finish();
                    true
                }
                Poll::Pending => false,
            },
            Role::Client => {
                let mut scratch = [0u8; 256];
                match Pin::new(io).poll_read(cx, &mut scratch) {
                    Poll::Ready(Ok(n)) if n > 0 => true,
                    Poll::Ready(_) => {
                        self.finish();
                        true
                    }
                    Poll::Pending => false,
                }
            }
        }
    }

    fn abort(&mut self, e: &io::Error) {
        log::debug!("conn={} transport error: {e}", self.id());
        self.set_close_info(ABNORMAL, "transport error");
        self.finish();
    }

    /// Drops the transport and logs the outcome (once).
    fn finish(&mut self) {
        if self.done {
            return;
        }
        self.done = true;
        self.io = None;
        self.input.clear();
        self.out.clear();
        self.shared.outbox.store(0, Ordering::Relaxed);
        self.shared.lock().closed = true;
        let code = self.close_info.as_ref().map_or(ABNORMAL.0, |(c, _)| c.0);
        log::info!(
            "conn={} closed code={} bytes_in={} bytes_out={}",
            self.id(),
            code,
            self.bytes_in,
            self.bytes_out
        );
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        if !self.done {
            self.set_close_info(ABNORMAL, "dropped by the application");
            self.finish();
        }
    }
}

/// Writes a data frame header for a whole message of `len` bytes (RSV1 if `compressed`);
/// returns the key to mask the payload with in the client role (the header's last 4 bytes).
fn send_header(
    core: &mut Core,
    out: &mut Outbox,
    kind: MessageKind,
    len: usize,
    compressed: bool,
) -> Result<Option<[u8; 4]>, SendError> {
    let mut header = [0u8; MAX_HEADER_LEN];
    let n = core.send_data_header(kind, len as u64, compressed, &mut header)?;
    let header = header.get(..n).unwrap_or_default();
    out.extend(header);
    let key = match core {
        Core::Server(_) => None,
        Core::Client(_) => header
            .get(n.saturating_sub(4)..)
            .and_then(|k| k.try_into().ok()),
    };
    Ok(key)
}

/// Adapts a "bytes written" result to [`Outbox::write_with`].
fn split<E>(r: Result<usize, E>) -> (usize, Result<(), E>) {
    match r {
        Ok(n) => (n, Ok(())),
        Err(e) => (0, Err(e)),
    }
}

/// `s` cut to at most `max` bytes on a character boundary.
pub(crate) fn truncate(s: &str, max: usize) -> &str {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.get(..end).unwrap_or_default()
}

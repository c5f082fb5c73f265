//! The connection driver: everything one upgraded connection decides, without IO, clock or
//! async, shared by both engines (the async `Conn` over futures-io, the event loop over mio).
//!
//! It owns the ws-core [`Connection`], the handling of each incoming chunk (echoed as it comes,
//! or reassembled for the application within the [`MessageBudget`]), permessage-deflate, the
//! outbound queue and its cap, the teardown [`Phase`] and the deadlines. Time is a parameter:
//! milliseconds on any monotonic count the engine chooses.
//!
//! Call order for an engine, each round:
//! 1. [`Driver::receive`] with the input buffer (bytes read and not yet consumed, from `pos`);
//!    [`Driver::receive_eof`] at EOF; [`Driver::take_message`] for the application.
//! 2. Write [`Driver::transmit_slices`] with one vectored write, then [`Driver::transmitted`];
//!    before the input buffer is reused or given back, [`Driver::release_input`] (echoes are
//!    referenced in it until then).
//! 3. When [`Driver::wants_fin`], shut the write side and call [`Driver::fin_sent`].
//! 4. Read again only while [`Driver::wants_read`]; drop the transport once
//!    [`Driver::is_done`]; call [`Driver::handle_timeout`] at [`Driver::poll_timeout`].
//!
//! Application calls ([`Driver::send`], [`Driver::close`], [`Driver::shutdown`]) may come at any
//! time: every frame is queued whole, so a control frame never lands inside another frame.

mod core;
mod receive;
#[cfg(test)]
mod tests;

pub(crate) mod outbound;

use self::core::Core;
use crate::budget::MessageBudget;
use crate::config::ConnectionConfig;
use crate::deflate::{glue, DeflateConfig, Session, SharedKey};
use crate::message::Message;
use outbound::Outbound;
use std::io::IoSlice;
use ws_core::connection::MIN_OUTPUT;
use ws_core::deflate::PerMessageDeflate;
use ws_core::frame::{apply_mask, MAX_HEADER_LEN};
use ws_core::{CloseCode, MessageKind, Role, SendError, State, TimerEvent};

/// How data messages are consumed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Reassemble into [`Message`]s for the application.
    Messages,
    /// Echo every message back as it arrives (the reference echo server).
    Echo,
}

/// How a connection takes a frame made once for many connections (a room's broadcast).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Framing {
    /// An unmasked frame without compression.
    Plain,
    /// An unmasked frame compressed with these settings and no context takeover (the same bytes
    /// for every connection with the same key).
    Deflate(SharedKey),
    /// The connection frames each message itself (client role: masked; or a compressor with
    /// context takeover).
    Own,
}

/// Where the connection's teardown stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Frames flow; ws-core tracks the close handshake (Open, then Closing once a close is sent).
    Open,
    /// We failed the connection as a server: our close frame is queued, FIN follows once it is
    /// written (the peer sees the close, then EOF; it need not answer).
    Failing,
    /// FIN is sent after failing: input is read and discarded until the peer's EOF or `until`,
    /// so unread input does not turn our close into a reset.
    Lingering {
        /// When to give up waiting for the EOF.
        until: u64,
    },
    /// The close handshake is over. A server sends FIN once its output is written and drops the
    /// transport (it closes TCP first, RFC 6455 §7.1.1); a client waits for the server's EOF.
    Closed {
        /// When to stop waiting.
        until: u64,
    },
    /// Write what is queued, then drop the transport (the peer stopped answering pings, or its EOF
    /// came with output still queued).
    Flushing {
        /// When to drop it even if the output is not written.
        until: u64,
    },
    /// Drop the transport now.
    Done,
}

/// Events one [`Driver::receive`] handles by default before it returns, so an engine serving
/// many connections on one thread can let the others run (a read buffer of 11-byte pings is
/// 23 000 events).
const EVENTS_PER_CALL: u16 = 2048;

/// Why [`Driver::receive`] stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Stop {
    /// It needs more bytes than the buffer holds (a partial frame, or nothing left).
    NeedInput,
    /// It could go on, but will not now: a message waits for the application, the outbound queue
    /// is at its cap, the event budget of one call is spent, or the connection is done.
    Paused,
}

/// One connection's protocol state, queue and deadlines.
pub(crate) struct Driver {
    core: Core,
    mode: Mode,
    id: u64,
    /// How long a close, a linger or a final flush may take (ms).
    close_ms: u32,
    /// Outbound bytes past which reading pauses (between messages) and writers are refused
    /// (32 bits, like `loan`, `close_ms` and `events_per_call`: together they fill one word, and
    /// an idle event-loop connection is mostly this struct).
    cap: u32,
    /// Queued bytes past `cap` drawn from `budget`: the echo of a message the peer is still
    /// sending (see [`Driver::at_cap`]).
    loan: u32,
    phase: Phase,
    inbound: receive::Inbound,
    budget: MessageBudget,
    deflate: Option<Box<Session>>,
    out: Outbound,
    /// A complete message waiting for [`Driver::take_message`].
    message: Option<Box<Message>>,
    /// Why the connection ends (boxed: most connections never need it until they close).
    close_info: Option<Box<(CloseCode, String)>>,
    bytes_in: u64,
    bytes_out: u64,
    /// Events one [`Driver::receive`] handles before it returns (the engines' fairness).
    events_per_call: u16,
}

impl std::fmt::Debug for Driver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Driver")
            .field("id", &self.id)
            .field("phase", &self.phase)
            .field("state", &self.core.state())
            .finish_non_exhaustive()
    }
}

impl Driver {
    /// A driver for a connection upgraded at `now` (ms), as `role`, consuming messages per `mode`.
    pub(crate) fn new(
        role: Role,
        mode: Mode,
        config: &ConnectionConfig,
        now: u64,
        id: u64,
    ) -> Self {
        let close_ms = config.timers().close_timeout.unwrap_or(1000);
        let close_ms = u32::try_from(close_ms).unwrap_or(u32::MAX);
        Self {
            core: Core::new(role, config.limits, config.timers(), now),
            mode,
            id,
            close_ms,
            cap: u32::try_from(config.max_outbound_bytes)
                .unwrap_or(u32::MAX)
                .max(1),
            loan: 0,
            phase: Phase::Open,
            inbound: receive::Inbound::Idle,
            budget: config.message_budget.clone(),
            deflate: None,
            out: Outbound::default(),
            message: None,
            close_info: None,
            bytes_in: 0,
            bytes_out: 0,
            events_per_call: EVENTS_PER_CALL,
        }
    }

    /// Activates permessage-deflate with the agreed parameters (right after the handshake).
    pub(crate) fn enable_deflate(&mut self, params: PerMessageDeflate, config: &DeflateConfig) {
        self.core.set_deflate(true);
        let role = self.core.role();
        self.deflate = Some(Box::new(Session::new(params, role, config)));
    }

    /// The agreed permessage-deflate parameters, if the extension is active.
    pub(crate) fn deflate_params(&self) -> Option<PerMessageDeflate> {
        self.deflate.as_ref().map(|d| d.params())
    }

    /// Switches how data messages are consumed (between messages).
    pub(crate) fn set_mode(&mut self, mode: Mode) {
        self.mode = mode;
    }

    #[cfg(test)]
    /// Makes [`Driver::receive`] return (paused) after `n` events, so one engine thread serving
    /// many connections can let the others run.
    pub(crate) fn set_events_per_call(&mut self, n: usize) {
        self.events_per_call = u16::try_from(n).unwrap_or(u16::MAX).max(1);
    }

    #[cfg(feature = "evloop")]
    /// Queues bytes that precede every frame (the engine's 101 response).
    pub(crate) fn push_raw(&mut self, bytes: &[u8]) {
        self.out.extend(bytes);
    }

    /// The connection id (for the logs).
    #[cfg(feature = "evloop")]
    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    /// The teardown phase.
    #[cfg(test)]
    pub(crate) fn phase(&self) -> Phase {
        self.phase
    }

    /// Whether the application may still send (the close handshake has not begun).
    #[inline]
    pub(crate) fn is_open(&self) -> bool {
        self.phase == Phase::Open && self.core.state() == State::Open
    }

    /// Why the connection closed (or is closing), if known.
    pub(crate) fn close_info(&self) -> Option<(CloseCode, String)> {
        self.close_info.as_deref().cloned()
    }

    /// Records why the connection ends (the first reason wins).
    fn note_close(&mut self, code: CloseCode, reason: &str) {
        if self.close_info.is_none() {
            self.close_info = Some(Box::new((code, reason.to_owned())));
        }
    }

    // ---- application ----

    /// Queues one whole data message (compressed when the extension is active and it pays).
    pub(crate) fn send(&mut self, msg: Message) -> Result<(), SendError> {
        if self.phase != Phase::Open {
            return Err(SendError::Closing);
        }
        let kind = msg.kind();
        let mut payload = msg.into_bytes();
        let compressed = match glue::compress(self.deflate.as_deref_mut(), &payload) {
            Some(z) => {
                payload = z;
                true
            }
            None => false,
        };
        if let Some(key) = self.data_header(kind, payload.len(), true, compressed)? {
            apply_mask(&mut payload, key, 0);
        }
        self.out.push_owned(payload);
        Ok(())
    }

    /// Queues a whole data frame framed once for many connections (a room's broadcast, see
    /// [`Driver::framing`]): referenced, not copied, when large. Only between whole messages,
    /// which is the only way the application sends.
    #[inline(always)]
    pub(crate) fn send_frame(&mut self, frame: &std::sync::Arc<[u8]>) -> Result<(), SendError> {
        if !self.is_open() {
            return Err(SendError::Closing);
        }
        self.out.push_shared(frame);
        Ok(())
    }

    /// Queues one connection's part of a message made for many (see [`Driver::send_frame`]).
    #[cfg(feature = "evloop")]
    #[inline(always)]
    pub(crate) fn send_share(
        &mut self,
        share: crate::room::frames::Share<'_>,
    ) -> Result<(), SendError> {
        match share {
            crate::room::frames::Share::Frame(f) => self.send_frame(f),
            crate::room::frames::Share::Message(m) => self.send(m),
        }
    }

    /// How a frame shared with other connections must be made to be sent on this one.
    #[inline]
    pub(crate) fn framing(&self) -> Framing {
        if self.core.role() == Role::Client {
            // Every client frame has its own mask.
            return Framing::Own;
        }
        match self.deflate.as_deref() {
            None => Framing::Plain,
            Some(session) => session.shared_key().map_or(Framing::Own, Framing::Deflate),
        }
    }

    /// Queues a data frame header (the payload follows from the caller); in the client role,
    /// the mask key to mask that payload with (the header's last four bytes).
    fn data_header(
        &mut self,
        kind: MessageKind,
        len: usize,
        fin: bool,
        compressed: bool,
    ) -> Result<Option<[u8; 4]>, SendError> {
        let mut header = [0u8; MAX_HEADER_LEN];
        let n = self
            .core
            .send_data_header(kind, len as u64, fin, compressed, &mut header)?;
        let header = header.get(..n).unwrap_or_default();
        self.out.extend(header);
        Ok(match self.core.role() {
            Role::Server => None,
            Role::Client => header
                .get(n.saturating_sub(4)..)
                .and_then(|k| k.try_into().ok()),
        })
    }

    /// Queues a ping (payload at most 125 bytes).
    pub(crate) fn ping(&mut self, payload: &[u8]) -> Result<(), SendError> {
        if self.phase != Phase::Open {
            return Err(SendError::Closing);
        }
        let mut frame = [0u8; MIN_OUTPUT];
        let n = self.core.send_ping(payload, &mut frame)?;
        self.out.extend(frame.get(..n).unwrap_or_default());
        Ok(())
    }

    /// [`Driver::close`] for a peer that is not taking what it is sent (a room's policy, the
    /// outbound cap): the shared frames queued and not started are dropped first (whole frames,
    /// so the stream stays well formed), so their memory goes now, not at the close timeout, and
    /// the close frame follows the frame in progress instead of the whole backlog.
    pub(crate) fn abort(
        &mut self,
        code: CloseCode,
        reason: &str,
        now: u64,
    ) -> Result<(), SendError> {
        if !self.is_open() {
            return Ok(());
        }
        self.out.drop_unstarted_shared();
        self.repay_loan();
        self.close(code, reason, now)
    }

    /// Starts the close handshake with `code` and `reason` (cut to 123 bytes); a no-op once it
    /// has begun. The close timeout runs from `now`.
    pub(crate) fn close(
        &mut self,
        code: CloseCode,
        reason: &str,
        now: u64,
    ) -> Result<(), SendError> {
        if !self.is_open() {
            return Ok(());
        }
        let reason = truncate(reason, ws_core::close::MAX_REASON_LEN);
        let mut frame = [0u8; MIN_OUTPUT];
        let n = self.core.send_close(Some(code), reason, now, &mut frame)?;
        self.out.extend(frame.get(..n).unwrap_or_default());
        self.note_close(code, reason);
        // No data follows our close (ws-core skips the peer's): drop what a message in progress
        // holds now rather than when the connection ends.
        self.inbound.abandon(&self.budget);
        Ok(())
    }

    /// The graceful shutdown: 1001 if the connection is open.
    #[cfg(any(test, feature = "evloop"))]
    pub(crate) fn shutdown(&mut self, now: u64) {
        let _ = self.close(CloseCode::GOING_AWAY, "server shutting down", now);
    }

    /// The next complete message (Messages mode).
    pub(crate) fn take_message(&mut self) -> Option<Message> {
        self.message.take().map(receive::unboxed)
    }

    // ---- transport ----

    /// The peer closed its side (EOF) at `now`.
    pub(crate) fn receive_eof(&mut self, now: u64) {
        match self.phase {
            Phase::Open | Phase::Failing => {
                let reason = if self.core.state() == State::Open {
                    "transport closed without a close frame"
                } else {
                    "transport closed during the close handshake"
                };
                self.note_close(CloseCode::ABNORMAL, reason);
                self.flush_then_drop(now);
            }
            Phase::Closed { .. } if self.core.role() == Role::Server => self.flush_then_drop(now),
            Phase::Flushing { .. } | Phase::Done => {}
            Phase::Lingering { .. } | Phase::Closed { .. } => self.finish("peer closed"),
        }
    }

    /// The transport failed: drop it.
    pub(crate) fn transport_error(&mut self, e: &std::io::Error) {
        log::debug!("conn={} transport error: {e}", self.id);
        self.note_close(CloseCode::ABNORMAL, "transport error");
        self.finish("transport error");
    }

    /// The transport is dropped by its owner (the application dropped the connection).
    pub(crate) fn abandon(&mut self, why: &str) {
        if self.phase != Phase::Done {
            self.note_close(CloseCode::ABNORMAL, why);
            self.finish(why);
        }
    }

    fn flush_then_drop(&mut self, now: u64) {
        if self.out.is_empty() {
            self.finish("peer closed");
        } else {
            self.phase = Phase::Flushing {
                until: now.saturating_add(u64::from(self.close_ms)),
            };
        }
    }

    /// Ends the connection: the engine drops the transport. Logged once.
    fn finish(&mut self, why: &str) {
        if self.phase == Phase::Done {
            return;
        }
        self.phase = Phase::Done;
        self.out.clear();
        self.repay_loan();
        self.message = None;
        self.inbound.abandon(&self.budget);
        let code = self
            .close_info
            .as_deref()
            .map_or(CloseCode::ABNORMAL.0, |(c, _)| c.0);
        log::info!(
            "conn={} closed code={code} ({why}) bytes_in={} bytes_out={}",
            self.id,
            self.bytes_in,
            self.bytes_out
        );
    }

    /// Follows the core's close handshake into the teardown phases.
    fn settle(&mut self, now: u64) {
        if self.phase == Phase::Open && self.core.state() == State::Closed {
            self.phase = Phase::Closed {
                until: now.saturating_add(u64::from(self.close_ms)),
            };
        }
        if let Phase::Flushing { .. } = self.phase {
            if self.out.is_empty() {
                self.finish("output flushed");
            }
        }
    }

    // ---- output ----

    /// Fills `slices` with the bytes to write next, in order (input references resolved against
    /// `input`, the buffer last given to [`Driver::receive`]); returns how many it filled.
    pub(crate) fn transmit_slices<'a>(
        &'a self,
        input: &'a [u8],
        slices: &mut [IoSlice<'a>],
    ) -> usize {
        self.out.slices(input, slices)
    }

    /// `n` bytes were written.
    pub(crate) fn transmitted(&mut self, n: usize, now: u64) {
        self.out.advance(n);
        self.bytes_out += n as u64;
        self.repay_loan();
        self.settle(now);
    }

    /// The engine is about to reuse or give back `input` (the buffer given to
    /// [`Driver::receive`]): output still referencing it is copied.
    pub(crate) fn release_input(&mut self, input: &[u8]) {
        self.out.release_input(input);
    }

    /// Bytes queued and not yet written.
    #[inline]
    pub(crate) fn queued(&self) -> usize {
        self.out.bytes()
    }

    /// Whether the engine should read from the transport.
    pub(crate) fn wants_read(&self) -> bool {
        match self.phase {
            Phase::Open => self.message.is_none() && !self.at_cap(),
            Phase::Failing | Phase::Lingering { .. } => true,
            Phase::Closed { .. } => self.core.role() == Role::Client,
            Phase::Flushing { .. } | Phase::Done => false,
        }
    }

    /// Whether input waits for the output to drain below the cap (backpressure). Only between
    /// incoming messages: a peer may write a whole message before it reads (a blocking client
    /// does; a 16 MiB message in two fragments outgrows the socket buffers), so the rest of the
    /// message is taken and its echo queued. What the queue holds past the cap meanwhile is a
    /// loan from the process-wide [`MessageBudget`] (1013 when it is spent), so many such peers
    /// cannot multiply it.
    fn at_cap(&self) -> bool {
        self.out.bytes() >= self.cap as usize
            && self.inbound.is_idle()
            && self.core.frame_remaining() == 0
    }

    /// Gives back the part of the loan the queue no longer needs.
    fn repay_loan(&mut self) {
        let need = self.out.bytes().saturating_sub(self.cap as usize);
        if let Some(repaid) = (self.loan as usize).checked_sub(need).filter(|&r| r > 0) {
            self.budget.release(repaid);
            self.loan -= repaid as u32;
        }
    }

    /// Whether the engine should shut the write side down (send FIN) now.
    pub(crate) fn wants_fin(&self) -> bool {
        self.out.is_empty()
            && self.core.role() == Role::Server
            && matches!(self.phase, Phase::Failing | Phase::Closed { .. })
    }

    /// The engine sent FIN at `now`.
    pub(crate) fn fin_sent(&mut self, now: u64) {
        match self.phase {
            Phase::Failing => {
                self.phase = Phase::Lingering {
                    until: now.saturating_add(u64::from(self.close_ms)),
                }
            }
            Phase::Closed { .. } => self.finish("close handshake done"),
            _ => {}
        }
    }

    /// Whether the transport should be dropped.
    pub(crate) fn is_done(&self) -> bool {
        self.phase == Phase::Done
    }

    // ---- time ----

    /// When [`Driver::handle_timeout`] wants to run (ms), if ever.
    pub(crate) fn poll_timeout(&self) -> Option<u64> {
        match self.phase {
            Phase::Open | Phase::Failing => self.core.poll_timeout(),
            Phase::Lingering { until } | Phase::Closed { until } | Phase::Flushing { until } => {
                Some(until)
            }
            Phase::Done => None,
        }
    }

    /// Runs what is due at `now`: the keep-alive ping, the pong and close timeouts, the end of a
    /// linger or flush.
    pub(crate) fn handle_timeout(&mut self, now: u64) {
        match self.phase {
            Phase::Done => {}
            Phase::Lingering { until } | Phase::Closed { until } | Phase::Flushing { until } => {
                if now >= until {
                    log::info!("conn={} peer did not finish closing in time", self.id);
                    self.note_close(CloseCode::ABNORMAL, "close timeout");
                    self.finish("close timeout");
                }
            }
            Phase::Open | Phase::Failing => {
                let mut frame = [0u8; MIN_OUTPUT];
                let fired = self.core.handle_timeout(now, &mut frame);
                self.out
                    .extend(frame.get(..fired.written).unwrap_or_default());
                match fired.event {
                    None => {}
                    Some(TimerEvent::Ping) => log::debug!("conn={} idle: ping sent", self.id),
                    Some(TimerEvent::PongOverdue) => {
                        log::info!("conn={} no pong in time: closing 1011", self.id);
                        self.note_close(CloseCode::INTERNAL_ERROR, "pong timeout");
                        // A peer that does not answer pings will not answer a close either:
                        // drop it once the close is written instead of waiting for an answer.
                        self.phase = Phase::Flushing {
                            until: now.saturating_add(u64::from(self.close_ms)),
                        };
                        self.inbound.abandon(&self.budget);
                    }
                    Some(TimerEvent::DropTransport) => {
                        log::info!("conn={} peer did not answer our close in time", self.id);
                        self.note_close(CloseCode::ABNORMAL, "close timeout");
                        self.finish("close timeout");
                    }
                }
            }
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // Budget reservations go back however the connection ends.
        self.inbound.abandon(&self.budget);
        self.budget.release(self.loan as usize);
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

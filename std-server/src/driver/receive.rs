//! Input: bytes through ws-core, each data chunk echoed as it comes or reassembled for the
//! application, compressed messages inflated in bounded steps.
//!
//! The echo never reassembles a message: each incoming frame becomes one frame of the echo, cut
//! into fragments of at most [`ECHO_FRAGMENT`] bytes. A frame that arrives whole in one read is
//! echoed straight from the input buffer; a large one that arrives over several reads is gathered
//! (a copy, drawn from the [`MessageBudget`]) until the frame or the fragment is complete, so its
//! echo is a few large frames, not one per read. Gathering is only an economy: for a small rest
//! of a frame, or if the budget cannot hold the fragment, each chunk goes out as a fragment of its
//! own as it comes. So an echo holds at most one fragment whatever the message's size, a control frame
//! can always go out between two fragments, and invalid UTF-8 found in a later chunk still gets
//! its 1007 close. A compressed message is inflated [`STEP`] bytes at a time, validated,
//! re-compressed and sent as fragments the same way.
//!
//! Why gather (scenario d of scripts/bench, 4 connections echoing 1 MiB messages, loop engine):
//! echoing every 256 KiB read as a fragment of its own cost 9-23% more server CPU per message
//! than the engine before the driver (93b8d38, which wrote one frame per message; medians of
//! 6-8 alternating pairs); gathering 512 KiB fragments (in buffers kept per thread, see
//! `outbound::fragment_buffer`) costs 1% more than that engine in the same runs: one copy in
//! user space costs less than the extra writes and frames it saves in the kernel. On 64 KiB
//! messages (scenario c, a frame split by a read being two fragments) gathering measured the
//! same as not, so it starts at [`GATHER_FROM`].

use super::{outbound, Driver, Mode, Phase, Stop};
use crate::budget::MessageBudget;
use crate::deflate::{InflateError, STEP};
use crate::message::Message;
use ws_core::connection::MIN_OUTPUT;
use ws_core::frame::apply_mask;
use ws_core::utf8::Utf8Validator;
use ws_core::{CloseCode, Event, MessageKind, Role, State};

/// What the incoming message in progress is doing.
#[derive(Debug, Default)]
pub(crate) enum Inbound {
    /// Between messages.
    #[default]
    Idle,
    /// Reassembled for the application (boxed: an idle connection holds no room for it).
    Assembling(Box<Assembly>),
    /// Echoed frame by frame; `Some` while part of the current frame is gathered.
    Echoing(Option<Box<Gathered>>),
    /// A compressed message echoed piece by piece; `inflated` bytes so far.
    EchoingCompressed { utf8: Utf8Validator, inflated: u64 },
}

/// Incoming frames are echoed in fragments of at most this many bytes; a frame that arrives over
/// several reads is gathered up to it (see the module doc for the measurement). It bounds what
/// an echo holds beside its outbound queue.
pub(crate) const ECHO_FRAGMENT: usize = 512 << 10;

/// The rest of a frame shorter than this is not gathered: it goes out as it comes, without a copy
/// or an allocation. Gathering paid on 1 MiB frames (scenario d) and measured no different on
/// 64 KiB ones (scenario c); and the echo of small messages allocates nothing (tests/alloc.rs).
const GATHER_FROM: usize = ECHO_FRAGMENT / 4;

/// Part of an incoming frame gathered for its echo.
#[derive(Debug)]
pub(crate) struct Gathered {
    bytes: Vec<u8>,
    /// The fragment's length once complete (the rest of the frame, at most [`ECHO_FRAGMENT`]).
    /// The budget holds [`ECHO_FRAGMENT`] bytes for the buffer (its capacity).
    target: usize,
}

impl Gathered {
    /// Bytes still missing.
    fn room(&self) -> usize {
        self.target - self.bytes.len()
    }
}

/// A message being reassembled for the application.
#[derive(Debug, Default)]
pub(crate) struct Assembly {
    bytes: Vec<u8>,
    /// Bytes drawn from the budget for it.
    reserved: usize,
    /// For an inflated text message (ws-core validates only uncompressed text).
    utf8: Utf8Validator,
}

impl Inbound {
    /// Whether no message is in progress.
    pub(crate) fn is_idle(&self) -> bool {
        matches!(self, Inbound::Idle)
    }

    /// Drops the message in progress, giving its reservation back.
    pub(crate) fn abandon(&mut self, budget: &MessageBudget) {
        match std::mem::take(self) {
            Inbound::Assembling(a) => budget.release(a.reserved),
            Inbound::Echoing(Some(_)) => budget.release(ECHO_FRAGMENT),
            _ => {}
        }
    }
}

/// Why a message fails the connection: the close code and a reason for the logs.
type Failure = (CloseCode, &'static str);

fn inflate_failure(e: InflateError) -> Failure {
    match e {
        InflateError::TooBig => (e.close_code(), "inflated message too big"),
        InflateError::Corrupt => (e.close_code(), "invalid deflate data"),
    }
}

const NO_EXTENSION: Failure = (
    CloseCode::PROTOCOL_ERROR,
    "compressed message without the extension",
);
const BAD_UTF8: Failure = (
    CloseCode::INVALID_PAYLOAD,
    "invalid UTF-8 in an inflated text message",
);
const OVER_BUDGET: Failure = (
    CloseCode::TRY_AGAIN_LATER,
    "message memory budget exhausted",
);
const TOO_BIG: Failure = (CloseCode::TOO_BIG, "inflated message too big");

impl Driver {
    /// Processes `buf[pos..]` (bytes read and not yet consumed) at `now`; returns the position up
    /// to which input is consumed and why it stopped. Echoes may reference `buf` until
    /// [`Driver::release_input`].
    pub(crate) fn receive(&mut self, buf: &mut [u8], mut pos: usize, now: u64) -> (usize, Stop) {
        let base = buf.as_ptr() as usize;
        let mut events = 0;
        loop {
            match self.phase {
                Phase::Open | Phase::Failing => {}
                // Nothing more is processed: input is read only to find the peer's EOF.
                Phase::Lingering { .. }
                | Phase::Closed { .. }
                | Phase::Flushing { .. }
                | Phase::Done => {
                    self.bytes_in += buf.len().saturating_sub(pos) as u64;
                    return (buf.len().max(pos), Stop::NeedInput);
                }
            }
            if self.message.is_some()
                || self.at_cap()
                || events == usize::from(self.events_per_call)
            {
                return (pos, Stop::Paused);
            }
            let Some(input) = buf.get_mut(pos..).filter(|i| !i.is_empty()) else {
                return (pos, Stop::NeedInput);
            };
            let mut replies = [0u8; MIN_OUTPUT];
            let rec = self.core.receive(input, &mut replies, now);
            self.out
                .extend(replies.get(..rec.written).unwrap_or_default());
            pos += rec.consumed;
            self.bytes_in += rec.consumed as u64;
            match rec.event {
                None if rec.consumed == 0 => return (pos, Stop::NeedInput),
                None => continue,
                Some(event) => {
                    events += 1;
                    self.on_event(event, base, now);
                    if !self.borrow_for_backlog() {
                        let (code, why) = OVER_BUDGET;
                        self.fail(code, why, now);
                    }
                }
            }
            self.settle(now);
        }
    }

    fn on_event(&mut self, event: Event<'_>, base: usize, now: u64) {
        match event {
            Event::Data {
                kind,
                payload,
                end,
                compressed,
            } => {
                let r = match (self.mode, compressed) {
                    (Mode::Echo, false) => {
                        self.echo_chunk(kind, payload, end, base);
                        Ok(())
                    }
                    (Mode::Echo, true) => self.echo_compressed(kind, payload, end),
                    (Mode::Messages, _) => self.assemble(kind, payload, end, compressed),
                };
                if let Err((code, why)) = r {
                    self.fail(code, why, now);
                }
            }
            Event::Ping(_) | Event::Pong(_) => {}
            Event::Close { code, reason } => {
                let code = code.unwrap_or(CloseCode::NO_STATUS);
                log::debug!("conn={} peer close {}", self.id, code.0);
                self.note_close(code, reason);
                self.inbound.abandon(&self.budget);
            }
            Event::Failed(e) => {
                let code = e.close_code();
                log::info!("conn={} protocol error {e:?} -> close {}", self.id, code.0);
                self.note_close(code, &format!("{e:?}"));
                self.inbound.abandon(&self.budget);
                self.enter_failing();
            }
        }
    }

    /// Draws what the queue holds past the cap from the budget (see `Driver::at_cap`); `false` if
    /// the budget cannot cover it. Overshoots by at most one chunk, already read.
    fn borrow_for_backlog(&mut self) -> bool {
        let need = self.out.bytes().saturating_sub(self.cap as usize);
        let loan = self.loan as usize;
        if need <= loan || self.phase != Phase::Open {
            return true;
        }
        match u32::try_from(need) {
            Ok(need32) if self.budget.try_reserve(need - loan) => {
                self.loan = need32;
                true
            }
            _ => false,
        }
    }

    /// After we failed the connection: a server sends FIN once its close is out.
    fn enter_failing(&mut self) {
        if self.core.role() == Role::Server
            && self.phase == Phase::Open
            && self.core.state() == State::Closing
        {
            self.phase = Phase::Failing;
        }
    }

    /// Fails the connection for a reason ws-core could not see (deflate, budget).
    fn fail(&mut self, code: CloseCode, why: &str, now: u64) {
        log::info!("conn={} {why} -> close {}", self.id, code.0);
        self.inbound.abandon(&self.budget);
        let _ = self.close(code, why, now);
        self.enter_failing();
    }

    /// Echoes one chunk of an uncompressed message: what completes a fragment (the rest of the
    /// frame, or [`ECHO_FRAGMENT`] bytes) goes out, straight from the input if it is all there;
    /// the start of a fragment whose rest is still to come is gathered.
    fn echo_chunk(&mut self, kind: MessageKind, payload: &[u8], end: bool, base: usize) {
        let mut gathered = match std::mem::take(&mut self.inbound) {
            Inbound::Echoing(g) => g,
            _ => None,
        };
        // This frame's payload still to come after this chunk.
        let later = usize::try_from(self.core.frame_remaining()).unwrap_or(usize::MAX);
        let mut rest = payload;
        loop {
            if let Some(g) = gathered.as_deref_mut() {
                let (now, after) = rest.split_at(rest.len().min(g.room()));
                g.bytes.extend_from_slice(now);
                rest = after;
                if g.room() > 0 {
                    break;
                }
                if let Some(g) = gathered.take() {
                    // Queued, it counts against the outbound cap (and its loan) instead.
                    self.budget.release(ECHO_FRAGMENT);
                    self.echo_owned(kind, g.bytes, end && rest.is_empty());
                }
                continue;
            }
            if rest.is_empty() {
                break;
            }
            let left = rest.len().saturating_add(later);
            if rest.len() >= ECHO_FRAGMENT || left == rest.len() || left < GATHER_FROM {
                let (now, after) = rest.split_at(rest.len().min(ECHO_FRAGMENT));
                self.echo_input(kind, now, end && after.is_empty(), base);
                rest = after;
                continue;
            }
            let target = left.min(ECHO_FRAGMENT);
            if self.budget.try_reserve(ECHO_FRAGMENT) {
                let bytes = outbound::fragment_buffer();
                gathered = Some(Box::new(Gathered { bytes, target }));
            } else {
                // No memory to spare: this chunk is a fragment of its own (the frame goes on).
                self.echo_input(kind, rest, false, base);
                rest = &[];
            }
        }
        if payload.is_empty() && end {
            // An empty last frame still ends the echo.
            self.echo_input(kind, payload, true, base);
        }
        self.inbound = if end {
            if let Some(g) = gathered {
                // Not reached: a gathered fragment never outlasts its frame. Kept whole anyway.
                self.budget.release(ECHO_FRAGMENT);
                self.echo_owned(kind, g.bytes, true);
            }
            Inbound::Idle
        } else {
            Inbound::Echoing(gathered)
        };
    }

    /// Queues a fragment of the echo whose payload lies in the input buffer (at address `base`).
    fn echo_input(&mut self, kind: MessageKind, payload: &[u8], fin: bool, base: usize) {
        match self.data_header(kind, payload.len(), fin, false) {
            Ok(None) => self.out.push_input(payload, base),
            Ok(Some(key)) => {
                let mut masked = payload.to_vec();
                apply_mask(&mut masked, key, 0);
                self.out.push_owned(masked);
            }
            Err(_) => {}
        }
    }

    /// Queues a fragment of the echo whose payload is gathered in `payload`.
    fn echo_owned(&mut self, kind: MessageKind, mut payload: Vec<u8>, fin: bool) {
        if let Ok(key) = self.data_header(kind, payload.len(), fin, false) {
            if let Some(key) = key {
                apply_mask(&mut payload, key, 0);
            }
            self.out.push_owned(payload);
        }
    }

    /// Inflates one chunk of a compressed message, validates it and sends it re-compressed as a
    /// fragment (the last one at the message's end).
    fn echo_compressed(
        &mut self,
        kind: MessageKind,
        payload: &[u8],
        end: bool,
    ) -> Result<(), Failure> {
        let (mut utf8, mut inflated) = match std::mem::take(&mut self.inbound) {
            Inbound::EchoingCompressed { utf8, inflated } => (utf8, inflated),
            _ => (Utf8Validator::new(), 0),
        };
        let limit = self.core.max_message_size();
        let mut plain: Vec<u8> = Vec::new();
        let mut z: Vec<u8> = Vec::new();
        self.inflate_each(payload, end, |d, piece, done| {
            inflated += piece.len() as u64;
            if inflated > limit {
                return Err(TOO_BIG);
            }
            if kind == MessageKind::Text {
                utf8.feed(piece).map_err(|_| BAD_UTF8)?;
            }
            plain.extend_from_slice(piece);
            let last = done && end;
            if last && kind == MessageKind::Text {
                utf8.finish().map_err(|_| BAD_UTF8)?;
            }
            if plain.len() >= STEP || done {
                let compressor_failed =
                    (CloseCode::INTERNAL_ERROR, "compressor failed while echoing");
                let session = d.deflate.as_deref_mut().ok_or(NO_EXTENSION)?;
                session
                    .compress_piece(&plain, last, &mut z)
                    .map_err(|_| compressor_failed)?;
                plain.clear();
                if !z.is_empty() || last {
                    let frame = std::mem::take(&mut z);
                    d.echo_compressed_frame(kind, frame, last);
                }
            }
            Ok(())
        })?;
        if !end {
            self.inbound = Inbound::EchoingCompressed { utf8, inflated };
        }
        Ok(())
    }

    /// Queues one fragment of a re-compressed echo.
    fn echo_compressed_frame(&mut self, kind: MessageKind, mut frame: Vec<u8>, fin: bool) {
        if let Ok(key) = self.data_header(kind, frame.len(), fin, true) {
            if let Some(key) = key {
                apply_mask(&mut frame, key, 0);
            }
            self.out.push_owned(frame);
        }
    }

    /// Reassembles a chunk for the application (inflating it if compressed), within the budget.
    fn assemble(
        &mut self,
        kind: MessageKind,
        payload: &[u8],
        end: bool,
        compressed: bool,
    ) -> Result<(), Failure> {
        if !compressed && end && self.inbound.is_idle() {
            // A whole message in one chunk goes to the application at once: no reservation.
            self.message = Some(boxed(to_message(kind, payload.to_vec())));
            return Ok(());
        }
        if self.inbound.is_idle() {
            self.inbound = Inbound::Assembling(Box::default());
        }
        if compressed {
            self.inflate_into_assembly(kind, payload, end)?;
        } else {
            self.append(payload)?;
        }
        if end {
            if let Inbound::Assembling(a) = std::mem::take(&mut self.inbound) {
                self.budget.release(a.reserved);
                self.message = Some(boxed(to_message(kind, a.bytes)));
            }
        }
        Ok(())
    }

    /// Appends `piece` to the message being reassembled, reserving its memory first.
    fn append(&mut self, piece: &[u8]) -> Result<(), Failure> {
        let Inbound::Assembling(a) = &mut self.inbound else {
            return Ok(());
        };
        let Assembly {
            bytes, reserved, ..
        } = &mut **a;
        if bytes.len() + piece.len() > *reserved {
            // Reserve what the Vec will really hold (it grows geometrically).
            let want = (bytes.len() + piece.len()).max(bytes.capacity());
            let more = want - *reserved;
            if !self.budget.try_reserve(more) {
                return Err(OVER_BUDGET);
            }
            *reserved += more;
        }
        bytes.extend_from_slice(piece);
        Ok(())
    }

    /// Inflates a compressed chunk in bounded steps into the message being reassembled.
    fn inflate_into_assembly(
        &mut self,
        kind: MessageKind,
        payload: &[u8],
        end: bool,
    ) -> Result<(), Failure> {
        let limit = self.core.max_message_size();
        self.inflate_each(payload, end, |d, piece, done| {
            if let Inbound::Assembling(a) = &mut d.inbound {
                let Assembly { bytes, utf8, .. } = &mut **a;
                if (bytes.len() + piece.len()) as u64 > limit {
                    return Err(TOO_BIG);
                }
                if kind == MessageKind::Text {
                    utf8.feed(piece).map_err(|_| BAD_UTF8)?;
                    if done && end {
                        utf8.finish().map_err(|_| BAD_UTF8)?;
                    }
                }
            }
            d.append(piece)
        })
    }

    /// Inflates `payload` (a chunk of the compressed message; `end`: its last) at most [`STEP`]
    /// bytes at a time, handing each piece to `f` with whether the chunk is done.
    fn inflate_each(
        &mut self,
        payload: &[u8],
        end: bool,
        mut f: impl FnMut(&mut Self, &[u8], bool) -> Result<(), Failure>,
    ) -> Result<(), Failure> {
        let mut input = payload;
        let mut scratch = [0u8; STEP];
        loop {
            let session = self.deflate.as_deref_mut().ok_or(NO_EXTENSION)?;
            let step = session
                .inflate_step(input, end, &mut scratch)
                .map_err(inflate_failure)?;
            input = input.get(step.consumed..).unwrap_or_default();
            f(
                self,
                scratch.get(..step.produced).unwrap_or_default(),
                step.done,
            )?;
            if step.done {
                return Ok(());
            }
            if step.consumed == 0 && step.produced == 0 {
                return Err(inflate_failure(InflateError::Corrupt));
            }
        }
    }
}

thread_local! {
    /// One emptied message box per thread, for the next complete message: the driver boxes the
    /// message it holds (a connection between messages keeps 8 bytes, not 32), and a box per
    /// message was a malloc and a free per message for applications on the event loop.
    static SPARE_BOX: std::cell::Cell<Option<Box<Message>>> = const { std::cell::Cell::new(None) };
}

/// `m` in the thread's spare box, or a new one.
fn boxed(m: Message) -> Box<Message> {
    match SPARE_BOX.take() {
        Some(mut b) => {
            *b = m;
            b
        }
        None => Box::new(m),
    }
}

/// The message out of `b`, whose box is kept as the thread's spare.
pub(super) fn unboxed(mut b: Box<Message>) -> Message {
    let m = std::mem::replace(&mut *b, Message::Binary(Vec::new()));
    SPARE_BOX.with(|spare| spare.set(Some(b)));
    m
}

/// A message from reassembled bytes (text already validated).
fn to_message(kind: MessageKind, bytes: Vec<u8>) -> Message {
    match kind {
        MessageKind::Binary => Message::Binary(bytes),
        MessageKind::Text => match String::from_utf8(bytes) {
            Ok(s) => Message::Text(s),
            Err(e) => {
                log::error!("validated text was not UTF-8; delivering as binary");
                Message::Binary(e.into_bytes())
            }
        },
    }
}

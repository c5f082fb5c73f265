//! One connection of the event loop: its socket, the bytes it keeps between reads (a partial
//! head or frame) and its [`Stage`]: the request head, an HTTP answer on its way out, or the
//! [`Driver`] that makes every decision once upgraded. This file only moves bytes and readiness.

use super::app::App;
use super::scratch::{AppEvent, Resume, Scratch, ToApp};
use super::write::write_once;
use crate::config::Config;
use crate::driver::{Driver, Mode, Stop};
use crate::http::encode_response;
use mio::net::TcpStream;
use std::io::{self, IoSlice, Read};
use std::net::Shutdown;
use std::time::{Duration, Instant};
use thin_vec::ThinVec;
use ws_core::handshake::{self, Header, RequestParser, Status};
use ws_core::{CloseCode, HandshakeError, Role};

/// "No deadline".
pub(super) const NEVER: u64 = u64::MAX;

/// Time allowed for a refusal (HTTP error or 503) to be written and the client to go, in ms.
const REFUSAL_LINGER_MS: u64 = 1000;

/// Reads one readiness event may do before the connection lets the others run.
const READS_PER_TURN: usize = 16;

/// What a connection that stopped at a message for the application answers: nothing behind the
/// message is processed yet, so there is nothing to settle (a complete data message cannot
/// finish the closing handshake or fail the connection). Skipping [`Peer::settle`] twice per
/// message took callgrind's count for the app-loop echo from 2116 to 1959 instructions per message
/// (1890 before the stop at each message; 100 connections x 16 B, 16 in flight).
const STOPPED_AT_MESSAGE: Outcome = Outcome::Keep;

/// How long one turn may last before the connection lets the others run (checked after each
/// read; a read of small frames filling the whole buffer takes longer than this in a debug
/// build, so time and not only the count bounds a turn).
const TURN: Duration = Duration::from_micros(500);

/// At most this many slices go to one `writev`.
const MAX_SLICES: usize = 64;

/// Where the connection stands.
///
/// Each stage holds the connection id (for the logs; the driver keeps its own) rather than the
/// peer: the stages beside the driver fit around it, so the id costs an idle connection nothing.
enum Stage {
    /// Reading the request head until `deadline`.
    Handshake { deadline: u64, id: u64 },
    /// An HTTP answer (an error or 503) is being written; then FIN.
    Answering {
        answer: Vec<u8>,
        sent: usize,
        deadline: u64,
        id: u64,
    },
    /// FIN sent after the answer: input is discarded until EOF or `deadline`.
    Draining { deadline: u64, id: u64 },
    /// Upgraded: the driver decides.
    Open(Driver),
    /// The socket is to be closed, for this reason.
    Gone { why: &'static str, id: u64 },
}

/// What the loop should do with a connection after an event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Outcome {
    /// Keep it; wait for its next event or deadline.
    Keep,
    /// Keep it and give it another turn soon: it stopped reading to let others run.
    Again,
    /// Drop it (the socket closes); the text says why, for the log.
    Remove(&'static str),
}

/// One connection.
pub(super) struct Peer {
    sock: TcpStream,
    stage: Stage,
    /// Unprocessed input: part of a request head or of a frame (empty between messages, and
    /// then without an allocation). A `ThinVec` keeps its length and capacity on the heap: 8
    /// bytes here instead of a `Vec`'s 24, for every idle connection.
    input: ThinVec<u8>,
    /// The socket may hold unread bytes (an edge was seen and not read to the end).
    read_ready: bool,
    /// `input` holds bytes the driver left unprocessed without needing more (it paused).
    backlog: bool,
    /// The poller said the peer shut its side down: read until EOF even after a short read.
    peer_shut: bool,
}

impl Peer {
    /// A freshly accepted connection that must send its request head by `deadline`.
    pub(super) fn new(sock: TcpStream, id: u64, deadline: u64) -> Self {
        Self {
            sock,
            stage: Stage::Handshake { deadline, id },
            input: ThinVec::new(),
            read_ready: false,
            backlog: false,
            peer_shut: false,
        }
    }

    /// A connection past the connection limit: answer 503 and let it go.
    pub(super) fn busy(sock: TcpStream, id: u64, now: u64) -> Self {
        let mut peer = Self::new(sock, id, NEVER);
        peer.stage = Stage::Answering {
            answer: encode_response(&crate::upgrade::busy(), true),
            sent: 0,
            deadline: now.saturating_add(REFUSAL_LINGER_MS),
            id,
        };
        peer
    }

    /// The socket, for (de)registration.
    pub(super) fn socket(&mut self) -> &mut TcpStream {
        &mut self.sock
    }

    /// The connection id (for logs).
    #[inline]
    pub(super) fn id(&self) -> u64 {
        match &self.stage {
            Stage::Handshake { id, .. }
            | Stage::Answering { id, .. }
            | Stage::Draining { id, .. }
            | Stage::Gone { id, .. } => *id,
            Stage::Open(d) => d.id(),
        }
    }

    /// The driver, once upgraded.
    #[inline]
    pub(super) fn driver_mut(&mut self) -> Option<&mut Driver> {
        match &mut self.stage {
            Stage::Open(d) => Some(d),
            _ => None,
        }
    }

    /// For an upgraded connection: the close code and reason it ended (or is ending) with.
    pub(super) fn close_info(&self) -> Option<(CloseCode, String)> {
        match &self.stage {
            Stage::Open(d) => Some(
                d.close_info()
                    .unwrap_or((CloseCode::ABNORMAL, String::new())),
            ),
            _ => None,
        }
    }

    /// Writes what the application queued (outside a readiness event).
    pub(super) fn flush(&mut self, now: u64) -> Outcome {
        if let Err(e) = self.transmit(&[], now) {
            return self.io_error(&e);
        }
        self.settle(now)
    }

    /// Whether the connection is upgraded and open (it gets a 1001 on shutdown).
    pub(super) fn is_open(&self) -> bool {
        matches!(&self.stage, Stage::Open(d) if d.is_open())
    }

    /// When [`Peer::on_timer`] wants to run (ms), or [`NEVER`].
    pub(super) fn next_deadline(&self) -> u64 {
        match &self.stage {
            Stage::Handshake { deadline, .. }
            | Stage::Answering { deadline, .. }
            | Stage::Draining { deadline, .. } => *deadline,
            Stage::Open(d) => d.poll_timeout().unwrap_or(NEVER),
            Stage::Gone { .. } => 0,
        }
    }

    /// Whether the stage wants input from the socket.
    fn wants_read(&self) -> bool {
        match &self.stage {
            Stage::Handshake { .. } | Stage::Answering { .. } | Stage::Draining { .. } => true,
            Stage::Open(d) => d.wants_read(),
            Stage::Gone { .. } => false,
        }
    }

    /// Handles a readiness event. `readable`: the socket has input; `read_closed`: the peer shut
    /// down its side (EOF waits behind the input).
    pub(super) fn on_ready(
        &mut self,
        readable: bool,
        read_closed: bool,
        now: u64,
        config: &Config,
        scratch: &mut Scratch,
        app: &mut dyn App,
    ) -> Outcome {
        if readable || read_closed {
            self.read_ready = true;
        }
        self.peer_shut |= read_closed;
        // Output first: queued bytes may be what kept reading paused.
        if let Err(e) = self.transmit(&[], now) {
            return self.io_error(&e);
        }
        if let Outcome::Remove(why) = self.settle(now) {
            return Outcome::Remove(why);
        }
        self.read_on(now, config, scratch, app)
    }

    /// Goes on where processing stopped at a message ([`Scratch::resume`]), once the
    /// application has heard it, then reads on within the same turn.
    pub(super) fn resume(
        &mut self,
        at: Resume,
        now: u64,
        config: &Config,
        scratch: &mut Scratch,
        app: &mut dyn App,
    ) -> Outcome {
        if let Err(e) = self.process_read(at, now, config, scratch, app) {
            return self.io_error(&e);
        }
        if scratch.resume.is_some() {
            return STOPPED_AT_MESSAGE;
        }
        if let Outcome::Remove(why) = self.settle(now) {
            return Outcome::Remove(why);
        }
        self.read_on(now, config, scratch, app)
    }

    /// Reads and processes while the socket may hold input and the stage wants it, within the
    /// turn's bounds; returns early when processing stops at a message for the application.
    fn read_on(
        &mut self,
        now: u64,
        config: &Config,
        scratch: &mut Scratch,
        app: &mut dyn App,
    ) -> Outcome {
        // Never entered stopped at a message: the engine takes `scratch.resume` before serving
        // anyone, and a stop returns at once.
        while (self.read_ready || self.backlog) && self.wants_read() {
            // The turn's clock starts at its second read (most events need one short read, and
            // a clock read per event showed in the round-trip profile).
            let turn = &mut scratch.turn;
            if turn.reads == READS_PER_TURN
                || (turn.reads > 0
                    && turn.started.get_or_insert_with(Instant::now).elapsed() >= TURN)
            {
                return Outcome::Again;
            }
            turn.reads += 1;
            if let Err(e) = self.read_and_process(now, config, scratch, app) {
                return self.io_error(&e);
            }
            if scratch.resume.is_some() {
                return STOPPED_AT_MESSAGE;
            }
            if let Outcome::Remove(why) = self.settle(now) {
                return Outcome::Remove(why);
            }
        }
        self.settle(now)
    }

    /// Reads once into the shared buffer after the bytes kept from last time (only those when
    /// they are a backlog) and processes what is there ([`Peer::process_read`]).
    fn read_and_process(
        &mut self,
        now: u64,
        config: &Config,
        s: &mut Scratch,
        app: &mut dyn App,
    ) -> io::Result<()> {
        let keep = self.input.len();
        let Some(head) = s.buf.get_mut(..keep) else {
            return Err(io::Error::other("kept input larger than the read buffer"));
        };
        head.copy_from_slice(&self.input);
        let room = s.buf.len() - keep;
        let backlog = std::mem::take(&mut self.backlog);
        let n = if backlog {
            0
        } else if room == 0 {
            return Err(io::Error::other("kept input fills the read buffer"));
        } else {
            loop {
                match self.sock.read(s.buf.get_mut(keep..).unwrap_or_default()) {
                    Ok(0) => {
                        self.read_ready = false;
                        self.on_eof(now);
                        return Ok(());
                    }
                    Ok(n) => break n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        self.read_ready = false;
                        return Ok(());
                    }
                    Err(e) => return Err(e),
                }
            }
        };
        // On Linux a short read from a stream socket empties it: the next bytes raise a new edge.
        // Not so the peer's FIN if it came with them: after a shutdown, read on until EOF.
        if n < room && !self.peer_shut && !backlog {
            self.read_ready = false;
        }
        let len = keep + n;
        self.process_read(Resume { at: 0, len }, now, config, s, app)
    }

    /// Processes the shared buffer's `at.at..at.len`. Stops at a complete message, leaving the
    /// rest there ([`Scratch::resume`]): the application hears it, and queues its answer, before
    /// the bytes behind it are processed, so the answer precedes whatever those make the
    /// connection send (the close that fails it for a bad frame, the reply to a close). Otherwise
    /// writes the output and keeps the unprocessed rest.
    fn process_read(
        &mut self,
        at: Resume,
        now: u64,
        config: &Config,
        s: &mut Scratch,
        app: &mut dyn App,
    ) -> io::Result<()> {
        let len = at.len;
        let Some(buf) = s.buf.get_mut(..len) else {
            return Err(io::Error::other("read past the buffer"));
        };
        let (consumed, message) = self.process(buf, at.at, now, config, &mut s.to_app, app);
        if message {
            s.resume = Some(Resume { at: consumed, len });
            return Ok(());
        }
        // Echoes reference the buffer: write them before the next connection reads into it.
        let written = self.transmit(buf, now);
        if let Stage::Open(d) = &mut self.stage {
            d.release_input(buf);
        }
        written?;
        let rest = buf.get(consumed.min(len)..).unwrap_or_default();
        self.input.clear();
        if rest.is_empty() {
            self.input = ThinVec::new();
        } else {
            self.input.extend_from_slice(rest);
            self.input.shrink_to_fit();
        }
        Ok(())
    }

    /// Processes `buf` from `at` (a request head always from the start); returns how many bytes
    /// are done with and whether it stopped at a message, which went to `to_app` (the loop hands
    /// it over before this connection goes on).
    fn process(
        &mut self,
        buf: &mut [u8],
        at: usize,
        now: u64,
        config: &Config,
        to_app: &mut ToApp,
        app: &mut dyn App,
    ) -> (usize, bool) {
        match &mut self.stage {
            Stage::Handshake { .. } => self.handshake(buf, now, config, to_app, app),
            Stage::Open(d) => {
                let (pos, stop) = receive_until_message(d, buf, at, now, &mut to_app.events);
                self.backlog = stop == Received::Paused && pos < buf.len();
                (pos, stop == Received::Message)
            }
            Stage::Answering { .. } | Stage::Draining { .. } | Stage::Gone { .. } => {
                (buf.len(), false)
            }
        }
    }

    /// Parses the request head; answers 101 (and goes on with the frames behind the head) or
    /// ws-core's error response.
    fn handshake(
        &mut self,
        buf: &mut [u8],
        now: u64,
        config: &Config,
        to_app: &mut ToApp,
        app: &mut dyn App,
    ) -> (usize, bool) {
        let mode = to_app.mode;
        let mut headers = vec![Header::EMPTY; config.head.max_headers];
        let mut parser = RequestParser::new(config.head);
        let accepted = match parser.feed(buf, &mut headers) {
            Ok(Status::Partial) => return (0, false),
            Ok(Status::Complete((req, head_len))) => req.upgrade().and_then(|up| {
                if let Err(answer) = app.admit(&req) {
                    return Ok(Err(answer));
                }
                // Only an application hears it (the echo's connections allocate nothing for it).
                let path: Box<str> = match mode {
                    Mode::Messages => req.path.into(),
                    Mode::Echo => Box::default(),
                };
                let offers = req
                    .headers
                    .iter()
                    .filter(|h| h.name.eq_ignore_ascii_case("sec-websocket-extensions"))
                    .map(|h| h.value);
                crate::upgrade::accept(up.key, None, &[], offers, config)
                    .map(|a| Ok((a, head_len, path)))
                    .ok_or(HandshakeError::HeadTooLarge)
            }),
            Err(e) => Err(e),
        };
        match accepted {
            Ok(Err(answer)) => {
                log::info!("conn={} upgrade refused: {}", self.id(), answer.status);
                self.stage = Stage::Answering {
                    answer: encode_response(&answer, true),
                    sent: 0,
                    deadline: now.saturating_add(REFUSAL_LINGER_MS),
                    id: self.id(),
                };
                (buf.len(), false)
            }
            Ok(Ok((accepted, head_len, path))) => {
                let mut driver =
                    Driver::new(Role::Server, mode, &config.connection(), now, self.id());
                if let Some(params) = accepted.deflate {
                    driver.enable_deflate(params, &config.deflate);
                }
                driver.push_raw(&accepted.response);
                log::info!(
                    "conn={} handshake accepted (event loop) deflate={}",
                    self.id(),
                    accepted.deflate.is_some()
                );
                if mode == Mode::Messages {
                    to_app.events.push(AppEvent::Open(path));
                }
                let (pos, stop) =
                    receive_until_message(&mut driver, buf, head_len, now, &mut to_app.events);
                self.backlog = stop == Received::Paused && pos < buf.len();
                self.stage = Stage::Open(driver);
                (pos, stop == Received::Message)
            }
            Err(e) => {
                log::info!("conn={} handshake refused: {e}", self.id());
                let mut resp = [0u8; 512];
                let n = handshake::write_error_response(e, &mut resp).unwrap_or(0);
                self.stage = Stage::Answering {
                    answer: resp.get(..n).unwrap_or_default().to_vec(),
                    sent: 0,
                    deadline: now.saturating_add(REFUSAL_LINGER_MS),
                    id: self.id(),
                };
                (buf.len(), false)
            }
        }
    }

    /// The peer closed its side.
    fn on_eof(&mut self, now: u64) {
        match &mut self.stage {
            Stage::Open(d) => d.receive_eof(now),
            Stage::Handshake { id, .. } => {
                let why = "closed before completing the request head";
                self.stage = Stage::Gone { why, id: *id }
            }
            Stage::Answering { id, .. } | Stage::Draining { id, .. } => {
                let why = "refusal sent";
                self.stage = Stage::Gone { why, id: *id }
            }
            Stage::Gone { .. } => {}
        }
    }

    /// Writes what the stage has queued until the socket would block. `input`: the buffer the
    /// driver last processed (its echoes may reference it; empty once released).
    fn transmit(&mut self, input: &[u8], now: u64) -> io::Result<()> {
        match &mut self.stage {
            Stage::Open(d) => {
                while d.queued() > 0 {
                    let n = {
                        let mut slices = [IoSlice::new(&[]); MAX_SLICES];
                        let count = d.transmit_slices(input, &mut slices);
                        write_once(&mut self.sock, slices.get(..count).unwrap_or_default())?
                    };
                    if n == 0 {
                        break;
                    }
                    d.transmitted(n, now);
                }
                Ok(())
            }
            Stage::Answering { answer, sent, .. } => {
                while let Some(rest) = answer.get(*sent..).filter(|r| !r.is_empty()) {
                    let n = write_once(&mut self.sock, &[IoSlice::new(rest)])?;
                    if n == 0 {
                        break;
                    }
                    *sent += n;
                }
                Ok(())
            }
            Stage::Handshake { .. } | Stage::Draining { .. } | Stage::Gone { .. } => Ok(()),
        }
    }

    /// After input and output: FIN and the end of the connection where the stage says so.
    fn settle(&mut self, now: u64) -> Outcome {
        match &mut self.stage {
            Stage::Open(d) => {
                if d.wants_fin() {
                    let _ = self.sock.shutdown(Shutdown::Write);
                    d.fin_sent(now);
                }
                if d.is_done() {
                    return Outcome::Remove("done");
                }
                Outcome::Keep
            }
            Stage::Answering {
                answer,
                sent,
                deadline,
                id,
            } if *sent >= answer.len() => {
                let _ = self.sock.shutdown(Shutdown::Write);
                self.stage = Stage::Draining {
                    deadline: *deadline,
                    id: *id,
                };
                Outcome::Keep
            }
            Stage::Gone { why, .. } => Outcome::Remove(why),
            _ => Outcome::Keep,
        }
    }

    /// Runs the deadlines due at `now`.
    pub(super) fn on_timer(&mut self, now: u64) -> Outcome {
        match &mut self.stage {
            Stage::Handshake { deadline, .. } if now >= *deadline => {
                return Outcome::Remove("handshake timeout (dropped)")
            }
            Stage::Answering { deadline, .. } | Stage::Draining { deadline, .. }
                if now >= *deadline =>
            {
                return Outcome::Remove("refusal sent")
            }
            Stage::Open(d) if d.poll_timeout().is_some_and(|at| at <= now) => {
                d.handle_timeout(now);
            }
            _ => return Outcome::Keep,
        }
        if let Err(e) = self.transmit(&[], now) {
            return self.io_error(&e);
        }
        self.settle(now)
    }

    /// Starts the graceful shutdown for this connection: a 1001 close if it is open.
    pub(super) fn on_shutdown(&mut self, now: u64) -> Outcome {
        let Stage::Open(d) = &mut self.stage else {
            return Outcome::Remove("server shutting down");
        };
        d.shutdown(now);
        if let Err(e) = self.transmit(&[], now) {
            return self.io_error(&e);
        }
        self.settle(now)
    }

    fn io_error(&mut self, e: &io::Error) -> Outcome {
        if let Stage::Open(d) = &mut self.stage {
            d.transport_error(e);
        } else {
            log::debug!("conn={} transport error: {e}", self.id());
        }
        Outcome::Remove("transport error")
    }
}

/// Why [`receive_until_message`] stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Received {
    /// The driver needs more input.
    NeedInput,
    /// A complete message went to the application's events.
    Message,
    /// The driver paused for another reason (a full queue, its event budget).
    Paused,
}

/// [`Driver::receive`] from `pos` until the driver needs input or pauses; a complete message goes
/// to `events` and ends the call (the application must hear it before the bytes behind it are
/// processed: it may answer, and its answer goes before any reaction to those bytes).
fn receive_until_message(
    d: &mut Driver,
    buf: &mut [u8],
    pos: usize,
    now: u64,
    events: &mut Vec<AppEvent>,
) -> (usize, Received) {
    let (pos, stop) = d.receive(buf, pos, now);
    if let Some(msg) = d.take_message() {
        events.push(AppEvent::Message(msg));
        return (pos, Received::Message);
    }
    match stop {
        Stop::NeedInput => (pos, Received::NeedInput),
        Stop::Paused => (pos, Received::Paused),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_idle_connection_is_at_most_a_quarter_kibibyte() {
        // What an idle connection costs the loop besides its slab slot and the kernel's socket:
        // 232 bytes in a release build (the driver 216, the kept input 8, socket and flags 8);
        // the idle benchmark before the driver measured 0.25 KiB per connection in all.
        // In a debug build mio's socket carries a selector id for its checks: 16 bytes more.
        let limit = if cfg!(debug_assertions) {
            232 + 16
        } else {
            232
        };
        let size = std::mem::size_of::<super::Peer>();
        eprintln!("size_of::<Peer>() = {size}");
        assert!(size <= limit, "{size}");
    }
}

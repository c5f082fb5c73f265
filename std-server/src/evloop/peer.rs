//! One connection of the event loop: its socket, its ws-core state and the few bytes it keeps
//! between reads (a partial head or frame, output the socket did not take, a message being
//! reassembled). Everything else lives in the loop's [`Scratch`], shared by all connections.

mod input;

use super::batch::write_parts;
use super::scratch::Scratch;
use crate::config::Config;
use crate::frame_plan::Passthrough;
use mio::net::TcpStream;
use std::io::{self, Read};
use std::net::Shutdown;
use std::time::{Duration, Instant};
use ws_core::connection::MIN_OUTPUT;
use ws_core::{CloseCode, Connection, State, TimerEvent};

/// "No deadline".
pub(super) const NEVER: u64 = u64::MAX;

/// Time allowed for a refusal (HTTP error or 503) to be written and the client to go, in ms.
const REFUSAL_LINGER_MS: u64 = 1000;

/// Reads one readiness event may do before the connection lets the others run.
const READS_PER_TURN: usize = 16;

/// How long one turn may last before the connection lets the others run (checked after each
/// read; a read of small frames filling the whole buffer takes longer than this in a debug
/// build, so time and not only the count bounds a turn).
const TURN: Duration = Duration::from_micros(500);

/// Where the connection stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Reading the request head (until `deadline`).
    Handshake,
    /// Upgraded: frames flow (the close handshake is tracked by ws-core).
    Open,
    /// An HTTP answer (error or 503) is queued: write it, send FIN, discard input until EOF or
    /// `deadline`.
    Refused,
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
    core: Connection,
    phase: Phase,
    passthrough: Passthrough,
    /// Unprocessed input: part of a request head or of a frame (empty between messages).
    input: Vec<u8>,
    /// Output the socket has not taken yet, from `sent` on.
    pending: Vec<u8>,
    sent: usize,
    /// The message being reassembled (fragmented, or text larger than the read buffer).
    assembly: Vec<u8>,
    assembling: bool,
    /// Bytes of the current frame not yet given to the core (0: at a frame boundary).
    frame_left: u64,
    /// Whether `frame_left` is tracked (given up once a header fails or the close began).
    track: bool,
    /// The socket may hold unread bytes (an edge was seen and not read to the end).
    read_ready: bool,
    /// `input` holds whole frames left unprocessed while reading was paused.
    backlog: bool,
    /// The peer closed its side (EOF read).
    eof: bool,
    /// The poller said the peer shut its side down: read until EOF even after a short read.
    peer_shut: bool,
    /// We failed the connection: send FIN once our close frame is out.
    failed: bool,
    /// The peer missed a pong: drop the transport once our 1011 is out.
    drop_when_flushed: bool,
    /// Our write side is shut down (FIN sent).
    write_shut: bool,
    /// Handshake, refusal or lingering deadline (ms), or [`NEVER`].
    deadline: u64,
    id: u64,
}

impl Peer {
    /// A freshly accepted connection that must send its request head by `deadline`.
    pub(super) fn new(sock: TcpStream, id: u64, deadline: u64) -> Self {
        Self {
            sock,
            core: Connection::server(ws_core::Limits::DEFAULT, Default::default(), 0),
            phase: Phase::Handshake,
            passthrough: Passthrough::Off,
            input: Vec::new(),
            pending: Vec::new(),
            sent: 0,
            assembly: Vec::new(),
            assembling: false,
            frame_left: 0,
            track: true,
            read_ready: false,
            backlog: false,
            eof: false,
            peer_shut: false,
            failed: false,
            drop_when_flushed: false,
            write_shut: false,
            deadline,
            id,
        }
    }

    /// A connection past the connection limit: answer 503 and let it go.
    pub(super) fn busy(sock: TcpStream, id: u64, now: u64, scratch: &mut Scratch) -> Self {
        let mut peer = Self::new(sock, id, now.saturating_add(REFUSAL_LINGER_MS));
        peer.phase = Phase::Refused;
        let body = "Service Unavailable: too many connections";
        scratch.out.push(
            format!(
                "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\n\
                 Content-Length: {}\r\nRetry-After: 1\r\nConnection: close\r\n\r\n{body}",
                body.len()
            )
            .as_bytes(),
        );
        peer
    }

    /// The socket, for (de)registration.
    pub(super) fn socket(&mut self) -> &mut TcpStream {
        &mut self.sock
    }

    /// The connection id (for logs).
    pub(super) fn id(&self) -> u64 {
        self.id
    }

    /// Whether the connection is upgraded and open (it gets a 1001 on shutdown).
    pub(super) fn is_open(&self) -> bool {
        self.phase == Phase::Open && self.core.state() == State::Open
    }

    /// When [`Peer::on_timer`] wants to run (ms), or [`NEVER`].
    pub(super) fn next_deadline(&self) -> u64 {
        match self.phase {
            Phase::Open => self.deadline.min(self.core.poll_timeout().unwrap_or(NEVER)),
            Phase::Handshake | Phase::Refused => self.deadline,
        }
    }

    /// Handles a readiness event.
    /// `readable`: the socket has input; `read_closed`: the peer shut down its side (EOF waits
    /// behind the input).
    pub(super) fn on_ready(
        &mut self,
        readable: bool,
        read_closed: bool,
        now: u64,
        config: &Config,
        scratch: &mut Scratch,
    ) -> Outcome {
        if readable || read_closed {
            self.read_ready = true;
        }
        self.peer_shut |= read_closed;
        // The turn's clock starts at its second read (most events need one short read, and a
        // clock read per event showed in the round-trip profile).
        let mut started = None;
        // Output first: queued bytes may be what kept reading paused.
        if let Err(e) = self.transmit(scratch, &[]) {
            return self.io_error(&e);
        }
        let mut reads = 0;
        while (self.read_ready || self.backlog) && !self.eof && !self.reading_paused(config) {
            if reads == READS_PER_TURN
                || (reads > 0 && started.get_or_insert_with(Instant::now).elapsed() >= TURN)
            {
                return Outcome::Again;
            }
            reads += 1;
            if let Err(e) = self.read_and_process(now, config, scratch) {
                return self.io_error(&e);
            }
            if let Err(e) = self.transmit(scratch, &[]) {
                return self.io_error(&e);
            }
            if let Outcome::Remove(why) = self.settle(now, config) {
                return Outcome::Remove(why);
            }
        }
        self.settle(now, config)
    }

    /// Reads once into the shared buffer, after the bytes kept from last time (only those when
    /// they are a backlog), and processes what is there.
    fn read_and_process(&mut self, now: u64, config: &Config, s: &mut Scratch) -> io::Result<()> {
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
                        self.eof = true;
                        self.deadline = self.deadline.min(now.saturating_add(close_ms(config)));
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
        let consumed = self.process(len, now, config, s)?;
        let rest = s.buf.get(consumed.min(len)..len).unwrap_or_default();
        self.input.clear();
        if rest.is_empty() {
            self.input = Vec::new();
        } else {
            self.input.extend_from_slice(rest);
            self.input.shrink_to_fit();
        }
        Ok(())
    }

    /// Writes the batch in `s.out`, then `extra`, after any output still queued; what the socket
    /// does not take is copied to the queue. The batch is emptied.
    fn transmit(&mut self, s: &mut Scratch, extra: &[u8]) -> io::Result<()> {
        if self.queued() == 0 && extra.is_empty() {
            if let Some(bytes) = s.out.single() {
                // The common case (small echoes, replies): one contiguous piece.
                let n = write_parts(&mut self.sock, &[bytes])?;
                self.keep_unsent(&[bytes], n);
                s.out.clear();
                return Ok(());
            }
        }
        let mut parts: Vec<&[u8]> = s.out.parts(&s.buf).collect();
        parts.push(extra);
        if self.queued() > 0 {
            for p in &parts {
                self.pending.extend_from_slice(p);
            }
            s.out.clear();
            let queued = self.pending.get(self.sent..).unwrap_or_default();
            let n = write_parts(&mut self.sock, &[queued])?;
            self.sent += n;
            if self.sent == self.pending.len() {
                self.pending = Vec::new();
                self.sent = 0;
            } else if self.sent > self.pending.len() / 2 {
                self.pending.drain(..self.sent);
                self.sent = 0;
            }
            return Ok(());
        }
        let n = write_parts(&mut self.sock, &parts)?;
        self.keep_unsent(&parts, n);
        s.out.clear();
        Ok(())
    }

    /// Queues what the socket did not take of `parts` (the first `written` bytes went out);
    /// only called with nothing queued.
    fn keep_unsent(&mut self, parts: &[&[u8]], mut written: usize) {
        for p in parts {
            let skip = written.min(p.len());
            self.pending
                .extend_from_slice(p.get(skip..).unwrap_or_default());
            written -= skip;
        }
    }

    /// Output queued and not yet taken by the socket.
    fn queued(&self) -> usize {
        self.pending.len() - self.sent
    }

    /// Whether reading waits for the output to drain (backpressure). Not while a frame is passed
    /// through: a peer may write the whole frame before it reads (a blocking client does), so the
    /// rest of the frame is taken and queued, bounded by the frame size limit.
    fn reading_paused(&self, config: &Config) -> bool {
        self.queued() >= config.max_outbound_bytes.max(1) && self.passthrough == Passthrough::Off
    }

    /// After input and output: ends the connection where the protocol says so.
    fn settle(&mut self, now: u64, config: &Config) -> Outcome {
        let flushed = self.queued() == 0;
        if self.eof && (flushed || self.phase != Phase::Open) {
            return Outcome::Remove(self.on_eof());
        }
        match self.phase {
            Phase::Handshake => Outcome::Keep,
            Phase::Refused => {
                if flushed && !self.write_shut {
                    self.shut_write();
                }
                Outcome::Keep
            }
            Phase::Open => {
                if self.drop_when_flushed && flushed {
                    return Outcome::Remove("pong overdue: closed 1011");
                }
                match self.core.state() {
                    // The server closes TCP first (RFC 6455 §7.1.1).
                    State::Closed if flushed => {
                        self.shut_write();
                        Outcome::Remove("close handshake done")
                    }
                    State::Closed => {
                        if self.deadline == NEVER {
                            self.deadline = now.saturating_add(close_ms(config));
                        }
                        Outcome::Keep
                    }
                    _ if self.failed && flushed && !self.write_shut => {
                        // Our close is out: FIN now, and read on until the peer's EOF so unread
                        // input does not turn the close into a reset.
                        self.shut_write();
                        self.deadline = now.saturating_add(close_ms(config));
                        Outcome::Keep
                    }
                    _ => Outcome::Keep,
                }
            }
        }
    }

    /// Why the connection ends after the peer closed its side (EOF).
    fn on_eof(&self) -> &'static str {
        match (self.phase, self.core.state()) {
            (Phase::Open, State::Open) => "transport closed without a close frame (1006)",
            (Phase::Handshake, _) => "closed before completing the request head",
            _ => "peer closed",
        }
    }

    /// Runs the deadlines due at `now`.
    pub(super) fn on_timer(&mut self, now: u64, config: &Config, scratch: &mut Scratch) -> Outcome {
        if now >= self.deadline {
            return Outcome::Remove(match self.phase {
                Phase::Handshake => "handshake timeout (dropped)",
                Phase::Refused => "refusal sent",
                Phase::Open => "close timeout",
            });
        }
        if self.phase != Phase::Open || self.core.poll_timeout().is_none_or(|at| at > now) {
            return Outcome::Keep;
        }
        if self.passthrough != Passthrough::Off {
            // A control frame cannot go out in the middle of the echo's payload.
            return Outcome::Remove("stalled in the middle of a frame");
        }
        let mut frame = [0u8; MIN_OUTPUT];
        let t = self.core.handle_timeout(now, &mut frame);
        if t.written > 0 {
            scratch.out.push(frame.get(..t.written).unwrap_or_default());
        }
        match t.event {
            None | Some(TimerEvent::Ping) => {}
            Some(TimerEvent::PongOverdue) => {
                log::info!("conn={} pong overdue -> close 1011", self.id);
                self.drop_when_flushed = true;
            }
            Some(TimerEvent::DropTransport) => return Outcome::Remove("close timeout"),
        }
        if let Err(e) = self.transmit(scratch, &[]) {
            return self.io_error(&e);
        }
        self.settle(now, config)
    }

    /// Starts the graceful shutdown for this connection: a 1001 close if it is open.
    pub(super) fn on_shutdown(
        &mut self,
        now: u64,
        config: &Config,
        scratch: &mut Scratch,
    ) -> Outcome {
        if self.phase != Phase::Open {
            return Outcome::Remove("server shutting down");
        }
        if self.passthrough != Passthrough::Off {
            return Outcome::Remove("server shutting down in the middle of a frame");
        }
        if self.core.state() == State::Open {
            let mut frame = [0u8; MIN_OUTPUT];
            if let Ok(n) = self.core.send_close(
                Some(CloseCode::GOING_AWAY),
                "server shutting down",
                now,
                &mut frame,
            ) {
                scratch.out.push(frame.get(..n).unwrap_or_default());
            }
        }
        if let Err(e) = self.transmit(scratch, &[]) {
            return self.io_error(&e);
        }
        self.settle(now, config)
    }

    fn shut_write(&mut self) {
        if !self.write_shut {
            self.write_shut = true;
            let _ = self.sock.shutdown(Shutdown::Write);
        }
    }

    fn io_error(&self, e: &io::Error) -> Outcome {
        log::debug!("conn={} transport error: {e}", self.id);
        Outcome::Remove("transport error")
    }
}

/// The close timeout in ms (0 = the core's "disabled": wait a second rather than forever).
fn close_ms(config: &Config) -> u64 {
    config.timers().close_timeout.unwrap_or(1000)
}

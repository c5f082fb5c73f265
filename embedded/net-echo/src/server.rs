//! The echo server on smoltcp sockets: one [`Slot`] per TCP socket, each an enum of phases.
//!
//! WebSocket slots run ws-core's handshake, then echo every data chunk as soon as ws-core has
//! unmasked (and for text, validated) it: each chunk goes back as one frame, so a message of any
//! size passes through the socket buffers without ever being held whole (fragmentation is
//! re-cut, which RFC 6455 §5.4 allows an echo). Received bytes are copied into the shared scratch
//! buffer only as far as the socket's send buffer has room for their echo, so nothing waits in
//! between: what was not taken stays in smoltcp's receive buffer (and shrinks the TCP window).
//! Refusing slots (taken by smoltcp only when every WebSocket slot is busy) answer 503.

use smoltcp::socket::tcp::{Socket, State as TcpState};
use ws_core::connection::{MIN_INPUT, MIN_OUTPUT};
use ws_core::frame::MAX_HEADER_LEN;
use ws_core::handshake::{
    write_accept_response, write_error_response, Accept, Header, RequestParser, Status,
};
use ws_core::limits::HeadLimits;
use ws_core::{Connection, Event, Limits, Role, State, Timeout, Timers};

use crate::budget::{
    CLOSE_TIMEOUT_MS, HANDSHAKE_TIMEOUT_MS, IDLE_PING_MS, LINGER_MS, MAX_HEAD, MAX_HEADERS,
    PONG_TIMEOUT_MS,
};

/// What a slot serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// WebSocket echo.
    WebSocket,
    /// 503 and close.
    Refuse,
}

/// Where a slot's connection stands.
pub enum Phase {
    /// The socket listens (or is completing the TCP handshake).
    Listening,
    /// Reading the request head since `since`.
    Handshake {
        /// ws-core's push parser (remembers how far it scanned).
        parser: RequestParser,
        /// When the connection opened.
        since: u64,
    },
    /// WebSocket frames flow.
    Open(Connection),
    /// Our FIN is queued (after the last bytes); waiting for the peer to close its side.
    Closing {
        /// When the FIN was queued.
        since: u64,
    },
}

/// One TCP socket and its phase.
pub struct Slot {
    /// The socket's handle in smoltcp's set.
    pub handle: smoltcp::iface::SocketHandle,
    /// What the slot serves.
    pub kind: Kind,
    /// Where its connection stands.
    pub phase: Phase,
}

/// The answer past the WebSocket slots. (ws-core writes error responses for handshake errors
/// only; "server busy" is the server's own.)
const BUSY: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n\
Content-Length: 37\r\nRetry-After: 1\r\nConnection: close\r\n\r\nEvery WebSocket connection is in use.\n";

/// The limits a connection runs with: ws-core's defaults (the echo streams, so no message is ever
/// held; they bound what a peer may announce).
const LIMITS: Limits = Limits::DEFAULT;

/// Keep-alive and close timers in SysTick milliseconds.
const TIMERS: Timers = Timers {
    idle_ping: Some(IDLE_PING_MS),
    pong_timeout: Some(PONG_TIMEOUT_MS),
    close_timeout: Some(CLOSE_TIMEOUT_MS),
};

/// Room the send buffer must have before more input is taken: a whole control frame's reply, or
/// a frame header plus at least one control frame's worth of echoed payload.
const MIN_ROOM: usize = MAX_HEADER_LEN + MIN_INPUT;
const _: () = assert!(MIN_ROOM >= MIN_OUTPUT);

/// Free space in the socket's send buffer.
fn room(socket: &Socket) -> usize {
    socket.send_capacity() - socket.send_queue()
}

/// Queues `bytes` whole (the caller checked the room).
fn send(socket: &mut Socket, bytes: &[u8]) {
    let _ = socket.send_slice(bytes);
}

/// Drops `n` received bytes.
fn discard(socket: &mut Socket, mut n: usize) {
    while n > 0 {
        match socket.recv(|b| {
            let k = b.len().min(n);
            (k, k)
        }) {
            Ok(0) | Err(_) => break,
            Ok(k) => n -= k,
        }
    }
}

/// Queues the FIN after what is queued and moves to Closing.
fn close(socket: &mut Socket, now: u64) -> Phase {
    socket.close();
    Phase::Closing { since: now }
}

impl Slot {
    /// Serves the slot at `now`; true when it did something (the main loop then polls again
    /// instead of sleeping).
    pub fn service(&mut self, socket: &mut Socket, scratch: &mut [u8], now: u64) -> bool {
        if !socket.is_open() {
            // Closed, reset or in TIME-WAIT: listen again (the port is the same for every slot).
            let fresh = matches!(self.phase, Phase::Listening);
            let _ = socket.listen(crate::budget::PORT);
            self.phase = Phase::Listening;
            return !fresh;
        }
        let phase = core::mem::replace(&mut self.phase, Phase::Listening);
        let (phase, progress) = match phase {
            Phase::Listening => self.accept(socket, now),
            Phase::Handshake { parser, since } => handshake(socket, scratch, parser, since, now),
            Phase::Open(conn) => echo(socket, scratch, conn, now),
            Phase::Closing { since } => {
                let pending = socket.recv_queue();
                discard(socket, pending);
                if now.saturating_sub(since) > LINGER_MS {
                    socket.abort();
                }
                (Phase::Closing { since }, pending > 0)
            }
        };
        self.phase = phase;
        progress
    }

    /// A listening socket: once the TCP handshake is done, start the slot's work.
    fn accept(&self, socket: &mut Socket, now: u64) -> (Phase, bool) {
        if !matches!(socket.state(), TcpState::Established | TcpState::CloseWait) {
            return (Phase::Listening, false);
        }
        match self.kind {
            Kind::WebSocket => (
                Phase::Handshake {
                    parser: RequestParser::new(HeadLimits {
                        max_head_bytes: MAX_HEAD,
                        max_headers: MAX_HEADERS,
                    }),
                    since: now,
                },
                true,
            ),
            Kind::Refuse => {
                send(socket, BUSY);
                (close(socket, now), true)
            }
        }
    }
}

/// Reads the request head; answers 101 (then echoes) or the error response (then closes).
fn handshake(
    socket: &mut Socket,
    scratch: &mut [u8],
    mut parser: RequestParser,
    since: u64,
    now: u64,
) -> (Phase, bool) {
    let available = socket.recv_queue().min(scratch.len()).min(MAX_HEAD);
    let Ok(n) = socket.peek_slice(&mut scratch[..available]) else {
        return (close(socket, now), true);
    };
    let mut headers = [Header::EMPTY; MAX_HEADERS];
    let mut out = [0u8; 768];
    let result = parser.feed(&scratch[..n], &mut headers);
    let (written, consumed, upgraded) = match result {
        Ok(Status::Partial) => {
            let stuck = !socket.may_recv() || now.saturating_sub(since) > HANDSHAKE_TIMEOUT_MS;
            if n >= MAX_HEAD || n == socket.recv_capacity() {
                let len = write_error_response(ws_core::HandshakeError::HeadTooLarge, &mut out);
                (len.unwrap_or(0), n, false)
            } else if stuck {
                return (close(socket, now), true);
            } else {
                return (Phase::Handshake { parser, since }, false);
            }
        }
        Ok(Status::Complete((request, len))) => match request.upgrade() {
            Ok(upgrade) => match write_accept_response(upgrade.key, &Accept::default(), &mut out) {
                Ok(w) => (w, len, true),
                Err(_) => (0, len, false),
            },
            Err(_)
                if request.method == "GET" && request.path == "/ram" && !request.is_upgrade() =>
            {
                (crate::report::ram_response(&mut out, now), len, false)
            }
            Err(e) => (write_error_response(e, &mut out).unwrap_or(0), len, false),
        },
        Err(e) => (write_error_response(e, &mut out).unwrap_or(0), n, false),
    };
    discard(socket, consumed);
    send(socket, &out[..written]);
    if !upgraded {
        return (close(socket, now), true);
    }
    let conn = Connection::new(Role::Server, LIMITS, TIMERS, now);
    let (phase, _) = echo(socket, scratch, conn, now);
    (phase, true)
}

/// Echoes what the send buffer has room for, answers control frames, runs the timers.
fn echo(socket: &mut Socket, scratch: &mut [u8], mut conn: Connection, now: u64) -> (Phase, bool) {
    let mut progress = false;
    let mut out = [0u8; MIN_OUTPUT];
    loop {
        if conn.state() == State::Closed {
            return (close(socket, now), true);
        }
        let room = room(socket);
        let pending = socket.recv_queue();
        if pending == 0 || room < MIN_ROOM || !socket.may_send() {
            break;
        }
        let take = pending.min(scratch.len()).min(room - MAX_HEADER_LEN);
        let Ok(n) = socket.peek_slice(&mut scratch[..take]) else {
            break;
        };
        let Ok(got) = conn.receive(&mut scratch[..n], &mut out, now, [0; 4]) else {
            break; // cannot happen: `out` holds MIN_OUTPUT bytes
        };
        let consumed = got.consumed;
        send(socket, &out[..got.written]);
        if let Some(Event::Data { kind, payload, end }) = got.event {
            if !payload.is_empty() || end {
                let mut head = [0u8; MAX_HEADER_LEN];
                if let Ok(h) =
                    conn.send_data_header(kind, payload.len() as u64, end, [0; 4], &mut head)
                {
                    send(socket, &head[..h]);
                    send(socket, payload);
                }
            }
        }
        let failed = matches!(got.event, Some(Event::Failed(_)));
        discard(socket, consumed);
        if failed {
            // RFC 6455 §7.1.7: having failed the connection, a server closes TCP once its close
            // frame is out (the FIN follows it); what the peer still sends is dropped.
            return (close(socket, now), true);
        }
        if consumed == 0 && got.written == 0 {
            break; // a frame is incomplete: wait for more bytes
        }
        progress = true;
    }
    if let Some(at) = conn.poll_timeout() {
        if now >= at && room(socket) >= MIN_OUTPUT {
            match conn.handle_timeout(now, [0; 4], &mut out) {
                Ok(Timeout::Ping(n) | Timeout::PongOverdue(n)) => send(socket, &out[..n]),
                Ok(Timeout::DropTransport) => {
                    socket.abort();
                    return (Phase::Closing { since: now }, true);
                }
                Ok(Timeout::Nothing) | Err(_) => {}
            }
            progress = true;
        }
    }
    if conn.state() == State::Closed {
        return (close(socket, now), true);
    }
    if !socket.may_recv() && socket.recv_queue() == 0 {
        // The peer closed TCP without a close frame.
        return (close(socket, now), true);
    }
    (Phase::Open(conn), progress)
}

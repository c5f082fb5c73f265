//! `connection_server` and `connection_client`: a whole connection, after a valid opening
//! handshake, driven by a fuzzer-chosen script of peer frames (valid or not), raw bytes, delivery
//! chunk sizes, sends and clock ticks.
//!
//! Checked on every step: no panic and no hang (receive calls are bounded, and a call that
//! yields an event without consuming is allowed only a few times in a row); `consumed <=
//! input.len()`; every reply fits the `[u8; MIN_OUTPUT]` that `receive` and `handle_timeout`
//! take; every byte the core writes is exactly one frame that parses as a valid frame of the
//! right role and, in the client role, carries a key freshly drawn from the connection's key
//! source (none in the server role); replies match their events (a pong echoes
//! the ping, a failure writes a close with the error's code, a close is echoed once); no data
//! frame and no second close follow a close; data sends fail with `Closing` exactly when a close
//! has been written; events other than the peer's close come only in the Open state; text is
//! valid UTF-8 at every message end. At the end: the data delivered and its message ends are a
//! prefix of what the script's frames carried (equal when the connection is still open), and
//! everything the core wrote, fed to a connection of the other role, is accepted and yields
//! exactly the messages sent.

use crate::handshake;
use crate::input::Input;
use crate::wire::WireFrame;
use std::cell::Cell;
use std::rc::Rc;
use ws_core::connection::MIN_OUTPUT;
use ws_core::frame::{apply_mask, MAX_HEADER_LEN};
use ws_core::{
    BufferTooSmall, CloseCode, Connection, Endpoint, Event, FrameHeader, Limits, MaskKeys,
    MessageKind, OpCode, ProtocolError, Role, SendError, State, TimerEvent, Timers,
};

/// Whether `WS_FUZZ_TRACE` is set: then every event and write is printed (to read a crash).
fn tracing() -> bool {
    static TRACE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *TRACE.get_or_init(|| std::env::var_os("WS_FUZZ_TRACE").is_some())
}

/// Most script operations read from one input.
const MAX_OPS: usize = 512;

/// Runs the script in `data` against a server connection (the peer masks its frames).
pub fn connection_server(data: &[u8]) {
    run(data, |limits, timers| {
        (Connection::server(limits, timers, 0), Drawn::default())
    });
}

/// Runs the script in `data` against a client connection (the peer does not mask).
pub fn connection_client(data: &[u8]) {
    run(data, |limits, timers| {
        let drawn = Drawn::default();
        let keys = Keys {
            rng: 0x9E37_79B9,
            drawn: drawn.clone(),
        };
        (Connection::client(limits, timers, 0, keys), drawn)
    });
}

/// The last mask key the client connection drew, taken by the harness after every write.
type Drawn = Rc<Cell<Option<[u8; 4]>>>;

/// The client's key source (xorshift: a stand-in for a real RNG) that records each key it gives.
struct Keys {
    rng: u32,
    drawn: Drawn,
}

impl MaskKeys for Keys {
    fn next_key(&mut self) -> [u8; 4] {
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 17;
        self.rng ^= self.rng << 5;
        let key = self.rng.to_be_bytes();
        self.drawn.set(Some(key));
        key
    }
}

/// One `receive` step of a peer connection over the bytes left: `None` once it is closed or needs
/// more input, else the event (if any); consumed bytes are drained.
type PeerStep = Box<dyn FnMut(&mut Vec<u8>) -> Option<Option<Ev>>>;

/// A connection of `role` (the other role than the harness's), to replay what the core wrote.
fn peer_of(role: Role, limits: Limits, deflate: bool) -> PeerStep {
    fn step<E: Endpoint + 'static>(mut peer: Connection<E>, deflate: bool) -> PeerStep {
        peer.set_deflate(deflate);
        let mut out = [0u8; MIN_OUTPUT];
        Box::new(move |rest: &mut Vec<u8>| {
            if peer.state() == State::Closed {
                return None;
            }
            let r = peer.receive(rest, &mut out, 0);
            let (consumed, event) = (r.consumed, r.event.map(Ev::from));
            rest.drain(..consumed);
            (consumed > 0 || event.is_some()).then_some(event)
        })
    }
    match role {
        Role::Server => step(Connection::server(limits, Timers::default(), 0), deflate),
        Role::Client => step(
            Connection::client(limits, Timers::default(), 0, || [1, 2, 3, 4]),
            deflate,
        ),
    }
}

/// Input: a configuration byte (bits 0-2 shrink the frame, message and fragment limits to 200
/// bytes, 1000 bytes and 4 fragments; bits 3-5 enable the idle-ping, pong and close timers; bit 6
/// activates permessage-deflate framing: RSV1 on a message's first frame, compressed sends),
/// then operations, each a tag byte (modulo 16): 0-5 a peer frame ([`WireFrame::read`]), 6 raw
/// bytes (length byte, bytes), 7-9 deliver (a byte: bits 0-6 + 1 bytes; bit 7 skips one byte,
/// once an output size, kept so the corpus keeps its meaning), 10-11 send data, 12 send ping or pong, 13 send close, 14 advance the clock (u16)
/// and run the timers, 15 deliver everything. Whatever is still undelivered at the end is
/// delivered.
fn run<E: Endpoint>(data: &[u8], new: impl FnOnce(Limits, Timers) -> (Connection<E>, Drawn)) {
    let role = E::ROLE;
    let mut input = Input::new(data);
    let cfg = input.u8();
    let limits = Limits {
        max_frame_payload: if cfg & 1 != 0 {
            200
        } else {
            Limits::DEFAULT.max_frame_payload
        },
        max_message_size: if cfg & 2 != 0 {
            1000
        } else {
            Limits::DEFAULT.max_message_size
        },
        max_fragments: if cfg & 4 != 0 {
            4
        } else {
            Limits::DEFAULT.max_fragments
        },
    };
    let timers = Timers {
        idle_ping: (cfg & 8 != 0).then_some(1000),
        pong_timeout: (cfg & 16 != 0).then_some(500),
        close_timeout: (cfg & 32 != 0).then_some(2000),
    };
    handshake::open(role);
    let (conn, drawn) = new(limits, timers);
    let mut h = Harness::new(conn, drawn, cfg & 0x40 != 0);
    for _ in 0..MAX_OPS {
        if input.is_empty() {
            break;
        }
        match input.u8() % 16 {
            0..=5 => h.peer_frame(WireFrame::read(&mut input, role == Role::Server)),
            6 => {
                let n = usize::from(input.u8());
                h.peer_raw(input.bytes(n));
            }
            7..=9 => {
                let d = input.u8();
                if d & 0x80 != 0 {
                    // Was an output size; receive's output is now `[u8; MIN_OUTPUT]` by type.
                    input.u8();
                }
                h.deliver(usize::from(d & 0x7F) + 1);
            }
            10 | 11 => h.send_data(&mut input),
            12 => h.send_control(&mut input),
            13 => h.send_close(&mut input),
            14 => h.tick(u64::from(input.u16())),
            _ => h.deliver(usize::MAX),
        }
    }
    h.deliver(usize::MAX);
    h.finish();
}

/// An event, copied out of the input buffer.
#[derive(Debug)]
enum Ev {
    Data {
        kind: MessageKind,
        payload: Vec<u8>,
        end: bool,
        compressed: bool,
    },
    Ping(Vec<u8>),
    Pong,
    Close {
        code: Option<CloseCode>,
    },
    Failed(ProtocolError),
}

impl From<Event<'_>> for Ev {
    fn from(e: Event<'_>) -> Self {
        match e {
            Event::Data {
                kind,
                payload,
                end,
                compressed,
            } => Ev::Data {
                kind,
                payload: payload.to_vec(),
                end,
                compressed,
            },
            Event::Ping(p) => Ev::Ping(p.to_vec()),
            Event::Pong(_) => Ev::Pong,
            Event::Close { code, reason: _ } => Ev::Close { code },
            Event::Failed(e) => Ev::Failed(e),
        }
    }
}

/// Data payload bytes in order, and the offsets at which messages end.
#[derive(Debug, Default, PartialEq, Eq)]
struct DataLog {
    data: Vec<u8>,
    ends: Vec<usize>,
}

impl DataLog {
    fn push(&mut self, payload: &[u8], end: bool) {
        self.data.extend_from_slice(payload);
        if end {
            self.ends.push(self.data.len());
        }
    }
}

/// A data message as sent or received: its bytes on the wire (compressed ones stay compressed).
#[derive(Debug, PartialEq, Eq)]
struct Message {
    kind: MessageKind,
    compressed: bool,
    bytes: Vec<u8>,
}

/// A frame the core wrote, decoded.
type Written = (OpCode, Vec<u8>);

struct Harness<E: Endpoint> {
    role: Role,
    conn: Connection<E>,
    /// The key the connection last drew (client role).
    drawn: Drawn,
    now: u64,
    /// Peer bytes not delivered yet.
    pending: Vec<u8>,
    /// Delivered bytes the core has not consumed.
    buf: Vec<u8>,
    /// Every byte the core wrote (plus the payloads after `send_data_header`).
    outbound: Vec<u8>,
    /// A close frame is in `outbound`.
    close_out: bool,
    failed: bool,
    in_msg: Option<(MessageKind, Vec<u8>)>,
    delivered: DataLog,
    /// The payloads of the peer's data frames, in order; `None` once raw bytes were sent.
    expected: Option<DataLog>,
    /// Messages we sent; the last is unfinished while `out_kind` is set.
    sent: Vec<Message>,
    out_kind: Option<MessageKind>,
    /// The message being sent is compressed (RSV1 on its first frame).
    out_compressed: bool,
    /// permessage-deflate is active on both ends.
    deflate: bool,
    /// RSV1 of the last frame checked by [`Harness::written`].
    last_rsv1: bool,
    /// The incoming message in progress is compressed (its first chunk said so).
    in_compressed: Option<bool>,
    receive_calls: usize,
}

impl<E: Endpoint> Harness<E> {
    fn new(mut conn: Connection<E>, drawn: Drawn, deflate: bool) -> Self {
        let role = E::ROLE;
        conn.set_deflate(deflate);
        assert_eq!((conn.role(), conn.state()), (role, State::Open));
        Self {
            role,
            conn,
            drawn,
            now: 0,
            pending: Vec::new(),
            buf: Vec::new(),
            outbound: Vec::new(),
            close_out: false,
            failed: false,
            in_msg: None,
            delivered: DataLog::default(),
            expected: Some(DataLog::default()),
            sent: Vec::new(),
            out_kind: None,
            out_compressed: false,
            deflate,
            last_rsv1: false,
            in_compressed: None,
            receive_calls: 0,
        }
    }

    fn peer_role(&self) -> Role {
        match self.role {
            Role::Server => Role::Client,
            Role::Client => Role::Server,
        }
    }

    /// The key the connection drew for the frame it just wrote (`None` for a server), consumed:
    /// a second frame without a fresh draw fails the mask check.
    fn mask(&mut self) -> Option<[u8; 4]> {
        self.drawn.take()
    }

    fn peer_frame(&mut self, frame: WireFrame) {
        if let (Some(expected), true) = (&mut self.expected, frame.is_data()) {
            expected.push(&frame.payload, frame.fin);
        }
        frame.encode(&mut self.pending);
    }

    fn peer_raw(&mut self, bytes: &[u8]) {
        self.expected = None;
        self.pending.extend_from_slice(bytes);
    }

    /// Checks that `bytes` is exactly one valid frame for the peer, masked with a freshly drawn
    /// key in the client role, that no data frame or second close follows a close, and records it.
    fn written(&mut self, bytes: &[u8]) -> Written {
        let mask = self.mask();
        let (h, n) = match FrameHeader::parse(bytes, self.peer_role()) {
            Ok(Some(parsed)) => parsed,
            other => panic!("written bytes {bytes:02x?} are not a frame for the peer: {other:?}"),
        };
        assert_eq!(
            n as u64 + h.payload_len,
            bytes.len() as u64,
            "not exactly one frame: {h:?}"
        );
        let data = matches!(h.opcode, OpCode::Text | OpCode::Binary);
        let rsv_ok = !h.rsv2 && !h.rsv3 && (!h.rsv1 || (self.deflate && data));
        assert!(rsv_ok, "RSV bits not allowed here: {h:?}");
        self.last_rsv1 = h.rsv1;
        assert_eq!(
            mask.is_some(),
            self.role == Role::Client,
            "a key drawn in the {:?} role",
            self.role
        );
        assert_eq!(h.mask, mask, "not masked with a freshly drawn key");
        let mut payload = bytes[n..].to_vec();
        if let Some(key) = h.mask {
            for (i, b) in payload.iter_mut().enumerate() {
                *b ^= key[i % 4];
            }
        }
        assert!(
            h.opcode.is_control() || !self.close_out,
            "data frame after a close: {h:?}"
        );
        if h.opcode == OpCode::Close {
            assert!(!self.close_out, "a second close frame");
            self.close_out = true;
        }
        self.outbound.extend_from_slice(bytes);
        if tracing() {
            eprintln!("wrote {h:?}");
        }
        (h.opcode, payload)
    }

    fn deliver(&mut self, n: usize) {
        let n = n.min(self.pending.len());
        self.buf.extend(self.pending.drain(..n));
        let mut stalled = 0;
        while self.conn.state() != State::Closed {
            self.receive_calls += 1;
            assert!(
                self.receive_calls < 100_000,
                "receive keeps returning work (hang)"
            );
            match self.receive_once() {
                None => break,
                Some(0) => stalled += 1,
                Some(_) => stalled = 0,
            }
            assert!(stalled < 4, "events without consuming anything (hang)");
        }
    }

    /// One `receive` call and its checks: the bytes consumed, or `None` when the core needs more
    /// input.
    fn receive_once(&mut self) -> Option<usize> {
        let before = self.conn.state();
        let close_out_before = self.close_out;
        let len = self.buf.len();
        let mut out = [0u8; MIN_OUTPUT];
        let r = self.conn.receive(&mut self.buf, &mut out, self.now);
        let (consumed, written, event) = (r.consumed, r.written, r.event.map(Ev::from));
        assert!(consumed <= len, "consumed {consumed} of {len}");
        assert!(written <= out.len());
        let reply = (written > 0).then(|| self.written(&out[..written]));
        if reply.is_none() {
            assert_eq!(self.mask(), None, "a key drawn without a frame written");
        }
        if tracing() {
            eprintln!(
                "receive {consumed}/{len}: {event:?}, wrote {reply:?}, {:?}",
                self.conn.state()
            );
        }
        let state = self.conn.state();
        if !matches!(event, None | Some(Ev::Close { .. }) | Some(Ev::Failed(_))) {
            assert_eq!(before, State::Open, "{event:?} outside the Open state");
        }
        match &event {
            None => assert!(reply.is_none(), "{reply:?} written without an event"),
            Some(Ev::Data {
                kind,
                payload,
                end,
                compressed,
            }) => {
                assert!(
                    reply.is_none() && !self.failed,
                    "data after failure or with a reply"
                );
                let first = *self.in_compressed.get_or_insert(*compressed);
                assert_eq!(
                    first, *compressed,
                    "compressed flag changed inside a message"
                );
                assert!(self.deflate || !compressed, "compressed without deflate");
                self.delivered.push(payload, *end);
                let msg = self.in_msg.get_or_insert((*kind, Vec::new()));
                assert_eq!(msg.0, *kind, "kind changed inside a message");
                msg.1.extend_from_slice(payload);
                if *kind == MessageKind::Text && !compressed {
                    if let Err(e) = core::str::from_utf8(&msg.1) {
                        assert!(
                            !end && e.error_len().is_none(),
                            "invalid UTF-8 delivered: {e}"
                        );
                    }
                }
                if *end {
                    self.in_msg = None;
                    self.in_compressed = None;
                }
            }
            Some(Ev::Ping(p)) => {
                assert!(
                    matches!(&reply, Some((OpCode::Pong, q)) if q == p),
                    "ping answered {reply:?}"
                )
            }
            Some(Ev::Pong) => assert!(reply.is_none(), "pong answered with {reply:?}"),
            Some(Ev::Close { code }) => {
                assert_eq!(state, State::Closed, "after the peer's close");
                assert!(
                    code.is_none_or(|c| c.is_sendable()),
                    "close code {code:?} accepted"
                );
                if close_out_before {
                    assert!(reply.is_none(), "close echoed after our close: {reply:?}");
                } else {
                    assert!(
                        matches!(reply, Some((OpCode::Close, _))),
                        "close echo {reply:?}"
                    );
                }
            }
            Some(Ev::Failed(e)) => {
                self.in_compressed = None;
                assert_ne!(state, State::Open, "open after {e:?}");
                self.failed = true;
                if close_out_before {
                    assert!(
                        reply.is_none() && state == State::Closed,
                        "after our close: {e:?}"
                    );
                } else {
                    let code = e.close_code().0.to_be_bytes();
                    assert!(
                        matches!(&reply, Some((OpCode::Close, p)) if p.starts_with(&code)),
                        "{e:?} failed with {reply:?}"
                    );
                }
            }
        }
        self.buf.drain(..consumed);
        (consumed > 0 || event.is_some()).then_some(consumed)
    }

    fn send_data(&mut self, input: &mut Input<'_>) {
        let flags = input.u8();
        let kind = self.out_kind.unwrap_or(if flags & 1 != 0 {
            MessageKind::Text
        } else {
            MessageKind::Binary
        });
        let fin = flags & 2 == 0;
        let header_only = flags & 4 != 0;
        // A message continues with the method that started it.
        let compressed = match self.out_kind {
            Some(_) => self.out_compressed,
            None => flags & 0x20 != 0,
        };
        let len = if flags & 0x10 != 0 {
            usize::from(input.u16())
        } else {
            usize::from(input.u8())
        };
        let raw = input.bytes(len);
        // Text is sent as UTF-8 (the core does not re-validate it); compressed bytes as they are.
        let payload = match (kind, compressed) {
            (MessageKind::Text, false) => String::from_utf8_lossy(raw).into_owned().into_bytes(),
            _ => raw.to_vec(),
        };
        let out_size = if flags & 8 != 0 {
            usize::from(input.u8())
        } else {
            MAX_HEADER_LEN + payload.len()
        };
        let mut out = vec![0u8; out_size];
        let send = |conn: &mut Connection<E>, out: &mut [u8]| {
            let len = payload.len() as u64;
            match (header_only, compressed) {
                (true, false) => conn.send_data_header(kind, len, fin, out),
                (true, true) => conn.send_compressed_data_header(kind, len, fin, out),
                (false, false) => conn.send_data(kind, &payload, fin, out),
                (false, true) => conn.send_compressed_data(kind, &payload, fin, out),
            }
        };
        let mut result = send(&mut self.conn, &mut out);
        if result.is_err() {
            assert_eq!(self.mask(), None, "a key drawn for a failed send");
        }
        if let Err(SendError::BufferTooSmall(BufferTooSmall { needed })) = result {
            assert!(needed > out_size, "needed {needed} with {out_size}");
            out = vec![0u8; needed];
            result = send(&mut self.conn, &mut out);
        }
        match result {
            Ok(n) => {
                assert!(!self.close_out, "data accepted after a close");
                let mut frame = out[..n].to_vec();
                if header_only {
                    // The client's key is the header's last 4 bytes (as documented).
                    let mut body = payload.clone();
                    if self.role == Role::Client {
                        let key = frame[frame.len() - 4..].try_into().expect("4 bytes");
                        apply_mask(&mut body, key, 0);
                    }
                    frame.extend_from_slice(&body);
                }
                let (opcode, body) = self.written(&frame);
                let first = match (self.out_kind, kind) {
                    (Some(_), _) => OpCode::Continuation,
                    (None, MessageKind::Text) => OpCode::Text,
                    (None, MessageKind::Binary) => OpCode::Binary,
                };
                assert_eq!((opcode, &body), (first, &payload), "sent frame differs");
                let rsv1 = compressed && self.out_kind.is_none();
                assert_eq!(
                    self.last_rsv1, rsv1,
                    "RSV1 of a compressed: {compressed} frame"
                );
                match self.out_kind {
                    Some(_) => {
                        let open = self.sent.last_mut().expect("open message");
                        open.bytes.extend_from_slice(&payload);
                    }
                    None => self.sent.push(Message {
                        kind,
                        compressed,
                        bytes: payload,
                    }),
                }
                self.out_kind = (!fin).then_some(kind);
                self.out_compressed = compressed;
            }
            Err(SendError::Closing) => assert!(self.close_out, "Closing before any close frame"),
            Err(SendError::ExtensionNotActive) => {
                assert!(compressed && !self.deflate, "compressed send refused")
            }
            Err(e) => panic!("send_data({kind:?}, fin {fin}) failed: {e:?}"),
        }
    }

    fn send_control(&mut self, input: &mut Input<'_>) {
        let ping = input.bool();
        let len = usize::from(input.u8());
        let payload = input.bytes(len).to_vec();
        let mut out = vec![0u8; MIN_OUTPUT];
        let result = if ping {
            self.conn.send_ping(&payload, &mut out)
        } else {
            self.conn.send_pong(&payload, &mut out)
        };
        if result.is_err() {
            assert_eq!(self.mask(), None, "a key drawn for a failed send");
        }
        match result {
            Ok(n) => {
                assert!(
                    payload.len() <= 125,
                    "control payload of {} sent",
                    payload.len()
                );
                let (opcode, body) = self.written(&out[..n]);
                let want = if ping { OpCode::Ping } else { OpCode::Pong };
                assert_eq!((opcode, body), (want, payload));
            }
            Err(SendError::ControlTooLong) => assert!(payload.len() > 125),
            Err(SendError::Closing) => assert!(self.close_out, "Closing before any close frame"),
            Err(e) => panic!("send ping/pong failed: {e:?}"),
        }
    }

    fn send_close(&mut self, input: &mut Input<'_>) {
        const CODES: [u16; 8] = [1000, 1001, 1002, 1003, 1008, 1011, 3000, 4999];
        let flags = input.u8();
        let code = match flags & 3 {
            0 => None,
            1 => Some(CloseCode(input.u16())),
            _ => Some(CloseCode(CODES[usize::from(input.u8()) % CODES.len()])),
        };
        let len = usize::from(input.u8() % 130);
        let reason = String::from_utf8_lossy(input.bytes(len)).into_owned();
        let mut out = vec![0u8; MIN_OUTPUT];
        let before = self.close_out;
        let result = self.conn.send_close(code, &reason, self.now, &mut out);
        if result.is_err() {
            assert_eq!(self.mask(), None, "a key drawn for a failed send");
        }
        let too_long = code.is_some() && reason.len() > 123;
        let bad_code = code.is_some_and(|c| !c.is_sendable());
        match result {
            Ok(n) => {
                assert!(
                    !before && !too_long && !bad_code,
                    "close({code:?}, {} bytes) sent",
                    reason.len()
                );
                let (opcode, body) = self.written(&out[..n]);
                let mut want = Vec::new();
                if let Some(c) = code {
                    want.extend_from_slice(&c.0.to_be_bytes());
                    want.extend_from_slice(reason.as_bytes());
                }
                assert_eq!((opcode, body), (OpCode::Close, want));
                assert_eq!(self.conn.state(), State::Closing);
            }
            Err(SendError::Closing) => assert!(before, "Closing before any close frame"),
            Err(SendError::InvalidCloseCode) => assert!(bad_code, "{code:?} refused"),
            Err(SendError::ControlTooLong) => assert!(too_long, "{} bytes refused", reason.len()),
            Err(e) => panic!("send_close failed: {e:?}"),
        }
    }

    fn tick(&mut self, dt: u64) {
        self.now += dt;
        let _ = self.conn.poll_timeout();
        let mut out = [0u8; MIN_OUTPUT];
        let before = self.close_out;
        let timeout = self.conn.handle_timeout(self.now, &mut out);
        let n = timeout.written;
        match timeout.event {
            None => assert_eq!(n, 0, "written without a timer event"),
            Some(TimerEvent::Ping) => {
                assert!(!before, "keep-alive ping after a close");
                let (opcode, _) = self.written(&out[..n]);
                assert_eq!(opcode, OpCode::Ping);
            }
            Some(TimerEvent::PongOverdue) => {
                let (opcode, body) = self.written(&out[..n]);
                assert_eq!(
                    (opcode, &body[..]),
                    (OpCode::Close, &1011u16.to_be_bytes()[..])
                );
                assert_eq!(self.conn.state(), State::Closing);
            }
            Some(TimerEvent::DropTransport) => {
                assert_eq!(n, 0, "wrote when dropping the transport");
                assert_eq!(self.conn.state(), State::Closed)
            }
        }
        if n == 0 {
            assert_eq!(self.mask(), None, "a key drawn without a frame written");
        }
    }

    fn finish(self) {
        if let Some(expected) = &self.expected {
            let (data, ends) = (&self.delivered.data, &self.delivered.ends);
            assert!(
                expected.data.starts_with(data),
                "delivered data differs from sent"
            );
            assert!(
                expected.ends.starts_with(ends),
                "message ends {ends:?} vs {:?}",
                expected.ends
            );
            if self.conn.state() == State::Open && !self.failed {
                assert!(
                    self.buf.is_empty(),
                    "{} bytes left unconsumed",
                    self.buf.len()
                );
                assert_eq!(self.delivered, *expected, "data missing");
            }
        }
        self.replay_to_peer();
    }

    /// Feeds everything the core wrote to a connection of the other role.
    fn replay_to_peer(mut self) {
        let mut peer = peer_of(self.peer_role(), Limits::DEFAULT, self.deflate);
        let mut rest = core::mem::take(&mut self.outbound);
        let mut received: Vec<Message> = Vec::new();
        let mut in_msg = false;
        while let Some(event) = peer(&mut rest) {
            match event {
                Some(Ev::Failed(e)) => panic!("the peer rejected what the core wrote: {e:?}"),
                Some(Ev::Data {
                    kind,
                    payload,
                    end,
                    compressed,
                }) => {
                    if !in_msg {
                        received.push(Message {
                            kind,
                            compressed,
                            bytes: Vec::new(),
                        });
                    }
                    let message = received.last_mut().expect("message");
                    message.bytes.extend_from_slice(&payload);
                    in_msg = !end;
                }
                _ => {}
            }
        }
        assert_eq!(
            received, self.sent,
            "the peer received other messages than were sent"
        );
    }
}

//! Test helpers: frame builders and a driver that feeds bytes to a `Connection` in chunks and
//! records owned events and the bytes it wrote.
#![allow(dead_code)]

use ws_core::connection::MIN_OUTPUT;
use ws_core::frame::encode_frame;
use ws_core::{
    Client, Connection, Endpoint, Event, Limits, MessageKind, OpCode, ProtocolError, Server, Timers,
};

/// The mask key the tests' "client" uses.
pub const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

/// The mask key the tests' client connections draw for every frame they send.
pub const CLIENT_KEY: [u8; 4] = [1, 2, 3, 4];

/// A client connection whose key source is a plain function (nameable in types).
pub type ClientConn = Connection<Client<fn() -> [u8; 4]>>;

/// An owned copy of an [`Event`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ev {
    /// An uncompressed data chunk: kind, bytes, end.
    Data(MessageKind, Vec<u8>, bool),
    /// A chunk of a message whose first frame had RSV1 (`compressed: true`).
    Compressed(MessageKind, Vec<u8>, bool),
    Ping(Vec<u8>),
    Pong(Vec<u8>),
    Close(Option<u16>, String),
    Failed(ProtocolError),
}

impl From<Event<'_>> for Ev {
    fn from(e: Event<'_>) -> Self {
        match e {
            Event::Data {
                kind,
                payload,
                end,
                compressed: false,
            } => Ev::Data(kind, payload.to_vec(), end),
            Event::Data {
                kind,
                payload,
                end,
                compressed: true,
            } => Ev::Compressed(kind, payload.to_vec(), end),
            Event::Ping(p) => Ev::Ping(p.to_vec()),
            Event::Pong(p) => Ev::Pong(p.to_vec()),
            Event::Close { code, reason } => Ev::Close(code.map(|c| c.0), reason.to_string()),
            Event::Failed(e) => Ev::Failed(e),
        }
    }
}

/// A frame as a client sends it (masked with [`KEY`]).
pub fn client_frame(fin: bool, opcode: OpCode, payload: &[u8]) -> Vec<u8> {
    frame(fin, opcode, Some(KEY), payload)
}

/// A frame as a server sends it (unmasked).
pub fn server_frame(fin: bool, opcode: OpCode, payload: &[u8]) -> Vec<u8> {
    frame(fin, opcode, None, payload)
}

/// Any frame.
pub fn frame(fin: bool, opcode: OpCode, mask: Option<[u8; 4]>, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8; payload.len() + 14];
    let n = encode_frame(fin, opcode, mask, payload, &mut out).unwrap();
    out.truncate(n);
    out
}

/// A close payload.
pub fn close_body(code: u16, reason: &str) -> Vec<u8> {
    let mut v = code.to_be_bytes().to_vec();
    v.extend_from_slice(reason.as_bytes());
    v
}

/// A connection with default limits and no timers.
pub fn server() -> Connection<Server> {
    Connection::server(Limits::DEFAULT, Timers::default(), 0)
}

/// A client-role connection with default limits and no timers, masking with [`CLIENT_KEY`].
pub fn client() -> ClientConn {
    client_with(Limits::DEFAULT, Timers::default(), 0)
}

/// A client-role connection masking with [`CLIENT_KEY`].
pub fn client_with(limits: Limits, timers: Timers, now: u64) -> ClientConn {
    Connection::client(limits, timers, now, (|| CLIENT_KEY) as fn() -> [u8; 4])
}

/// Feeds bytes to a connection, keeping unconsumed bytes between feeds like a transport would.
pub struct Driver<E: Endpoint = Server> {
    pub conn: Connection<E>,
    pending: Vec<u8>,
    pub events: Vec<Ev>,
    /// Everything the connection wrote, in order.
    pub written: Vec<u8>,
    pub now: u64,
}

impl<E: Endpoint> Driver<E> {
    pub fn new(conn: Connection<E>) -> Self {
        Self {
            conn,
            pending: Vec::new(),
            events: Vec::new(),
            written: Vec::new(),
            now: 0,
        }
    }

    /// Feeds `bytes` and runs `receive` until it needs more; returns the new events.
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<Ev> {
        self.pending.extend_from_slice(bytes);
        let start = self.events.len();
        let mut out = [0u8; MIN_OUTPUT];
        loop {
            let len = self.pending.len();
            let r = self.conn.receive(&mut self.pending, &mut out, self.now);
            assert!(r.consumed <= len, "consumed more than given");
            let consumed = r.consumed;
            let progress = consumed > 0 || r.event.is_some();
            self.written.extend_from_slice(&out[..r.written]);
            if let Some(e) = r.event {
                self.events.push(e.into());
            }
            self.pending.drain(..consumed);
            if !progress {
                break;
            }
        }
        self.events[start..].to_vec()
    }

    /// Feeds `bytes` one chunk of `size` at a time.
    pub fn feed_chunks(&mut self, bytes: &[u8], size: usize) -> Vec<Ev> {
        let start = self.events.len();
        for chunk in bytes.chunks(size.max(1)) {
            self.feed(chunk);
        }
        self.events[start..].to_vec()
    }

    /// Takes the bytes written so far.
    pub fn take_written(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.written)
    }
}

/// Merges consecutive data chunks of one message into one `Data` event (end = true at the end).
pub fn merge_data(events: &[Ev]) -> Vec<Ev> {
    let mut out: Vec<Ev> = Vec::new();
    let mut open = false;
    for e in events {
        match e {
            Ev::Data(kind, bytes, end) => {
                if let (true, Some(Ev::Data(_, acc, last_end))) = (open, out.last_mut()) {
                    acc.extend_from_slice(bytes);
                    *last_end = *end;
                } else {
                    out.push(Ev::Data(*kind, bytes.clone(), *end));
                }
                open = !*end;
            }
            // Control frames may sit between fragments: the data after them starts a new entry.
            other => out.push(other.clone()),
        }
    }
    out
}

//! `differential_tungstenite`: the same client byte stream fed to ws-core's server connection
//! and to tungstenite's (crates.io) server-side reader, with the same limits (frames of 1000
//! bytes, messages of 3000; no fragment limit). Both must accept with the same messages, pings,
//! pongs and close, or both reject after the same messages.
//!
//! Known strictness differences, each allowed only in exactly this shape:
//! 1. **Non-minimal lengths** (RFC 6455 §5.2 "the minimal number of bytes MUST be used"):
//!    ws-core fails with `NonMinimalLength` (`ControlFrameTooLong` for a control frame, whose
//!    7-bit length field then reads 126 or 127); tungstenite accepts the frame. Allowed only when
//!    ws-core fails exactly at the stream's first non-minimal frame: both sides must then agree
//!    on the stream cut before that frame.
//! 2. **Close codes that may not be sent** (§7.4; 0-999, 1004-1006, 1015, 1016-2999, 5000+):
//!    ws-core fails with `InvalidCloseCode`; tungstenite reports a `Close` whose code it has
//!    replaced by 1002 "Protocol violation" (and answers with it). Both end the connection with
//!    1002. Allowed: same messages, then that substituted close.
//! 3. **Close code 1014** (Bad Gateway, registered with IANA after RFC 6455): ws-core accepts it;
//!    tungstenite treats it as not allowed and substitutes 1002 as in 2.
//!
//! Timing differences are removed rather than allowed: ws-core decides a frame's header rules
//! and its text's UTF-8 as soon as the bytes arrive, tungstenite once the whole frame is read.
//! So a stream that ends inside a frame is completed with zero bytes first; the comparison runs
//! on the completed stream, and ws-core's verdict on the cut stream must agree with it (a
//! failure on the cut stream is the same failure, after the same messages).

use crate::input::Input;
use crate::wire::WireFrame;
use std::io::{self, Read, Write};
use tungstenite::protocol::{Message, Role as TRole, WebSocket, WebSocketConfig};
use ws_core::connection::MIN_OUTPUT;
use ws_core::reassembler::Reassembler;
use ws_core::{Connection, Event, Limits, MessageKind, ProtocolError, State, Timers};

/// Largest frame payload both sides accept.
pub const FRAME_LIMIT: usize = 1000;
/// Largest message both sides accept.
pub const MESSAGE_LIMIT: usize = 3000;

/// A message, control frame or close, as either side reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Msg {
    /// A whole text message.
    Text(String),
    /// A whole binary message.
    Binary(Vec<u8>),
    /// A ping.
    Ping(Vec<u8>),
    /// A pong.
    Pong(Vec<u8>),
    /// The peer's close: code and reason.
    Close(Option<(u16, String)>),
}

/// How a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    /// All input used, waiting for more.
    Incomplete,
    /// The peer's close was received.
    Closed,
    /// The stream was rejected (ws-core: with this error).
    Rejected(Option<ProtocolError>),
}

/// One side's verdict on a stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// What was reported, in order.
    pub msgs: Vec<Msg>,
    /// How it ended.
    pub end: End,
}

/// Runs ws-core's server connection over `stream`, delivered in chunks of `chunk` bytes; its
/// [`Reassembler`] must rebuild the same messages.
pub fn run_core(stream: &[u8], chunk: usize) -> Outcome {
    let limits = Limits {
        max_frame_payload: FRAME_LIMIT as u64,
        max_message_size: MESSAGE_LIMIT as u64,
        max_fragments: u32::MAX,
    };
    let mut conn = Connection::server(limits, Timers::default(), 0);
    let mut msgs = Vec::new();
    let mut message: Option<(MessageKind, Vec<u8>)> = None;
    // ws-core's fixed-capacity reassembler must agree (messages never pass the limit).
    let mut reassembler = Reassembler::<MESSAGE_LIMIT>::new();
    let mut buf = Vec::new();
    let mut out = [0u8; MIN_OUTPUT];
    for piece in stream.chunks(chunk.max(1)) {
        buf.extend_from_slice(piece);
        loop {
            let r = conn.receive(&mut buf, &mut out, 0);
            let consumed = r.consumed;
            if let Some(event) = &r.event {
                let whole = reassembler.push_event(event).expect("within MESSAGE_LIMIT");
                if let Some((kind, bytes)) = whole {
                    let mut all = message.as_ref().map_or(Vec::new(), |m| m.1.clone());
                    if let Event::Data { payload, .. } = event {
                        all.extend_from_slice(payload);
                    }
                    assert_eq!(
                        (kind, bytes),
                        (message.as_ref().map_or(kind, |m| m.0), &all[..])
                    );
                }
            }
            match r.event {
                None if consumed == 0 => break,
                None => {}
                Some(Event::Data {
                    kind,
                    payload,
                    end,
                    compressed,
                }) => {
                    assert!(!compressed, "RSV1 accepted without deflate");
                    let m = message.get_or_insert((kind, Vec::new()));
                    m.1.extend_from_slice(payload);
                    if end {
                        let (kind, bytes) = message.take().expect("message");
                        msgs.push(match kind {
                            MessageKind::Text => {
                                Msg::Text(String::from_utf8(bytes).expect("validated"))
                            }
                            MessageKind::Binary => Msg::Binary(bytes),
                        });
                    }
                }
                Some(Event::Ping(p)) => msgs.push(Msg::Ping(p.to_vec())),
                Some(Event::Pong(p)) => msgs.push(Msg::Pong(p.to_vec())),
                Some(Event::Close { code, reason }) => {
                    msgs.push(Msg::Close(code.map(|c| (c.0, reason.to_owned()))));
                    return Outcome {
                        msgs,
                        end: End::Closed,
                    };
                }
                Some(Event::Failed(e)) => {
                    return Outcome {
                        msgs,
                        end: End::Rejected(Some(e)),
                    }
                }
            }
            buf.drain(..consumed);
            assert_ne!(conn.state(), State::Closed, "closed without a close event");
        }
    }
    Outcome {
        msgs,
        end: End::Incomplete,
    }
}

/// A stream that reads `data`, then blocks; writes are discarded.
struct Stream {
    data: Vec<u8>,
    pos: usize,
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let rest = &self.data[self.pos..];
        if rest.is_empty() {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        let n = rest.len().min(buf.len());
        buf[..n].copy_from_slice(&rest[..n]);
        self.pos += n;
        Ok(n)
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Runs tungstenite's server-side reader over `stream`.
pub fn run_tungstenite(stream: &[u8]) -> Outcome {
    let config = WebSocketConfig::default()
        .max_frame_size(Some(FRAME_LIMIT))
        .max_message_size(Some(MESSAGE_LIMIT));
    let io = Stream {
        data: stream.to_vec(),
        pos: 0,
    };
    let mut ws = WebSocket::from_raw_socket(io, TRole::Server, Some(config));
    let mut msgs = Vec::new();
    loop {
        match ws.read() {
            Ok(Message::Text(t)) => msgs.push(Msg::Text(t.as_str().to_owned())),
            Ok(Message::Binary(b)) => msgs.push(Msg::Binary(b.to_vec())),
            Ok(Message::Ping(p)) => msgs.push(Msg::Ping(p.to_vec())),
            Ok(Message::Pong(p)) => msgs.push(Msg::Pong(p.to_vec())),
            Ok(Message::Close(c)) => {
                msgs.push(Msg::Close(
                    c.map(|f| (u16::from(f.code), f.reason.as_str().to_owned())),
                ));
                return Outcome {
                    msgs,
                    end: End::Closed,
                };
            }
            Ok(Message::Frame(_)) => unreachable!("tungstenite never reads raw frames"),
            Err(tungstenite::Error::Io(e)) if e.kind() == io::ErrorKind::WouldBlock => {
                return Outcome {
                    msgs,
                    end: End::Incomplete,
                }
            }
            Err(_) => {
                return Outcome {
                    msgs,
                    end: End::Rejected(None),
                }
            }
        }
    }
}

/// `stream` with its last frame completed by zero bytes if it ends inside one (a header is
/// completed first; its length then decides the payload's, which is padded only up to
/// [`FRAME_LIMIT`]: a longer frame is refused from its header by both sides).
pub fn complete_last_frame(stream: &[u8]) -> Vec<u8> {
    let mut out = stream.to_vec();
    let mut pos = 0usize;
    while pos < out.len() {
        let header_len = |b: &[u8]| {
            let ext = match b.get(1).map(|l| l & 0x7F) {
                Some(126) => 2,
                Some(127) => 8,
                _ => 0,
            };
            let mask = if b.get(1).is_some_and(|l| l & 0x80 != 0) {
                4
            } else {
                0
            };
            2 + ext + mask
        };
        // The second byte decides the header's length: complete it first.
        if out.len() < pos + 2 {
            out.resize(pos + 2, 0);
        }
        let hl = header_len(&out[pos..]);
        if out.len() < pos + hl {
            out.resize(pos + hl, 0);
        }
        let len = match out[pos + 1] & 0x7F {
            126 => u64::from(u16::from_be_bytes([out[pos + 2], out[pos + 3]])),
            127 => u64::from_be_bytes(out[pos + 2..pos + 10].try_into().expect("8 bytes")),
            l => u64::from(l),
        };
        if len > FRAME_LIMIT as u64 {
            break;
        }
        pos += hl + len as usize;
        if out.len() < pos {
            out.resize(pos, 0);
        }
    }
    out
}

/// Input: a flags byte (bit 0: raw stream instead of frames), a chunk size byte (0 = at once)
/// for a second ws-core run that must agree with the first, then the raw stream or frames
/// ([`WireFrame::read`], masked as a client does).
pub fn differential_tungstenite(data: &[u8]) {
    let mut input = Input::new(data);
    let flags = input.u8();
    let chunk = usize::from(input.u8());
    let stream = if flags & 1 == 1 {
        input.rest().to_vec()
    } else {
        let mut s = Vec::new();
        for _ in 0..64 {
            if input.is_empty() {
                break;
            }
            WireFrame::read(&mut input, true).encode(&mut s);
        }
        s
    };

    if chunk > 0 {
        let whole = run_core(&stream, usize::MAX);
        let chunked = run_core(&stream, chunk);
        assert_eq!(
            chunked, whole,
            "ws-core's verdict depends on chunks of {chunk}"
        );
    }
    check_stream(&stream);
}

/// The differential check on one client byte stream (see the module doc).
pub fn check_stream(stream: &[u8]) {
    let cut = run_core(stream, usize::MAX);
    let completed = complete_last_frame(stream);
    let core = if completed.len() == stream.len() {
        cut.clone()
    } else {
        run_core(&completed, usize::MAX)
    };
    if let End::Rejected(_) = cut.end {
        assert_eq!(
            cut, core,
            "completing the last frame changed ws-core's early failure"
        );
    } else {
        assert!(
            core.msgs.starts_with(&cut.msgs),
            "completing the last frame changed messages"
        );
    }
    if let (Some(p), End::Rejected(Some(e))) = (first_non_minimal(&completed), core.end) {
        let before = run_core(&completed[..p], usize::MAX);
        let length_error = matches!(
            e,
            ProtocolError::NonMinimalLength | ProtocolError::ControlFrameTooLong
        );
        if length_error && before.end == End::Incomplete && before.msgs == core.msgs {
            // Difference 1: ws-core stopped at the first non-minimal frame.
            return compare(&before, &run_tungstenite(&completed[..p]));
        }
    }
    compare(&core, &run_tungstenite(&completed));
}

/// The offset of the first frame whose length is not in its minimal form, among the frames of
/// `stream` up to the first one longer than [`FRAME_LIMIT`].
pub fn first_non_minimal(stream: &[u8]) -> Option<usize> {
    let mut pos = 0usize;
    while let Some(&[_, b1]) = stream.get(pos..pos + 2) {
        let (ext, len) = match b1 & 0x7F {
            126 => (
                2,
                u64::from(u16::from_be_bytes(
                    stream.get(pos + 2..pos + 4)?.try_into().ok()?,
                )),
            ),
            127 => (
                8,
                u64::from_be_bytes(stream.get(pos + 2..pos + 10)?.try_into().ok()?),
            ),
            l => (0, u64::from(l)),
        };
        if (ext == 2 && len < 126) || (ext == 8 && len <= 0xFFFF) {
            return Some(pos);
        }
        if len > FRAME_LIMIT as u64 {
            return None;
        }
        pos += 2 + ext + if b1 & 0x80 != 0 { 4 } else { 0 } + len as usize;
    }
    None
}

fn substituted() -> Msg {
    Msg::Close(Some((1002, "Protocol violation".to_owned())))
}

/// Panics unless the two outcomes agree or differ only as the module doc allows.
pub fn compare(core: &Outcome, tung: &Outcome) {
    match (core.end, tung.end, core.msgs.last()) {
        (End::Rejected(Some(ProtocolError::NonMinimalLength)), _, _) => {
            assert!(
                tung.msgs.starts_with(&core.msgs),
                "difference 1: {core:?} vs {tung:?}"
            );
        }
        (End::Rejected(Some(ProtocolError::InvalidCloseCode)), End::Closed, _) => {
            let (last, before) = tung.msgs.split_last().expect("close");
            assert_eq!(
                (before, last),
                (&core.msgs[..], &substituted()),
                "difference 2"
            );
        }
        (End::Closed, End::Closed, Some(Msg::Close(Some((1014, _))))) => {
            assert_eq!(
                tung.msgs.last(),
                Some(&substituted()),
                "difference 3: {tung:?}"
            );
            assert_eq!(
                core.msgs[..core.msgs.len() - 1],
                tung.msgs[..tung.msgs.len() - 1]
            );
        }
        _ => {
            let same_end = match (core.end, tung.end) {
                (End::Rejected(_), End::Rejected(_)) => true,
                (a, b) => a == b,
            };
            assert!(
                same_end && core.msgs == tung.msgs,
                "ws-core {core:?}\ntungstenite {tung:?}"
            );
        }
    }
}

//! The client side, for the wasm32 build (a browser or an edge worker is usually the client): RFC
//! 6455 §1.3's opening handshake from the client's end, and §5.7's example frames received and
//! sent, each checked byte for byte. Not in the firmware: its flash budget is a server's.

use crate::{Failure, Phase, Probe, RESPONSE_101};
use core::hint::black_box;
use ws_core::connection::MIN_OUTPUT;
use ws_core::handshake::{write_client_request, ClientRequest, Header, ResponseParser, Status};
use ws_core::limits::HeadLimits;
use ws_core::{Connection, Event, Limits, MessageKind, Timers};

/// The request for §1.3's key: the nonce is the 16 bytes of "the sample nonce".
const REQUEST: &[u8] = b"GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\n\
Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
Origin: http://example.com\r\n\r\n";

/// §5.7's masking key.
const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

/// Runs the client side; the failing step is counted within [`Phase::Client`].
pub fn run_client(probe: &mut impl Probe) -> Result<(), Failure> {
    probe.phase(Phase::Client, client).map_err(|step| Failure {
        phase: Phase::Client,
        step,
    })
}

fn client() -> Result<(), u8> {
    let request = ClientRequest {
        host: "server.example.com",
        path: "/chat",
        origin: Some("http://example.com"),
        ..ClientRequest::default()
    };
    let mut out = [0u8; 256];
    let (len, expected) =
        write_client_request(&request, black_box(*b"the sample nonce"), &mut out).map_err(|_| 1)?;
    if out.get(..len) != Some(REQUEST) || expected.as_str() != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" {
        return Err(1);
    }
    let mut parser = ResponseParser::new(HeadLimits::DEFAULT);
    let mut headers = [Header::EMPTY; 8];
    match parser.feed(black_box(RESPONSE_101), &mut headers, &request, &expected) {
        Ok(Status::Complete((_, n))) if n == RESPONSE_101.len() => {}
        _ => return Err(2),
    }

    // Every frame it sends is masked with §5.7's key.
    let mut conn = Connection::client(Limits::DEFAULT, Timers::default(), 0, || KEY);
    let mut reply = [0u8; MIN_OUTPUT];
    // §5.7: a single-frame unmasked text message, then the same in two fragments.
    let mut input = [0u8; 16];
    for (frames, chunks) in [
        (&b"\x81\x05Hello"[..], &[(&b"Hello"[..], true)][..]),
        (
            &b"\x01\x03Hel\x80\x02lo"[..],
            &[(&b"Hel"[..], false), (&b"lo"[..], true)][..],
        ),
    ] {
        let frames = load(&mut input, frames).ok_or(3u8)?;
        let mut at = 0;
        for &(chunk, last) in chunks {
            let rest = frames.get_mut(at..).ok_or(3u8)?;
            let got = conn.receive(rest, &mut reply, 0);
            at += got.consumed;
            let want = Some(Event::Data {
                kind: MessageKind::Text,
                payload: chunk,
                end: last,
                compressed: false,
            });
            if got.event != want {
                return Err(3);
            }
        }
    }
    // §5.7: a masked "Hello" as the client sends it.
    let n = conn
        .send_data(MessageKind::Text, b"Hello", true, &mut out)
        .map_err(|_| 4)?;
    if out.get(..n) != Some(&b"\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58"[..]) {
        return Err(4);
    }
    // §5.7: an unmasked ping "Hello"; the pong goes back masked.
    let ping = load(&mut input, b"\x89\x05Hello").ok_or(5u8)?;
    let got = conn.receive(ping, &mut reply, 0);
    let written = got.written;
    if got.event != Some(Event::Ping(b"Hello"))
        || reply.get(..written) != Some(&b"\x8a\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58"[..])
    {
        return Err(5);
    }
    // §5.7: 256 bytes of binary in one unmasked frame (16-bit length), and the header of a
    // 64 KiB one (64-bit length) whose first payload bytes come out as a chunk.
    let mut big = [0u8; 4 + 256];
    if let Some(header) = big.get_mut(..4) {
        header.copy_from_slice(b"\x82\x7e\x01\x00");
    }
    let got = conn.receive(&mut big, &mut reply, 0);
    match got.event {
        Some(Event::Data {
            kind: MessageKind::Binary,
            payload,
            end: true,
            compressed: false,
        }) if payload.len() == 256 && got.consumed == 260 => {}
        _ => return Err(6),
    }
    let huge = load(
        &mut input,
        b"\x82\x7f\x00\x00\x00\x00\x00\x01\x00\x00\xaa\xbb",
    )
    .ok_or(7u8)?;
    let got = conn.receive(huge, &mut reply, 0);
    match got.event {
        Some(Event::Data {
            kind: MessageKind::Binary,
            payload: b"\xaa\xbb",
            end: false,
            compressed: false,
        }) if got.consumed == 12 => Ok(()),
        _ => Err(7),
    }
}

/// Copies `frames` into `buf` (received frames are unmasked in place, so they must be writable).
fn load<'b>(buf: &'b mut [u8], frames: &[u8]) -> Option<&'b mut [u8]> {
    let dst = buf.get_mut(..frames.len())?;
    dst.copy_from_slice(black_box(frames));
    Some(dst)
}

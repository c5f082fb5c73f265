//! no_std link check: a server handshake and one echoed frame through ws-core, with no `std`, no
//! libc and no allocator. Exit code 0 means the 101 carried the right accept key and the masked
//! "Hello" came back as an unmasked echo; any other code names the step that failed.
#![no_std]
#![no_main]

mod rt;

use core::hint::black_box;
use ws_core::connection::MIN_OUTPUT;
use ws_core::handshake::{write_accept_response, Accept, Header, RequestParser, Status};
use ws_core::limits::HeadLimits;
use ws_core::{Connection, Event, Limits, MessageKind, Timers};

/// RFC 6455 §1.3's request followed by §5.7's masked "Hello" in the same segment.
const INPUT: &[u8] = b"GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\n\
Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: http://example.com\r\n\
Sec-WebSocket-Version: 13\r\n\r\n\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58";

/// Runs the check; returns the process exit code.
fn run() -> i32 {
    let mut input = [0u8; INPUT.len()];
    input.copy_from_slice(black_box(INPUT));

    let mut parser = RequestParser::new(HeadLimits::DEFAULT);
    let mut headers = [Header::EMPTY; 16];
    let mut response = [0u8; 256];
    let (head_len, response_len) = match parser.feed(&input, &mut headers) {
        Ok(Status::Complete((request, len))) => {
            let Ok(upgrade) = request.upgrade() else {
                return 2;
            };
            match write_accept_response(upgrade.key, &Accept::default(), &mut response) {
                Ok(n) => (len, n),
                Err(_) => return 3,
            }
        }
        _ => return 1,
    };
    let response = black_box(&response[..response_len]);
    if !contains(
        response,
        b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n",
    ) {
        return 4;
    }
    rt::write(response);

    let mut conn = Connection::server(Limits::DEFAULT, Timers::default(), 0);
    let mut out = [0u8; MIN_OUTPUT];
    let frame = &mut input[head_len..];
    let got = conn.receive(frame, &mut out, 0);
    let Some(Event::Data {
        kind: MessageKind::Text,
        payload,
        end: true,
        compressed: false,
    }) = got.event
    else {
        return 6;
    };
    let mut echo = [0u8; 64];
    let Ok(n) = conn.send_data(MessageKind::Text, payload, true, &mut echo) else {
        return 7;
    };
    let echo = black_box(&echo[..n]);
    rt::write(echo);
    if echo != b"\x81\x05Hello" {
        return 8;
    }
    0
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

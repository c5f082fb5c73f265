//! Writes the hand-made seed files into `fuzz/corpus/<target>/` (idempotent; files found by the
//! fuzzer and merged with `scripts/fuzz --merge` are left alone):
//! `cargo run -p ws-fuzz-checks --example write_seeds`.

use std::path::Path;
use ws_fuzz_checks::handshake::CHROME_REQUEST;
use ws_fuzz_checks::input::Seed;
use ws_fuzz_checks::wire::{LenForm, WireFrame};

/// RFC 6455 §5.7's examples.
const HELLO: &[u8] = &[0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f];
const HELLO_MASKED: &[u8] = &[
    0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
];
const HEL: &[u8] = &[0x01, 0x03, 0x48, 0x65, 0x6c];
const LO: &[u8] = &[0x80, 0x02, 0x6c, 0x6f];
const PING: &[u8] = &[0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f];
const PONG_MASKED: &[u8] = &[
    0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
];
const BINARY_256: &[u8] = &[0x82, 0x7E, 0x01, 0x00];
const BINARY_64K: &[u8] = &[0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0];

const RFC_REQUEST: &[u8] = b"GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\n\
Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: http://example.com\r\n\
Sec-WebSocket-Protocol: chat, superchat\r\nSec-WebSocket-Version: 13\r\n\r\n";
const RFC_RESPONSE: &[u8] = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\
Connection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: chat\r\n\r\n";
const DEFLATE_RESPONSE: &[u8] = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\
Connection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\
Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=15\r\n\r\n";

fn frame(opcode: u8, fin: bool, payload: &[u8], mask: Option<[u8; 4]>) -> WireFrame {
    WireFrame {
        fin,
        rsv: 0,
        opcode,
        mask,
        len_form: LenForm::Minimal,
        payload: payload.to_vec(),
    }
}

/// A conversation as the peer of `masked` role would send it, plus sends of our own.
fn conversation(cfg: u8, masked: bool) -> Vec<u8> {
    let key = masked.then_some([0x37, 0xfa, 0x21, 0x3d]);
    let mut s = Seed::new().u8(cfg);
    s = frame(0x1, true, b"Hello", key).seed(s.u8(0), masked);
    s = s.u8(7).u8(3); // deliver 4 bytes
    s = frame(0x1, false, b"Hel", key).seed(s.u8(1), masked);
    s = frame(0x9, true, b"Hello", key).seed(s.u8(2), masked);
    s = frame(0x0, true, "lo κόσμε".as_bytes(), key).seed(s.u8(3), masked);
    s = s.u8(10).u8(0b0000_0001).u8(5).bytes(b"hi yo"); // text, fin
    s = s.u8(11).u8(0b0000_0110).u8(3).bytes(&[1, 2, 3]); // binary, not fin, header only
    s = s.u8(11).u8(0b0000_0000).u8(1).bytes(&[4]); // continuation, fin
    s = s.u8(12).u8(1).u8(4).bytes(b"ping");
    s = s.u8(14).u16(1500); // timers (when enabled)
    s = frame(0x2, true, &[0u8; 300], key).seed(s.u8(4), masked);
    s = s.u8(15);
    s = frame(0x8, true, &[0x03, 0xe8, b'o', b'k'], key).seed(s.u8(5), masked);
    s = s.u8(13).u8(2).u8(0).u8(3).bytes(b"bye");
    s.0
}

/// With permessage-deflate active: a compressed message each way (RSV1 on the first frame).
fn deflate(masked: bool) -> Vec<u8> {
    let key = masked.then_some([0x37, 0xfa, 0x21, 0x3d]);
    let mut s = Seed::new().u8(0x40);
    let mut first = frame(0x1, false, &[0xf2, 0x48, 0xcd], key);
    first.rsv = 4;
    s = first.seed(s.u8(0), masked);
    s = frame(0x0, true, &[0xc9, 0xc9, 0x07, 0x00], key).seed(s.u8(1), masked);
    s = s.u8(10).u8(0b0010_0011).u8(3).bytes(&[0xf2, 0x48, 0xcd]); // compressed text, not fin
    s = s
        .u8(10)
        .u8(0b0000_0000)
        .u8(4)
        .bytes(&[0xc9, 0xc9, 0x07, 0x00]); // its continuation
    s.u8(15).0
}

fn write(root: &Path, target: &str, name: &str, data: &[u8]) {
    let dir = root.join(target);
    std::fs::create_dir_all(&dir).expect("corpus dir");
    std::fs::write(dir.join(name), data).expect("seed file");
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus");
    let r = root.as_path();

    write(
        r,
        "handshake_request",
        "chrome64",
        &Seed::new().cuts(&[]).bytes(CHROME_REQUEST).0,
    );
    let cuts = [1, 17, 100, 300, 480, 500];
    write(
        r,
        "handshake_request",
        "chrome64-split",
        &Seed::new().cuts(&cuts).bytes(CHROME_REQUEST).0,
    );
    write(
        r,
        "handshake_request",
        "rfc6455-4.1",
        &Seed::new().cuts(&[40]).bytes(RFC_REQUEST).0,
    );
    let post = b"POST /chat?x=1 HTTP/1.0\r\nHost: a\r\nSec-WebSocket-Version: 8\r\n\r\n";
    write(
        r,
        "handshake_request",
        "post-v8",
        &Seed::new().cuts(&[]).bytes(post).0,
    );

    write(
        r,
        "handshake_response",
        "rfc6455-101",
        &Seed::new().u8(1).cuts(&[20]).bytes(RFC_RESPONSE).0,
    );
    write(
        r,
        "handshake_response",
        "deflate-101",
        &Seed::new().u8(2).cuts(&[]).bytes(DEFLATE_RESPONSE).0,
    );
    let refused = b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n";
    write(
        r,
        "handshake_response",
        "403",
        &Seed::new().u8(0).cuts(&[]).bytes(refused).0,
    );

    for (name, role, bytes) in [
        ("hello", 0, HELLO),
        ("hello-masked", 1, HELLO_MASKED),
        ("fragment-1", 0, HEL),
        ("fragment-2", 0, LO),
        ("ping", 0, PING),
        ("pong-masked", 1, PONG_MASKED),
        ("binary-256", 0, BINARY_256),
        ("binary-64k", 0, BINARY_64K),
    ] {
        write(
            r,
            "frame_header",
            name,
            &Seed::new().u8(role).bytes(bytes).0,
        );
    }

    let mut s = Seed::new()
        .u8(0b0001_0011)
        .bytes(&[0x37, 0xfa, 0x21, 0x3d])
        .u8(5)
        .bytes(b"Hello");
    s = s
        .u8(0b0000_0010)
        .u8(3)
        .bytes(b"Hel")
        .u8(0b0000_0001)
        .u8(2)
        .bytes(b"lo");
    s = s
        .u8(0b0010_0101)
        .u16(256)
        .bytes(&[7; 256])
        .u8(0b0100_0101)
        .u8(0);
    s = s
        .u8(0b0000_1001)
        .u8(5)
        .bytes(b"Hello")
        .u8(0b0000_0111)
        .u8(2)
        .bytes(&[0x03, 0xe8]);
    write(r, "roundtrip", "rfc6455-5.7", &s.0);

    for (name, text) in [
        ("ascii", &b"Hello"[..]),
        ("kosme", "κόσμε".as_bytes()),
        (
            "surrogate",
            b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80edited",
        ),
        ("above-max", b"\xf4\x90\x80\x80"),
        ("overlong", b"\xc0\xaf"),
        ("truncated", b"a\xe2\x82"),
        ("four-byte", "a𝄞b".as_bytes()),
    ] {
        write(r, "utf8", name, text);
    }

    write(
        r,
        "connection_server",
        "conversation",
        &conversation(0, true),
    );
    write(
        r,
        "connection_server",
        "conversation-limits-timers",
        &conversation(0x3F, true),
    );
    let raw: Vec<u8> = [HELLO_MASKED, PONG_MASKED].concat();
    let s = Seed::new()
        .u8(0)
        .u8(6)
        .u8(raw.len() as u8)
        .bytes(&raw)
        .u8(7)
        .u8(2);
    write(r, "connection_server", "rfc6455-5.7-raw", &s.0);
    write(r, "connection_server", "deflate", &deflate(true));
    write(r, "connection_client", "deflate", &deflate(false));
    write(
        r,
        "connection_client",
        "conversation",
        &conversation(0, false),
    );
    write(
        r,
        "connection_client",
        "conversation-limits-timers",
        &conversation(0x3F, false),
    );
    let raw: Vec<u8> = [HELLO, HEL, PING, LO].concat();
    let s = Seed::new()
        .u8(0)
        .u8(6)
        .u8(raw.len() as u8)
        .bytes(&raw)
        .u8(7)
        .u8(5);
    write(r, "connection_client", "rfc6455-5.7-raw", &s.0);

    let masked: Vec<u8> = [
        HELLO_MASKED,
        PONG_MASKED,
        &[0x88, 0x82, 1, 2, 3, 4, 0x02, 0xea],
    ]
    .concat();
    write(
        r,
        "differential_tungstenite",
        "rfc6455-5.7-raw",
        &Seed::new().u8(1).u8(3).bytes(&masked).0,
    );
    let key = Some([0x37, 0xfa, 0x21, 0x3d]);
    let mut s = Seed::new().u8(0).u8(2);
    s = frame(0x1, false, b"Hel", key).seed(s, true);
    s = frame(0x9, true, b"Hello", key).seed(s, true);
    s = frame(0x0, true, b"lo", key).seed(s, true);
    s = frame(0x2, true, &[9; 200], key).seed(s, true);
    s = frame(0x8, true, &[0x03, 0xe8, b'o', b'k'], key).seed(s, true);
    write(r, "differential_tungstenite", "fragmented", &s.0);
    let mut odd = frame(0x2, true, b"non-minimal", key);
    odd.len_form = LenForm::Ext16;
    write(
        r,
        "differential_tungstenite",
        "non-minimal",
        &odd.seed(Seed::new().u8(0).u8(0), true).0,
    );
    for (name, code) in [("close-1014", 1014u16), ("close-1005", 1005)] {
        let s = frame(0x8, true, &code.to_be_bytes(), key).seed(Seed::new().u8(0).u8(0), true);
        write(r, "differential_tungstenite", name, &s.0);
    }
    let offers = "permessage-deflate; client_max_window_bits\nx-webkit-deflate-frame, \
permessage-deflate; server_max_window_bits=10; client_max_window_bits=12; server_no_context_takeover";
    write(
        r,
        "deflate_negotiation",
        "chrome-offer",
        &Seed::new()
            .u8(0x02)
            .u8(15)
            .u8(0)
            .u8(7)
            .u8(7)
            .bytes(offers.as_bytes())
            .0,
    );
    let answer = "permessage-deflate; server_max_window_bits=9; client_max_window_bits=10; client_no_context_takeover";
    write(
        r,
        "deflate_negotiation",
        "answer",
        &Seed::new()
            .u8(0x0F)
            .u8(1)
            .u8(2)
            .u8(6)
            .u8(3)
            .u8(4)
            .bytes(answer.as_bytes())
            .0,
    );
    println!("seeds written to {}", root.display());
}

//! The bytes on the wire: what the client sends (masked here, independently of ws-core) and what
//! the server must answer, exactly.

/// RFC 6455 §1.3's opening request.
pub const REQUEST: &[u8] = b"GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\n\
Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: http://example.com\r\n\
Sec-WebSocket-Version: 13\r\n\r\n";

/// The 101 answering it, with RFC 6455 §1.3's accept value.
pub const RESPONSE_101: &[u8] = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\
Connection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";

/// The client's masking key (RFC 6455 §5.7's).
const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

/// A masked client frame with first byte `b0` (FIN, opcode) and a payload under 126 bytes.
const fn frame<const N: usize>(b0: u8, payload: &[u8]) -> [u8; N] {
    let mut out = [0u8; N];
    out[0] = b0;
    out[1] = 0x80 | payload.len() as u8;
    out[2] = KEY[0];
    out[3] = KEY[1];
    out[4] = KEY[2];
    out[5] = KEY[3];
    let mut i = 0;
    while i < payload.len() {
        out[6 + i] = payload[i] ^ KEY[i % 4];
        i += 1;
    }
    out
}

/// Two frames concatenated.
const fn concat<const A: usize, const B: usize, const N: usize>(a: [u8; A], b: [u8; B]) -> [u8; N] {
    let mut out = [0u8; N];
    let mut i = 0;
    while i < A {
        out[i] = a[i];
        i += 1;
    }
    while i < N {
        out[i] = b[i - A];
        i += 1;
    }
    out
}

const FRAGMENTS: [u8; 17] = concat::<9, 8, 17>(frame(0x01, b"Hel"), frame(0x80, b"lo"));
/// "Hel" (text, FIN 0) then "lo" (continuation, FIN 1), masked (§5.4, §5.7).
pub const FRAGMENTS_IN: &[u8] = &FRAGMENTS;
/// The echo, unmasked, fragmented the same way.
pub const FRAGMENTS_ECHO: &[u8] = b"\x01\x03Hel\x80\x02lo";

const PING: [u8; 10] = frame(0x89, b"ping");
/// A masked ping "ping".
pub const PING_IN: &[u8] = &PING;
/// Its pong (§5.5.3: same payload), unmasked.
pub const PONG: &[u8] = b"\x8a\x04ping";

const CLOSE: [u8; 11] = frame(0x88, b"\x03\xe8bye");
/// A masked close 1000 "bye".
pub const CLOSE_IN: &[u8] = &CLOSE;
/// The server's close echo: the code 1000 (§5.5.1).
pub const CLOSE_ECHO: &[u8] = b"\x88\x02\x03\xe8";

const INVALID_UTF8: [u8; 10] = frame(0x81, b"a\xc3\x28z");
/// A masked text frame whose second byte starts a code point the third cannot continue (§8.1).
pub const INVALID_UTF8_IN: &[u8] = &INVALID_UTF8;
/// The failing close: 1007 (invalid frame payload data).
pub const INVALID_UTF8_CLOSE: &[u8] = b"\x88\x02\x03\xef";

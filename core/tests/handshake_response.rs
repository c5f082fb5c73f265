//! RFC 6455 §4.2.2: the server's 101 and error responses, written into caller buffers.

use ws_core::handshake::{write_accept_response, write_error_response, Accept, WriteError};
use ws_core::{BufferTooSmall, HandshakeError as E};

const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";

fn accept_bytes(accept: &Accept<'_>) -> Result<Vec<u8>, WriteError> {
    let mut out = [0u8; 1024];
    let len = write_accept_response(KEY, accept, &mut out)?;
    Ok(out[..len].to_vec())
}

fn error_bytes(error: E) -> String {
    let mut out = [0u8; 512];
    let len = write_error_response(error, &mut out).unwrap();
    String::from_utf8(out[..len].to_vec()).unwrap()
}

#[test]
fn accept_response_exact_bytes() {
    assert_eq!(
        accept_bytes(&Accept::default()).unwrap(),
        b"HTTP/1.1 101 Switching Protocols\r\n\
Upgrade: websocket\r\n\
Connection: Upgrade\r\n\
Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\
\r\n"
    );
    let full = Accept {
        subprotocol: Some("chat"),
        extensions: Some("permessage-deflate; server_no_context_takeover"),
        extra_headers: &[("Set-Cookie", "sid=1; HttpOnly"), ("X-Empty", "")],
    };
    assert_eq!(
        accept_bytes(&full).unwrap(),
        b"HTTP/1.1 101 Switching Protocols\r\n\
Upgrade: websocket\r\n\
Connection: Upgrade\r\n\
Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\
Sec-WebSocket-Protocol: chat\r\n\
Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover\r\n\
Set-Cookie: sid=1; HttpOnly\r\n\
X-Empty: \r\n\
\r\n"
    );
    let text = String::from_utf8(accept_bytes(&full).unwrap()).unwrap();
    assert!(!text.to_ascii_lowercase().contains("websocket-location"));
}

#[test]
fn application_header_text_is_checked() {
    let bad: [Accept<'_>; 10] = [
        Accept {
            subprotocol: Some("chat\r\nX: y"),
            ..Accept::default()
        },
        Accept {
            subprotocol: Some("a b"),
            ..Accept::default()
        },
        Accept {
            subprotocol: Some(""),
            ..Accept::default()
        },
        Accept {
            extensions: Some("x\r\n"),
            ..Accept::default()
        },
        Accept {
            extensions: Some(""),
            ..Accept::default()
        },
        Accept {
            extra_headers: &[("X-A", "b\nc")],
            ..Accept::default()
        },
        Accept {
            extra_headers: &[("X-A", "b\0")],
            ..Accept::default()
        },
        Accept {
            extra_headers: &[("X-A", "é")],
            ..Accept::default()
        },
        Accept {
            extra_headers: &[("X A", "b")],
            ..Accept::default()
        },
        Accept {
            extra_headers: &[("X-A:", "b")],
            ..Accept::default()
        },
    ];
    for accept in bad {
        assert_eq!(
            accept_bytes(&accept),
            Err(WriteError::InvalidHeaderText),
            "{accept:?}"
        );
    }
}

#[test]
fn accept_response_into_every_short_buffer() {
    let full = Accept {
        subprotocol: Some("chat"),
        extensions: Some("permessage-deflate"),
        extra_headers: &[("Set-Cookie", "a=b")],
    };
    let expected = accept_bytes(&full).unwrap();
    let needed = expected.len();
    for size in 0..needed {
        let mut out = vec![0u8; size];
        assert_eq!(
            write_accept_response(KEY, &full, &mut out),
            Err(WriteError::BufferTooSmall(BufferTooSmall { needed })),
            "size {size}"
        );
    }
    let mut out = vec![0u8; needed];
    assert_eq!(write_accept_response(KEY, &full, &mut out), Ok(needed));
    assert_eq!(out, expected);
}

#[test]
fn error_responses_exact_bytes() {
    let cases: [(E, &str); 6] = [
        (
            E::MissingKey,
            "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\n\
Content-Length: 27\r\nConnection: close\r\n\r\nMissing Sec-WebSocket-Key.\n",
        ),
        (
            E::Forbidden,
            "HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain; charset=utf-8\r\n\
Content-Length: 11\r\nConnection: close\r\n\r\nForbidden.\n",
        ),
        (
            E::MethodNotAllowed,
            "HTTP/1.1 405 Method Not Allowed\r\nAllow: GET\r\nContent-Type: text/plain; charset=utf-8\r\n\
Content-Length: 35\r\nConnection: close\r\n\r\nOnly GET can upgrade to WebSocket.\n",
        ),
        (
            E::UnsupportedVersion,
            "HTTP/1.1 426 Upgrade Required\r\nSec-WebSocket-Version: 13\r\n\
Content-Type: text/plain; charset=utf-8\r\nContent-Length: 44\r\nConnection: close\r\n\r\n\
Only Sec-WebSocket-Version 13 is supported.\n",
        ),
        (
            E::HeadTooLarge,
            "HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Type: text/plain; charset=utf-8\r\n\
Content-Length: 24\r\nConnection: close\r\n\r\nRequest head too large.\n",
        ),
        (
            E::TooManyHeaders,
            "HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Type: text/plain; charset=utf-8\r\n\
Content-Length: 18\r\nConnection: close\r\n\r\nToo many headers.\n",
        ),
    ];
    for (error, expected) in cases {
        assert_eq!(error_bytes(error), expected, "{error:?}");
    }
}

#[test]
fn every_error_response_is_consistent() {
    let all = [
        E::Malformed,
        E::InvalidHeaderValue,
        E::HeadTooLarge,
        E::TooManyHeaders,
        E::MethodNotAllowed,
        E::UnsupportedHttpVersion,
        E::MissingHost,
        E::MissingUpgrade,
        E::MissingConnectionUpgrade,
        E::MissingKey,
        E::InvalidKey,
        E::DuplicateKey,
        E::UnsupportedVersion,
        E::Forbidden,
        E::NotSwitchingProtocols(200),
        E::AcceptMismatch,
        E::UnexpectedSubprotocol,
        E::UnexpectedExtension,
    ];
    for error in all {
        let text = error_bytes(error);
        assert!(
            text.starts_with(&format!("HTTP/1.1 {} ", error.status())),
            "{text}"
        );
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(
            head.contains(&format!("\r\nContent-Length: {}\r\n", body.len())),
            "{text}"
        );
        assert!(head.ends_with("\r\nConnection: close"), "{text}");
        assert_eq!(
            head.contains("\r\nAllow: GET\r\n"),
            error.status() == 405,
            "{text}"
        );
        assert_eq!(
            head.contains("\r\nSec-WebSocket-Version: 13\r\n"),
            error.status() == 426,
            "{text}"
        );
        assert!(
            !body.is_empty() && body.len() < 64 && body.ends_with('\n'),
            "{text}"
        );
        // Every size below the total fails with the total, never a panic.
        let needed = text.len();
        for size in 0..needed {
            let mut out = vec![0u8; size];
            assert_eq!(
                write_error_response(error, &mut out),
                Err(BufferTooSmall { needed })
            );
        }
    }
}

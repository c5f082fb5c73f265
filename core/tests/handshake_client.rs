//! RFC 6455 §4.1: the client's upgrade request and its validation of the server's response, and an
//! in-memory client/server handshake through the public API.

use ws_core::handshake::{
    accept_key, write_accept_response, write_client_request, Accept, AcceptKey, ClientRequest,
    Header, RequestParser, Response, ResponseParser, Status, WriteError,
};
use ws_core::limits::HeadLimits;
use ws_core::{BufferTooSmall, HandshakeError as E};

/// The nonce 0, 1, …, 15: key `AAECAwQFBgcICQoLDA0ODw==`.
const NONCE: [u8; 16] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15];
/// Its accept value, computed independently once with Python:
/// base64.b64encode(hashlib.sha1(b"AAECAwQFBgcICQoLDA0ODw==" + GUID).digest())
const NONCE_ACCEPT: &str = "Bz3qJYTGdOe8gUSpLosEdiLKDrk=";

const OFFER: ClientRequest<'static> = ClientRequest {
    host: "127.0.0.1:9001",
    path: "/chat?room=1",
    origin: Some("http://localhost"),
    subprotocols: &["chat", "superchat"],
    extensions: Some("permessage-deflate; client_max_window_bits, x-webkit-deflate-frame"),
    extra_headers: &[("Cookie", "sid=abc")],
};

fn request_bytes(request: &ClientRequest<'_>) -> Result<(Vec<u8>, AcceptKey), WriteError> {
    let mut out = [0u8; 1024];
    let (len, accept) = write_client_request(request, NONCE, &mut out)?;
    Ok((out[..len].to_vec(), accept))
}

#[test]
fn client_request_exact_bytes() {
    let minimal = ClientRequest {
        host: "example.com",
        path: "/",
        ..ClientRequest::default()
    };
    let (bytes, accept) = request_bytes(&minimal).unwrap();
    assert_eq!(
        bytes,
        b"GET / HTTP/1.1\r\n\
Host: example.com\r\n\
Upgrade: websocket\r\n\
Connection: Upgrade\r\n\
Sec-WebSocket-Key: AAECAwQFBgcICQoLDA0ODw==\r\n\
Sec-WebSocket-Version: 13\r\n\
\r\n"
    );
    assert_eq!(accept.as_str(), NONCE_ACCEPT);

    let (bytes, _) = request_bytes(&OFFER).unwrap();
    assert_eq!(
        bytes,
        b"GET /chat?room=1 HTTP/1.1\r\n\
Host: 127.0.0.1:9001\r\n\
Upgrade: websocket\r\n\
Connection: Upgrade\r\n\
Sec-WebSocket-Key: AAECAwQFBgcICQoLDA0ODw==\r\n\
Sec-WebSocket-Version: 13\r\n\
Origin: http://localhost\r\n\
Sec-WebSocket-Protocol: chat, superchat\r\n\
Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits, x-webkit-deflate-frame\r\n\
Cookie: sid=abc\r\n\
\r\n"
    );
}

#[test]
fn client_request_text_is_checked() {
    let base = ClientRequest {
        host: "h",
        path: "/",
        ..ClientRequest::default()
    };
    let bad = [
        ClientRequest { host: "", ..base },
        ClientRequest {
            host: "h\r\nX: y",
            ..base
        },
        ClientRequest {
            host: "a b",
            ..base
        },
        ClientRequest { path: "", ..base },
        ClientRequest {
            path: "/a b",
            ..base
        },
        ClientRequest {
            path: "/\n",
            ..base
        },
        ClientRequest {
            origin: Some("o\r\n"),
            ..base
        },
        ClientRequest {
            subprotocols: &["a,b"],
            ..base
        },
        ClientRequest {
            subprotocols: &[""],
            ..base
        },
        ClientRequest {
            extensions: Some("e\0"),
            ..base
        },
        ClientRequest {
            extra_headers: &[("Bad Name", "v")],
            ..base
        },
        ClientRequest {
            extra_headers: &[("X", "v\r\nInjected: 1")],
            ..base
        },
    ];
    for request in bad {
        assert_eq!(
            request_bytes(&request),
            Err(WriteError::InvalidHeaderText),
            "{request:?}"
        );
    }
}

#[test]
fn client_request_into_every_short_buffer() {
    let (expected, _) = request_bytes(&OFFER).unwrap();
    let needed = expected.len();
    for size in 0..needed {
        let mut out = vec![0u8; size];
        assert_eq!(
            write_client_request(&OFFER, NONCE, &mut out),
            Err(WriteError::BufferTooSmall(BufferTooSmall { needed })),
            "size {size}"
        );
    }
}

/// A 101 for `OFFER`'s nonce with `extra` header lines.
fn response(status_line: &str, lines: &[&str]) -> Vec<u8> {
    let mut out = format!("{status_line}\r\n");
    for line in lines {
        out.push_str(line);
        out.push_str("\r\n");
    }
    out.push_str("\r\n");
    out.into_bytes()
}

const UPGRADE: &str = "Upgrade: websocket";
const CONNECTION: &str = "Connection: Upgrade";
const ACCEPT: &str = "Sec-WebSocket-Accept: Bz3qJYTGdOe8gUSpLosEdiLKDrk=";

/// The chosen subprotocol and extensions, or the error.
type Checked = Result<(Option<String>, Option<String>), E>;

/// Validates `bytes` against `offer` in one call; the chosen subprotocol and extensions.
fn check(offer: &ClientRequest<'_>, bytes: &[u8]) -> Checked {
    let mut headers = [Header::EMPTY; 16];
    let expected = accept_key(b"AAECAwQFBgcICQoLDA0ODw==");
    match ResponseParser::new(HeadLimits::DEFAULT).feed(bytes, &mut headers, offer, &expected)? {
        Status::Complete((
            Response {
                subprotocol,
                extensions,
                ..
            },
            len,
        )) => {
            assert_eq!(len, bytes.len());
            Ok((subprotocol.map(String::from), extensions.map(String::from)))
        }
        Status::Partial => panic!("partial"),
    }
}

#[test]
fn response_rules_table() {
    let none = ClientRequest {
        host: "h",
        path: "/",
        ..ClientRequest::default()
    };
    let s = |v: &str| Some(v.to_string());
    let line = "HTTP/1.1 101 Switching Protocols";
    let cases: Vec<(&str, &ClientRequest<'_>, Vec<u8>, Checked)> = vec![
        (
            "minimal",
            &none,
            response(line, &[UPGRADE, CONNECTION, ACCEPT]),
            Ok((None, None)),
        ),
        (
            "no reason",
            &none,
            response("HTTP/1.1 101 ", &[UPGRADE, CONNECTION, ACCEPT]),
            Ok((None, None)),
        ),
        (
            "token case",
            &none,
            response(
                line,
                &[
                    "upgrade: WebSocket",
                    "connection: keep-alive, upgrade",
                    ACCEPT,
                ],
            ),
            Ok((None, None)),
        ),
        (
            "200",
            &none,
            response("HTTP/1.1 200 OK", &[UPGRADE, CONNECTION, ACCEPT]),
            Err(E::NotSwitchingProtocols(200)),
        ),
        (
            "403",
            &none,
            response("HTTP/1.1 403 Forbidden", &[]),
            Err(E::NotSwitchingProtocols(403)),
        ),
        (
            "bad status line",
            &none,
            response("HTTP/1.1 1010 X", &[]),
            Err(E::Malformed),
        ),
        (
            "no Upgrade",
            &none,
            response(line, &[CONNECTION, ACCEPT]),
            Err(E::MissingUpgrade),
        ),
        (
            "no Connection",
            &none,
            response(line, &[UPGRADE, ACCEPT]),
            Err(E::MissingConnectionUpgrade),
        ),
        (
            "no accept",
            &none,
            response(line, &[UPGRADE, CONNECTION]),
            Err(E::AcceptMismatch),
        ),
        (
            "wrong accept",
            &none,
            response(
                line,
                &[
                    UPGRADE,
                    CONNECTION,
                    "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
                ],
            ),
            Err(E::AcceptMismatch),
        ),
        (
            "two accepts",
            &none,
            response(line, &[UPGRADE, CONNECTION, ACCEPT, ACCEPT]),
            Err(E::AcceptMismatch),
        ),
        (
            "subprotocol not offered at all",
            &none,
            response(
                line,
                &[UPGRADE, CONNECTION, ACCEPT, "Sec-WebSocket-Protocol: chat"],
            ),
            Err(E::UnexpectedSubprotocol),
        ),
        (
            "subprotocol offered",
            &OFFER,
            response(
                line,
                &[
                    UPGRADE,
                    CONNECTION,
                    ACCEPT,
                    "Sec-WebSocket-Protocol: superchat",
                ],
            ),
            Ok((s("superchat"), None)),
        ),
        (
            "subprotocol not among offers",
            &OFFER,
            response(
                line,
                &[UPGRADE, CONNECTION, ACCEPT, "Sec-WebSocket-Protocol: other"],
            ),
            Err(E::UnexpectedSubprotocol),
        ),
        (
            "two subprotocols",
            &OFFER,
            response(
                line,
                &[
                    UPGRADE,
                    CONNECTION,
                    ACCEPT,
                    "Sec-WebSocket-Protocol: chat, superchat",
                ],
            ),
            Err(E::UnexpectedSubprotocol),
        ),
        (
            "no subprotocol chosen",
            &OFFER,
            response(line, &[UPGRADE, CONNECTION, ACCEPT]),
            Ok((None, None)),
        ),
        (
            "extension offered",
            &OFFER,
            response(
                line,
                &[
                    UPGRADE,
                    CONNECTION,
                    ACCEPT,
                    "Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover",
                ],
            ),
            Ok((None, s("permessage-deflate; server_no_context_takeover"))),
        ),
        (
            "extension not offered",
            &OFFER,
            response(
                line,
                &[
                    UPGRADE,
                    CONNECTION,
                    ACCEPT,
                    "Sec-WebSocket-Extensions: permessage-deflate, x-other",
                ],
            ),
            Err(E::UnexpectedExtension),
        ),
        (
            "extension when none offered",
            &none,
            response(
                line,
                &[
                    UPGRADE,
                    CONNECTION,
                    ACCEPT,
                    "Sec-WebSocket-Extensions: permessage-deflate",
                ],
            ),
            Err(E::UnexpectedExtension),
        ),
        (
            // Found by the handshake_response fuzz target: the unclosed quote swallowed the rest
            // of the list, so a plain comma split saw ":" while the list scan saw one element.
            "extension answer with an unclosed quote",
            &OFFER,
            response(
                line,
                &[
                    UPGRADE,
                    CONNECTION,
                    ACCEPT,
                    "Sec-WebSocket-Extensions: permessage-deflate; x;de\",:,,U",
                ],
            ),
            Err(E::UnexpectedExtension),
        ),
        (
            "extension answer name is not a token",
            &OFFER,
            response(
                line,
                &[
                    UPGRADE,
                    CONNECTION,
                    ACCEPT,
                    "Sec-WebSocket-Extensions: permessage-deflate, @x",
                ],
            ),
            Err(E::UnexpectedExtension),
        ),
        (
            "extension answer with a quoted comma",
            &OFFER,
            response(
                line,
                &[
                    UPGRADE,
                    CONNECTION,
                    ACCEPT,
                    "Sec-WebSocket-Extensions: permessage-deflate; x=\"a,b\"",
                ],
            ),
            Ok((None, s("permessage-deflate; x=\"a,b\""))),
        ),
        (
            "empty extension answer names none",
            &OFFER,
            response(
                line,
                &[UPGRADE, CONNECTION, ACCEPT, "Sec-WebSocket-Extensions: "],
            ),
            Ok((None, None)),
        ),
        (
            "control byte in value",
            &none,
            response(line, &[UPGRADE, CONNECTION, ACCEPT, "Server: a\x01"]),
            Err(E::InvalidHeaderValue),
        ),
    ];
    for (name, offer, bytes, expected) in cases {
        assert_eq!(check(offer, &bytes), expected, "{name}");
    }
}

#[test]
fn response_fed_byte_by_byte_keeps_frame_bytes() {
    let mut bytes = response(
        "HTTP/1.1 101 Switching Protocols",
        &[UPGRADE, CONNECTION, ACCEPT],
    );
    let head_len = bytes.len();
    bytes.extend_from_slice(b"\x81\x05Hello");
    let expected = accept_key(b"AAECAwQFBgcICQoLDA0ODw==");
    let offer = ClientRequest {
        host: "h",
        path: "/",
        ..ClientRequest::default()
    };
    let mut parser = ResponseParser::new(HeadLimits::DEFAULT);
    let mut headers = [Header::EMPTY; 8];
    for end in 0..head_len {
        assert_eq!(
            parser.feed(&bytes[..end], &mut headers, &offer, &expected),
            Ok(Status::Partial)
        );
    }
    let Ok(Status::Complete((response, len))) =
        parser.feed(&bytes, &mut headers, &offer, &expected)
    else {
        panic!()
    };
    assert_eq!((len, response.headers.len()), (head_len, 3));
    assert_eq!(&bytes[len..], b"\x81\x05Hello");
}

#[test]
fn response_limits() {
    let expected = accept_key(b"AAECAwQFBgcICQoLDA0ODw==");
    let offer = ClientRequest {
        host: "h",
        path: "/",
        ..ClientRequest::default()
    };
    let mut headers = [Header::EMPTY; 2];
    let bytes = response(
        "HTTP/1.1 101 Switching Protocols",
        &[UPGRADE, CONNECTION, ACCEPT],
    );
    let got =
        ResponseParser::new(HeadLimits::DEFAULT).feed(&bytes, &mut headers, &offer, &expected);
    assert_eq!(got, Err(E::TooManyHeaders));
    let mut headers = [Header::EMPTY; 8];
    let small = HeadLimits {
        max_head_bytes: 64,
        max_headers: 8,
    };
    let got = ResponseParser::new(small).feed(&bytes, &mut headers, &offer, &expected);
    assert_eq!(got, Err(E::HeadTooLarge));
}

#[test]
fn in_memory_handshake_through_the_public_api() {
    // Client writes its request.
    let mut wire = [0u8; 512];
    let (len, expected) = write_client_request(&OFFER, NONCE, &mut wire).unwrap();
    assert_eq!(expected.as_str(), NONCE_ACCEPT);

    // Server parses and validates it, picks the second subprotocol, answers 101.
    let mut headers = [Header::EMPTY; 16];
    let Ok(Status::Complete((request, used))) =
        RequestParser::new(HeadLimits::DEFAULT).feed(&wire[..len], &mut headers)
    else {
        panic!("request did not parse")
    };
    assert_eq!(used, len);
    assert_eq!(
        (request.path, request.query, request.cookie("sid")),
        ("/chat", Some("room=1"), Some("abc"))
    );
    let upgrade = request.upgrade().unwrap();
    let chosen = request.subprotocols().find(|p| *p == "superchat");
    let mut reply = [0u8; 512];
    let accept = Accept {
        subprotocol: chosen,
        extensions: None,
        extra_headers: &[],
    };
    let reply_len = write_accept_response(upgrade.key, &accept, &mut reply).unwrap();

    // Client validates the 101.
    let mut response_headers = [Header::EMPTY; 16];
    let got = ResponseParser::new(HeadLimits::DEFAULT).feed(
        &reply[..reply_len],
        &mut response_headers,
        &OFFER,
        &expected,
    );
    let Ok(Status::Complete((response, used))) = got else {
        panic!("{got:?}")
    };
    assert_eq!((response.subprotocol, used), (Some("superchat"), reply_len));
}

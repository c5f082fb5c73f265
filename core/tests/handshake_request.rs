//! RFC 6455 §4.2.1: the server's request parser and upgrade validation, with exact bytes.

use ws_core::handshake::{accept_key, Extension, Header, Request, RequestParser, Status};
use ws_core::limits::HeadLimits;
use ws_core::HandshakeError as E;

/// The request Chrome 64 sent in the seed text, byte for byte.
const CHROME: &[u8] = b"GET /chat HTTP/1.1\r\n\
Host: 127.0.0.1:8000\r\n\
Connection: Upgrade\r\n\
Pragma: no-cache\r\n\
Cache-Control: no-cache\r\n\
Upgrade: websocket\r\n\
Origin: http://localhost:63342\r\n\
Sec-WebSocket-Version: 13\r\n\
User-Agent: Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/64.0.3282.186 Safari/537.36\r\n\
Accept-Encoding: gzip, deflate, br\r\n\
Accept-Language: zh-CN,zh;q=0.9\r\n\
Sec-WebSocket-Key: CyiOUMgm4Qd6WyjLQ+YbrA==\r\n\
Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\
\r\n";

/// A minimal valid upgrade; tests replace or drop single lines of it.
const BASE: [&str; 6] = [
    "GET /chat HTTP/1.1",
    "Host: server.example.com",
    "Upgrade: websocket",
    "Connection: Upgrade",
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
    "Sec-WebSocket-Version: 13",
];

/// Joins lines into a head with CR LF endings and the empty line.
fn head(lines: &[&str]) -> Vec<u8> {
    let mut out = Vec::new();
    for line in lines {
        out.extend_from_slice(line.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out
}

/// `BASE` with the line starting with `prefix` replaced by `with` (dropped when `with` is empty).
fn replace(prefix: &str, with: &str) -> Vec<u8> {
    let lines: Vec<&str> = BASE
        .iter()
        .map(|l| if l.starts_with(prefix) { with } else { l })
        .filter(|l| !l.is_empty())
        .collect();
    head(&lines)
}

/// `BASE` with `extra` lines appended.
fn with_extra(extra: &[&str]) -> Vec<u8> {
    let lines: Vec<&str> = BASE.iter().copied().chain(extra.iter().copied()).collect();
    head(&lines)
}

/// Parses `bytes` in one call with the default limits and 64 header slots and applies `f`.
fn parse<T>(bytes: &[u8], f: impl FnOnce(Request<'_, '_>, usize) -> T) -> Result<T, E> {
    let mut headers = [Header::EMPTY; 64];
    match RequestParser::new(HeadLimits::DEFAULT).feed(bytes, &mut headers)? {
        Status::Complete((request, len)) => Ok(f(request, len)),
        Status::Partial => panic!("partial: {:?}", String::from_utf8_lossy(bytes)),
    }
}

fn upgrade(bytes: &[u8]) -> Result<String, E> {
    parse(bytes, |r, _| r.upgrade().map(|u| u.key.to_string()))?
}

#[test]
fn seed_chrome_request_parses_and_is_answered() {
    // The expected accept was computed independently, once, with Python:
    // base64.b64encode(hashlib.sha1(b"CyiOUMgm4Qd6WyjLQ+YbrA==" + GUID).digest())
    parse(CHROME, |r, len| {
        assert_eq!(len, CHROME.len());
        assert_eq!(
            (r.method, r.path, r.query, r.minor_version),
            ("GET", "/chat", None, 1)
        );
        assert_eq!(r.headers.len(), 12);
        assert_eq!(r.host(), Some("127.0.0.1:8000"));
        assert_eq!(r.origin(), Some("http://localhost:63342"));
        assert_eq!(r.header("accept-language"), Some("zh-CN,zh;q=0.9"));
        assert_eq!(r.header("PRAGMA"), Some("no-cache"));
        assert!(r.is_upgrade());
        assert_eq!(r.subprotocols().count(), 0);
        let ext: Vec<_> = r.extensions().collect();
        assert_eq!(
            ext,
            [Extension {
                name: "permessage-deflate",
                params: "client_max_window_bits"
            }]
        );
        let upgrade = r.upgrade().unwrap();
        assert_eq!(upgrade.key, "CyiOUMgm4Qd6WyjLQ+YbrA==");
        assert_eq!(
            upgrade.accept_key().as_str(),
            "nymowmuKXWbqPvpiQJiVmLHGw48="
        );
    })
    .unwrap();
}

#[test]
fn rfc_accept_example() {
    assert_eq!(
        accept_key(b"dGhlIHNhbXBsZSBub25jZQ==").as_str(),
        "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
    );
}

#[test]
fn upgrade_rules_table() {
    let ok = Ok("dGhlIHNhbXBsZSBub25jZQ==".to_string());
    let cases: Vec<(&str, Vec<u8>, Result<String, E>)> = vec![
        ("base", head(&BASE), ok.clone()),
        (
            "POST",
            replace("GET", "POST /chat HTTP/1.1"),
            Err(E::MethodNotAllowed),
        ),
        (
            "lowercase get",
            replace("GET", "get /chat HTTP/1.1"),
            Err(E::MethodNotAllowed),
        ),
        (
            "HTTP/1.0",
            replace("GET", "GET /chat HTTP/1.0"),
            Err(E::UnsupportedHttpVersion),
        ),
        ("HTTP/1.2", replace("GET", "GET /chat HTTP/1.2"), ok.clone()),
        ("no Host", replace("Host", ""), Err(E::MissingHost)),
        ("empty Host", replace("Host", "Host:"), Err(E::MissingHost)),
        (
            "blank Host",
            replace("Host", "Host:   "),
            Err(E::MissingHost),
        ),
        ("two Hosts", with_extra(&["Host: b"]), Err(E::Malformed)),
        ("no Upgrade", replace("Upgrade", ""), Err(E::MissingUpgrade)),
        (
            "Upgrade: h2c",
            replace("Upgrade", "Upgrade: h2c"),
            Err(E::MissingUpgrade),
        ),
        (
            "Upgrade list",
            replace("Upgrade", "Upgrade: h2c, WebSocket"),
            ok.clone(),
        ),
        (
            "Upgrade case",
            replace("Upgrade", "upgrade: WEBSOCKET"),
            ok.clone(),
        ),
        (
            "Upgrade substring",
            replace("Upgrade", "Upgrade: websockets"),
            Err(E::MissingUpgrade),
        ),
        (
            "no Connection",
            replace("Connection", ""),
            Err(E::MissingConnectionUpgrade),
        ),
        (
            "Connection keep-alive",
            replace("Connection", "Connection: keep-alive"),
            Err(E::MissingConnectionUpgrade),
        ),
        (
            "keep-alive, Upgrade",
            replace("Connection", "Connection: keep-alive, Upgrade"),
            ok.clone(),
        ),
        (
            "Connection case",
            replace("Connection", "CONNECTION: upgrade"),
            ok.clone(),
        ),
        (
            "Connection in two headers",
            head(&[
                BASE[0],
                BASE[1],
                BASE[2],
                "Connection: keep-alive",
                "Connection: Upgrade",
                BASE[4],
                BASE[5],
            ]),
            ok.clone(),
        ),
        (
            "no key",
            replace("Sec-WebSocket-Key", ""),
            Err(E::MissingKey),
        ),
        (
            "empty key",
            replace("Sec-WebSocket-Key", "Sec-WebSocket-Key:"),
            Err(E::InvalidKey),
        ),
        (
            "key of 15 bytes",
            replace(
                "Sec-WebSocket-Key",
                "Sec-WebSocket-Key: AAECAwQFBgcICQoLDA0O",
            ),
            Err(E::InvalidKey),
        ),
        (
            "key of 17 bytes",
            replace(
                "Sec-WebSocket-Key",
                "Sec-WebSocket-Key: AAECAwQFBgcICQoLDA0ODxA=",
            ),
            Err(E::InvalidKey),
        ),
        (
            "key without padding",
            replace(
                "Sec-WebSocket-Key",
                "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ",
            ),
            Err(E::InvalidKey),
        ),
        (
            "key not base64",
            replace(
                "Sec-WebSocket-Key",
                "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZ!==",
            ),
            Err(E::InvalidKey),
        ),
        (
            "duplicate key",
            with_extra(&["sec-websocket-key: AAECAwQFBgcICQoLDA0ODw=="]),
            Err(E::DuplicateKey),
        ),
        (
            "no version",
            replace("Sec-WebSocket-Version", ""),
            Err(E::UnsupportedVersion),
        ),
        (
            "version 8",
            replace("Sec-WebSocket-Version", "Sec-WebSocket-Version: 8"),
            Err(E::UnsupportedVersion),
        ),
        (
            "version list",
            replace("Sec-WebSocket-Version", "Sec-WebSocket-Version: 13, 8"),
            Err(E::UnsupportedVersion),
        ),
        (
            "two versions",
            with_extra(&["Sec-WebSocket-Version: 13"]),
            Err(E::UnsupportedVersion),
        ),
        (
            "version with spaces",
            replace("Sec-WebSocket-Version", "Sec-WebSocket-Version: \t 13 \t"),
            ok.clone(),
        ),
    ];
    for (name, bytes, expected) in cases {
        assert_eq!(upgrade(&bytes), expected, "{name}");
    }
}

#[test]
fn error_statuses() {
    let cases = [
        (E::MethodNotAllowed, 405),
        (E::UnsupportedVersion, 426),
        (E::HeadTooLarge, 431),
        (E::TooManyHeaders, 431),
        (E::Forbidden, 403),
        (E::MissingKey, 400),
        (E::InvalidKey, 400),
        (E::DuplicateKey, 400),
        (E::MissingHost, 400),
        (E::UnsupportedHttpVersion, 400),
        (E::InvalidHeaderValue, 400),
        (E::Malformed, 400),
    ];
    for (error, status) in cases {
        assert_eq!(error.status(), status, "{error:?}");
    }
}

#[test]
fn plain_http_requests_parse() {
    let post = b"POST /login?next=%2F HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nx=1";
    parse(post, |r, len| {
        assert_eq!(
            (r.method, r.path, r.query),
            ("POST", "/login", Some("next=%2F"))
        );
        assert_eq!(len, post.len() - 3);
        assert!(!r.is_upgrade());
        assert_eq!(r.upgrade(), Err(E::MethodNotAllowed));
    })
    .unwrap();
    let page = b"GET /index.html HTTP/1.1\r\nHost: a\r\n\r\n";
    parse(page, |r, _| {
        assert!(!r.is_upgrade());
        assert_eq!(r.upgrade(), Err(E::MissingUpgrade));
    })
    .unwrap();
    parse(b"GET / HTTP/1.0\r\n\r\n", |r, _| {
        assert_eq!(r.minor_version, 0)
    })
    .unwrap();
    parse(b"OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", |r, _| {
        assert_eq!(r.path, "*")
    })
    .unwrap();
}

#[test]
fn malformed_heads() {
    let cases: [(&str, &[u8], E); 16] = [
        (
            "bare LF ends line",
            b"GET / HTTP/1.1\nHost: a\r\n\r\n",
            E::Malformed,
        ),
        (
            "bare LF head end",
            b"GET / HTTP/1.1\r\nHost: a\r\n\n",
            E::Malformed,
        ),
        (
            "bare CR",
            b"GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n",
            E::Malformed,
        ),
        (
            "empty start line",
            b"\r\nGET / HTTP/1.1\r\n\r\n",
            E::Malformed,
        ),
        ("no version", b"GET /\r\n\r\n", E::Malformed),
        ("HTTP/2.0", b"GET / HTTP/2.0\r\n\r\n", E::Malformed),
        ("double space", b"GET  / HTTP/1.1\r\n\r\n", E::Malformed),
        ("lowercase http", b"GET / http/1.1\r\n\r\n", E::Malformed),
        (
            "space before colon",
            b"GET / HTTP/1.1\r\nHost : a\r\n\r\n",
            E::Malformed,
        ),
        (
            "no colon",
            b"GET / HTTP/1.1\r\nHost a\r\n\r\n",
            E::Malformed,
        ),
        (
            "obs-fold",
            b"GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n",
            E::Malformed,
        ),
        ("empty name", b"GET / HTTP/1.1\r\n: b\r\n\r\n", E::Malformed),
        (
            "NUL in value",
            b"GET / HTTP/1.1\r\nA: b\0c\r\n\r\n",
            E::InvalidHeaderValue,
        ),
        (
            "DEL in value",
            b"GET / HTTP/1.1\r\nA: b\x7f\r\n\r\n",
            E::InvalidHeaderValue,
        ),
        (
            "non-ASCII value",
            "GET / HTTP/1.1\r\nA: é\r\n\r\n".as_bytes(),
            E::InvalidHeaderValue,
        ),
        (
            "form feed at end",
            b"GET / HTTP/1.1\r\nA: b\x0c\r\n\r\n",
            E::InvalidHeaderValue,
        ),
    ];
    for (name, bytes, error) in cases {
        let mut headers = [Header::EMPTY; 8];
        let got = RequestParser::new(HeadLimits::DEFAULT).feed(bytes, &mut headers);
        assert_eq!(got, Err(error), "{name}");
    }
}

#[test]
fn header_values_are_trimmed_and_names_case_insensitive() {
    let bytes = b"GET / HTTP/1.1\r\nX-A:\t  spaced  value \t\r\nx-b:\r\nCookie: sid=abc; theme=dark\r\ncookie: lang=en\r\n\r\n";
    parse(bytes, |r, _| {
        assert_eq!(r.header("X-a"), Some("spaced  value"));
        assert_eq!(r.header("X-B"), Some(""));
        assert_eq!(r.headers[0].name, "X-A");
        assert_eq!(r.cookie("sid"), Some("abc"));
        assert_eq!(r.cookie("theme"), Some("dark"));
        assert_eq!(r.cookie("lang"), Some("en"));
        assert_eq!(r.cookie("SID"), None);
        assert_eq!(r.cookies().count(), 3);
    })
    .unwrap();
}

#[test]
fn subprotocols_and_extensions_lists() {
    let bytes = with_extra(&[
        "Sec-WebSocket-Protocol: chat, superchat",
        "sec-websocket-protocol: ,v2.json ,",
        "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits, x-foo",
        "Sec-WebSocket-Extensions: x-q; p=\"a,b\\\"c,d\"; z, x-last",
        "Sec-WebSocket-Extensions: @bad, two words; p, \"q\"",
    ]);
    parse(&bytes, |r, _| {
        let protocols: Vec<_> = r.subprotocols().collect();
        assert_eq!(protocols, ["chat", "superchat", "v2.json"]);
        let ext: Vec<_> = r.extensions().collect();
        assert_eq!(
            ext,
            [
                Extension {
                    name: "permessage-deflate",
                    params: "client_max_window_bits"
                },
                Extension {
                    name: "x-foo",
                    params: ""
                },
                Extension {
                    name: "x-q",
                    params: "p=\"a,b\\\"c,d\"; z"
                },
                Extension {
                    name: "x-last",
                    params: ""
                },
            ]
        );
    })
    .unwrap();
}

#[test]
fn partial_until_blank_line_and_trailing_bytes_kept() {
    let mut input = CHROME.to_vec();
    input.extend_from_slice(b"\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58");
    let mut parser = RequestParser::new(HeadLimits::DEFAULT);
    let mut headers = [Header::EMPTY; 16];
    for end in 0..CHROME.len() {
        assert_eq!(
            parser.feed(&input[..end], &mut headers),
            Ok(Status::Partial),
            "prefix {end}"
        );
    }
    let Ok(Status::Complete((request, len))) = parser.feed(&input, &mut headers) else {
        panic!()
    };
    assert_eq!(len, CHROME.len());
    assert_eq!(request.upgrade().unwrap().key, "CyiOUMgm4Qd6WyjLQ+YbrA==");
}

#[test]
fn byte_at_a_time_equals_one_shot() {
    for bytes in [
        CHROME.to_vec(),
        with_extra(&["Sec-WebSocket-Protocol: a, b", "X: y"]),
    ] {
        let mut one_shot = [Header::EMPTY; 16];
        let expected = RequestParser::new(HeadLimits::DEFAULT).feed(&bytes, &mut one_shot);
        let expected = format!("{expected:?}");
        let mut parser = RequestParser::new(HeadLimits::DEFAULT);
        let mut headers = [Header::EMPTY; 16];
        for end in 1..bytes.len() {
            assert_eq!(
                parser.feed(&bytes[..end], &mut headers),
                Ok(Status::Partial)
            );
        }
        assert_eq!(format!("{:?}", parser.feed(&bytes, &mut headers)), expected);
    }
}

/// A head of `size` bytes: the request line, `X: aaa…` padding headers, the empty line.
fn padded_head(size: usize, header_count: usize) -> Vec<u8> {
    let mut out = b"GET / HTTP/1.1\r\n".to_vec();
    let per = (size - out.len() - 2) / header_count;
    for i in 0..header_count {
        let len = if i + 1 == header_count {
            size - out.len() - 2
        } else {
            per
        };
        out.extend_from_slice(b"X: ");
        out.extend(std::iter::repeat_n(b'a', len - 5));
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    assert_eq!(out.len(), size);
    out
}

#[test]
fn head_of_exactly_8_kib_fed_byte_by_byte_completes() {
    // 8193 calls on a head at the size limit, each answered from the new byte alone (the scan
    // position only grows: see `bytes_already_scanned_are_never_examined_again`), then one parse.
    let bytes = padded_head(8192, 64);
    let mut parser = RequestParser::new(HeadLimits::DEFAULT);
    let mut headers = [Header::EMPTY; 64];
    for end in 0..bytes.len() {
        assert_eq!(
            parser.feed(&bytes[..end], &mut headers),
            Ok(Status::Partial)
        );
    }
    let Ok(Status::Complete((request, len))) = parser.feed(&bytes, &mut headers) else {
        panic!()
    };
    assert_eq!((len, request.headers.len()), (8192, 64));
}

/// One-shot outcome with `slots` header slots: the head length or the error.
fn outcome(limits: HeadLimits, bytes: &[u8], slots: usize) -> Result<Option<usize>, E> {
    let mut headers = vec![Header::EMPTY; slots];
    Ok(
        match RequestParser::new(limits).feed(bytes, &mut headers)? {
            Status::Complete((_, len)) => Some(len),
            Status::Partial => None,
        },
    )
}

#[test]
fn head_limits_answer_431_before_the_head_is_complete() {
    let limits = HeadLimits::DEFAULT;
    // One byte too many: 431 as soon as 8192 bytes are in without the blank line.
    let big = padded_head(8193, 64);
    let mut parser = RequestParser::new(limits);
    let mut headers = [Header::EMPTY; 64];
    assert_eq!(parser.feed(&big[..8191], &mut headers), Ok(Status::Partial));
    assert_eq!(
        parser.feed(&big[..8192], &mut headers),
        Err(E::HeadTooLarge)
    );
    // A stream that never ends its head fails at the limit too.
    assert_eq!(
        outcome(limits, &vec![b'a'; 100_000], 64),
        Err(E::HeadTooLarge)
    );

    // 65 headers: fails when the 65th line ends, before the blank line.
    let many = padded_head(4000, 65);
    assert_eq!(
        outcome(limits, &many[..many.len() - 2], 64),
        Err(E::TooManyHeaders)
    );
    assert_eq!(outcome(limits, &many[..many.len() - 3], 64), Ok(None));
    assert_eq!(outcome(limits, &padded_head(4000, 64), 64), Ok(Some(4000)));
    assert_eq!(outcome(limits, &padded_head(4000, 64), 100), Ok(Some(4000)));

    // The caller's slice bounds the count too.
    assert_eq!(
        outcome(limits, &padded_head(400, 5), 4),
        Err(E::TooManyHeaders)
    );
    assert_eq!(outcome(limits, &padded_head(400, 4), 4), Ok(Some(400)));

    // Configured limits.
    let small = HeadLimits {
        max_head_bytes: 100,
        max_headers: 2,
    };
    assert_eq!(
        outcome(small, &padded_head(101, 1), 64),
        Err(E::HeadTooLarge)
    );
    assert_eq!(outcome(small, &padded_head(101, 1)[..99], 64), Ok(None));
    assert_eq!(outcome(small, &padded_head(100, 1), 64), Ok(Some(100)));
    assert_eq!(outcome(small, &padded_head(100, 2), 64), Ok(Some(100)));
    assert_eq!(
        outcome(small, &padded_head(100, 3), 64),
        Err(E::TooManyHeaders)
    );
}

#[test]
fn shorter_input_after_progress_is_partial_not_a_panic() {
    let mut parser = RequestParser::new(HeadLimits::DEFAULT);
    let mut headers = [Header::EMPTY; 16];
    assert_eq!(
        parser.feed(&CHROME[..50], &mut headers),
        Ok(Status::Partial)
    );
    assert_eq!(
        parser.feed(&CHROME[..10], &mut headers),
        Ok(Status::Partial)
    );
    assert!(matches!(
        parser.feed(CHROME, &mut headers),
        Ok(Status::Complete(_))
    ));
    // Feeding again after completion gives the same request.
    assert!(
        matches!(parser.feed(CHROME, &mut headers), Ok(Status::Complete((_, l))) if l == CHROME.len())
    );
}

#[test]
fn bytes_already_scanned_are_never_examined_again() {
    // The parser keeps its scan position: after a prefix was scanned, a later call only looks at
    // the new bytes. Proof without timing: overwrite the scanned prefix with bare LFs (which the
    // scanner rejects wherever it sees them) and the call still answers Partial. A parser that
    // re-scanned from the start would answer Malformed here.
    let mut parser = RequestParser::new(HeadLimits::DEFAULT);
    let mut headers = [Header::EMPTY; 16];
    assert_eq!(
        parser.feed(&CHROME[..40], &mut headers),
        Ok(Status::Partial)
    );
    let mut tampered = vec![b'\n'; 40];
    tampered.extend_from_slice(&CHROME[40..60]);
    assert_eq!(parser.feed(&tampered, &mut headers), Ok(Status::Partial));
    // The same bytes from a fresh parser are rejected at once.
    let fresh = RequestParser::new(HeadLimits::DEFAULT).feed(&tampered, &mut headers);
    assert_eq!(fresh, Err(E::Malformed));
}

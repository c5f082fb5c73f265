//! `handshake_request` and `handshake_response`: the streaming head parsers give the same result
//! however the head is split, return only the errors their side documents, never claim more
//! bytes than they were given, and agree with the writers of the other side.

use crate::input::Input;
use ws_core::handshake::{
    accept_key, write_accept_response, write_client_request, write_error_response, Accept,
    AcceptKey, ClientRequest, Header, RequestParser, ResponseParser, Status,
};
use ws_core::limits::HeadLimits;
use ws_core::HandshakeError;

/// Head limits small enough for the fuzzer to reach (the defaults are 8 KiB and 64 headers).
pub const LIMITS: HeadLimits = HeadLimits {
    max_head_bytes: 2048,
    max_headers: 16,
};

/// The nonce the client checks use (RFC 6455 §4.1's example: key `dGhlIHNhbXBsZSBub25jZQ==`).
pub const NONCE: [u8; 16] = *b"the sample nonce";

/// A parsed request head, owned, to compare runs.
#[derive(Debug, PartialEq, Eq)]
struct RequestView {
    method: String,
    path: String,
    query: Option<String>,
    minor_version: u8,
    headers: Vec<(String, String)>,
    len: usize,
    upgrade: Result<String, HandshakeError>,
}

fn owned(headers: &[Header<'_>]) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|h| (h.name.to_owned(), h.value.to_owned()))
        .collect()
}

fn feed_request(
    parser: &mut RequestParser,
    bytes: &[u8],
) -> Result<Option<RequestView>, HandshakeError> {
    let mut headers = [Header::EMPTY; LIMITS.max_headers];
    match parser.feed(bytes, &mut headers)? {
        Status::Partial => Ok(None),
        Status::Complete((req, len)) => {
            assert!(
                len <= bytes.len(),
                "head length {len} > input {}",
                bytes.len()
            );
            assert!(
                len <= LIMITS.max_head_bytes,
                "head of {len} bytes passed the limit"
            );
            assert!(req.headers.len() <= LIMITS.max_headers);
            assert!(
                bytes[..len].ends_with(b"\r\n\r\n"),
                "head does not end in CRLF CRLF"
            );
            // Every accessor runs on any accepted head.
            let _ = (
                req.host(),
                req.origin(),
                req.cookie("session"),
                req.is_upgrade(),
            );
            let _ = (req.cookies().count(), req.subprotocols().count());
            // Extension names are not checked to be tokens: `; x` yields an empty name (see the
            // fuzz report; negotiation then simply finds no match).
            let _ = req.extensions().count();
            Ok(Some(RequestView {
                method: req.method.to_owned(),
                path: req.path.to_owned(),
                query: req.query.map(str::to_owned),
                minor_version: req.minor_version,
                headers: owned(req.headers),
                len,
                upgrade: req.upgrade().map(|u| u.key.to_owned()),
            }))
        }
    }
}

/// Feeds `head` cut at `cuts` to one parser, stopping at the first complete or error result.
fn incremental<T>(
    cuts: &[usize],
    head: &[u8],
    mut feed: impl FnMut(&[u8]) -> Result<Option<T>, HandshakeError>,
) -> Result<Option<T>, HandshakeError> {
    for &cut in cuts {
        match feed(&head[..cut]) {
            Ok(None) => {}
            done => return done,
        }
    }
    feed(head)
}

fn check_error_response(e: HandshakeError) {
    let status = e.status();
    assert!(
        matches!(status, 400 | 403 | 405 | 426 | 431),
        "{e:?} -> {status}"
    );
    let mut out = [0u8; 1024];
    let n = write_error_response(e, &mut out).unwrap_or_else(|t| panic!("{e:?}: {t:?}"));
    let prefix = format!("HTTP/1.1 {status} ");
    assert!(
        out[..n].starts_with(prefix.as_bytes()),
        "{e:?}: {:?}",
        String::from_utf8_lossy(&out[..n])
    );
}

/// Input: a cut list ([`Input::cuts_then_rest`]) then the request head. Checks: the head fed in
/// pieces gives the same request, head length and upgrade verdict as fed at once; only
/// server-side errors occur, each with an error response; an accepted upgrade gets a 101 that
/// the client-side validator accepts.
pub fn handshake_request(data: &[u8]) {
    let (cuts, head) = Input::new(data).cuts_then_rest();
    let one_shot = feed_request(&mut RequestParser::new(LIMITS), head);
    let mut parser = RequestParser::new(LIMITS);
    let pieces = incremental(&cuts, head, |b| feed_request(&mut parser, b));
    assert_eq!(pieces, one_shot, "split at {cuts:?} changed the result");

    let view = match one_shot {
        Ok(Some(view)) => view,
        Ok(None) => return,
        Err(e) => {
            assert_server_error(e);
            return check_error_response(e);
        }
    };
    match view.upgrade {
        Err(e) => {
            assert_server_error(e);
            check_error_response(e);
        }
        Ok(key) => {
            let mut response = [0u8; 512];
            let n = write_accept_response(&key, &Accept::default(), &mut response)
                .unwrap_or_else(|e| panic!("101 for key {key:?}: {e:?}"));
            let expected = accept_key(key.as_bytes());
            let request = ClientRequest::default();
            let mut headers = [Header::EMPTY; LIMITS.max_headers];
            let verdict =
                ResponseParser::new(LIMITS).feed(&response[..n], &mut headers, &request, &expected);
            assert!(
                matches!(verdict, Ok(Status::Complete((_, len))) if len == n),
                "our 101 for key {key:?} was not accepted: {verdict:?}"
            );
        }
    }
}

fn assert_server_error(e: HandshakeError) {
    assert!(
        !matches!(
            e,
            HandshakeError::NotSwitchingProtocols(_)
                | HandshakeError::AcceptMismatch
                | HandshakeError::UnexpectedSubprotocol
                | HandshakeError::UnexpectedExtension
                | HandshakeError::Forbidden
        ),
        "client-side or application error {e:?} from the request parser"
    );
}

/// The client's offer: bit 0 of `flags` offers subprotocols, bit 1 permessage-deflate.
pub fn client_request(flags: u8) -> ClientRequest<'static> {
    ClientRequest {
        host: "127.0.0.1:8000",
        path: "/chat",
        origin: Some("http://localhost:63342"),
        subprotocols: if flags & 1 == 1 {
            &["chat", "superchat"]
        } else {
            &[]
        },
        extensions: (flags & 2 == 2).then_some("permessage-deflate; client_max_window_bits"),
        extra_headers: &[],
    }
}

/// The extension names in a `Sec-WebSocket-Extensions` value (empty elements skipped).
fn extension_names(value: &str) -> Vec<String> {
    // Split on the commas outside quoted strings (RFC 7230 §3.2.6); a name is what comes before
    // the first `;` of an element.
    let mut elements = vec![String::new()];
    let (mut quoted, mut escaped) = (false, false);
    for c in value.chars() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            ',' if !quoted => {
                elements.push(String::new());
                continue;
            }
            _ => {}
        }
        if let Some(last) = elements.last_mut() {
            last.push(c);
        }
    }
    assert!(!quoted, "accepted an unclosed quoted string: {value:?}");
    elements
        .iter()
        .map(|e| {
            e.split(';')
                .next()
                .unwrap_or("")
                .trim_matches([' ', '\t'])
                .to_ascii_lowercase()
        })
        .filter(|name| !name.is_empty())
        .inspect(|name| {
            assert!(
                name.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)),
                "accepted an extension name that is not a token: {name:?}"
            )
        })
        .collect()
}

/// A validated response, owned.
#[derive(Debug, PartialEq, Eq)]
struct ResponseView {
    subprotocol: Option<String>,
    extensions: Option<String>,
    headers: Vec<(String, String)>,
    len: usize,
}

fn feed_response(
    parser: &mut ResponseParser,
    bytes: &[u8],
    request: &ClientRequest<'_>,
    expected: &AcceptKey,
) -> Result<Option<ResponseView>, HandshakeError> {
    let mut headers = [Header::EMPTY; LIMITS.max_headers];
    match parser.feed(bytes, &mut headers, request, expected)? {
        Status::Partial => Ok(None),
        Status::Complete((resp, len)) => {
            assert!(
                len <= bytes.len() && len <= LIMITS.max_head_bytes,
                "head length {len}"
            );
            Ok(Some(ResponseView {
                subprotocol: resp.subprotocol.map(str::to_owned),
                extensions: resp.extensions.map(str::to_owned),
                headers: owned(resp.headers),
                len,
            }))
        }
    }
}

/// Input: a flags byte (see [`client_request`]), a cut list, then the response head. Checks: the
/// client's request parses as a valid upgrade on the server side with the same accept value;
/// the response fed in pieces gives the same verdict as at once; an accepted response carries
/// exactly our accept value and only what we offered; only documented errors occur.
pub fn handshake_response(data: &[u8]) {
    let mut input = Input::new(data);
    let request = client_request(input.u8());
    let (cuts, head) = input.cuts_then_rest();

    let mut out = [0u8; 1024];
    let (n, expected) = write_client_request(&request, NONCE, &mut out).expect("client request");
    let mut headers = [Header::EMPTY; LIMITS.max_headers];
    match RequestParser::new(LIMITS).feed(&out[..n], &mut headers) {
        Ok(Status::Complete((req, len))) => {
            assert_eq!(len, n);
            let upgrade = req
                .upgrade()
                .expect("our client request is a valid upgrade");
            assert_eq!(upgrade.key, "dGhlIHNhbXBsZSBub25jZQ==");
            assert_eq!(upgrade.accept_key(), expected);
            assert_eq!(expected.as_str(), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
        }
        other => panic!("our client request did not parse: {other:?}"),
    }

    let one_shot = feed_response(&mut ResponseParser::new(LIMITS), head, &request, &expected);
    let mut parser = ResponseParser::new(LIMITS);
    let pieces = incremental(&cuts, head, |b| {
        feed_response(&mut parser, b, &request, &expected)
    });
    assert_eq!(pieces, one_shot, "split at {cuts:?} changed the result");

    match one_shot {
        Ok(Some(view)) => {
            let accepts: Vec<_> = view
                .headers
                .iter()
                .filter(|(name, _)| name.eq_ignore_ascii_case("sec-websocket-accept"))
                .collect();
            assert_eq!(
                accepts.len(),
                1,
                "accepted without exactly one accept header"
            );
            assert_eq!(accepts[0].1, expected.as_str());
            if let Some(p) = &view.subprotocol {
                assert!(
                    request.subprotocols.contains(&p.as_str()),
                    "not offered: {p:?}"
                );
            }
            // Every extension named in the chosen value was offered (an empty value names none:
            // RFC 6455 §4.1 fails only a response that "indicates the use of an extension").
            let offered = request.extensions.map_or(Vec::new(), extension_names);
            for name in view
                .extensions
                .as_deref()
                .map_or(Vec::new(), extension_names)
            {
                assert!(
                    offered.contains(&name),
                    "extension {name:?} accepted, offered {offered:?}"
                );
            }
        }
        Ok(None) => {}
        Err(e) => assert!(
            !matches!(
                e,
                HandshakeError::MethodNotAllowed
                    | HandshakeError::MissingHost
                    | HandshakeError::MissingKey
                    | HandshakeError::InvalidKey
                    | HandshakeError::DuplicateKey
                    | HandshakeError::Forbidden
            ),
            "server-side error {e:?} from the response validator"
        ),
    }
}

/// The Chrome 64 upgrade request from the seed text (with a permessage-deflate offer).
pub const CHROME_REQUEST: &[u8] = b"GET /chat HTTP/1.1\r\n\
Host: 127.0.0.1:8000\r\n\
Connection: Upgrade\r\n\
Pragma: no-cache\r\n\
Cache-Control: no-cache\r\n\
Upgrade: websocket\r\n\
Origin: http://localhost:63342\r\n\
Sec-WebSocket-Version: 13\r\n\
User-Agent: Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/64.0.3282.140 Safari/537.36\r\n\
Accept-Encoding: gzip, deflate, br\r\n\
Accept-Language: zh-CN,zh;q=0.9\r\n\
Sec-WebSocket-Key: CyiOUMgm4Qd6WyjLQ+YbrA==\r\n\
Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\
\r\n";

/// Runs a valid opening handshake for `role` through ws-core's parsers and writers (the server
/// parses the Chrome request; the client writes its request and validates the server's 101)
/// and panics if any step fails.
pub fn open(role: ws_core::Role) {
    let mut out = [0u8; 1024];
    let (request_bytes, client) = match role {
        ws_core::Role::Server => (CHROME_REQUEST, None),
        ws_core::Role::Client => {
            let request = client_request(0);
            let (n, accept) = write_client_request(&request, NONCE, &mut out).expect("request");
            (&out[..n], Some((request, accept)))
        }
    };
    let mut headers = [Header::EMPTY; LIMITS.max_headers];
    let (req, len) = match RequestParser::new(LIMITS).feed(request_bytes, &mut headers) {
        Ok(Status::Complete(done)) => done,
        other => panic!("valid upgrade request not parsed: {other:?}"),
    };
    assert_eq!(len, request_bytes.len());
    let key = req.upgrade().expect("valid upgrade request refused").key;
    let mut response = [0u8; 512];
    let n = write_accept_response(key, &Accept::default(), &mut response).expect("101");
    assert!(response[..n].starts_with(b"HTTP/1.1 101 "));
    if let Some((request, accept)) = client {
        let mut headers = [Header::EMPTY; LIMITS.max_headers];
        let verdict =
            ResponseParser::new(LIMITS).feed(&response[..n], &mut headers, &request, &accept);
        assert!(
            matches!(verdict, Ok(Status::Complete((_, len))) if len == n),
            "{verdict:?}"
        );
    }
}

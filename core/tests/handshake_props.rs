//! Properties of the handshake parsers and writers: chunking never changes the result, no input
//! panics or claims more bytes than it was given, and application text is never injected.

use proptest::prelude::*;
use ws_core::handshake::{
    accept_key, write_accept_response, write_client_request, Accept, ClientRequest, Header,
    RequestParser, ResponseParser, Status,
};
use ws_core::limits::HeadLimits;
use ws_core::HandshakeError;

const CHROME: &[u8] = b"GET /chat HTTP/1.1\r\nHost: 127.0.0.1:8000\r\nConnection: Upgrade\r\n\
Pragma: no-cache\r\nCache-Control: no-cache\r\nUpgrade: websocket\r\nOrigin: http://localhost:63342\r\n\
Sec-WebSocket-Version: 13\r\nUser-Agent: Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 \
(KHTML, like Gecko) Chrome/64.0.3282.186 Safari/537.36\r\nAccept-Encoding: gzip, deflate, br\r\n\
Accept-Language: zh-CN,zh;q=0.9\r\nSec-WebSocket-Key: CyiOUMgm4Qd6WyjLQ+YbrA==\r\n\
Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n\x81\x80\0\0\0\0";

const LIMITS: HeadLimits = HeadLimits {
    max_head_bytes: 512,
    max_headers: 6,
};

/// Head-like bytes: pieces of valid heads, separators and arbitrary bytes, concatenated.
fn headish() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        Just(b"GET /chat HTTP/1.1".to_vec()),
        Just(b"HTTP/1.1 101 Switching Protocols".to_vec()),
        Just(b"Host: a".to_vec()),
        Just(b"Upgrade: websocket".to_vec()),
        Just(b"Sec-WebSocket-Accept: Bz3qJYTGdOe8gUSpLosEdiLKDrk=".to_vec()),
        Just(b"\r\n".to_vec()),
        Just(b"\r\n\r\n".to_vec()),
        Just(b"\n".to_vec()),
        Just(b"\r".to_vec()),
        Just(b": ".to_vec()),
        Just(b" ".to_vec()),
        prop::collection::vec(any::<u8>(), 0..8),
    ];
    prop::collection::vec(piece, 0..40).prop_map(|pieces| pieces.concat())
}

/// Inputs: arbitrary bytes, head-like bytes, or the Chrome request with a byte changed.
fn input() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..600),
        headish(),
        (0..CHROME.len(), any::<u8>()).prop_map(|(i, b)| {
            let mut v = CHROME.to_vec();
            v[i] = b;
            v
        }),
        Just(CHROME.to_vec()),
    ]
}

/// Sorted cut points in `0..=len` from arbitrary fractions.
fn cuts(len: usize, fractions: &[u16]) -> Vec<usize> {
    let mut cuts: Vec<usize> = fractions
        .iter()
        .map(|f| *f as usize * len / 65535)
        .collect();
    cuts.sort_unstable();
    cuts.push(len);
    cuts
}

/// Feeds growing prefixes ending at `cuts` until a non-`Partial` answer; its Debug text.
fn request_chunked(limits: HeadLimits, input: &[u8], cuts: &[usize], slots: usize) -> String {
    let mut parser = RequestParser::new(limits);
    let mut headers = vec![Header::EMPTY; slots];
    let mut last = String::from("Ok(Partial)");
    for &end in cuts {
        let got = parser.feed(&input[..end], &mut headers);
        if let Ok(Status::Complete((request, len))) = &got {
            assert!(*len <= end, "head length {len} > input {end}");
            assert!(request.headers.len() <= slots.min(limits.max_headers));
        }
        last = format!("{got:?}");
        if !matches!(got, Ok(Status::Partial)) {
            break;
        }
    }
    last
}

fn response_chunked(input: &[u8], cuts: &[usize]) -> String {
    let offer = ClientRequest {
        host: "h",
        path: "/",
        subprotocols: &["chat"],
        ..Default::default()
    };
    let expected = accept_key(b"AAECAwQFBgcICQoLDA0ODw==");
    let mut parser = ResponseParser::new(LIMITS);
    let mut headers = [Header::EMPTY; 8];
    let mut last = String::from("Ok(Partial)");
    for &end in cuts {
        let got = parser.feed(&input[..end], &mut headers, &offer, &expected);
        if let Ok(Status::Complete((_, len))) = &got {
            assert!(*len <= end);
        }
        last = format!("{got:?}");
        if !matches!(got, Ok(Status::Partial)) {
            break;
        }
    }
    last
}

/// A token most of the time, else any text (with CR, LF, NUL, non-ASCII).
fn token_or_junk() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "[a-zA-Z0-9!#$%&'*+.^_`|~-]{1,8}",
        1 => "[ -~\r\n\t\0é]{0,8}",
    ]
}

/// A writable header value most of the time, else any text.
fn value_or_junk() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "([!-~]([ -~\t]{0,10}[!-~])?)?",
        1 => "[ -~\r\n\t\0é]{0,12}",
    ]
}

/// An extension list in the RFC 6455 §9.1 grammar (tokens, parameters, quoted values) most of
/// the time, else any text; the flag says which.
fn extension_list_or_junk() -> impl Strategy<Value = (bool, String)> {
    prop_oneof![
        3 => "[a-z][a-z0-9-]{0,7}(; ?[a-z_]{1,8}(=([0-9]{1,2}|\"[a-z ,;]{0,6}\"))?){0,2}(, [a-z][a-z0-9-]{0,7}){0,2}"
            .prop_map(|s| (true, s)),
        1 => value_or_junk().prop_map(|s| (false, s)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn request_split_anywhere_equals_one_shot(
        input in input(),
        fractions in prop::collection::vec(any::<u16>(), 0..12),
        slots in 0usize..10,
    ) {
        let one_shot = request_chunked(LIMITS, &input, &[input.len()], slots);
        let chunked = request_chunked(LIMITS, &input, &cuts(input.len(), &fractions), slots);
        prop_assert_eq!(chunked, one_shot);
        let defaults = request_chunked(HeadLimits::DEFAULT, &input, &[input.len()], 64);
        let byte_by_byte: Vec<usize> = (0..=input.len()).collect();
        prop_assert_eq!(request_chunked(HeadLimits::DEFAULT, &input, &byte_by_byte, 64), defaults);
    }

    #[test]
    fn response_split_anywhere_equals_one_shot(
        input in input(),
        fractions in prop::collection::vec(any::<u16>(), 0..12),
    ) {
        let one_shot = response_chunked(&input, &[input.len()]);
        prop_assert_eq!(response_chunked(&input, &cuts(input.len(), &fractions)), one_shot);
    }

    #[test]
    fn accept_response_never_injects(
        subprotocol in proptest::option::of(token_or_junk()),
        extensions in proptest::option::of(extension_list_or_junk()),
        name in token_or_junk(),
        value in value_or_junk(),
    ) {
        let (well_formed, extensions) = match &extensions {
            Some((ok, e)) => (*ok, Some(e.clone())),
            None => (true, None),
        };
        let extra = [(name.as_str(), value.as_str())];
        let accept = Accept {
            subprotocol: subprotocol.as_deref(),
            extensions: extensions.as_deref(),
            extra_headers: &extra,
        };
        let mut out = [0u8; 512];
        if let Ok(len) = write_accept_response("dGhlIHNhbXBsZSBub25jZQ==", &accept, &mut out) {
            // Parse it back as a client that offered exactly this: one header per field.
            let offered = subprotocol.as_deref().map(|p| [p]);
            let offer = ClientRequest {
                host: "h",
                path: "/",
                subprotocols: offered.as_ref().map_or(&[], |p| p.as_slice()),
                extensions: extensions.as_deref(),
                extra_headers: &[],
                origin: None,
            };
            let mut headers = [Header::EMPTY; 8];
            let expected = accept_key(b"dGhlIHNhbXBsZSBub25jZQ==");
            let got = ResponseParser::new(HeadLimits::DEFAULT).feed(&out[..len], &mut headers, &offer, &expected);
            // Text outside the extension grammar is refused as an answer (the client reads the
            // answer strictly); that is not an injection.
            if !well_formed && matches!(got, Err(HandshakeError::UnexpectedExtension)) {
                return Ok(());
            }
            let Ok(Status::Complete((response, used))) = got else {
                return Err(TestCaseError::fail(format!("{got:?}")));
            };
            prop_assert_eq!(used, len);
            let count = 4 + usize::from(subprotocol.is_some()) + usize::from(extensions.is_some());
            prop_assert_eq!(response.headers.len(), count);
            prop_assert_eq!(response.headers[count - 1], Header { name: &name, value: &value });
        }
    }

    #[test]
    fn client_request_never_injects(
        host in token_or_junk(),
        path in token_or_junk().prop_map(|p| format!("/{p}")),
        protocol in token_or_junk(),
        value in value_or_junk(),
        nonce in any::<[u8; 16]>(),
    ) {
        let protocols = [protocol.as_str()];
        let extra = [("X-Extra", value.as_str())];
        let request = ClientRequest {
            host: &host,
            path: &path,
            origin: None,
            subprotocols: &protocols,
            extensions: None,
            extra_headers: &extra,
        };
        let mut out = [0u8; 512];
        if let Ok((len, accept)) = write_client_request(&request, nonce, &mut out) {
            let mut headers = [Header::EMPTY; 16];
            let got = RequestParser::new(HeadLimits::DEFAULT).feed(&out[..len], &mut headers);
            let Ok(Status::Complete((parsed, used))) = got else {
                return Err(TestCaseError::fail(format!("{got:?}")));
            };
            prop_assert_eq!(used, len);
            prop_assert_eq!(parsed.headers.len(), 7);
            prop_assert_eq!(parsed.host(), Some(host.as_str()));
            prop_assert_eq!(parsed.header("x-extra"), Some(value.as_str()));
            prop_assert_eq!(parsed.subprotocols().collect::<Vec<_>>(), vec![protocol.as_str()]);
            let upgrade = parsed.upgrade();
            prop_assert!(upgrade.is_ok(), "{:?}", upgrade);
            prop_assert_eq!(upgrade.unwrap().accept_key(), accept);
        }
    }
}

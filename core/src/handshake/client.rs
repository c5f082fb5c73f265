//! The client side: the upgrade request writer and the response validator (RFC 6455 §4.1).

use nom::bytes::complete::{tag, take_while, take_while_m_n};
use nom::character::complete::char;
use nom::{IResult, Parser};

use super::head::{self, is_header_value, is_token, Scanner};
use super::list;
use super::response::valid_extra;
use super::write::Out;
use super::{AcceptKey, Header, Status, WriteError};
use crate::deflate::parse::{Element, Elements, ParamError};
use crate::error::HandshakeError;
use crate::limits::HeadLimits;

/// What the client asks for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ClientRequest<'r> {
    /// The Host header value (`host[:port]`).
    pub host: &'r str,
    /// The request target (path and query), e.g. `/chat`.
    pub path: &'r str,
    /// The Origin header, if any.
    pub origin: Option<&'r str>,
    /// Subprotocols to offer, in order of preference.
    pub subprotocols: &'r [&'r str],
    /// The `Sec-WebSocket-Extensions` offer, if any.
    pub extensions: Option<&'r str>,
    /// Extra headers (e.g. `Cookie`).
    pub extra_headers: &'r [(&'r str, &'r str)],
}

impl ClientRequest<'_> {
    /// Whether every field can be written without injecting CR, LF or control bytes.
    fn is_valid(&self) -> bool {
        !self.path.is_empty()
            && self.path.bytes().all(head::is_vchar)
            && !self.host.is_empty()
            && self.host.bytes().all(head::is_vchar)
            && self
                .origin
                .is_none_or(|o| !o.is_empty() && is_header_value(o))
            && self.subprotocols.iter().all(|p| is_token(p))
            && self
                .extensions
                .is_none_or(|e| !e.is_empty() && is_header_value(e))
            && valid_extra(self.extra_headers)
    }
}

/// Writes the upgrade request; `nonce` is 16 random bytes from the caller, sent base64-encoded as
/// `Sec-WebSocket-Key`. Returns bytes written and the accept value the server must answer with.
///
/// Host and path must be visible ASCII without spaces, subprotocols tokens, other values visible
/// ASCII with spaces and tabs, else [`WriteError::InvalidHeaderText`].
pub fn write_client_request(
    request: &ClientRequest<'_>,
    nonce: [u8; 16],
    out: &mut [u8],
) -> Result<(usize, AcceptKey), WriteError> {
    if !request.is_valid() {
        return Err(WriteError::InvalidHeaderText);
    }
    let mut key = [0u8; 24];
    // 16 bytes encode to exactly 24 base64 characters.
    let key =
        super::primitives::base64_encode(&nonce, &mut key).ok_or(WriteError::InvalidHeaderText)?;
    let mut w = Out::new(out);
    w.put(b"GET ");
    w.put(request.path.as_bytes());
    w.put(b" HTTP/1.1\r\n");
    w.header("Host", request.host);
    w.header("Upgrade", "websocket");
    w.header("Connection", "Upgrade");
    w.header("Sec-WebSocket-Key", key);
    w.header("Sec-WebSocket-Version", "13");
    if let Some(origin) = request.origin {
        w.header("Origin", origin);
    }
    if !request.subprotocols.is_empty() {
        w.put(b"Sec-WebSocket-Protocol: ");
        for (i, protocol) in request.subprotocols.iter().enumerate() {
            if i > 0 {
                w.put(b", ");
            }
            w.put(protocol.as_bytes());
        }
        w.put(b"\r\n");
    }
    if let Some(extensions) = request.extensions {
        w.header("Sec-WebSocket-Extensions", extensions);
    }
    for (name, value) in request.extra_headers {
        w.header(name, value);
    }
    w.put(b"\r\n");
    let len = w.finish()?;
    Ok((len, super::accept_key(key.as_bytes())))
}

/// A push parser and validator for the server's response head; streaming and linear like
/// [`super::RequestParser`].
#[derive(Clone, Copy, Debug)]
pub struct ResponseParser {
    limits: HeadLimits,
    scanner: Scanner,
}

/// A validated 101 response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Response<'a, 'h> {
    /// The subprotocol the server chose (one we offered).
    pub subprotocol: Option<&'a str>,
    /// The first `Sec-WebSocket-Extensions` value (only extensions we offered; see `headers` for
    /// any further ones).
    pub extensions: Option<&'a str>,
    /// Every header, in order.
    pub headers: &'h [Header<'a>],
}

impl ResponseParser {
    /// A parser with these limits.
    pub const fn new(limits: HeadLimits) -> Self {
        Self {
            limits,
            scanner: Scanner::new(),
        }
    }

    /// Feeds all bytes received so far and, once the head is complete, validates it against what
    /// `request` offered and the `expected` accept value; returns the response and the head length.
    ///
    /// Checked in order: status 101 (else `NotSwitchingProtocols(status)`), `websocket` in
    /// Upgrade, `Upgrade` in Connection, exactly one `Sec-WebSocket-Accept` equal to `expected`,
    /// at most one subprotocol and only one we offered, only extension names we offered.
    pub fn feed<'a, 'h>(
        &mut self,
        input: &'a [u8],
        headers: &'h mut [Header<'a>],
        request: &ClientRequest<'_>,
        expected: &AcceptKey,
    ) -> Result<Status<(Response<'a, 'h>, usize)>, HandshakeError> {
        let Some(len) = self.scanner.scan(input, &self.limits, headers.len())? else {
            return Ok(Status::Partial);
        };
        let complete = input.get(..len).ok_or(HandshakeError::Malformed)?;
        let (rest, status) = status_line(complete).map_err(|_| HandshakeError::Malformed)?;
        let count = head::parse_headers(rest, headers)?;
        let headers: &'h [Header<'a>] = headers;
        let headers = headers.get(..count).unwrap_or(&[]);
        if status != 101 {
            return Err(HandshakeError::NotSwitchingProtocols(status));
        }
        let response = validate(headers, request, expected)?;
        Ok(Status::Complete((response, len)))
    }
}

/// `HTTP/1.x SP 3DIGIT SP reason-phrase CRLF` (RFC 9112 §4); returns the status code.
fn status_line(i: &[u8]) -> IResult<&[u8], u16> {
    let (i, (_, _, code, _, _, _)) = (
        head::http_version,
        char(' '),
        take_while_m_n(3, 3, |b: u8| b.is_ascii_digit()),
        char(' '),
        take_while(|b: u8| b == b'\t' || b == b' ' || head::is_vchar(b) || b >= 0x80),
        tag("\r\n"),
    )
        .parse(i)?;
    let status = code.iter().fold(0u16, |n, d| n * 10 + u16::from(d - b'0'));
    Ok((i, status))
}

/// Checks a 101's headers against the request (RFC 6455 §4.1, the client's checks 2-6).
fn validate<'a, 'h>(
    headers: &'h [Header<'a>],
    request: &ClientRequest<'_>,
    expected: &AcceptKey,
) -> Result<Response<'a, 'h>, HandshakeError> {
    if !list::has_token(headers, "upgrade", "websocket") {
        return Err(HandshakeError::MissingUpgrade);
    }
    if !list::has_token(headers, "connection", "upgrade") {
        return Err(HandshakeError::MissingConnectionUpgrade);
    }
    let mut accepts = list::values(headers, "sec-websocket-accept");
    match (accepts.next(), accepts.next()) {
        (Some(accept), None) if accept == expected.as_str() => {}
        _ => return Err(HandshakeError::AcceptMismatch),
    }
    let mut protocols = list::elements(headers, "sec-websocket-protocol");
    let subprotocol = match (protocols.next(), protocols.next()) {
        (None, _) => None,
        (Some(p), None) if request.subprotocols.contains(&p) => Some(p),
        _ => return Err(HandshakeError::UnexpectedSubprotocol),
    };
    // The answer is read with the strict extension grammar (RFC 6455 §9.1): an element that is not
    // `token *( ";" param )` (e.g. an unclosed quote that swallows the rest) fails the handshake
    // like an extension we did not offer.
    let offered = |name: &str| {
        Elements::new(request.extensions.unwrap_or(""))
            .any(|offer| !offer.name.is_empty() && offer.name.eq_ignore_ascii_case(name))
    };
    let well_formed_and_offered =
        |e: Element<'_>| !matches!(e.params, Err(ParamError::Malformed)) && offered(e.name);
    if !list::values(headers, "sec-websocket-extensions")
        .flat_map(Elements::new)
        .all(well_formed_and_offered)
    {
        return Err(HandshakeError::UnexpectedExtension);
    }
    Ok(Response {
        subprotocol,
        // A value without elements (e.g. an empty header) names no extension.
        extensions: list::values(headers, "sec-websocket-extensions")
            .find(|v| Elements::new(v).next().is_some()),
        headers,
    })
}

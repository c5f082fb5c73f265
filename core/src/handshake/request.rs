//! The server side: a streaming, linear-time parser for the HTTP/1.1 request head and the
//! validation of a WebSocket upgrade (RFC 6455 §4.2.1).

use nom::bytes::complete::{tag, take_while1};
use nom::character::complete::char;
use nom::{IResult, Parser};

use super::head::{self, Scanner};
use super::list;
use super::{AcceptKey, Header, Status};
use crate::error::HandshakeError;
use crate::limits::HeadLimits;

/// A push parser for a request head. Keep it across calls and pass all bytes received so far;
/// it remembers how far it has scanned, so the total work is linear however the bytes arrive.
///
/// Any method and target parse (the same parser serves plain HTTP pages and forms); whether the
/// request is a valid WebSocket upgrade is decided by [`Request::upgrade`]. Lines must end in
/// CR LF: a bare LF is rejected as [`HandshakeError::Malformed`].
///
/// ```
/// use ws_core::handshake::{Header, RequestParser, Status};
/// use ws_core::limits::HeadLimits;
///
/// let bytes = b"GET /chat HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\n\
///               Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
///               Sec-WebSocket-Version: 13\r\n\r\n\x81\x85";
/// let mut parser = RequestParser::new(HeadLimits::DEFAULT);
/// let mut headers = [Header::EMPTY; 16];
/// assert_eq!(parser.feed(&bytes[..20], &mut headers), Ok(Status::Partial));
/// let Ok(Status::Complete((request, len))) = parser.feed(bytes, &mut headers) else {
///     panic!("complete head expected");
/// };
/// assert_eq!((request.method, request.path, request.host()), ("GET", "/chat", Some("example.com")));
/// assert_eq!(&bytes[len..], b"\x81\x85"); // frame bytes after the head are left alone
/// let upgrade = request.upgrade().unwrap();
/// assert_eq!(upgrade.accept_key().as_str(), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
/// ```
#[derive(Clone, Copy, Debug)]
pub struct RequestParser {
    limits: HeadLimits,
    scanner: Scanner,
}

impl RequestParser {
    /// A parser with these limits.
    pub const fn new(limits: HeadLimits) -> Self {
        Self {
            limits,
            scanner: Scanner::new(),
        }
    }

    /// Feeds all bytes received so far. On completion returns the request (headers stored in
    /// `headers`, which bounds the count together with the limits) and the head's length in bytes;
    /// bytes after the head belong to the next layer and must be kept.
    ///
    /// Only the bytes not seen by an earlier call are examined. `input` must start with the bytes
    /// given before (a shorter input returns `Partial`). An error ends the parse (answer it with
    /// [`super::write_error_response`] and drop the parser): 431 as soon as a limit is exceeded,
    /// 400 for a malformed line or header value.
    pub fn feed<'a, 'h>(
        &mut self,
        input: &'a [u8],
        headers: &'h mut [Header<'a>],
    ) -> Result<Status<(Request<'a, 'h>, usize)>, HandshakeError> {
        let Some(len) = self.scanner.scan(input, &self.limits, headers.len())? else {
            return Ok(Status::Partial);
        };
        let complete = input.get(..len).ok_or(HandshakeError::Malformed)?;
        let (rest, (method, target, minor_version)) =
            request_line(complete).map_err(|_| HandshakeError::Malformed)?;
        let count = head::parse_headers(rest, headers)?;
        let headers: &'h [Header<'a>] = headers;
        let target = head::ascii(target)?;
        let (path, query) = match head::split_once_ascii(target, b'?') {
            Some((path, query)) => (path, Some(query)),
            None => (target, None),
        };
        let request = Request {
            method: head::ascii(method)?,
            path,
            query,
            minor_version,
            headers: headers.get(..count).unwrap_or(&[]),
        };
        Ok(Status::Complete((request, len)))
    }
}

/// The parts of a request line: method, target, minor version.
type RequestLine<'a> = (&'a [u8], &'a [u8], u8);

/// `method SP request-target SP HTTP/1.x CRLF` (RFC 9112 §3).
fn request_line(i: &[u8]) -> IResult<&[u8], RequestLine<'_>> {
    let (i, (method, _, target, _, minor, _)) = (
        take_while1(head::is_tchar),
        char(' '),
        take_while1(head::is_vchar),
        char(' '),
        head::http_version,
        tag("\r\n"),
    )
        .parse(i)?;
    Ok((i, (method, target, minor)))
}

/// A parsed request head, borrowing the input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Request<'a, 'h> {
    /// The method, e.g. `GET`.
    pub method: &'a str,
    /// The path part of the request target (before `?`).
    pub path: &'a str,
    /// The query (after `?`), if any.
    pub query: Option<&'a str>,
    /// The minor HTTP version (1 for HTTP/1.1); only HTTP/1.x parses.
    pub minor_version: u8,
    /// Every header, in order.
    pub headers: &'h [Header<'a>],
}

/// One offered extension from `Sec-WebSocket-Extensions`: its name and its raw parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Extension<'a> {
    /// The extension token, e.g. `permessage-deflate`.
    pub name: &'a str,
    /// The text after the name's `;` (`a=1; b`), trimmed; empty when there are none.
    pub params: &'a str,
}

/// A validated WebSocket upgrade request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Upgrade<'a> {
    /// The `Sec-WebSocket-Key` value.
    pub key: &'a str,
}

impl Upgrade<'_> {
    /// The `Sec-WebSocket-Accept` value answering this key.
    pub fn accept_key(&self) -> AcceptKey {
        super::accept_key(self.key.as_bytes())
    }
}

impl<'a> Request<'a, '_> {
    /// The first header with this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&'a str> {
        list::values(self.headers, name).next()
    }
    /// The Host header.
    pub fn host(&self) -> Option<&'a str> {
        self.header("host")
    }
    /// The Origin header.
    pub fn origin(&self) -> Option<&'a str> {
        self.header("origin")
    }
    /// Every cookie `(name, value)` from the Cookie header(s), in order (RFC 6265 §5.4).
    pub fn cookies(&self) -> impl Iterator<Item = (&'a str, &'a str)> + '_ {
        list::values(self.headers, "cookie")
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| head::split_once_ascii(pair, b'='))
            .map(|(name, value)| (head::trim_ows_str(name), head::trim_ows_str(value)))
    }
    /// The value of cookie `name` (case-sensitive) from the Cookie header(s).
    pub fn cookie(&self, name: &str) -> Option<&'a str> {
        self.cookies().find(|(n, _)| *n == name).map(|(_, v)| v)
    }
    /// Whether the request asks for a WebSocket upgrade (`Upgrade: websocket`), valid or not.
    pub fn is_upgrade(&self) -> bool {
        list::has_token(self.headers, "upgrade", "websocket")
    }
    /// The offered subprotocols, in order, from every `Sec-WebSocket-Protocol` header.
    pub fn subprotocols(&self) -> impl Iterator<Item = &'a str> + '_ {
        list::elements(self.headers, "sec-websocket-protocol")
    }
    /// The offered extensions, in order, from every `Sec-WebSocket-Extensions` header; elements
    /// whose name is not a token (RFC 6455 §9.1) are skipped.
    pub fn extensions(&self) -> impl Iterator<Item = Extension<'a>> + '_ {
        list::elements(self.headers, "sec-websocket-extensions")
            .map(|e| {
                let (name, params) = list::split_params(e);
                Extension { name, params }
            })
            .filter(|e| super::head::is_token(e.name))
    }
    /// Validates this request as a WebSocket upgrade (§4.2.1), with the exact error for each rule,
    /// checked in this order: method GET (405), HTTP/1.1 or later, exactly one non-empty Host,
    /// `websocket` in Upgrade, `Upgrade` in Connection, exactly one `Sec-WebSocket-Key` that is
    /// base64 of 16 bytes (all 400), then exactly one `Sec-WebSocket-Version: 13` (426, also when
    /// missing).
    pub fn upgrade(&self) -> Result<Upgrade<'a>, HandshakeError> {
        if self.method != "GET" {
            return Err(HandshakeError::MethodNotAllowed);
        }
        if self.minor_version < 1 {
            return Err(HandshakeError::UnsupportedHttpVersion);
        }
        let mut hosts = list::values(self.headers, "host");
        match (hosts.next(), hosts.next()) {
            (Some(host), None) if !host.is_empty() => {}
            // RFC 9112 §3.2: more than one Host is a bad request.
            (Some(_), Some(_)) => return Err(HandshakeError::Malformed),
            _ => return Err(HandshakeError::MissingHost),
        }
        if !self.is_upgrade() {
            return Err(HandshakeError::MissingUpgrade);
        }
        if !list::has_token(self.headers, "connection", "upgrade") {
            return Err(HandshakeError::MissingConnectionUpgrade);
        }
        let mut keys = list::values(self.headers, "sec-websocket-key");
        let key = match (keys.next(), keys.next()) {
            (None, _) => return Err(HandshakeError::MissingKey),
            (Some(_), Some(_)) => return Err(HandshakeError::DuplicateKey),
            (Some(key), None) => key,
        };
        if !super::primitives::is_base64_of_16_bytes(key) {
            return Err(HandshakeError::InvalidKey);
        }
        let mut versions = list::values(self.headers, "sec-websocket-version");
        match (versions.next(), versions.next()) {
            (Some("13"), None) => Ok(Upgrade { key }),
            _ => Err(HandshakeError::UnsupportedVersion),
        }
    }
}

//! The server side: a streaming, linear-time parser for the HTTP/1.1 request head and the
//! validation of a WebSocket upgrade (RFC 6455 §4.2.1).

use super::{AcceptKey, Header, Status};
use crate::error::HandshakeError;
use crate::limits::HeadLimits;

/// A push parser for a request head. Keep it across calls and pass all bytes received so far;
/// it remembers how far it has scanned, so the total work is linear however the bytes arrive.
#[derive(Clone, Copy, Debug)]
pub struct RequestParser {
    limits: HeadLimits,
    scanned: usize,
}

impl RequestParser {
    /// A parser with these limits.
    pub const fn new(limits: HeadLimits) -> Self {
        Self { limits, scanned: 0 }
    }

    /// Feeds all bytes received so far. On completion returns the request (headers stored in
    /// `headers`, which bounds the count together with the limits) and the head's length in bytes;
    /// bytes after the head belong to the next layer and must be kept.
    pub fn feed<'a, 'h>(
        &mut self,
        input: &'a [u8],
        headers: &'h mut [Header<'a>],
    ) -> Result<Status<(Request<'a, 'h>, usize)>, HandshakeError> {
        todo!()
    }
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
    /// The minor HTTP version (1 for HTTP/1.1).
    pub minor_version: u8,
    /// Every header, in order.
    pub headers: &'h [Header<'a>],
}

/// One offered extension from `Sec-WebSocket-Extensions`: its name and its raw parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Extension<'a> {
    /// The extension token, e.g. `permessage-deflate`.
    pub name: &'a str,
    /// The text after the name (`; a=1; b`), trimmed; empty when there are none.
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
        todo!()
    }
    /// The Host header.
    pub fn host(&self) -> Option<&'a str> {
        self.header("host")
    }
    /// The Origin header.
    pub fn origin(&self) -> Option<&'a str> {
        self.header("origin")
    }
    /// The value of cookie `name` from the Cookie header(s).
    pub fn cookie(&self, name: &str) -> Option<&'a str> {
        todo!()
    }
    /// Whether the request asks for a WebSocket upgrade (`Upgrade: websocket`), valid or not.
    pub fn is_upgrade(&self) -> bool {
        todo!()
    }
    /// The offered subprotocols, in order, from every `Sec-WebSocket-Protocol` header.
    pub fn subprotocols(&self) -> impl Iterator<Item = &'a str> + '_ {
        core::iter::empty()
    }
    /// The offered extensions, in order, from every `Sec-WebSocket-Extensions` header.
    pub fn extensions(&self) -> impl Iterator<Item = Extension<'a>> + '_ {
        core::iter::empty()
    }
    /// Validates this request as a WebSocket upgrade (§4.2.1), with the exact error for each rule.
    pub fn upgrade(&self) -> Result<Upgrade<'a>, HandshakeError> {
        todo!()
    }
}

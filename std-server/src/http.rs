//! What the application sees of an HTTP request and how it answers: [`Request`], [`Reply`]
//! ([`HttpResponse`] or [`Upgrade`]) and the [`Handler`] trait.

use crate::websocket::WebSocket;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;

/// A boxed, sendable future (the same shape as `futures::future::BoxFuture`).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// An HTTP request head (and bounded body), owned.
#[derive(Clone, Debug)]
pub struct Request {
    /// The method, e.g. `GET`.
    pub method: String,
    /// The path part of the target, e.g. `/chat`.
    pub path: String,
    /// The query string after `?`, if any.
    pub query: Option<String>,
    /// Every header in order, names as sent.
    pub headers: Vec<(String, String)>,
    /// The body (`Content-Length` bytes, at most [`crate::Config::max_request_body`]).
    pub body: Vec<u8>,
    /// The peer's address.
    pub peer: SocketAddr,
    /// Whether the request asks for a WebSocket upgrade (valid or not; [`Reply::Upgrade`] on an
    /// invalid one answers the exact 4xx).
    pub is_upgrade: bool,
}

impl Request {
    /// The first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The value of cookie `name` from the `Cookie` header(s).
    pub fn cookie(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case("cookie"))
            .flat_map(|(_, v)| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.trim_matches('"'))
    }

    /// The `Origin` header.
    pub fn origin(&self) -> Option<&str> {
        self.header("origin")
    }

    /// The offered subprotocols, in order, from every `Sec-WebSocket-Protocol` header.
    pub fn subprotocols(&self) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case("sec-websocket-protocol"))
            .flat_map(|(_, v)| v.split(','))
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .collect()
    }

    /// The value of query parameter `name` (not percent-decoded).
    pub fn query_param(&self, name: &str) -> Option<&str> {
        self.query
            .as_deref()?
            .split('&')
            .filter_map(|kv| kv.split_once('=').or(Some((kv, ""))))
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v)
    }
}

/// A plain HTTP response (sent with `Content-Length` and `Connection: close`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpResponse {
    /// The status code, e.g. 200.
    pub status: u16,
    /// Headers (names and values must not contain CR, LF or other control bytes; such headers
    /// are dropped and logged).
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// An empty response with `status`.
    pub fn new(status: u16) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// A `text/plain; charset=utf-8` response.
    pub fn text(status: u16, body: impl Into<String>) -> Self {
        Self::new(status)
            .header("Content-Type", "text/plain; charset=utf-8")
            .body(body.into().into_bytes())
    }

    /// A `200 text/html; charset=utf-8` response.
    pub fn html(body: impl Into<String>) -> Self {
        Self::new(200)
            .header("Content-Type", "text/html; charset=utf-8")
            .body(body.into().into_bytes())
    }

    /// A `303 See Other` redirect to `location`.
    pub fn redirect(location: &str) -> Self {
        Self::new(303).header("Location", location)
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Sets the body.
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }
}

/// The application's decision for one request.
pub enum Reply {
    /// Answer with a plain HTTP response and close the connection.
    Http(HttpResponse),
    /// Accept the WebSocket upgrade (if the request is a valid one; otherwise the exact 4xx is
    /// sent) and run the callback with the connection.
    Upgrade(Upgrade),
}

impl std::fmt::Debug for Reply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Http(r) => f.debug_tuple("Http").field(r).finish(),
            Self::Upgrade(u) => f.debug_tuple("Upgrade").field(u).finish(),
        }
    }
}

/// The type of an upgrade callback.
pub(crate) type OnOpen = Box<dyn FnOnce(WebSocket) -> BoxFuture<'static, ()> + Send>;

/// An accepted upgrade: the chosen subprotocol, extra response headers and the code to run.
pub struct Upgrade {
    pub(crate) subprotocol: Option<String>,
    pub(crate) extra_headers: Vec<(String, String)>,
    pub(crate) on_open: OnOpen,
}

impl std::fmt::Debug for Upgrade {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Upgrade")
            .field("subprotocol", &self.subprotocol)
            .field("extra_headers", &self.extra_headers)
            .finish_non_exhaustive()
    }
}

impl Upgrade {
    /// Accepts the upgrade; `f` runs with the connection once the 101 is sent.
    pub fn new<F, Fut>(f: F) -> Self
    where
        F: FnOnce(WebSocket) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        Self {
            subprotocol: None,
            extra_headers: Vec::new(),
            on_open: Box::new(move |ws| Box::pin(f(ws))),
        }
    }

    /// Chooses `protocol` (must be one the client offered, or the upgrade fails with 500).
    pub fn subprotocol(mut self, protocol: &str) -> Self {
        self.subprotocol = Some(protocol.to_owned());
        self
    }

    /// Adds a response header (e.g. `Set-Cookie`).
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.extra_headers.push((name.to_owned(), value.to_owned()));
        self
    }
}

/// Decides what to do with each request.
pub trait Handler: Send + Sync + 'static {
    /// Answers `req`.
    fn handle(&self, req: Request) -> BoxFuture<'static, Reply>;
}

impl<F, Fut> Handler for F
where
    F: Fn(Request) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Reply> + Send + 'static,
{
    fn handle(&self, req: Request) -> BoxFuture<'static, Reply> {
        Box::pin(self(req))
    }
}

/// The reason phrase for common status codes.
pub(crate) fn reason_phrase(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        411 => "Length Required",
        413 => "Content Too Large",
        426 => "Upgrade Required",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        _ => "",
    }
}

/// Whether `s` can go into a header name (an HTTP token).
fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// Whether `s` can go into a header value (visible ASCII, space, tab).
fn is_value(s: &str) -> bool {
    s.bytes().all(|b| b == b'\t' || (0x20..0x7f).contains(&b))
}

/// Serializes `resp` (with `Content-Length` and `Connection: close`); the body only if
/// `with_body` (not for HEAD, whose Content-Length is still the body's).
pub(crate) fn encode_response(resp: &HttpResponse, with_body: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(128 + resp.body.len());
    out.extend_from_slice(
        format!(
            "HTTP/1.1 {} {}\r\n",
            resp.status,
            reason_phrase(resp.status)
        )
        .as_bytes(),
    );
    for (name, value) in &resp.headers {
        if !is_token(name) || !is_value(value) {
            log::warn!("dropping invalid response header {name:?}");
            continue;
        }
        if name.eq_ignore_ascii_case("content-length") || name.eq_ignore_ascii_case("connection") {
            continue;
        }
        out.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "Content-Length: {}\r\nConnection: close\r\n\r\n",
            resp.body.len()
        )
        .as_bytes(),
    );
    if with_body {
        out.extend_from_slice(&resp.body);
    }
    out
}

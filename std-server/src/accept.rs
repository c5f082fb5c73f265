//! One accepted TCP connection: read the request head (and a bounded body) with a timeout, ask
//! the application, then answer HTTP or upgrade and run the WebSocket callback.

use crate::config::Config;
use crate::conn::Stream;
use crate::http::{encode_response, Handler, HttpResponse, OnOpen, Reply, Request};
use crate::io_util::{close_until, read_until, write_all_until};
use crate::server::{ServerState, ServerTls};
use crate::websocket::WebSocket;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use ws_core::handshake::{self, Header, RequestParser, Status};
use ws_core::{HandshakeError, Role};

/// The first size of the request head buffer.
const INITIAL_HEAD_BUFFER: usize = 2048;

/// Time allowed for writing a refusal or a plain HTTP response.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(5);

/// A request head parsed into owned parts, plus what validation said.
struct Parsed {
    request: Request,
    head_len: usize,
    /// The `Sec-WebSocket-Key` of a valid upgrade, or why it is not one.
    upgrade: Result<String, HandshakeError>,
}

/// Serves one connection from accept to close.
///
/// The handshake runs in an allocation of its own (head buffer, parsed request, the handler's
/// future), freed before the WebSocket phase: a connection that then sits idle keeps only the
/// connection state and the application's future. (Not an `async fn`: that would keep its
/// arguments in the returned future for the connection's whole life.)
pub(crate) fn handle(
    io: Box<dyn Stream>,
    tls: ServerTls,
    peer: SocketAddr,
    id: u64,
    config: Arc<Config>,
    handler: Arc<dyn Handler>,
    state: Arc<ServerState>,
) -> impl Future<Output = ()> + Send {
    let handshake = Box::pin(handshake(io, tls, peer, id, config, handler));
    async move {
        let Some((ws, on_open)) = handshake.await else {
            return;
        };
        state.register(id, &ws.shared());
        on_open(ws).await;
        state.unregister(id);
    }
}

/// Runs the TLS handshake if the server has TLS, reads the request, asks the application and
/// answers it: the upgraded connection and the application's callback, or `None` once a plain
/// HTTP answer or a refusal is sent. One deadline covers the TLS handshake and the request head.
async fn handshake(
    io: Box<dyn Stream>,
    tls: ServerTls,
    peer: SocketAddr,
    id: u64,
    config: Arc<Config>,
    handler: Arc<dyn Handler>,
) -> Option<(WebSocket, OnOpen)> {
    let deadline = Instant::now() + config.handshake_timeout;
    let mut io = match tls {
        #[cfg(feature = "tls")]
        Some(acceptor) => crate::tls::accept(io, &acceptor, deadline, id, peer).await?,
        #[cfg(not(feature = "tls"))]
        Some(never) => match never {},
        None => io,
    };
    // The head buffer starts small (a browser's upgrade request is under 1 KiB) and doubles up to
    // the head limit (plus room for frames sent right behind the head).
    let max_buf = config.head.max_head_bytes + 4096;
    let mut buf = vec![0u8; INITIAL_HEAD_BUFFER.min(max_buf)];
    let mut len = 0;
    let mut parser = RequestParser::new(config.head);
    let parsed = loop {
        if len == buf.len() && buf.len() < max_buf {
            buf.resize((buf.len() * 2).min(max_buf), 0);
        }
        let Some(free) = buf.get_mut(len..).filter(|f| !f.is_empty()) else {
            refuse(&mut io, id, peer, HandshakeError::HeadTooLarge).await;
            return None;
        };
        match read_until(&mut io, free, deadline).await {
            Ok(0) => {
                log::debug!("conn={id} peer={peer} closed before completing the request head");
                return None;
            }
            Ok(n) => len += n,
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {
                log::info!("conn={id} peer={peer} handshake refused: timeout (dropped)");
                return None;
            }
            Err(e) => {
                log::debug!("conn={id} peer={peer} read error during handshake: {e}");
                return None;
            }
        }
        let mut headers: Vec<Header<'_>> = vec![Header::EMPTY; config.head.max_headers];
        match parser.feed(buf.get(..len).unwrap_or_default(), &mut headers) {
            Ok(Status::Partial) => continue,
            Ok(Status::Complete((req, head_len))) => break to_parsed(&req, head_len, peer),
            Err(e) => {
                refuse(&mut io, id, peer, e).await;
                return None;
            }
        }
    };
    let Parsed {
        mut request,
        head_len,
        upgrade,
    } = parsed;
    let after_head = buf.get(head_len..len).unwrap_or_default().to_vec();
    drop(buf);
    let leftover = match read_body(&mut io, &mut request, after_head, &config, deadline).await {
        Ok(rest) => rest,
        Err(status) => {
            log::info!("conn={id} peer={peer} request refused: body ({status})");
            respond(&mut io, &HttpResponse::text(status, reason_text(status))).await;
            return None;
        }
    };
    let (method, path) = (request.method.clone(), request.path.clone());
    let extension_offers: Vec<String> = request
        .headers
        .iter()
        .filter(|(name, _)| name.eq_ignore_ascii_case("sec-websocket-extensions"))
        .map(|(_, value)| value.clone())
        .collect();
    let offered: Vec<String> = request
        .subprotocols()
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    match handler.handle(request).await {
        Reply::Http(resp) => {
            log::info!(
                "conn={id} peer={peer} http {method} {path} -> {}",
                resp.status
            );
            // RFC 9110 §9.3.2: a HEAD response has GET's headers (Content-Length included) and
            // no body.
            let with_body = method != "HEAD";
            send_and_close(&mut io, &encode_response(&resp, with_body)).await;
            None
        }
        Reply::Upgrade(up) => {
            let key = match upgrade {
                Ok(key) => key,
                Err(e) => {
                    refuse(&mut io, id, peer, e).await;
                    return None;
                }
            };
            if let Some(p) = &up.subprotocol {
                if !offered.iter().any(|o| o == p) {
                    log::error!(
                        "conn={id} application chose subprotocol {p:?} the client did not offer"
                    );
                    respond(&mut io, &HttpResponse::text(500, "Internal Server Error")).await;
                    return None;
                }
            }
            let offers = extension_offers.iter().map(String::as_str);
            let extra = &up.extra_headers;
            let subprotocol = up.subprotocol.as_deref();
            let Some(accepted) = crate::upgrade::accept(&key, subprotocol, extra, offers, &config)
            else {
                log::error!("conn={id} invalid upgrade response header from the application");
                respond(&mut io, &HttpResponse::text(500, "Internal Server Error")).await;
                return None;
            };
            let response = accepted.response;
            let write_deadline = Instant::now() + RESPONSE_TIMEOUT;
            if write_all_until(&mut io, &response, write_deadline)
                .await
                .is_err()
            {
                log::debug!("conn={id} peer={peer} gone before the 101 was written");
                return None;
            }
            log::info!(
                "conn={id} peer={peer} handshake accepted path={path} subprotocol={:?}",
                up.subprotocol
            );
            let mut ws = WebSocket::from_parts(
                io,
                Role::Server,
                &config.connection(),
                &leftover,
                id,
                up.subprotocol,
            );
            if let Some(params) = accepted.deflate {
                ws.enable_deflate(params, &config.deflate);
            }
            Some((ws, up.on_open))
        }
    }
}

/// Copies the parsed head into an owned request.
fn to_parsed(req: &handshake::Request<'_, '_>, head_len: usize, peer: SocketAddr) -> Parsed {
    let request = Request {
        method: req.method.to_owned(),
        path: req.path.to_owned(),
        query: req.query.map(str::to_owned),
        headers: req
            .headers
            .iter()
            .map(|h| (h.name.to_owned(), h.value.to_owned()))
            .collect(),
        body: Vec::new(),
        peer,
        is_upgrade: req.is_upgrade(),
    };
    let upgrade = req.upgrade().map(|u| u.key.to_owned());
    Parsed {
        request,
        head_len,
        upgrade,
    }
}

/// Reads a `Content-Length` body into `request.body`; returns the bytes after the body (frames
/// sent right after an upgrade head), or the HTTP status to refuse with.
async fn read_body(
    io: &mut Box<dyn Stream>,
    request: &mut Request,
    mut after_head: Vec<u8>,
    config: &Config,
    deadline: Instant,
) -> Result<Vec<u8>, u16> {
    if request.header("transfer-encoding").is_some() {
        return Err(411);
    }
    let Some(cl) = content_length(request)? else {
        return Ok(after_head);
    };
    if cl > config.max_request_body {
        return Err(413);
    }
    while after_head.len() < cl {
        let mut chunk = vec![0u8; (cl - after_head.len()).min(16 << 10)];
        match read_until(io, &mut chunk, deadline).await {
            Ok(0) | Err(_) => return Err(408),
            Ok(n) => after_head.extend_from_slice(chunk.get(..n).unwrap_or_default()),
        }
    }
    let rest = after_head.split_off(cl);
    request.body = after_head;
    Ok(rest)
}

/// The request's body length from its `Content-Length` headers, `None` without one, or 400.
///
/// RFC 9112 §6.3: a value that is not `1*DIGIT` (`+6`, `0x6`, `6 6`) or headers that disagree
/// (`3` and `6`, or `3, 6`) are refused, since a proxy in front may have framed the body
/// differently (request smuggling). Repeats of one value (`6, 6`, or twice `6`) are that value
/// (RFC 9110 §8.6). A number too large for usize is 400 too (it is far past any body limit).
fn content_length(request: &Request) -> Result<Option<usize>, u16> {
    let mut length = None;
    let values = request
        .headers
        .iter()
        .filter(|(name, _)| name.eq_ignore_ascii_case("content-length"))
        .flat_map(|(_, value)| value.split(','));
    for value in values {
        let value = value.trim_matches([' ', '\t']);
        if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
            return Err(400);
        }
        let n: usize = value.parse().map_err(|_| 400u16)?;
        if length.is_some_and(|l| l != n) {
            return Err(400);
        }
        length = Some(n);
    }
    Ok(length)
}

/// Answers a failed handshake with ws-core's error response and closes.
async fn refuse(io: &mut Box<dyn Stream>, id: u64, peer: SocketAddr, e: HandshakeError) {
    log::info!("conn={id} peer={peer} handshake refused: {e}");
    let mut out = [0u8; 512];
    let Ok(n) = handshake::write_error_response(e, &mut out) else {
        return;
    };
    let deadline = Instant::now() + RESPONSE_TIMEOUT;
    if write_all_until(io, out.get(..n).unwrap_or_default(), deadline)
        .await
        .is_ok()
    {
        close_until(io, deadline).await;
    }
}

/// Sends a plain HTTP response and closes.
async fn respond(io: &mut Box<dyn Stream>, resp: &HttpResponse) {
    send_and_close(io, &encode_response(resp, true)).await;
}

/// Writes an encoded response and closes.
async fn send_and_close(io: &mut Box<dyn Stream>, response: &[u8]) {
    let deadline = Instant::now() + RESPONSE_TIMEOUT;
    if write_all_until(io, response, deadline).await.is_ok() {
        close_until(io, deadline).await;
    }
}

/// A short body for a status.
fn reason_text(status: u16) -> &'static str {
    crate::http::reason_phrase(status)
}

/// Answers 503 to a connection past the connection limit: reads the request head briefly (so
/// the close does not reset the response away), answers, closes.
pub(crate) async fn answer_busy(mut io: Box<dyn Stream>) {
    let deadline = Instant::now() + Duration::from_secs(1);
    let mut buf = [0u8; 4096];
    let _ = read_until(&mut io, &mut buf, deadline).await;
    respond(&mut io, &crate::upgrade::busy()).await;
    // Drain what the client still sends so the close is a FIN, not a reset.
    let drain_deadline = Instant::now() + Duration::from_millis(500);
    while let Ok(n) = read_until(&mut io, &mut buf, drain_deadline).await {
        if n == 0 {
            break;
        }
    }
}

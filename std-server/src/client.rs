//! The client: `connect("ws://host:port/path")` over TCP (`wss://` over TLS with the feature
//! `tls`), or [`client_handshake`] over any futures-io stream. Nonces and masking keys come from a CSPRNG seeded by the OS; the
//! `Sec-WebSocket-Accept` check is ws-core's.

use crate::config::{ClientConfig, ConnectionConfig};
use crate::conn::Stream;
use crate::error::Error;
use crate::io_util::{read_until, write_all_until};
use crate::websocket::WebSocket;
use async_io::Async;
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Instant;
use ws_core::handshake::{self, ClientRequest, Header, ResponseParser, Status};
use ws_core::Role;

/// A parsed `ws://` or `wss://` URL.
#[derive(Debug, PartialEq, Eq)]
struct Url<'a> {
    /// `wss://`: TLS.
    secure: bool,
    host: &'a str,
    port: u16,
    /// `host[:port]` as written (the Host header).
    authority: &'a str,
    path: &'a str,
}

fn parse_url(url: &str) -> Result<Url<'_>, Error> {
    let (secure, rest) = if let Some(rest) = url.strip_prefix("ws://") {
        (false, rest)
    } else if let Some(rest) = url.strip_prefix("wss://") {
        (true, rest)
    } else {
        return Err(Error::InvalidUrl("expected ws:// or wss://"));
    };
    let default_port = if secure { 443 } else { 80 };
    let (authority, path) = match rest.find('/') {
        Some(i) => (
            rest.get(..i).unwrap_or_default(),
            rest.get(i..).unwrap_or("/"),
        ),
        None => (rest, "/"),
    };
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (h, after) = v6
            .split_once(']')
            .ok_or(Error::InvalidUrl("bad IPv6 host"))?;
        let port = match after.strip_prefix(':') {
            Some(p) => p.parse().map_err(|_| Error::InvalidUrl("bad port"))?,
            None if after.is_empty() => default_port,
            None => return Err(Error::InvalidUrl("bad IPv6 host")),
        };
        (h, port)
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, p.parse().map_err(|_| Error::InvalidUrl("bad port"))?),
            None => (authority, default_port),
        }
    };
    if host.is_empty() {
        return Err(Error::InvalidUrl("missing host"));
    }
    Ok(Url {
        secure,
        host,
        port,
        authority,
        path,
    })
}

/// Connects to `url` (`ws://host[:port][/path]`, or `wss://` with the feature `tls`) with the
/// default configuration.
pub async fn connect(url: &str) -> Result<WebSocket, Error> {
    connect_with(url, ClientConfig::default()).await
}

/// Connects to `url` with extra headers, subprotocols, an Origin and limits. Name resolution
/// uses the system resolver (blocking; instant for IP literals and `localhost`). For `wss://`,
/// SNI and the certificate check use the URL's host, and [`ClientConfig`]'s `tls` says which
/// certificates are trusted; the handshake timeout covers the TLS handshake too.
pub async fn connect_with(url: &str, cfg: ClientConfig) -> Result<WebSocket, Error> {
    let u = parse_url(url)?;
    let addr = (u.host, u.port)
        .to_socket_addrs()?
        .next()
        .ok_or(Error::InvalidUrl("host did not resolve"))?;
    let stream = Async::<TcpStream>::connect(addr).await?;
    let _ = stream.get_ref().set_nodelay(true);
    let stream = crate::tcp::Tcp(stream);
    if !u.secure {
        return client_handshake(stream, u.authority, u.path, cfg).await;
    }
    #[cfg(feature = "tls")]
    {
        let deadline = Instant::now() + cfg.connection.handshake_timeout;
        let tls = crate::tls::connect(Box::new(stream), u.host, &cfg.tls, deadline).await?;
        client_handshake(tls, u.authority, u.path, cfg).await
    }
    #[cfg(not(feature = "tls"))]
    Err(Error::InvalidUrl(
        "wss:// needs ws-server's cargo feature `tls`",
    ))
}

/// Runs the client handshake over an already connected stream (`host` is the Host header,
/// `path` the request target) and returns the client-role connection.
pub async fn client_handshake<S: Stream + 'static>(
    mut stream: S,
    host: &str,
    path: &str,
    cfg: ClientConfig,
) -> Result<WebSocket, Error> {
    let config: &ConnectionConfig = &cfg.connection;
    let deadline = Instant::now() + config.handshake_timeout;
    let protocols: Vec<&str> = cfg.subprotocols.iter().map(String::as_str).collect();
    let extra: Vec<(&str, &str)> = cfg
        .headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let mut offer_buf = [0u8; ws_core::deflate::MAX_HEADER_VALUE_LEN];
    let offer = config.deflate.offer;
    let request = ClientRequest {
        host,
        path,
        origin: cfg.origin.as_deref(),
        subprotocols: &protocols,
        extensions: offer.and_then(|o| o.write(&mut offer_buf).ok()),
        extra_headers: &extra,
    };
    let nonce: [u8; 16] = rand::random();
    let room = 640
        + host.len()
        + path.len()
        + protocols.iter().map(|p| p.len() + 2).sum::<usize>()
        + extra
            .iter()
            .map(|(k, v)| k.len() + v.len() + 4)
            .sum::<usize>();
    let mut out = vec![0u8; room];
    let (n, expected) = handshake::write_client_request(&request, nonce, &mut out)
        .map_err(|_| Error::InvalidUrl("request header text is not valid"))?;
    write_all_until(&mut stream, out.get(..n).unwrap_or_default(), deadline)
        .await
        .map_err(timeout_or_io)?;

    let mut buf = vec![0u8; config.head.max_head_bytes + 4096];
    let mut len = 0;
    let mut parser = ResponseParser::new(config.head);
    loop {
        let Some(free) = buf.get_mut(len..).filter(|f| !f.is_empty()) else {
            return Err(Error::Handshake(ws_core::HandshakeError::HeadTooLarge));
        };
        let n = read_until(&mut stream, free, deadline)
            .await
            .map_err(timeout_or_io)?;
        if n == 0 {
            return Err(Error::Io(std::io::ErrorKind::UnexpectedEof.into()));
        }
        len += n;
        let mut headers: Vec<Header<'_>> = vec![Header::EMPTY; config.head.max_headers];
        let input = buf.get(..len).unwrap_or_default();
        match parser.feed(input, &mut headers, &request, &expected) {
            Ok(Status::Partial) => continue,
            Ok(Status::Complete((resp, head_len))) => {
                let subprotocol = resp.subprotocol.map(str::to_owned);
                let deflate = match offer {
                    Some(offer) => accept_deflate(&offer, resp.headers)?,
                    None => None,
                };
                let leftover = buf.get(head_len..len).unwrap_or_default();
                let id = crate::conn::next_id();
                log::debug!("conn={id} client connected to {host}{path}");
                let mut ws = WebSocket::from_parts(
                    Box::new(stream),
                    Role::Client,
                    config,
                    leftover,
                    id,
                    subprotocol,
                );
                if let Some(params) = deflate {
                    ws.enable_deflate(params, &config.deflate);
                }
                return Ok(ws);
            }
            Err(e) => return Err(Error::Handshake(e)),
        }
    }
}

/// The permessage-deflate parameters the server's answer agrees to (`None` if it declined), or
/// the handshake error for an answer we did not allow (RFC 7692 §5.1: the client fails).
fn accept_deflate(
    offer: &ws_core::deflate::ClientOffer,
    headers: &[Header<'_>],
) -> Result<Option<ws_core::deflate::PerMessageDeflate>, Error> {
    // A header without elements (an empty value) names no extension.
    let mut values = headers
        .iter()
        .filter(|h| h.name.eq_ignore_ascii_case("sec-websocket-extensions"))
        .map(|h| h.value)
        .filter(|v| {
            v.split(',')
                .any(|e| !e.trim_matches([' ', '\t']).is_empty())
        });
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(Error::Handshake(
            ws_core::HandshakeError::UnexpectedExtension,
        ));
    }
    match offer.accept(value) {
        Ok(params) => Ok(Some(params)),
        Err(e) => {
            log::info!("server's extension answer {value:?} refused: {e}");
            Err(Error::Handshake(e.into()))
        }
    }
}

fn timeout_or_io(e: std::io::Error) -> Error {
    if e.kind() == std::io::ErrorKind::TimedOut {
        Error::Timeout
    } else {
        Error::Io(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_extension_answer_declines_and_a_malformed_one_fails() {
        let offer = ws_core::deflate::ClientOffer::default();
        let header = |value| {
            [Header {
                name: "Sec-WebSocket-Extensions",
                value,
            }]
        };
        assert_eq!(accept_deflate(&offer, &header("")).ok(), Some(None));
        assert_eq!(accept_deflate(&offer, &header(" , ")).ok(), Some(None));
        assert!(accept_deflate(&offer, &header("permessage-deflate")).is_ok_and(|p| p.is_some()));
        assert!(accept_deflate(&offer, &header("permessage-deflate; x")).is_err());
    }

    #[test]
    fn parses_urls() {
        let u = parse_url("ws://127.0.0.1:9001/chat?room=1").unwrap();
        assert_eq!(
            u,
            Url {
                secure: false,
                host: "127.0.0.1",
                port: 9001,
                authority: "127.0.0.1:9001",
                path: "/chat?room=1"
            }
        );
        let u = parse_url("ws://[::1]:80").unwrap();
        assert_eq!((u.host, u.port, u.path), ("::1", 80, "/"));
        assert_eq!(parse_url("ws://localhost").unwrap().port, 80);
        let u = parse_url("wss://example.org/chat").unwrap();
        assert_eq!((u.secure, u.host, u.port), (true, "example.org", 443));
        assert_eq!(parse_url("wss://[::1]").unwrap().port, 443);
        assert!(parse_url("http://x").is_err());
        assert!(parse_url("ws://h:notaport/").is_err());
    }

    // Before the fix `ws://:1/` parsed to host "" (and connect() resolved it to nothing useful,
    // with a Host header of ":1"); an empty host is a malformed URL.
    #[test]
    fn refuses_an_empty_host() {
        for url in [
            "ws://:1/",
            "ws://:1",
            "ws://:80/chat",
            "ws://[]:1/",
            "ws://[]/",
            "ws://[]",
        ] {
            assert!(
                matches!(parse_url(url), Err(Error::InvalidUrl("missing host"))),
                "{url}: {:?}",
                parse_url(url)
            );
        }
    }
}

//! The server side of one TLS connection: sniff the first bytes (a TLS record or plain HTTP?),
//! then run rustls's handshake, all before the connection's deadline.

use super::prefixed::Prefixed;
use super::TlsAcceptor;
use crate::conn::Stream;
use crate::io_util::{close_until, read_until, write_all_until};
use async_io::Timer;
use std::future::{poll_fn, Future};
use std::net::SocketAddr;
use std::pin::pin;
use std::task::Poll;
use std::time::{Duration, Instant};

/// The first byte of every TLS handshake record (ContentType `handshake`, RFC 8446 §5.1).
const HANDSHAKE_RECORD: u8 = 0x16;

/// Time allowed for writing the 400 to a plain-HTTP client.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(2);

/// What nginx answers in the same case, so a person who typed `http://` sees why.
const PLAIN_HTTP_RESPONSE: &[u8] = b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: 52\r\nConnection: close\r\n\r\nThis port speaks TLS: use https:// or wss:// here.\r\n";

/// The TLS stream over `io`, or `None` (logged) if the client sent plain HTTP or something else
/// that is not TLS, failed the handshake or did not finish it by `deadline`.
pub(crate) async fn accept(
    mut io: Box<dyn Stream>,
    acceptor: &TlsAcceptor,
    deadline: Instant,
    id: u64,
    peer: SocketAddr,
) -> Option<Box<dyn Stream>> {
    let mut first = vec![0u8; 512];
    let n = match read_until(&mut io, &mut first, deadline).await {
        Ok(0) => {
            log::debug!("conn={id} peer={peer} closed before the TLS handshake");
            return None;
        }
        Ok(n) => n,
        Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {
            log::info!("conn={id} peer={peer} TLS handshake refused: timeout (dropped)");
            return None;
        }
        Err(e) => {
            log::debug!("conn={id} peer={peer} read error before the TLS handshake: {e}");
            return None;
        }
    };
    first.truncate(n);
    match first.first() {
        Some(&HANDSHAKE_RECORD) => {}
        Some(b) if b.is_ascii_uppercase() => {
            let line = first.split(|&b| b == b'\r' || b == b'\n').next();
            let line = String::from_utf8_lossy(line.unwrap_or_default());
            log::warn!(
                "conn={id} peer={peer} plain HTTP on the TLS port ({:?}): answered 400",
                line.chars().take(80).collect::<String>()
            );
            let deadline = Instant::now() + RESPONSE_TIMEOUT;
            if write_all_until(&mut io, PLAIN_HTTP_RESPONSE, deadline)
                .await
                .is_ok()
            {
                close_until(&mut io, deadline).await;
            }
            return None;
        }
        Some(b) => {
            log::info!("conn={id} peer={peer} not TLS (first byte {b:#04x}): dropped");
            return None;
        }
        None => return None,
    }
    let config = acceptor.current();
    let handshake = futures_rustls::TlsAcceptor::from(config).accept(Prefixed::new(first, io));
    let mut handshake = pin!(handshake);
    let mut timer = Timer::at(deadline);
    let done = poll_fn(|cx| {
        if let Poll::Ready(r) = handshake.as_mut().poll(cx) {
            return Poll::Ready(Some(r));
        }
        if std::pin::Pin::new(&mut timer).poll(cx).is_ready() {
            return Poll::Ready(None);
        }
        Poll::Pending
    })
    .await;
    match done {
        Some(Ok(stream)) => {
            let (_, session) = stream.get_ref();
            log::debug!(
                "conn={id} peer={peer} TLS {:?} {:?} sni={:?}",
                session.protocol_version(),
                session.negotiated_cipher_suite().map(|s| s.suite()),
                session.server_name()
            );
            Some(Box::new(stream))
        }
        Some(Err(e)) => {
            log::info!("conn={id} peer={peer} TLS handshake failed: {e}");
            None
        }
        None => {
            log::info!("conn={id} peer={peer} TLS handshake refused: timeout (dropped)");
            None
        }
    }
}

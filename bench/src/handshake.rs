//! The client's opening handshake, done blocking before the measured phase starts.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// The `Sec-WebSocket-Key` every connection sends (RFC 6455 §1.3's example).
pub const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";
/// The `Sec-WebSocket-Accept` answering [`KEY`] (RFC 6455 §1.3).
pub const ACCEPT: &str = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

/// The upgrade request for `addr`.
pub fn request(addr: SocketAddr) -> String {
    request_to(addr, "/")
}

/// The upgrade request for `path` on `addr`.
pub fn request_to(addr: SocketAddr, path: &str) -> String {
    format!(
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: {KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
}

/// How long a server may take to answer the upgrade before the run fails.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// Sends the upgrade request on `stream` and reads the response head (each within [`TIMEOUT`]);
/// checks it is a 101 with the right accept value. Returns any bytes received after the head.
pub fn client_handshake(stream: &mut TcpStream, addr: SocketAddr) -> io::Result<Vec<u8>> {
    client_handshake_within(stream, addr, TIMEOUT)
}

/// [`client_handshake`] with each read and write bounded by `timeout`.
pub fn client_handshake_within(
    stream: &mut TcpStream,
    addr: SocketAddr,
    timeout: Duration,
) -> io::Result<Vec<u8>> {
    client_handshake_path(stream, addr, "/", timeout)
}

/// [`client_handshake_within`] asking for `path`.
pub fn client_handshake_path(
    stream: &mut TcpStream,
    addr: SocketAddr,
    path: &str,
    timeout: Duration,
) -> io::Result<Vec<u8>> {
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    let rest = exchange(stream, &request_to(addr, path))?;
    stream.set_read_timeout(None)?;
    stream.set_write_timeout(None)?;
    Ok(rest)
}

fn exchange(stream: &mut TcpStream, request: &str) -> io::Result<Vec<u8>> {
    stream.write_all(request.as_bytes())?;
    let mut buf = Vec::with_capacity(512);
    let mut chunk = [0u8; 1024];
    loop {
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "closed during handshake",
            ));
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            check_response(&buf[..end])?;
            return Ok(buf.split_off(end + 4));
        }
        if buf.len() > 16 * 1024 {
            return Err(io::Error::other("response head too long"));
        }
    }
}

/// Checks a response head (without the blank line) accepts the upgrade.
pub fn check_response(head: &[u8]) -> io::Result<()> {
    let text = String::from_utf8_lossy(head);
    let mut lines = text.split("\r\n");
    let status = lines.next().unwrap_or("");
    if !status.starts_with("HTTP/1.1 101") {
        return Err(io::Error::other(format!("not a 101: {status:?}")));
    }
    let ok = lines.any(|l| {
        l.split_once(':').is_some_and(|(n, v)| {
            n.trim().eq_ignore_ascii_case("sec-websocket-accept") && v.trim() == ACCEPT
        })
    });
    if ok {
        Ok(())
    } else {
        Err(io::Error::other("missing or wrong Sec-WebSocket-Accept"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_rfc_example_response() {
        let head = format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\
             Connection: Upgrade\r\nsec-websocket-accept: {ACCEPT}"
        );
        assert!(check_response(head.as_bytes()).is_ok());
        assert!(check_response(b"HTTP/1.1 400 Bad Request\r\nX: y").is_err());
        let wrong = "HTTP/1.1 101 OK\r\nSec-WebSocket-Accept: AAAAPLMBiTxaQ9kYGzzhZRbK+xOo=";
        assert!(check_response(wrong.as_bytes()).is_err());
    }
}

//! Request body framing and HEAD over real loopback TCP (RFC 9112 §6.3, RFC 9110 §9.3.2): the
//! Content-Length values a proxy and this server could read differently are refused with 400
//! (a request-smuggling vector), and a HEAD response carries no body.

mod common;

use common::*;
use std::io::{Read, Write};
use std::net::SocketAddr;
use ws_server::{Config, HttpResponse, Reply, Request};

/// Echoes the body it was given, so a test sees which framing the server chose.
async fn app(req: Request) -> Reply {
    let body = String::from_utf8_lossy(&req.body).into_owned();
    Reply::Http(HttpResponse::text(200, format!("body={body}")))
}

/// Sends `request`, returns everything the server wrote until it closed.
fn exchange(addr: SocketAddr, request: &[u8]) -> String {
    let mut s = tcp(addr);
    s.write_all(request).unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

fn post(addr: SocketAddr, content_length_lines: &str, body: &str) -> String {
    exchange(
        addr,
        format!("POST /f HTTP/1.1\r\nHost: x\r\n{content_length_lines}\r\n{body}").as_bytes(),
    )
}

#[test]
fn conflicting_content_lengths_are_refused_with_400() {
    let server = start_with(Config::default(), app);
    // Before the fix the first header won: 200 "body=abc".
    let r = post(
        server.addr,
        "Content-Length: 3\r\nContent-Length: 6\r\n",
        "abcdef",
    );
    assert!(r.starts_with("HTTP/1.1 400 "), "{r}");
    let r = post(server.addr, "Content-Length: 3, 6\r\n", "abcdef");
    assert!(r.starts_with("HTTP/1.1 400 "), "{r}");
}

#[test]
fn content_length_that_is_not_only_digits_is_refused_with_400() {
    let server = start_with(Config::default(), app);
    // Before the fix `+6` parsed as 6: 200 "body=abcdef".
    for value in ["+6", "-0", "6 6", "0x6", "", "٦"] {
        let r = post(
            server.addr,
            &format!("Content-Length: {value}\r\n"),
            "abcdef",
        );
        assert!(r.starts_with("HTTP/1.1 400 "), "{value:?}: {r}");
    }
}

#[test]
fn repeated_equal_content_lengths_and_a_plain_one_are_read() {
    let server = start_with(Config::default(), app);
    let r = post(server.addr, "Content-Length: 6\r\n", "abcdef");
    assert!(
        r.starts_with("HTTP/1.1 200 ") && r.ends_with("body=abcdef"),
        "{r}"
    );
    // RFC 9110 §8.6: a list of one repeated value may be read as that value.
    let r = post(
        server.addr,
        "Content-Length: 6\r\nContent-Length: 6\r\n",
        "abcdef",
    );
    assert!(
        r.starts_with("HTTP/1.1 200 ") && r.ends_with("body=abcdef"),
        "{r}"
    );
    let r = post(server.addr, "Content-Length: 6, 6\r\n", "abcdef");
    assert!(
        r.starts_with("HTTP/1.1 200 ") && r.ends_with("body=abcdef"),
        "{r}"
    );
}

#[test]
fn head_response_has_the_headers_and_no_body() {
    let server = start_with(Config::default(), app);
    let get = exchange(server.addr, b"GET /p HTTP/1.1\r\nHost: x\r\n\r\n");
    assert!(get.ends_with("\r\n\r\nbody="), "{get}");
    // Before the fix the HEAD response ended with the body `body=`.
    let head = exchange(server.addr, b"HEAD /p HTTP/1.1\r\nHost: x\r\n\r\n");
    assert!(head.starts_with("HTTP/1.1 200 "), "{head}");
    assert!(
        head.ends_with("\r\n\r\n"),
        "a body after the head: {head:?}"
    );
    // The same headers as the GET, Content-Length included (RFC 9110 §9.3.2).
    assert_eq!(head.as_str(), get.trim_end_matches("body="));
}

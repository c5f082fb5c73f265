//! The opening handshake: any path is upgraded, deflate and subprotocols are declined, invalid
//! requests get the same error responses as the task server, and the connection limit (503).

use crate::common::{
    assert_closed_within, assert_echo_works, assert_round_trip, client, client_at, close_and_drain,
    frame, frame_raw, http_response, read_close, read_head, tcp, upgrade_request,
};
use crate::loop_engine::{start, start_tasks};
use crate::{limited_to, upgrade_when_free};
use std::io::Write;
use std::time::Duration;
use tungstenite::Message as T;
use ws_server::Config;

#[test]
fn any_path_is_upgraded_deflate_agreed_and_subprotocols_declined() {
    let server = start(Config::default());
    let request = upgrade_request("/any/path?x=1").replace(
        "Sec-WebSocket-Version: 13\r\n",
        "Sec-WebSocket-Version: 13\r\n\
         Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\
         Sec-WebSocket-Protocol: chat, superchat\r\n",
    );
    let mut s = tcp(server.addr);
    s.write_all(request.as_bytes()).unwrap();
    let head = read_head(&mut s);
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    assert!(head.contains("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="), "{head}");
    let lower = head.to_ascii_lowercase();
    // The driver brings permessage-deflate to this engine (the same negotiation as `Server`).
    assert!(
        lower.contains("sec-websocket-extensions: permessage-deflate"),
        "{head}"
    );
    assert!(!lower.contains("sec-websocket-protocol"), "{head}");
    assert_round_trip(&mut s, 1, b"plain");
    // RSV1 on a continuation frame is still a protocol error (RFC 7692 §6.1).
    s.write_all(&frame(false, 1, b"x")).unwrap();
    s.write_all(&frame_raw(0x40, b"y")).unwrap();
    assert_eq!(read_close(&mut s), Some(1002));
    assert_closed_within(&mut s, Duration::from_secs(3));
    let mut ws = client_at(server.addr, "/deep/path/to/anything");
    ws.send(T::binary(vec![1, 2, 3])).unwrap();
    assert_eq!(ws.read().unwrap(), T::binary(vec![1, 2, 3]));
}

#[test]
fn invalid_handshakes_get_the_same_error_responses_as_the_task_server() {
    let mut config = Config::default();
    config.head.max_head_bytes = 1024;
    let server = start(config.clone());
    let reference = start_tasks(config);
    let up = upgrade_request("/");
    let many: String = (0..70).map(|i| format!("X-H{i}: v\r\n")).collect();
    let cases: Vec<(&str, String, &str, Option<&str>)> = vec![
        (
            "plain GET",
            "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n".into(),
            "HTTP/1.1 400",
            Some("Missing Upgrade"),
        ),
        (
            "POST upgrade",
            up.replace("GET", "POST"),
            "HTTP/1.1 405",
            Some("Allow: GET"),
        ),
        (
            "version 8",
            up.replace("Version: 13", "Version: 8"),
            "HTTP/1.1 426",
            Some("Sec-WebSocket-Version: 13"),
        ),
        (
            "no version",
            up.replace("Sec-WebSocket-Version: 13\r\n", ""),
            "HTTP/1.1 426",
            Some("Sec-WebSocket-Version: 13"),
        ),
        (
            "no key",
            up.replace("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", ""),
            "HTTP/1.1 400",
            None,
        ),
        (
            "head over max_head_bytes",
            up.replace(
                "\r\n\r\n",
                &format!("\r\nX-Big: {}\r\n\r\n", "a".repeat(2000)),
            ),
            "HTTP/1.1 431",
            None,
        ),
        (
            "70 headers",
            up.replace("\r\n\r\n", &format!("\r\n{many}\r\n")),
            "HTTP/1.1 431",
            None,
        ),
        (
            "HTTP/1.0",
            up.replace("HTTP/1.1", "HTTP/1.0"),
            "HTTP/1.1 400",
            None,
        ),
        ("garbage", "GARBAGE\r\n\r\n".into(), "HTTP/1.1 400", None),
    ];
    for (what, request, status, header) in cases {
        let got = http_response(server.addr, request.as_bytes());
        assert!(got.starts_with(status), "{what}: {got:?}");
        if let Some(h) = header {
            assert!(got.contains(h), "{what}: {got:?}");
        }
        let want = http_response(reference.addr, request.as_bytes());
        assert_eq!(got, want, "{what}: the engines answer differently");
    }
    assert_echo_works(server.addr);
}

#[test]
fn connections_past_the_limit_get_503() {
    let server = start(limited_to(2, Config::default()));
    let mut a = client(server.addr);
    let mut b = client(server.addr);
    let r = http_response(server.addr, upgrade_request("/").as_bytes());
    assert!(r.starts_with("HTTP/1.1 503"), "{r}");
    close_and_drain(&mut a);
    // The slot is freed once the server has closed a's socket: retry for a bounded time.
    let refused = |head: &str| assert!(head.starts_with("HTTP/1.1 503"), "{head}");
    let mut s = upgrade_when_free(server.addr, refused, "a's slot was never freed");
    assert_round_trip(&mut s, 1, b"third");
    b.send(T::text("b")).unwrap();
    assert_eq!(b.read().unwrap(), T::text("b"));
}

//! The server side of the opening handshake and plain HTTP: the application's decisions,
//! request bodies, ws-core's error responses, the connection limit and graceful shutdown.

mod common;

use common::*;
use std::io::{Read, Write};
use std::time::Duration;
use tungstenite::Message as T;
use ws_server::{Config, HttpResponse, Reply, Request, Upgrade, WebSocket};

/// Pages, a form, an Origin check, a subprotocol and a cookie, like an application would.
async fn app(req: Request) -> Reply {
    match (req.method.as_str(), req.path.as_str()) {
        ("GET", "/hello") => Reply::Http(HttpResponse::text(200, "hello page")),
        ("POST", "/form") => {
            let body = String::from_utf8_lossy(&req.body).into_owned();
            Reply::Http(HttpResponse::text(200, format!("got {body}")))
        }
        (_, "/ws") => {
            if req.origin().is_some_and(|o| o != "http://good.example") {
                return Reply::Http(HttpResponse::text(403, "foreign origin"));
            }
            let user = req.cookie("user").unwrap_or("anon").to_owned();
            let mut up = Upgrade::new(move |mut ws: WebSocket| async move {
                let _ = ws
                    .send(ws_server::Message::Text(format!("hi {user}")))
                    .await;
                while let Some(m) = ws.recv().await {
                    if ws.send(m).await.is_err() {
                        break;
                    }
                }
            })
            .header("Set-Cookie", "seen=1");
            if req.subprotocols().contains(&"chat") {
                up = up.subprotocol("chat");
            }
            Reply::Upgrade(up)
        }
        _ => Reply::Http(HttpResponse::text(404, "not found")),
    }
}

fn http(addr: std::net::SocketAddr, request: &[u8]) -> String {
    let mut s = tcp(addr);
    s.write_all(request).unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn application_answers_pages_forms_and_refusals() {
    let server = start_with(Config::default(), app);
    let r = http(server.addr, b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    assert!(r.starts_with("HTTP/1.1 200 OK\r\n"), "{r}");
    assert!(r.ends_with("\r\n\r\nhello page"), "{r}");
    let r = http(
        server.addr,
        b"POST /form HTTP/1.1\r\nHost: x\r\nContent-Length: 7\r\n\r\na=1&b=2",
    );
    assert!(r.ends_with("got a=1&b=2"), "{r}");
    let big = format!(
        "POST /form HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n",
        1 << 20
    );
    assert!(http(server.addr, big.as_bytes()).starts_with("HTTP/1.1 413"));
    assert!(http(server.addr, b"GET /nope HTTP/1.1\r\nHost: x\r\n\r\n").starts_with("HTTP/1.1 404"));
    let foreign = upgrade_request("/ws").replace(
        "Host: localhost\r\n",
        "Host: localhost\r\nOrigin: http://evil.example\r\n",
    );
    assert!(http(server.addr, foreign.as_bytes()).starts_with("HTTP/1.1 403"));
}

#[test]
fn invalid_upgrades_get_ws_core_error_responses() {
    let server = start(Config::default());
    let up = upgrade_request("/");
    let r = http(server.addr, up.replace("GET", "POST").as_bytes());
    assert!(r.starts_with("HTTP/1.1 405"), "{r}");
    let r = http(
        server.addr,
        up.replace("Sec-WebSocket-Version: 13", "Sec-WebSocket-Version: 8")
            .as_bytes(),
    );
    assert!(r.starts_with("HTTP/1.1 426"), "{r}");
    assert!(r.contains("Sec-WebSocket-Version: 13"), "{r}");
    let r = http(
        server.addr,
        up.replace("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", "")
            .as_bytes(),
    );
    assert!(r.starts_with("HTTP/1.1 400"), "{r}");
    let huge = up.replace(
        "\r\n\r\n",
        &format!("\r\nX-Big: {}\r\n\r\n", "a".repeat(9000)),
    );
    let r = http(server.addr, huge.as_bytes());
    assert!(r.starts_with("HTTP/1.1 431"), "{r}");
    let many: String = (0..70).map(|i| format!("X-H{i}: v\r\n")).collect();
    let r = http(
        server.addr,
        up.replace("\r\n\r\n", &format!("\r\n{many}\r\n"))
            .as_bytes(),
    );
    assert!(r.starts_with("HTTP/1.1 431"), "{r}");
    let r = http(server.addr, b"GARBAGE\r\n\r\n");
    assert!(r.starts_with("HTTP/1.1 400"), "{r}");
    assert_echo_works(server.addr);
}

#[test]
fn upgrade_with_subprotocol_cookie_and_headers() {
    let server = start_with(Config::default(), app);
    let mut req = tungstenite::client::IntoClientRequest::into_client_request(format!(
        "ws://{}/ws",
        server.addr
    ))
    .unwrap();
    req.headers_mut()
        .insert("Sec-WebSocket-Protocol", "superchat, chat".parse().unwrap());
    req.headers_mut()
        .insert("Cookie", "theme=dark; user=ada".parse().unwrap());
    req.headers_mut()
        .insert("Origin", "http://good.example".parse().unwrap());
    let (mut ws, resp) = tungstenite::client(req, tcp(server.addr)).unwrap();
    assert_eq!(resp.headers()["sec-websocket-protocol"], "chat");
    assert_eq!(resp.headers()["set-cookie"], "seen=1");
    assert_eq!(ws.read().unwrap(), T::text("hi ada"));
    ws.send(T::binary(vec![1, 2, 3])).unwrap();
    assert_eq!(ws.read().unwrap(), T::binary(vec![1, 2, 3]));
}

#[test]
fn connections_past_the_limit_get_503() {
    let config = Config {
        max_connections: 2,
        ..Config::default()
    };
    let server = start(config);
    let mut a = client(server.addr);
    let mut b = client(server.addr);
    let r = http(server.addr, upgrade_request("/").as_bytes());
    assert!(r.starts_with("HTTP/1.1 503"), "{r}");
    a.close(None).unwrap();
    while a.read().is_ok() {}
    std::thread::sleep(Duration::from_millis(100));
    assert_echo_works(server.addr);
    b.send(T::text("b")).unwrap();
    assert_eq!(b.read().unwrap(), T::text("b"));
}

#[test]
fn graceful_shutdown_sends_1001_to_every_client() {
    let server = start(short_timeouts());
    let mut a = client(server.addr);
    let mut b = client(server.addr);
    // c never answers the close: shutdown still ends after the close timeout.
    let mut c = raw(server.addr);
    a.send(T::text("x")).unwrap();
    assert_eq!(a.read().unwrap(), T::text("x"));
    let addr = server.addr;
    let th = std::thread::spawn(move || server.shutdown());
    for ws in [&mut a, &mut b] {
        match ws.read().unwrap() {
            T::Close(Some(f)) => assert_eq!(u16::from(f.code), 1001),
            other => panic!("expected 1001, got {other:?}"),
        }
        while ws.read().is_ok() {}
    }
    assert_eq!(read_close(&mut c), Some(1001));
    let took = th.join().unwrap();
    assert!(took < Duration::from_secs(2), "shutdown took {took:?}");
    assert_closed_within(&mut c, Duration::from_secs(1));
    assert!(
        std::net::TcpStream::connect(addr).is_err() || {
            let mut s = tcp(addr);
            s.write_all(upgrade_request("/").as_bytes()).ok();
            let mut buf = [0u8; 16];
            matches!(s.read(&mut buf), Ok(0) | Err(_))
        }
    );
}

#[test]
fn serve_connection_runs_over_a_stream_of_our_own() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let th = std::thread::spawn(move || {
        let (s, peer) = listener.accept().unwrap();
        let stream = async_io::Async::new(s).unwrap();
        let handler: std::sync::Arc<dyn ws_server::Handler> =
            std::sync::Arc::new(ws_server::echo_handler());
        async_std::task::block_on(ws_server::serve_connection(
            stream,
            peer,
            std::sync::Arc::new(Config::default()),
            handler,
        ));
    });
    let mut ws = client(addr);
    ws.send(T::text("own stream")).unwrap();
    assert_eq!(ws.read().unwrap(), T::text("own stream"));
    ws.close(None).unwrap();
    while ws.read().is_ok() {}
    th.join().unwrap();
}

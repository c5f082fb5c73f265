//! The client role: against our echo server and against tungstenite's server (an independent
//! peer that checks our masking), Accept validation, cancel-safe recv.

mod common;

use async_io::Timer;
use common::*;
use futures_util::future::{select, Either};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::Duration;
use ws_server::{connect, connect_with, ClientConfig, CloseCode, Config, Error, Message};

#[test]
fn client_talks_to_our_echo_server() {
    let server = start(Config::default());
    async_std::task::block_on(async {
        let mut ws = connect(&format!("ws://{}/echo", server.addr))
            .await
            .unwrap();
        for len in [0usize, 125, 126, 65536, 1 << 20] {
            let m = Message::Binary((0..len).map(|i| i as u8).collect());
            ws.send(m.clone()).await.unwrap();
            assert_eq!(ws.recv().await, Some(m));
        }
        ws.send(Message::Text("héllo".into())).await.unwrap();
        assert_eq!(ws.recv().await, Some(Message::Text("héllo".into())));
        ws.ping(b"p").await.unwrap();
        ws.close(CloseCode::NORMAL, "done").await.unwrap();
        assert_eq!(ws.close_info().map(|(c, _)| c), Some(CloseCode::NORMAL));
        assert!(ws.recv().await.is_none());
        assert!(matches!(
            ws.send(Message::Text("x".into())).await,
            Err(Error::Closed)
        ));
    });
}

#[test]
fn client_talks_to_tungstenite_server() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let th = std::thread::spawn(move || {
        let (s, _) = listener.accept().unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut ws = tungstenite::accept(s).unwrap();
        let mut n = 0;
        loop {
            match ws.read() {
                Ok(m) if m.is_text() || m.is_binary() => {
                    n += 1;
                    ws.send(m).unwrap();
                }
                Ok(_) => {}
                Err(_) => return n,
            }
        }
    });
    async_std::task::block_on(async {
        let mut ws = connect(&format!("ws://{addr}/")).await.unwrap();
        for i in 0..100u32 {
            let m = Message::Text(format!("message {i} {}", "x".repeat(i as usize * 100)));
            ws.send(m.clone()).await.unwrap();
            assert_eq!(ws.recv().await, Some(m));
        }
        ws.close(CloseCode::NORMAL, "").await.unwrap();
        assert_eq!(ws.close_info().map(|(c, _)| c), Some(CloseCode::NORMAL));
    });
    assert_eq!(th.join().unwrap(), 100);
}

#[test]
fn client_offers_subprotocols_and_headers() {
    let server = start_with(Config::default(), |req: ws_server::Request| async move {
        let cookie = req.cookie("sid").unwrap_or_default().to_owned();
        let origin = req.origin().unwrap_or_default().to_owned();
        ws_server::Reply::Upgrade(
            ws_server::Upgrade::new(move |mut ws: ws_server::WebSocket| async move {
                let _ = ws.send(Message::Text(format!("{cookie} {origin}"))).await;
                let _ = ws.close(CloseCode::NORMAL, "").await;
            })
            .subprotocol("v2"),
        )
    });
    async_std::task::block_on(async {
        let cfg = ClientConfig {
            subprotocols: vec!["v1".into(), "v2".into()],
            headers: vec![("Cookie".into(), "sid=42".into())],
            origin: Some("http://me.example".into()),
            ..ClientConfig::default()
        };
        let mut ws = connect_with(&format!("ws://{}/", server.addr), cfg)
            .await
            .unwrap();
        assert_eq!(ws.subprotocol(), Some("v2"));
        assert_eq!(
            ws.recv().await,
            Some(Message::Text("42 http://me.example".into()))
        );
        assert_eq!(ws.recv().await, None);
        assert_eq!(ws.close_info().map(|(c, _)| c), Some(CloseCode::NORMAL));
    });
}

/// A fake server answering every request with `response`.
fn fake_server(response: &'static str) -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut buf = [0u8; 4096];
        let _ = s.read(&mut buf);
        let _ = s.write_all(response.as_bytes());
        std::thread::sleep(Duration::from_millis(200));
    });
    addr
}

#[test]
fn client_validates_the_response() {
    async_std::task::block_on(async {
        let addr = fake_server(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n",
        );
        let r = connect(&format!("ws://{addr}/")).await;
        assert!(
            matches!(
                r,
                Err(Error::Handshake(ws_core::HandshakeError::AcceptMismatch))
            ),
            "{r:?}"
        );
        let addr = fake_server("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
        let r = connect(&format!("ws://{addr}/")).await;
        assert!(
            matches!(
                r,
                Err(Error::Handshake(
                    ws_core::HandshakeError::NotSwitchingProtocols(404)
                ))
            ),
            "{r:?}"
        );
        assert!(matches!(
            connect("https://127.0.0.1:1/").await,
            Err(Error::InvalidUrl(_))
        ));
        // wss:// is TLS (feature `tls`, on for the tests): a closed port is a transport error.
        assert!(matches!(
            connect("wss://127.0.0.1:1/").await,
            Err(Error::Io(_))
        ));
        assert!(matches!(
            connect("http://127.0.0.1:1/").await,
            Err(Error::InvalidUrl(_))
        ));
    });
}

/// Ready on its second poll (or its first, if created with `true`): cancels what it races.
struct YieldOnce(bool);

impl std::future::Future for YieldOnce {
    type Output = ();
    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<()> {
        if self.0 {
            return std::task::Poll::Ready(());
        }
        self.0 = true;
        cx.waker().wake_by_ref();
        std::task::Poll::Pending
    }
}

#[test]
fn recv_is_cancel_safe() {
    // Without compression each 100 KB message spans many reads, so many recv futures are
    // dropped mid-message (with deflate these payloads shrink to a few hundred bytes).
    let server = start(Config {
        deflate: ws_server::deflate::DeflateConfig::DISABLED,
        ..Config::default()
    });
    async_std::task::block_on(async {
        let ws = connect(&format!("ws://{}/", server.addr)).await.unwrap();
        let (mut reader, writer) = ws.split();
        let payload = |i: u32| Message::Binary((0..100_000u32).map(|j| (i + j) as u8).collect());
        let feeder = async_std::task::spawn(async move {
            for i in 0..200u32 {
                // Stay under the outbound cap: wait while a lot is queued.
                while writer.queued_bytes() > 512 << 10 {
                    Timer::after(Duration::from_millis(1)).await;
                }
                writer.send(payload(i)).unwrap();
            }
        });
        let (mut got, mut cancelled) = (0u32, 0u32);
        while got < 200 {
            // Poll recv once and drop it unless it finished: no message may be lost or reordered.
            let recv = std::pin::pin!(reader.recv());
            match select(recv, YieldOnce(true)).await {
                Either::Left((m, _)) => {
                    assert!(
                        m == Some(payload(got)),
                        "message {got} lost or corrupted: {:?}",
                        m.as_ref().map(|m| (m.len(), m.as_bytes().first().copied()))
                    );
                    got += 1;
                }
                Either::Right(_) => cancelled += 1,
            }
        }
        feeder.await;
        eprintln!("received 200 x 100 KB in order with {cancelled} cancelled recv futures");
        assert!(
            cancelled > 10,
            "the test cancelled only {cancelled} recv futures"
        );
    });
}

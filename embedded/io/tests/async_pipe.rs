//! The async adapter: a server and a client as two futures on one thread (futures-lite's zip and
//! block_on), over an in-memory pipe that delivers at most 5 bytes per read.

mod common;

use futures_lite::future::{block_on, zip};
use ws_core::handshake::ClientRequest;
use ws_core::{CloseCode, MessageKind};
use ws_embedded_io::asynch::WebSocket;
use ws_embedded_io::Message;

#[test]
fn echo_server_and_client_text_binary_ping_close() {
    let (server_end, client_end) = common::async_pipe(5);
    let server = async move {
        let (mut rx, mut tx, mut msg) = ([0u8; 200], [0u8; 200], [0u8; 2048]);
        let mut ws = WebSocket::accept(server_end, &mut rx, &mut tx)
            .await
            .expect("accept");
        let mut seen = Vec::new();
        loop {
            match ws.read(&mut msg).await.expect("read") {
                Message::Text(t) => {
                    seen.push(format!("text {t}"));
                    let t = t.to_owned();
                    ws.send_text(&t).await.expect("echo");
                }
                Message::Binary(b) => {
                    seen.push(format!("binary {}", b.len()));
                    let b = b.to_vec();
                    ws.send(MessageKind::Binary, &b).await.expect("echo");
                }
                Message::Close(code) => {
                    seen.push(format!("close {:?}", code.map(|c| c.0)));
                    break;
                }
            }
        }
        seen
    };
    let client = async move {
        let request = ClientRequest {
            host: "device.local",
            path: "/",
            ..ClientRequest::default()
        };
        let (mut rx, mut tx, mut msg) = ([0u8; 200], [0u8; 200], [0u8; 2048]);
        let mut key = 0u8;
        let masks = move || {
            key = key.wrapping_add(0x3b);
            [key, key ^ 0x5a, 0x11, key.rotate_left(3)]
        };
        let mut ws = WebSocket::connect(client_end, &request, [9; 16], masks, &mut rx, &mut tx)
            .await
            .expect("connect");
        ws.send_text("ping-pong").await.unwrap();
        assert_eq!(ws.read(&mut msg).await.unwrap(), Message::Text("ping-pong"));
        ws.ping(b"p").await.unwrap();
        let big = vec![0x5au8; 1500];
        ws.send(MessageKind::Binary, &big).await.unwrap();
        assert_eq!(ws.read(&mut msg).await.unwrap(), Message::Binary(&big[..]));
        ws.close(CloseCode::GOING_AWAY, "", &mut msg).await.unwrap();
        ws.connection().state()
    };
    let (seen, client_state) = block_on(zip(server, client));
    assert_eq!(seen, ["text ping-pong", "binary 1500", "close Some(1001)"]);
    assert_eq!(client_state, ws_core::State::Closed);
}

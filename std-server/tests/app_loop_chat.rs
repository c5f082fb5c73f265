//! The Tornado-style chat example (examples/loop_chat.rs) on the event loop over loopback TCP:
//! a uid on connect, the history replayed to a newcomer before live messages, every message to
//! every member, and the others told when one leaves.

mod common;
#[path = "../examples/loop_chat.rs"]
mod loop_chat;

use common::{client_at, close_and_drain};
use std::net::TcpStream;
use tungstenite::Message as T;
use ws_server::evloop::AppLoop;
use ws_server::Config;

fn text(ws: &mut tungstenite::WebSocket<TcpStream>) -> String {
    match ws.read().unwrap() {
        T::Text(t) => t.to_string(),
        other => panic!("expected text, got {other:?}"),
    }
}

#[test]
fn uid_history_broadcast_and_leaving() {
    let server = AppLoop::bind("127.0.0.1:0", Config::default(), loop_chat::Chat::new(2)).unwrap();
    let addr = server.local_addr();
    let stop = server.shutdown_handle();
    let thread = std::thread::spawn(move || server.run());

    let mut a = client_at(addr, "/");
    assert_eq!(text(&mut a), "uid 1");
    for m in ["one", "two", "three"] {
        a.send(T::text(m)).unwrap();
        assert_eq!(text(&mut a), format!("1: {m}"));
    }
    // The newcomer: its uid, then the last two messages, then live ones.
    let mut b = client_at(addr, "/");
    assert_eq!(text(&mut b), "uid 2");
    assert_eq!(text(&mut b), "1: two");
    assert_eq!(text(&mut b), "1: three");
    b.send(T::text("hi")).unwrap();
    assert_eq!(text(&mut a), "2: hi");
    assert_eq!(text(&mut b), "2: hi");
    // Binary is refused (1003) and the others hear it left.
    a.send(T::binary(vec![1, 2])).unwrap();
    match a.read().unwrap() {
        T::Close(Some(f)) => assert_eq!(u16::from(f.code), 1003),
        other => panic!("expected 1003, got {other:?}"),
    }
    while a.read().is_ok() {}
    assert_eq!(text(&mut b), "1 left");
    close_and_drain(&mut b);
    stop.shutdown();
    thread.join().unwrap().unwrap();
}

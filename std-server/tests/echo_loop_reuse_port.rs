//! Two event-loop echo engines on one port (`EchoLoop::from_listener` with SO_REUSEPORT, what
//! `ws-server echo --engine loop --reuse-port` does): the kernel spreads the connections over
//! both, each serves its own, and stopping one leaves the other's connections open.
#![cfg(target_os = "linux")]

use socket2::{Domain, Socket, Type};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::Duration;
use tungstenite::Message as T;
use ws_server::evloop::EchoLoop;
use ws_server::Config;

/// A listener on `addr` with SO_REUSEPORT.
fn reuse_port_listener(addr: SocketAddr) -> TcpListener {
    let sock = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    sock.set_reuse_address(true).unwrap();
    sock.set_reuse_port(true).unwrap();
    sock.bind(&addr.into()).unwrap();
    sock.listen(128).unwrap();
    sock.into()
}

#[test]
fn two_loops_share_a_port_and_stop_independently() {
    let first = reuse_port_listener("127.0.0.1:0".parse().unwrap());
    let addr = first.local_addr().unwrap();
    let second = reuse_port_listener(addr);
    // The clients answer a close only when they next read: a short grace period.
    let config = Config {
        close_timeout: Duration::from_millis(300),
        ..Config::default()
    };
    let a = EchoLoop::from_listener(first, config.clone()).unwrap();
    let b = EchoLoop::from_listener(second, config).unwrap();
    assert_eq!(a.local_addr(), b.local_addr());
    let (stop_a, stop_b) = (a.shutdown_handle(), b.shutdown_handle());
    let ta = std::thread::spawn(move || a.run());
    let tb = std::thread::spawn(move || b.run());

    // 64 connections: the chance that the hash puts all of them on one loop is 2^-63.
    let mut clients: Vec<_> = (0..64)
        .map(|i| {
            let s = TcpStream::connect(addr).unwrap();
            s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            let (mut ws, _) = tungstenite::client(format!("ws://{addr}/"), s).unwrap();
            ws.send(T::text(format!("hello {i}"))).unwrap();
            assert_eq!(ws.read().unwrap(), T::text(format!("hello {i}")));
            ws
        })
        .collect();

    // Stopping the first loop closes its connections with 1001 and only those.
    stop_a.shutdown();
    ta.join().unwrap().unwrap();
    let (mut closed, mut open) = (0, 0);
    for (i, ws) in clients.iter_mut().enumerate() {
        ws.send(T::text(format!("again {i}"))).unwrap();
        match ws.read() {
            Ok(T::Text(t)) if t == format!("again {i}") => open += 1,
            Ok(T::Close(Some(f))) => {
                assert_eq!(u16::from(f.code), 1001);
                closed += 1;
            }
            other => panic!("client {i}: unexpected {other:?}"),
        }
    }
    assert!(closed > 0 && open > 0, "{closed} closed, {open} open");
    assert_eq!(closed + open, 64);

    // The port is still served (by the second loop alone).
    let s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let (mut ws, _) = tungstenite::client(format!("ws://{addr}/"), s).unwrap();
    ws.send(T::binary(vec![7u8; 3000])).unwrap();
    assert_eq!(ws.read().unwrap(), T::binary(vec![7u8; 3000]));
    stop_b.shutdown();
    tb.join().unwrap().unwrap();
}

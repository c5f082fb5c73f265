//! Stopping: the graceful shutdown (1001 to every client, waiting for the answers within the
//! close timeout, never inside an echo), half-closed clients, the `EchoLoop` stop and listener
//! API. (`ws-server echo --engine loop` stopping on SIGTERM: apps/tests/binary.rs, with the binary.)

use crate::common::{
    assert_close_code, assert_closed_within, assert_echo_works, assert_round_trip, client,
    client_at, close_frame, frame, raw, read_close, read_frame, upgrade_request,
};
use crate::loop_engine::{control_run, shared, start};
use crate::{long_close_timeout, timer_config};
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};
use tungstenite::Message as T;
use ws_server::Config;

#[test]
fn graceful_shutdown_sends_1001_to_every_client_and_run_returns_ok() {
    let server = start(timer_config());
    let addr = server.addr;
    let mut a = client(addr);
    let mut b = client_at(addr, "/b");
    // c never answers the close: the shutdown still ends after the close timeout.
    let mut c = raw(addr);
    a.send(T::text("x")).unwrap();
    assert_eq!(a.read().unwrap(), T::text("x"));
    server.trigger_stop();
    assert_close_code(&mut a, 1001);
    assert_close_code(&mut b, 1001);
    assert_eq!(read_close(&mut c), Some(1001));
    assert_closed_within(&mut c, Duration::from_secs(5));
    server.stop(Duration::from_secs(5)).expect("run() result");
    // Nothing is served any more.
    if let Ok(mut s) = TcpStream::connect(addr) {
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let _ = s.write_all(upgrade_request("/").as_bytes());
        let mut buf = [0u8; 16];
        assert!(matches!(s.read(&mut buf), Ok(0) | Err(_)));
    }
}

#[test]
fn shutdown_waits_for_the_close_of_a_client_that_answers() {
    // A long close timeout: run() returns because the last client answered, not because the
    // grace period ended.
    let server = start(long_close_timeout());
    let mut s = raw(server.addr);
    assert_round_trip(&mut s, 1, b"before");
    server.trigger_stop();
    assert_eq!(read_close(&mut s), Some(1001));
    // The server waits for our close (RFC 6455 7.1.1: the peer that sent the close waits).
    s.set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let mut byte = [0u8; 1];
    match s.read(&mut byte) {
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
        other => panic!("the server did not wait for our close: {other:?}"),
    }
    s.write_all(&close_frame(1001, b"")).unwrap();
    assert_closed_within(&mut s, Duration::from_secs(5));
    server.stop(Duration::from_secs(5)).expect("run() result");
}

// Guards the EOF that arrives with the last bytes (one edge for both); before 464763d it was
// never read and the connection stayed until the idle ping and pong timeouts.
#[test]
fn client_that_half_closes_without_a_close_frame_is_closed() {
    let server = start(timer_config());
    // 20 connections: whether the FIN arrives with the frame or after it is up to the timing,
    // and both must end the connection.
    let mut conns: Vec<TcpStream> = (0..20).map(|_| raw(server.addr)).collect();
    for (i, s) in conns.iter_mut().enumerate() {
        s.write_all(&frame(true, 2, format!("last words {i}").as_bytes()))
            .unwrap();
        s.shutdown(std::net::Shutdown::Write).unwrap();
    }
    for (i, s) in conns.iter_mut().enumerate() {
        // The echo still arrives; then the server closes its side.
        let want = format!("last words {i}").into_bytes();
        assert_eq!(read_frame(s), (0x82, want));
        assert_closed_within(s, Duration::from_secs(5));
    }
    assert_echo_works(server.addr);
}

// A shutdown in the middle of a passed-through echo: tests/passthrough_control.rs (both engines).

#[test]
fn stop_before_run_and_with_no_connections_returns_promptly() {
    fn shareable<S: Clone + Send + Sync + 'static>(_: &S) {}
    if control_run() {
        return; // EchoLoop's own API.
    }
    let lp = ws_server::evloop::EchoLoop::bind("127.0.0.1:0", Config::default()).unwrap();
    let stopper = lp.shutdown_handle();
    shareable(&stopper);
    stopper.clone().shutdown();
    let th = std::thread::spawn(move || lp.run());
    let deadline = Instant::now() + Duration::from_secs(5);
    while !th.is_finished() {
        assert!(
            Instant::now() < deadline,
            "run() ignored a stop made before it"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    th.join().unwrap().unwrap();
    // Stopped from another thread while idle; a second stop is harmless.
    let server = start(Config::default());
    assert_echo_works(server.addr);
    server.trigger_stop();
    server.stop(Duration::from_secs(5)).unwrap();
    assert!(ws_server::evloop::EchoLoop::bind("not an address", Config::default()).is_err());
}

#[test]
fn loops_on_a_listener_of_our_own_share_it() {
    if control_run() {
        return; // EchoLoop's own API.
    }
    let _g = shared();
    // A blocking std listener, shared by two loops (as with SO_REUSEPORT, one per thread).
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let loops: Vec<_> = [listener.try_clone().unwrap(), listener]
        .into_iter()
        .map(|l| {
            let lp = ws_server::evloop::EchoLoop::from_listener(l, Config::default()).unwrap();
            assert_eq!(lp.local_addr(), addr);
            let stopper = lp.shutdown_handle();
            (stopper, std::thread::spawn(move || lp.run()))
        })
        .collect();
    // Clients held open together: a loop blocked in accept would leave some unanswered.
    let mut conns: Vec<TcpStream> = (0..40).map(|_| raw(addr)).collect();
    for (i, s) in conns.iter_mut().enumerate() {
        assert_round_trip(s, 1, format!("shared {i}").as_bytes());
    }
    drop(conns);
    for (stopper, th) in loops {
        stopper.shutdown();
        let deadline = Instant::now() + Duration::from_secs(5);
        while !th.is_finished() {
            assert!(Instant::now() < deadline, "a loop did not stop");
            std::thread::sleep(Duration::from_millis(5));
        }
        th.join().unwrap().unwrap();
    }
}

//! The `ws-server echo` binary: flags in --help, echo over loopback on every engine (the task
//! server, the loop's built-in echo, the echo as a loop application), SIGTERM -> 1001 to every
//! client and exit status 0; `ws-server room` on the task server and on the loop.

// The loopback helpers of ws-server's own tests (one copy).
#[path = "../../std-server/tests/common/mod.rs"]
mod common;

use common::*;
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tungstenite::Message as T;

mod binary_support;

use binary_support::{rest_of_log, start, Guard, BIN};

#[test]
fn help_documents_every_limit_and_timeout() {
    let out = Command::new(BIN).args(["echo", "--help"]).output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    for flag in [
        "--addr",
        "--max-frame-size",
        "--max-message-size",
        "--max-fragments",
        "--max-head-bytes",
        "--max-headers",
        "--max-request-body",
        "--handshake-timeout",
        "--idle-ping",
        "--pong-timeout",
        "--close-timeout",
        "--max-outbound-bytes",
        "--max-connections",
        "--read-buffer",
        "--log-level",
    ] {
        assert!(help.contains(flag), "--help lacks {flag}:\n{help}");
    }
}

#[test]
fn sigterm_sends_1001_and_exits_0() {
    sigterm_sends_1001_and_exits_0_on("tasks");
}

#[test]
fn the_echo_as_an_event_loop_application_sends_1001_on_sigterm_and_exits_0() {
    sigterm_sends_1001_and_exits_0_on("app-loop");
}

/// The echo on `engine`: it echoes, applies --max-frame-size, and SIGTERM closes with 1001.
fn sigterm_sends_1001_and_exits_0_on(engine: &str) {
    let (mut guard, addr, early, log) = start(&[
        "echo",
        "--engine",
        engine,
        "--close-timeout",
        "1s",
        "--max-frame-size",
        "1000",
    ]);
    let mut ws = client(addr);
    ws.send(T::text("before")).unwrap();
    assert_eq!(ws.read().unwrap(), T::text("before"));
    // The --max-frame-size flag is applied: a 1001-byte frame is refused with 1009.
    let mut big = client(addr);
    big.send(T::binary(vec![0u8; 1001])).unwrap();
    match big.read() {
        Ok(T::Close(Some(f))) => assert_eq!(u16::from(f.code), 1009),
        other => panic!("expected 1009, got {other:?}"),
    }
    let status = Command::new("kill")
        .args(["-TERM", &guard.0.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    match ws.read().unwrap() {
        T::Close(Some(f)) => assert_eq!(u16::from(f.code), 1001),
        other => panic!("expected 1001, got {other:?}"),
    }
    while ws.read().is_ok() {}
    let t = Instant::now();
    let exit = loop {
        if let Some(s) = guard.0.try_wait().unwrap() {
            break s;
        }
        assert!(t.elapsed() < Duration::from_secs(5), "server did not exit");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(exit.code(), Some(0));
    let log = rest_of_log(early, log);
    assert!(log.contains("handshake accepted"), "{log}");
    assert!(log.contains("closed code=1001"), "{log}");
    assert!(log.contains("bytes_in="), "{log}");
    assert!(
        !log.contains("before"),
        "message contents must not be logged:\n{log}"
    );
}

// Found here (2 of 30 runs before 9a5c825): the binary installed its signal handlers after it
// started listening, so an early SIGTERM killed it without the 1001. main installs them first.
#[test]
fn cli_echo_engine_loop_serves_and_stops_gracefully_on_sigterm() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap()
        .port();
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let mut child = Guard(
        Command::new(BIN)
            .args(["echo", "--engine", "loop", "--addr", &addr.to_string()])
            .args(["--close-timeout", "500ms", "--log-level", "warn"])
            .stdin(Stdio::null())
            .spawn()
            .expect("spawn ws-server echo"),
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(addr).is_err() {
        assert!(matches!(child.0.try_wait(), Ok(None)), "ws-server exited");
        assert!(Instant::now() < deadline, "ws-server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut ws = client(addr);
    ws.send(T::text("from the cli")).unwrap();
    assert_eq!(ws.read().unwrap(), T::text("from the cli"));
    let killed = Command::new("kill")
        .args(["-TERM", &child.0.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    match ws.read() {
        Ok(T::Close(Some(f))) => assert_eq!(u16::from(f.code), 1001),
        other => {
            std::thread::sleep(Duration::from_millis(500));
            panic!(
                "expected 1001, got {other:?}; ws-server: {:?} (killed by the signal: \
                 SIGTERM arrived before the handler was installed?)",
                child.0.try_wait()
            )
        }
    }
    while ws.read().is_ok() {}
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = child.0.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "ws-server did not exit after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "exit status {status}");
}

#[test]
fn cli_room_relays_every_message_to_every_member_unchanged() {
    room_relays_on("tasks");
}

#[test]
fn cli_room_on_the_event_loop_relays_every_message_to_every_member_unchanged() {
    room_relays_on("loop");
}

/// `ws-server room --engine <engine>`: /room only, every message to every member, unchanged.
fn room_relays_on(engine: &str) {
    let (mut guard, addr, early, log) = start(&[
        "room",
        "--engine",
        engine,
        "--room-grace",
        "2s",
        "--close-timeout",
        "500ms",
    ]);
    // Not the room: 404 before any upgrade.
    assert!(tungstenite::client(format!("ws://{addr}/"), tcp(addr)).is_err());
    let mut members: Vec<_> = (0..3).map(|_| client_at(addr, "/room")).collect();
    // A member hears the room only once it has joined: the first member sends until every
    // member has heard something.
    let t = Instant::now();
    loop {
        members[0].send(T::text("ready?")).unwrap();
        std::thread::sleep(Duration::from_millis(20));
        let heard = members.iter_mut().all(|m| {
            let s = m.get_mut();
            s.set_nonblocking(true).unwrap();
            let mut b = [0u8; 1];
            let heard = s.peek(&mut b).is_ok();
            s.set_nonblocking(false).unwrap();
            heard
        });
        if heard {
            break;
        }
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "the room never relayed"
        );
    }
    // Everyone has joined; skip the readiness pings.
    for m in members.iter_mut() {
        m.send(T::text("mark")).unwrap();
        m.flush().unwrap();
    }
    for m in members.iter_mut() {
        let mut marks = 0;
        while marks < 3 {
            match m.read().unwrap() {
                T::Text(t) if t == "mark" => marks += 1,
                T::Text(t) if t == "ready?" => {}
                other => panic!("unexpected {other:?}"),
            }
        }
    }
    // Text and binary, unchanged, to every member including the sender.
    members[1].send(T::binary(vec![0u8, 1, 2, 255])).unwrap();
    members[2].send(T::text("héllo")).unwrap();
    for m in members.iter_mut() {
        let a = m.read().unwrap();
        let b = m.read().unwrap();
        let mut got = [a, b];
        got.sort_by_key(|x| x.is_text());
        assert_eq!(got, [T::binary(vec![0u8, 1, 2, 255]), T::text("héllo")]);
    }
    for m in members.iter_mut() {
        close_and_drain(m);
    }
    let _ = Command::new("kill")
        .args(["-TERM", &guard.0.id().to_string()])
        .status();
    let t = Instant::now();
    while guard.0.try_wait().unwrap().is_none() {
        assert!(t.elapsed() < Duration::from_secs(5), "server did not exit");
        std::thread::sleep(Duration::from_millis(20));
    }
    let log = rest_of_log(early, log);
    assert!(log.contains("handshake accepted"), "{log}");
}

//! Control frames that come due while a large binary frame is echoed as it arrives
//! (pass-through: the echo's header is out, its payload follows): a shutdown's 1001 close, or the
//! idle ping of a peer that stalled mid-frame. Neither may land inside the echo's payload; the
//! transport is dropped instead. Both engines: the async server used to write them there (the
//! close at payload byte 65 522 of 4 MiB, the ping likewise).

mod common;
#[path = "common/loop_engine.rs"]
mod loop_engine;

use common::{assert_echo_works, frame, raw, read_until_closed};
use loop_engine::Engine;
use std::io::{Read, Write};
use std::time::Duration;
use ws_server::Config;

const MIB: usize = 1 << 20;

/// Short timers so the shutdown does not wait long for a close that will not come.
fn config() -> Config {
    Config {
        close_timeout: Duration::from_millis(200),
        ..Config::default()
    }
}

/// Sends half of a 4 MiB frame, stops the server, and checks what came back: echo payload
/// only, then at most a whole 1001 close after a completed echo.
fn shutdown_mid_echo(server: Engine) {
    let mut s = raw(server.addr);
    let wire = frame(true, 2, &vec![1u8; 4 * MIB]);
    s.write_all(&wire[..2 * MIB]).unwrap();
    let mut head = [0u8; 10];
    s.read_exact(&mut head).unwrap();
    assert_eq!(head[..2], [0x82, 127], "the echo's header went out first");
    server.trigger_stop();
    let rest = read_until_closed(&mut s);
    let payload = &rest[..rest.len().min(4 * MIB)];
    if let Some(at) = payload.iter().position(|&b| b != 1) {
        let foreign = &payload[at..payload.len().min(at + 8)];
        panic!("foreign bytes inside the echo's payload at {at}: {foreign:x?}");
    }
    let after = &rest[payload.len()..];
    assert!(
        after.is_empty() || (after.len() >= 4 && after[0] == 0x88 && after[2..4] == [3, 0xe9]),
        "after the echo: {after:x?}"
    );
    server
        .stop(Duration::from_secs(5))
        .expect("the server's result");
}

#[test]
fn async_server_drops_the_transport_instead_of_cutting_into_the_echo() {
    shutdown_mid_echo(loop_engine::start_tasks(config()));
}

#[test]
fn event_loop_drops_the_transport_instead_of_cutting_into_the_echo() {
    shutdown_mid_echo(loop_engine::start_unguarded(config()));
}

/// Sends half of a 1 MiB frame and stalls: when the idle timer is due the connection must be
/// dropped with the echo's payload unbroken.
fn stall_mid_echo(server: Engine) {
    let mut s = raw(server.addr);
    let wire = frame(true, 2, &vec![9u8; MIB]);
    s.write_all(&wire[..wire.len() / 2]).unwrap();
    let rest = read_until_closed(&mut s);
    assert_eq!(rest[..2], [0x82, 127], "the echo's header went out first");
    let payload = &rest[10..];
    assert!(payload.len() < MIB, "{}", payload.len());
    if let Some(at) = payload.iter().position(|&b| b != 9) {
        let foreign = &payload[at..payload.len().min(at + 8)];
        panic!("foreign bytes inside the echo's payload at {at}: {foreign:x?}");
    }
    assert_echo_works(server.addr);
    server
        .stop(Duration::from_secs(5))
        .expect("the server's result");
}

/// Idle pings every 200 ms, pong timeout 200 ms.
fn pinging() -> Config {
    Config {
        idle_ping: Duration::from_millis(200),
        pong_timeout: Duration::from_millis(200),
        ..config()
    }
}

#[test]
fn async_server_drops_a_peer_stalled_mid_echo_instead_of_pinging_into_it() {
    stall_mid_echo(loop_engine::start_tasks(pinging()));
}

#[test]
fn event_loop_drops_a_peer_stalled_mid_echo_instead_of_pinging_into_it() {
    stall_mid_echo(loop_engine::start_unguarded(pinging()));
}

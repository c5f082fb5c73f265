//! Control frames that come due while a large message is echoed as it arrives: a shutdown's
//! 1001 close, or the idle ping (then the 1011) of a peer that stalled in the middle of its
//! frame. The echo of a large frame is sent as fragments (of 512 KiB, gathered over reads), so
//! both go out between two fragments as whole frames (the regressions of 9a5c825 and 93b8d38,
//! where they landed inside an echo's payload, are tested on the driver in memory; this checks
//! the bytes on real sockets, on both engines).

mod common;
#[path = "common/loop_engine.rs"]
mod loop_engine;

use common::{assert_echo_works, frame, parse_frames, raw, read_until_closed};
use loop_engine::Engine;
use std::io::Write;
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

/// The data fragments (all bytes `fill`, none ending the message) and the control frames between
/// or after them, checking that every frame is whole and nothing follows a close.
fn split(wire: &[u8], fill: u8) -> (usize, Vec<(u8, Vec<u8>)>) {
    let mut echoed = 0;
    let mut control = Vec::new();
    for (b0, payload) in parse_frames(wire) {
        if b0 & 0x08 != 0 {
            control.push((b0, payload));
            continue;
        }
        assert!(
            !control.iter().any(|(b0, _)| b0 & 0x0f == 8),
            "a data frame after the close"
        );
        assert_eq!(b0 & 0x80, 0, "the half-sent message cannot end");
        assert!(
            payload.iter().all(|&b| b == fill),
            "foreign bytes in the echo"
        );
        echoed += payload.len();
    }
    (echoed, control)
}

/// Sends half of a 4 MiB frame, stops the server: the echo so far, a whole 1001 close, EOF.
fn shutdown_mid_message(server: Engine) {
    let mut s = raw(server.addr);
    let wire = frame(true, 2, &vec![1u8; 4 * MIB]);
    s.write_all(&wire[..2 * MIB]).unwrap();
    std::thread::sleep(Duration::from_millis(100));
    server.trigger_stop();
    let (echoed, control) = split(&read_until_closed(&mut s), 1);
    assert!(echoed > 0 && echoed <= 2 * MIB, "echoed {echoed}");
    assert_eq!(control.len(), 1, "{control:x?}");
    assert_eq!(control[0].0, 0x88);
    assert_eq!(control[0].1[..2], [0x03, 0xe9], "1001");
    server
        .stop(Duration::from_secs(5))
        .expect("the server's result");
}

#[test]
fn async_server_closes_1001_between_fragments() {
    shutdown_mid_message(loop_engine::start_tasks(config()));
}

#[test]
fn event_loop_closes_1001_between_fragments() {
    shutdown_mid_message(loop_engine::start_unguarded(config()));
}

/// Sends three quarters of a 1 MiB frame and stalls: the echo so far (its first 512 KiB
/// fragment; the rest of what came is gathered for the next one), the idle ping, then (no pong)
/// the 1011 close, each whole, then EOF.
fn stall_mid_message(server: Engine) {
    let mut s = raw(server.addr);
    let wire = frame(true, 2, &vec![9u8; MIB]);
    s.write_all(&wire[..wire.len() * 3 / 4]).unwrap();
    let (echoed, control) = split(&read_until_closed(&mut s), 9);
    assert!(echoed > 0 && echoed < MIB, "echoed {echoed}");
    let kinds: Vec<u8> = control.iter().map(|(b0, _)| *b0).collect();
    assert_eq!(kinds, [0x89, 0x88], "ping, then close: {control:x?}");
    assert_eq!(control[1].1[..2], [0x03, 0xf3], "1011");
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
fn async_server_pings_a_peer_stalled_mid_message_between_fragments() {
    stall_mid_message(loop_engine::start_tasks(pinging()));
}

#[test]
fn event_loop_pings_a_peer_stalled_mid_message_between_fragments() {
    stall_mid_message(loop_engine::start_unguarded(pinging()));
}

//! The event-loop echo engine (`ws_server::evloop::EchoLoop`) over real loopback TCP, held to
//! the task server's rules (tests/echo.rs, close_rules.rs, timeouts.rs, server_http.rs,
//! memory.rs, fairness.rs): tungstenite as the client where it fits, raw sockets with exact
//! masked bytes for violations. Timers are short; time is only bounded from above.
//!
//! One test binary, one module per concern: `messages` (echoes of every shape),
//! `conversations` (random conversations split at random points), `handshake`, `close_rules`
//! (protocol violations and the close handshake), `timers`, `connections` (many, concurrent,
//! vanishing), `backpressure` (slow and flooding peers, memory, fairness) and `shutdown`
//! (graceful stop and the listener API; the command line: apps/tests/binary.rs).
//!
//! `WS_TEST_ENGINE=tasks cargo test -p ws-server --test echo_loop` runs the same tests against
//! the task server (the control; see tests/common/loop_engine.rs). In that control run
//! `clients_that_vanish_mid_frame_free_their_slots` can fail: the task server frees a slot
//! when its task notices the EOF, which may come after the probe's next connection.

#[path = "../common/mod.rs"]
mod common;
#[path = "../common/loop_engine.rs"]
mod loop_engine;

mod backpressure;
mod close_rules;
mod connections;
mod conversations;
mod handshake;
mod messages;
mod shutdown;
mod timers;

use common::{
    assert_closed_within, close_frame, push_len, raw, read_close, read_head, tcp, upgrade_request,
};
use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};
use ws_server::Config;

/// One mebibyte.
const MIB: usize = 1 << 20;

/// Short timers; the handshake timeout stays long enough for a client on a loaded machine to
/// send its request (tests that are not about it connect and upgrade under it).
fn timer_config() -> Config {
    Config {
        handshake_timeout: Duration::from_secs(1),
        close_timeout: Duration::from_millis(200),
        ..Config::default()
    }
}

/// The header of a masked client frame declaring `len` (> 125) payload bytes, in the shortest
/// length encoding; the payload is not included.
fn header_only(b0: u8, len: u64) -> Vec<u8> {
    let mut h = vec![b0];
    push_len(&mut h, 0x80, len);
    h.extend_from_slice(&[1, 2, 3, 4]);
    h
}

/// Sends `bytes` on a fresh upgraded connection; expects a close with `expected`, then TCP
/// closed by the server without our answer (the default 5 s close timeout is not waited).
fn expect_close(addr: SocketAddr, bytes: &[u8], expected: Option<u16>, what: &str) {
    let mut s = raw(addr);
    s.write_all(bytes).unwrap();
    assert_eq!(read_close(&mut s), expected, "{what}");
    assert_closed_within(&mut s, Duration::from_secs(3));
}

/// Closes an upgraded connection with 1000: the server echoes it, then closes TCP within 3 s.
fn close_normally(s: &mut TcpStream) {
    s.write_all(&close_frame(1000, b"")).unwrap();
    assert_eq!(read_close(s), Some(1000));
    assert_closed_within(s, Duration::from_secs(3));
}

/// `base` with at most `n` connections at once.
fn limited_to(n: usize, base: Config) -> Config {
    Config {
        max_connections: n,
        ..base
    }
}

/// A close timeout (30 s) longer than any test: the server must not wait for it.
fn long_close_timeout() -> Config {
    Config {
        close_timeout: Duration::from_secs(30),
        ..Config::default()
    }
}

/// Upgrades a fresh connection, retrying every 20 ms until the engine has a free slot;
/// `refused` sees each refusal's response head. Panics with `what` after 5 s.
fn upgrade_when_free(addr: SocketAddr, refused: impl Fn(&str), what: &str) -> TcpStream {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let mut s = tcp(addr);
        s.write_all(upgrade_request("/").as_bytes()).unwrap();
        let head = read_head(&mut s);
        if head.starts_with("HTTP/1.1 101") {
            return s;
        }
        refused(&head);
        assert!(Instant::now() < deadline, "{what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

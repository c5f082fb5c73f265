//! Timers without a clock: keep-alive ping, pong deadline (1011), close deadline.

mod common;
use common::*;
use ws_core::connection::MIN_OUTPUT;
use ws_core::{CloseCode, Connection, Limits, OpCode, Server, State, Timeout, TimerEvent, Timers};

const TIMERS: Timers = Timers {
    idle_ping: Some(1000),
    pong_timeout: Some(300),
    close_timeout: Some(500),
};

fn timed_server() -> Connection<Server> {
    Connection::server(Limits::DEFAULT, TIMERS, 10_000)
}

fn timed_client() -> ClientConn {
    client_with(Limits::DEFAULT, TIMERS, 10_000)
}

const NOTHING: Timeout = Timeout {
    written: 0,
    event: None,
};

fn fired(written: usize, event: TimerEvent) -> Timeout {
    Timeout {
        written,
        event: Some(event),
    }
}

#[test]
fn no_timers_means_no_wakeups() {
    let mut c = server();
    assert_eq!(c.poll_timeout(), None);
    let mut out = [0u8; MIN_OUTPUT];
    assert_eq!(c.handle_timeout(u64::MAX, &mut out), NOTHING);
    c.send_close(None, "", 5, &mut out).unwrap();
    assert_eq!(c.poll_timeout(), None);
}

#[test]
fn idle_ping_then_pong_rearms() {
    let mut d = Driver::new(timed_server());
    assert_eq!(d.conn.poll_timeout(), Some(11_000));
    let mut out = [0u8; MIN_OUTPUT];
    // Early wake-ups do nothing.
    assert_eq!(d.conn.handle_timeout(10_999, &mut out), NOTHING);
    // Receiving anything restarts the idle timer.
    d.now = 10_500;
    d.feed(&client_frame(true, OpCode::Binary, b"x"));
    assert_eq!(d.conn.poll_timeout(), Some(11_500));
    assert_eq!(
        d.conn.handle_timeout(11_500, &mut out),
        fired(2, TimerEvent::Ping)
    );
    assert_eq!(&out[..2], &[0x89, 0x00]);
    // Now the pong deadline counts.
    assert_eq!(d.conn.poll_timeout(), Some(11_800));
    d.now = 11_700;
    assert_eq!(
        d.feed(&client_frame(true, OpCode::Pong, b"")),
        vec![Ev::Pong(vec![])]
    );
    assert_eq!(d.conn.poll_timeout(), Some(12_700));
    assert_eq!(d.conn.state(), State::Open);
}

#[test]
fn overdue_pong_fails_with_1011_then_close_deadline_drops() {
    let mut c = timed_client();
    let mut out = [0u8; MIN_OUTPUT];
    assert_eq!(
        c.handle_timeout(11_000, &mut out),
        fired(6, TimerEvent::Ping)
    );
    assert_eq!(&out[..6], &[0x89, 0x80, 1, 2, 3, 4]);
    assert_eq!(c.poll_timeout(), Some(11_300));
    assert_eq!(c.handle_timeout(11_299, &mut out), NOTHING);
    assert_eq!(
        c.handle_timeout(11_300, &mut out),
        fired(8, TimerEvent::PongOverdue)
    );
    // 1011 = 03 F3, masked with the key 01 02 03 04.
    assert_eq!(&out[..8], &[0x88, 0x82, 1, 2, 3, 4, 0x03 ^ 1, 0xF3 ^ 2]);
    assert_eq!(c.state(), State::Closing);
    assert_eq!(c.poll_timeout(), Some(11_800));
    assert_eq!(
        c.handle_timeout(11_800, &mut out),
        fired(0, TimerEvent::DropTransport)
    );
    assert_eq!(c.state(), State::Closed);
    assert_eq!(c.poll_timeout(), None);
}

#[test]
fn unanswered_close_drops_the_transport() {
    let mut c = timed_server();
    let mut out = [0u8; MIN_OUTPUT];
    c.send_close(Some(CloseCode::NORMAL), "", 20_000, &mut out)
        .unwrap();
    assert_eq!(c.poll_timeout(), Some(20_500));
    assert_eq!(c.handle_timeout(20_499, &mut out), NOTHING);
    assert_eq!(
        c.handle_timeout(20_500, &mut out),
        fired(0, TimerEvent::DropTransport)
    );
    assert_eq!(c.state(), State::Closed);
}

#[test]
fn a_protocol_failure_arms_the_close_deadline() {
    let mut d = Driver::new(timed_server());
    d.now = 10_100;
    d.feed(&[0x83, 0x80, 0, 0, 0, 0]);
    assert_eq!(d.conn.state(), State::Closing);
    assert_eq!(d.conn.poll_timeout(), Some(10_600));
}

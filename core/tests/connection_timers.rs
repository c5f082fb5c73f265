//! Timers without a clock: keep-alive ping, pong deadline (1011), close deadline.

mod common;
use common::*;
use ws_core::connection::Timeout;
use ws_core::{CloseCode, Connection, Limits, OpCode, Role, State, Timers};

fn timed(role: Role) -> Connection {
    let timers = Timers {
        idle_ping: Some(1000),
        pong_timeout: Some(300),
        close_timeout: Some(500),
    };
    Connection::new(role, Limits::DEFAULT, timers, 10_000)
}

#[test]
fn no_timers_means_no_wakeups() {
    let mut c = server();
    assert_eq!(c.poll_timeout(), None);
    let mut out = [0u8; 16];
    assert_eq!(
        c.handle_timeout(u64::MAX, [0; 4], &mut out),
        Ok(Timeout::Nothing)
    );
    c.send_close(None, "", 5, [0; 4], &mut out).unwrap();
    assert_eq!(c.poll_timeout(), None);
}

#[test]
fn idle_ping_then_pong_rearms() {
    let mut d = Driver::new(timed(Role::Server));
    assert_eq!(d.conn.poll_timeout(), Some(11_000));
    let mut out = [0u8; 16];
    // Early wake-ups do nothing.
    assert_eq!(
        d.conn.handle_timeout(10_999, [0; 4], &mut out),
        Ok(Timeout::Nothing)
    );
    // Receiving anything restarts the idle timer.
    d.now = 10_500;
    d.feed(&client_frame(true, OpCode::Binary, b"x"));
    assert_eq!(d.conn.poll_timeout(), Some(11_500));
    assert_eq!(
        d.conn.handle_timeout(11_500, [0; 4], &mut out),
        Ok(Timeout::Ping(2))
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
    let mut c = timed(Role::Client);
    let mut out = [0u8; 16];
    assert_eq!(
        c.handle_timeout(11_000, [1, 2, 3, 4], &mut out),
        Ok(Timeout::Ping(6))
    );
    assert_eq!(&out[..6], &[0x89, 0x80, 1, 2, 3, 4]);
    assert_eq!(c.poll_timeout(), Some(11_300));
    assert_eq!(
        c.handle_timeout(11_299, [0; 4], &mut out),
        Ok(Timeout::Nothing)
    );
    // Too small an output: nothing changes.
    assert!(c.handle_timeout(11_300, [0; 4], &mut out[..3]).is_err());
    assert_eq!(c.state(), State::Open);
    assert_eq!(
        c.handle_timeout(11_300, [0; 4], &mut out),
        Ok(Timeout::PongOverdue(8))
    );
    assert_eq!(&out[..8], &[0x88, 0x82, 0, 0, 0, 0, 0x03, 0xF3]);
    assert_eq!(c.state(), State::Closing);
    assert_eq!(c.poll_timeout(), Some(11_800));
    assert_eq!(
        c.handle_timeout(11_800, [0; 4], &mut out),
        Ok(Timeout::DropTransport)
    );
    assert_eq!(c.state(), State::Closed);
    assert_eq!(c.poll_timeout(), None);
}

#[test]
fn unanswered_close_drops_the_transport() {
    let mut c = timed(Role::Server);
    let mut out = [0u8; 16];
    c.send_close(Some(CloseCode::NORMAL), "", 20_000, [0; 4], &mut out)
        .unwrap();
    assert_eq!(c.poll_timeout(), Some(20_500));
    assert_eq!(
        c.handle_timeout(20_499, [0; 4], &mut out),
        Ok(Timeout::Nothing)
    );
    assert_eq!(
        c.handle_timeout(20_500, [0; 4], &mut out),
        Ok(Timeout::DropTransport)
    );
    assert_eq!(c.state(), State::Closed);
}

#[test]
fn a_protocol_failure_arms_the_close_deadline() {
    let mut d = Driver::new(timed(Role::Server));
    d.now = 10_100;
    d.feed(&[0x83, 0x80, 0, 0, 0, 0]);
    assert_eq!(d.conn.state(), State::Closing);
    assert_eq!(d.conn.poll_timeout(), Some(10_600));
}

//! The conversation that proves ws-core on a target: a server handshake (RFC 6455 §1.3's request),
//! a text message in two fragments echoed as two fragments, a ping answered by its pong, the
//! client's close echoed, and on a second connection a text frame with invalid UTF-8 failed with
//! 1007. Every byte the server writes is compared with the exact bytes expected.
//!
//! The same phases run without ws-core ([`run_baseline`]: expected bytes copied instead of
//! computed) so that the difference between the two firmwares is ws-core's own flash cost.
//! `no_std`, no formatting anywhere (formatting would hide in the baseline and the delta).
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

mod client;
mod wire;

use core::hint::black_box;
use ws_core::handshake::{write_accept_response, Accept, Header, RequestParser, Status};
use ws_core::limits::HeadLimits;
use ws_core::{CloseCode, Connection, Event, Limits, MessageKind, ProtocolError, Timers};

pub use client::run_client;
pub use wire::{
    CLOSE_ECHO, CLOSE_IN, FRAGMENTS_ECHO, FRAGMENTS_IN, INVALID_UTF8_CLOSE, INVALID_UTF8_IN,
    PING_IN, PONG, REQUEST, RESPONSE_101,
};

/// Header slots the handshake phase gives the parser (each two `&str`: 16 bytes on 32-bit).
pub const HEADER_SLOTS: usize = 16;

/// One phase of the conversation.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Request parsed and validated, 101 written.
    Handshake,
    /// "Hel" + "lo" in two text fragments, each echoed as it arrives.
    Fragments,
    /// A ping answered with its pong.
    Ping,
    /// The client's close (1000, "bye") echoed.
    Close,
    /// Invalid UTF-8 in a text frame: the connection fails with 1007.
    InvalidUtf8,
    /// The whole server conversation through the embedded-io adapter (its own firmware; not in
    /// [`Phase::ALL`]).
    Adapter,
    /// The client side with RFC 6455 §1.3 and §5.7's bytes (wasm32 only; not in [`Phase::ALL`]).
    Client,
}

impl Phase {
    /// Every phase, in order.
    pub const ALL: [Phase; 5] = [
        Phase::Handshake,
        Phase::Fragments,
        Phase::Ping,
        Phase::Close,
        Phase::InvalidUtf8,
    ];

    /// Its name in reports.
    pub const fn name(self) -> &'static str {
        match self {
            Phase::Handshake => "handshake",
            Phase::Fragments => "fragments",
            Phase::Ping => "ping",
            Phase::Close => "close",
            Phase::InvalidUtf8 => "invalid-utf8",
            Phase::Adapter => "adapter",
            Phase::Client => "client",
        }
    }
}

/// Where the platform measures and reports: each phase runs inside [`Probe::phase`].
pub trait Probe {
    /// Runs `f` as phase `phase` (e.g. with the stack painted before and scanned after).
    fn phase<R>(&mut self, phase: Phase, f: impl FnOnce() -> R) -> R;
}

/// Why the conversation failed: the phase and the step in it (see the source of that phase).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Failure {
    /// The phase.
    pub phase: Phase,
    /// The failing step, counted from 1 inside the phase.
    pub step: u8,
}

/// The bytes one phase wrote, kept for the comparison.
struct Written {
    buf: [u8; 64],
    len: usize,
}

impl Written {
    const fn new() -> Self {
        Self {
            buf: [0; 64],
            len: 0,
        }
    }

    /// Appends `n` bytes from the start of `out`.
    fn take(&mut self, out: &[u8], n: usize) -> bool {
        let end = self.len + n;
        match (self.buf.get_mut(self.len..end), out.get(..n)) {
            (Some(dst), Some(src)) => {
                dst.copy_from_slice(src);
                self.len = end;
                true
            }
            _ => false,
        }
    }

    fn is(&self, expected: &[u8]) -> bool {
        self.buf.get(..self.len) == Some(expected)
    }
}

/// Runs the conversation through ws-core, checking every byte written.
pub fn run(probe: &mut impl Probe) -> Result<(), Failure> {
    let fail = |phase, step| Failure { phase, step };
    // Opaque inputs: LTO must not compute the answers at build time.
    let request: &[u8] = black_box(REQUEST);
    let mut response = [0u8; 160];
    let response_len = probe
        .phase(Phase::Handshake, || handshake(request, &mut response))
        .map_err(|step| fail(Phase::Handshake, step))?;
    if response.get(..response_len) != Some(RESPONSE_101) {
        return Err(fail(Phase::Handshake, 4));
    }

    let mut conn = Connection::server(Limits::DEFAULT, Timers::default(), 0);
    let mut input = [0u8; 64];
    for (phase, frames, expected) in [
        (Phase::Fragments, FRAGMENTS_IN, FRAGMENTS_ECHO),
        (Phase::Ping, PING_IN, PONG),
        (Phase::Close, CLOSE_IN, CLOSE_ECHO),
    ] {
        let frames = load(&mut input, black_box(frames)).ok_or(fail(phase, 1))?;
        let written = probe
            .phase(phase, || serve(&mut conn, frames))
            .map_err(|step| fail(phase, step))?;
        if !written.is(expected) {
            return Err(fail(phase, 9));
        }
    }
    if conn.state() != ws_core::State::Closed {
        return Err(fail(Phase::Close, 10));
    }

    // A second connection, failed by its first frame.
    let phase = Phase::InvalidUtf8;
    let mut conn = Connection::server(Limits::DEFAULT, Timers::default(), 0);
    let frames = load(&mut input, black_box(INVALID_UTF8_IN)).ok_or(fail(phase, 1))?;
    let written = probe
        .phase(phase, || serve(&mut conn, frames))
        .map_err(|step| fail(phase, step))?;
    if !written.is(INVALID_UTF8_CLOSE) || conn.state() != ws_core::State::Closing {
        return Err(fail(phase, 9));
    }
    Ok(())
}

/// The same phases without ws-core: the expected bytes are copied instead of computed, so that a
/// firmware running this differs from one running [`run`] only by ws-core and the calls into it.
pub fn run_baseline(probe: &mut impl Probe) -> Result<(), Failure> {
    let fail = |phase, step| Failure { phase, step };
    let request: &[u8] = black_box(REQUEST);
    let mut response = [0u8; 160];
    let n = probe.phase(Phase::Handshake, || {
        copy_through(black_box(RESPONSE_101), &mut response, request.len())
    });
    if response.get(..n) != Some(RESPONSE_101) {
        return Err(fail(Phase::Handshake, 4));
    }
    let mut input = [0u8; 64];
    for (phase, frames, expected) in [
        (Phase::Fragments, FRAGMENTS_IN, FRAGMENTS_ECHO),
        (Phase::Ping, PING_IN, PONG),
        (Phase::Close, CLOSE_IN, CLOSE_ECHO),
        (Phase::InvalidUtf8, INVALID_UTF8_IN, INVALID_UTF8_CLOSE),
    ] {
        let frames = load(&mut input, black_box(frames)).ok_or(fail(phase, 1))?;
        let mut written = Written::new();
        let n = probe.phase(phase, || {
            copy_through(black_box(expected), &mut written.buf, frames.len())
        });
        written.len = n;
        if !written.is(expected) {
            return Err(fail(phase, 9));
        }
    }
    Ok(())
}

/// Copies `bytes` into `out` (the baseline's stand-in for a phase); `_input_len` keeps the input
/// alive.
#[inline(never)]
fn copy_through(bytes: &[u8], out: &mut [u8], _input_len: usize) -> usize {
    match out.get_mut(..bytes.len()) {
        Some(dst) => {
            dst.copy_from_slice(bytes);
            bytes.len()
        }
        None => 0,
    }
}

/// Copies `frames` into `buf` (frames are unmasked in place, so they must be writable).
fn load<'b>(buf: &'b mut [u8], frames: &[u8]) -> Option<&'b mut [u8]> {
    let dst = buf.get_mut(..frames.len())?;
    dst.copy_from_slice(frames);
    Some(dst)
}

/// The handshake phase: parse and validate the request, write the 101 into `out`.
#[inline(never)]
fn handshake(request: &[u8], out: &mut [u8]) -> Result<usize, u8> {
    let mut parser = RequestParser::new(HeadLimits::DEFAULT);
    let mut headers = [Header::EMPTY; HEADER_SLOTS];
    let Ok(Status::Complete((parsed, len))) = parser.feed(request, &mut headers) else {
        return Err(1);
    };
    if len != request.len() {
        return Err(1);
    }
    let upgrade = parsed.upgrade().map_err(|_| 2)?;
    write_accept_response(upgrade.key, &Accept::default(), out).map_err(|_| 3)
}

/// Feeds `input` to `conn` until it is consumed; echoes data chunks as they arrive (same kind,
/// same fragmentation) and keeps every byte written. Steps: 3 send error, 4 unexpected event,
/// 5 output overflow, 6 input left over.
#[inline(never)]
fn serve(conn: &mut Connection, input: &mut [u8]) -> Result<Written, u8> {
    let mut written = Written::new();
    let mut out = [0u8; ws_core::connection::MIN_OUTPUT];
    let mut at = 0;
    while at < input.len() {
        let rest = input.get_mut(at..).ok_or(6u8)?;
        let got = conn.receive(rest, &mut out, 0);
        at += got.consumed;
        if !written.take(&out, got.written) {
            return Err(5);
        }
        match got.event {
            Some(Event::Data {
                kind,
                payload,
                end,
                compressed: false,
            }) => {
                let n = conn
                    .send_data(kind, payload, end, &mut out)
                    .map_err(|_| 3)?;
                if kind != MessageKind::Text || !written.take(&out, n) {
                    return Err(5);
                }
            }
            Some(Event::Ping(b"ping")) => {}
            Some(Event::Close {
                code: Some(CloseCode::NORMAL),
                reason: "bye",
            }) => {}
            Some(Event::Failed(ProtocolError::InvalidUtf8)) => {}
            None if got.consumed == 0 => return Err(6),
            None => {}
            Some(_) => return Err(4),
        }
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs the phases as they are and records their order.
    #[derive(Default)]
    struct Order(Vec<Phase>);

    impl Probe for Order {
        fn phase<R>(&mut self, phase: Phase, f: impl FnOnce() -> R) -> R {
            self.0.push(phase);
            f()
        }
    }

    #[test]
    fn the_conversation_passes_on_the_host_in_order() {
        let mut probe = Order::default();
        assert!(run(&mut probe).is_ok());
        assert!(probe.0 == Phase::ALL);
    }

    #[test]
    fn the_client_side_passes_on_the_host() {
        let mut probe = Order::default();
        assert!(run_client(&mut probe).is_ok());
        assert!(probe.0 == [Phase::Client]);
    }

    #[test]
    fn the_baseline_passes_on_the_host() {
        let mut probe = Order::default();
        assert!(run_baseline(&mut probe).is_ok());
        assert!(probe.0 == Phase::ALL);
    }

    #[test]
    fn a_wrong_expectation_fails_at_its_phase() {
        // The checks can fail: a server whose echo differs by one byte is caught.
        let mut written = Written::new();
        assert!(written.take(FRAGMENTS_ECHO, FRAGMENTS_ECHO.len()));
        assert!(written.is(FRAGMENTS_ECHO));
        assert!(!written.is(b"\x01\x03Hel\x80\x02lO"));
    }
}

//! The driver in memory on a simulated clock: every teardown and timer rule once, with the exact
//! frames a peer sends and sees (the way quinn-proto tests its `Pair`). The engines' black-box
//! suites (tests/) check only what is theirs: sockets, readiness, fairness, descriptors.

use super::*;
use crate::config::Config;
use crate::deflate::{DeflateConfig, Session};
use ws_core::frame::{encode_frame, FrameHeader, OpCode};
use ws_core::Limits;

const T0: u64 = 1_000;

fn config() -> Config {
    Config {
        idle_ping: std::time::Duration::from_secs(30),
        pong_timeout: std::time::Duration::from_secs(10),
        close_timeout: std::time::Duration::from_secs(5),
        ..Config::default()
    }
}

fn echo_server(config: &Config) -> Driver {
    Driver::new(Role::Server, Mode::Echo, &config.connection(), T0, 1)
}

/// An echo server drawing its gathered fragments from `budget`.
fn echo_with_budget(budget: &crate::MessageBudget) -> Driver {
    echo_server(&Config {
        message_budget: budget.clone(),
        ..config()
    })
}

/// A client frame: masked with a fixed key.
fn frame(opcode: OpCode, fin: bool, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8; payload.len() + 14];
    let n = encode_frame(fin, opcode, Some([1, 2, 3, 4]), payload, &mut out).unwrap();
    out.truncate(n);
    out
}

/// A client frame with RSV1 (compressed first frame).
fn compressed_frame(opcode: OpCode, fin: bool, payload: &[u8]) -> Vec<u8> {
    let mut f = frame(opcode, fin, payload);
    f[0] |= 0x40;
    f
}

/// Gives `bytes` to the driver as one read and writes out everything it queues; returns
/// (bytes consumed, bytes the peer received).
fn exchange(d: &mut Driver, bytes: &[u8], now: u64) -> (usize, Vec<u8>) {
    let mut buf = bytes.to_vec();
    let (pos, _) = d.receive(&mut buf, 0, now);
    let out = write_all(d, &buf, now);
    d.release_input(&buf);
    (pos, out)
}

/// Writes everything queued (resolving echoes against `input`).
fn write_all(d: &mut Driver, input: &[u8], now: u64) -> Vec<u8> {
    let mut wire = Vec::new();
    while d.queued() > 0 {
        let n = {
            let mut slices = [IoSlice::new(&[]); 64];
            let count = d.transmit_slices(input, &mut slices);
            let mut n = 0;
            for s in &slices[..count] {
                wire.extend_from_slice(s);
                n += s.len();
            }
            n
        };
        d.transmitted(n, now);
    }
    wire
}

/// A frame as the peer sees it.
#[derive(Debug, PartialEq, Eq)]
struct Seen {
    opcode: OpCode,
    fin: bool,
    rsv1: bool,
    payload: Vec<u8>,
}

/// Parses the server's (unmasked) output into frames; panics on a partial frame, so a control
/// frame written inside another frame's payload fails the test.
fn frames(mut wire: &[u8]) -> Vec<Seen> {
    let mut seen = Vec::new();
    while !wire.is_empty() {
        let (h, hl) = FrameHeader::parse(wire, Role::Client)
            .expect("valid header")
            .expect("whole header");
        let end = hl + h.payload_len as usize;
        assert!(wire.len() >= end, "partial frame on the wire");
        seen.push(Seen {
            opcode: h.opcode,
            fin: h.fin,
            rsv1: h.rsv1,
            payload: wire[hl..end].to_vec(),
        });
        wire = &wire[end..];
    }
    seen
}

fn close_code(f: &Seen) -> u16 {
    assert_eq!(f.opcode, OpCode::Close);
    u16::from_be_bytes([f.payload[0], f.payload[1]])
}

/// The message the fragments carry, checking the opcode sequence (RFC 6455 §5.4).
fn message(seen: &[Seen]) -> (OpCode, Vec<u8>) {
    let (first, rest) = seen.split_first().expect("a frame");
    let mut payload = first.payload.clone();
    for f in rest {
        assert_eq!(f.opcode, OpCode::Continuation);
        payload.extend_from_slice(&f.payload);
    }
    assert!(seen.last().unwrap().fin);
    assert!(seen[..seen.len() - 1].iter().all(|f| !f.fin));
    (first.opcode, payload)
}

// ---- echo (RFC 6455 §5.4 fragmentation, §5.7 examples) ----

#[test]
fn a_whole_message_is_echoed_as_one_frame() {
    let mut d = echo_server(&config());
    // RFC 6455 §5.7: a masked "Hello".
    let input = [
        0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
    ];
    let (consumed, out) = exchange(&mut d, &input, T0);
    assert_eq!(consumed, 11);
    assert_eq!(out, b"\x81\x05Hello");
}

#[test]
fn large_echoes_reference_the_input_buffer_until_it_is_released() {
    let mut d = echo_server(&config());
    let payload = vec![7u8; 4000];
    let mut buf = frame(OpCode::Binary, true, &payload);
    let (pos, _) = d.receive(&mut buf, 0, T0);
    assert_eq!(pos, buf.len());
    let mut slices = [IoSlice::new(&[]); 8];
    let n = d.transmit_slices(&buf, &mut slices);
    assert_eq!(n, 2, "header, then the payload in place");
    let in_place = slices[1].as_ptr() as usize - buf.as_ptr() as usize;
    assert_eq!(in_place, buf.len() - 4000);
    // Released before anything is written: the echo is copied and survives the buffer.
    d.release_input(&buf);
    buf.fill(0);
    let wire = write_all(&mut d, &[], T0);
    assert_eq!(frames(&wire)[0].payload, payload);
}

/// Gives `wire` to the driver in reads of `piece` bytes (what a read leaves unconsumed kept
/// in front of the next); returns the echo as the peer sees it, one Vec per read.
fn echo_in_reads(d: &mut Driver, wire: &[u8], piece: usize) -> Vec<Vec<u8>> {
    let mut outs = Vec::new();
    let mut kept = Vec::new();
    for p in wire.chunks(piece) {
        kept.extend_from_slice(p);
        let (consumed, o) = exchange(d, &kept, T0);
        kept.drain(..consumed);
        outs.push(o);
    }
    assert!(kept.is_empty());
    outs
}

/// (opcode, fin, payload length) of each frame.
fn shape(seen: &[Seen]) -> Vec<(OpCode, bool, usize)> {
    seen.iter()
        .map(|f| (f.opcode, f.fin, f.payload.len()))
        .collect()
}

#[test]
fn a_frame_arriving_over_several_reads_is_echoed_as_one_frame() {
    let budget = crate::MessageBudget::new(1 << 20);
    let mut d = echo_with_budget(&budget);
    let payload: Vec<u8> = (0..300_000u32).map(|i| i as u8).collect();
    let wire = frame(OpCode::Binary, true, &payload);
    let mut outs = echo_in_reads(&mut d, &wire[..250_000], 100_001).into_iter();
    assert!(outs.all(|o| o.is_empty()), "gathered, not sent in pieces");
    let fragment = receive::ECHO_FRAGMENT;
    assert_eq!(
        budget.in_use(),
        fragment,
        "its buffer is drawn from the budget"
    );
    let (_, out) = exchange(&mut d, &wire[250_000..], T0);
    assert_eq!(budget.in_use(), 0);
    let seen = frames(&out);
    assert_eq!(shape(&seen), [(OpCode::Binary, true, 300_000)]);
    assert_eq!(seen[0].payload, payload);
}

#[test]
fn a_frame_larger_than_a_fragment_is_echoed_in_fragments_of_that_size() {
    let mut d = echo_server(&config());
    let len = 2 * receive::ECHO_FRAGMENT + 5;
    let payload: Vec<u8> = (0..len as u32).map(|i| (i % 251) as u8).collect();
    let wire = frame(OpCode::Binary, true, &payload);
    let seen = frames(&echo_in_reads(&mut d, &wire, 100_000).concat());
    let n = receive::ECHO_FRAGMENT;
    assert_eq!(
        shape(&seen),
        [
            (OpCode::Binary, false, n),
            (OpCode::Continuation, false, n),
            (OpCode::Continuation, true, 5)
        ]
    );
    assert_eq!(message(&seen), (OpCode::Binary, payload));
}

#[test]
fn without_budget_for_a_fragment_each_read_is_echoed_as_it_comes() {
    let budget = crate::MessageBudget::new(receive::ECHO_FRAGMENT - 1);
    let mut d = echo_with_budget(&budget);
    let payload: Vec<u8> = (0..300_000u32).map(|i| i as u8).collect();
    let wire = frame(OpCode::Binary, true, &payload);
    let outs = echo_in_reads(&mut d, &wire, 100_001);
    assert!(
        outs.iter().all(|o| !o.is_empty()),
        "every read answered at once"
    );
    let seen = frames(&outs.concat());
    assert_eq!(
        shape(&seen),
        [
            (OpCode::Binary, false, 100_001 - 14),
            (OpCode::Continuation, false, 100_001),
            (OpCode::Continuation, false, 100_001),
            (OpCode::Continuation, true, 300_000 + 14 - 3 * 100_001)
        ]
    );
    assert_eq!(message(&seen), (OpCode::Binary, payload));
    assert_eq!(budget.in_use(), 0);
}

#[test]
fn large_frames_cut_by_reads_keep_the_peers_framing_small_ones_go_as_they_come() {
    // Reads of 60 000 bytes: a frame of 100 000 (under GATHER_FROM) goes out a fragment per
    // read, without a copy; then three frames of 200 000 come out as three frames.
    let mut d = echo_server(&config());
    let mut wire = frame(OpCode::Binary, true, &[7; 100_000]);
    wire.extend(frame(OpCode::Text, false, &[b'a'; 200_000]));
    wire.extend(frame(OpCode::Continuation, false, &[b'b'; 200_000]));
    wire.extend(frame(OpCode::Continuation, true, &[b'c'; 200_000]));
    let seen = frames(&echo_in_reads(&mut d, &wire, 60_000).concat());
    assert_eq!(
        shape(&seen),
        [
            (OpCode::Binary, false, 60_000 - 14),
            (OpCode::Continuation, true, 100_000 + 14 - 60_000),
            (OpCode::Text, false, 200_000),
            (OpCode::Continuation, false, 200_000),
            (OpCode::Continuation, true, 200_000)
        ]
    );
}

#[test]
fn fragmented_text_keeps_its_kind_and_order() {
    let mut d = echo_server(&config());
    let mut input = frame(OpCode::Text, false, "héllo ".as_bytes());
    input.extend(frame(OpCode::Ping, true, b"p"));
    input.extend(frame(OpCode::Continuation, true, "wörld".as_bytes()));
    let (_, out) = exchange(&mut d, &input, T0);
    let seen = frames(&out);
    assert_eq!(seen.len(), 3);
    assert_eq!((seen[0].opcode, seen[0].fin), (OpCode::Text, false));
    assert_eq!(seen[1].opcode, OpCode::Pong);
    assert_eq!((seen[2].opcode, seen[2].fin), (OpCode::Continuation, true));
    assert_eq!(
        [seen[0].payload.clone(), seen[2].payload.clone()].concat(),
        "héllo wörld".as_bytes()
    );
}

#[test]
fn invalid_utf8_in_a_later_chunk_still_gets_its_1007_between_frames() {
    // RFC 6455 §8.1: fail fast. The first chunk was valid so far and went out (a small rest of a
    // frame is not gathered); the close then goes out as a frame of its own, never inside the
    // echo.
    let mut d = echo_server(&config());
    let mut text = b"valid so far ".to_vec();
    text.extend_from_slice(&[0xce, 0xba, 0xff, 0xff]);
    let wire = frame(OpCode::Text, true, &text);
    let (c1, out1) = exchange(&mut d, &wire[..12], T0);
    let (_, out2) = exchange(&mut d, &wire[c1..], T0);
    let seen = frames(&[out1, out2].concat());
    assert_eq!(shape(&seen[..1]), [(OpCode::Text, false, 6)]);
    assert_eq!(close_code(&seen[1]), 1007);
    assert_eq!(d.phase(), Phase::Failing);
}

#[test]
fn invalid_utf8_in_a_gathered_frame_drops_it_and_closes_1007() {
    let budget = crate::MessageBudget::new(1 << 20);
    let mut d = echo_with_budget(&budget);
    let mut text = vec![b'x'; 300_000];
    text.push(0xff);
    let wire = frame(OpCode::Text, true, &text);
    let (c1, out1) = exchange(&mut d, &wire[..100_000], T0);
    assert!(out1.is_empty(), "gathered");
    assert_eq!(budget.in_use(), receive::ECHO_FRAGMENT);
    let (_, out2) = exchange(&mut d, &wire[c1..], T0);
    let seen = frames(&out2);
    assert_eq!(seen.len(), 1);
    assert_eq!(close_code(&seen[0]), 1007);
    assert_eq!(budget.in_use(), 0);
}

// ---- control frames never land inside a frame (regressions of 9a5c825 and 93b8d38) ----

#[test]
fn the_idle_ping_goes_out_between_fragments_of_a_slow_message() {
    let mut d = echo_server(&config());
    let n = receive::ECHO_FRAGMENT;
    let payload: Vec<u8> = (0..n as u32 + 300_000).map(|i| i as u8).collect();
    let wire = frame(OpCode::Binary, true, &payload);
    // A whole fragment, then 200 000 bytes more (gathered).
    let (c1, out1) = exchange(&mut d, &wire[..n + 14 + 200_000], T0);
    // The peer stalls in the middle of its frame past the idle ping.
    let at = d.poll_timeout().unwrap();
    assert_eq!(at, T0 + 30_000);
    d.handle_timeout(at);
    let ping = write_all(&mut d, &[], at);
    let (_, out2) = exchange(&mut d, &wire[c1..], at + 1);
    let seen = frames(&[out1, ping, out2].concat());
    assert_eq!(
        shape(&seen),
        [
            (OpCode::Binary, false, n),
            (OpCode::Ping, true, 0),
            (OpCode::Continuation, true, 300_000)
        ]
    );
    let data: Vec<Seen> = seen
        .into_iter()
        .filter(|f| f.opcode != OpCode::Ping)
        .collect();
    assert_eq!(message(&data).1, payload);
}

#[test]
fn a_shutdown_in_the_middle_of_a_message_closes_1001_between_frames() {
    let budget = crate::MessageBudget::new(1 << 20);
    let mut d = echo_with_budget(&budget);
    // Two frames of a message: the first whole, the second gathered when the shutdown comes.
    let mut wire = frame(OpCode::Binary, false, &[1u8; 1000]);
    wire.extend(frame(OpCode::Continuation, true, &[2u8; 400_000]));
    let (_, out1) = exchange(&mut d, &wire[..100_000], T0);
    assert_eq!(budget.in_use(), receive::ECHO_FRAGMENT);
    d.shutdown(T0 + 5);
    assert_eq!(
        budget.in_use(),
        0,
        "what was gathered is dropped with the close"
    );
    let out2 = write_all(&mut d, &[], T0 + 5);
    let seen = frames(&[out1, out2].concat());
    assert_eq!((seen[0].opcode, seen[0].fin), (OpCode::Binary, false));
    assert_eq!(close_code(&seen[1]), 1001);
    assert!(!d.is_open());
}

// ---- close handshake and teardown (RFC 6455 §7) ----

#[test]
fn the_server_answers_a_close_sends_fin_and_drops() {
    let mut d = echo_server(&config());
    let (_, out) = exchange(&mut d, &frame(OpCode::Close, true, &[0x03, 0xe8]), T0);
    assert_eq!(close_code(&frames(&out)[0]), 1000);
    assert!(matches!(d.phase(), Phase::Closed { .. }));
    assert!(d.wants_fin(), "the server closes TCP first (§7.1.1)");
    d.fin_sent(T0);
    assert!(d.is_done());
    assert_eq!(d.close_info().map(|c| c.0), Some(CloseCode::NORMAL));
}

#[test]
fn after_failing_the_server_lingers_until_eof_or_the_close_timeout() {
    for eof in [true, false] {
        let mut d = echo_server(&config());
        // A reserved bit: 1002.
        let mut bad = frame(OpCode::Binary, true, b"x");
        bad[0] |= 0x20;
        let (_, out) = exchange(&mut d, &bad, T0);
        assert_eq!(close_code(&frames(&out)[0]), 1002);
        assert!(d.wants_fin());
        d.fin_sent(T0);
        assert_eq!(d.phase(), Phase::Lingering { until: T0 + 5_000 });
        assert!(
            d.wants_read(),
            "reads on so unread input does not become a reset"
        );
        // Input after the failure is discarded.
        let (c, o) = exchange(&mut d, &frame(OpCode::Text, true, b"late"), T0 + 1);
        assert_eq!((c, o.len()), (10, 0));
        if eof {
            d.receive_eof(T0 + 2);
        } else {
            d.handle_timeout(T0 + 4_999);
            assert!(!d.is_done());
            d.handle_timeout(T0 + 5_000);
        }
        assert!(d.is_done());
        assert_eq!(d.close_info().map(|c| c.0), Some(CloseCode::PROTOCOL_ERROR));
    }
}

#[test]
fn a_missing_pong_closes_1011_and_drops_once_written() {
    let mut d = echo_server(&config());
    d.handle_timeout(T0 + 30_000);
    assert_eq!(
        frames(&write_all(&mut d, &[], T0 + 30_000))[0].opcode,
        OpCode::Ping
    );
    assert_eq!(d.poll_timeout(), Some(T0 + 40_000));
    d.handle_timeout(T0 + 40_000);
    assert!(matches!(d.phase(), Phase::Flushing { .. }));
    let out = write_all(&mut d, &[], T0 + 40_000);
    assert_eq!(close_code(&frames(&out)[0]), 1011);
    assert!(
        d.is_done(),
        "no wait for a close from a peer that ignores pings"
    );
}

#[test]
fn a_pong_keeps_the_connection() {
    let mut d = echo_server(&config());
    d.handle_timeout(T0 + 30_000);
    write_all(&mut d, &[], T0 + 30_000);
    exchange(&mut d, &frame(OpCode::Pong, true, b""), T0 + 31_000);
    assert_eq!(d.poll_timeout(), Some(T0 + 61_000));
    assert!(d.is_open());
}

#[test]
fn an_unanswered_close_drops_the_transport_at_the_close_timeout() {
    let mut d = echo_server(&config());
    d.close(CloseCode::NORMAL, "bye", T0).unwrap();
    write_all(&mut d, &[], T0);
    assert_eq!(d.poll_timeout(), Some(T0 + 5_000));
    d.handle_timeout(T0 + 5_000);
    assert!(d.is_done());
}

#[test]
fn a_client_waits_for_the_server_to_close_tcp() {
    let mut d = Driver::new(Role::Client, Mode::Messages, &config().connection(), T0, 2);
    // The server's unmasked close.
    let (_, out) = exchange(&mut d, &[0x88, 0x02, 0x03, 0xe8], T0);
    assert_eq!(out.len(), 2 + 4 + 2, "a masked close echo");
    assert!(!d.wants_fin());
    assert!(d.wants_read());
    d.receive_eof(T0 + 1);
    assert!(d.is_done());
    // And gives up waiting at the close timeout.
    let mut d = Driver::new(Role::Client, Mode::Messages, &config().connection(), T0, 3);
    exchange(&mut d, &[0x88, 0x00], T0);
    d.handle_timeout(T0 + 5_000);
    assert!(d.is_done());
    assert_eq!(d.close_info().map(|c| c.0), Some(CloseCode::NO_STATUS));
}

#[test]
fn eof_without_a_close_is_1006_and_queued_output_is_written_first() {
    let mut d = echo_server(&config());
    let payload = vec![3u8; 1000];
    let mut buf = frame(OpCode::Binary, true, &payload);
    d.receive(&mut buf, 0, T0);
    d.release_input(&buf);
    d.receive_eof(T0);
    assert!(!d.wants_read());
    assert!(!d.is_done(), "the echo goes out first");
    let out = write_all(&mut d, &[], T0);
    assert_eq!(frames(&out)[0].payload, payload);
    assert!(d.is_done());
    assert_eq!(d.close_info().map(|c| c.0), Some(CloseCode::ABNORMAL));
}

// ---- backpressure and fairness ----

#[test]
fn reading_pauses_at_the_cap_between_messages_and_resumes_when_written() {
    let config = Config {
        max_outbound_bytes: 1000,
        ..config()
    };
    let mut d = echo_server(&config);
    let mut input = Vec::new();
    for _ in 0..4 {
        input.extend(frame(OpCode::Binary, true, &[5u8; 600]));
    }
    let (pos, stop) = d.receive(&mut input, 0, T0);
    assert_eq!(stop, Stop::Paused);
    assert_eq!(pos, 2 * (600 + 8), "two echoes reach the cap");
    assert!(!d.wants_read());
    d.release_input(&input);
    write_all(&mut d, &[], T0);
    assert!(d.wants_read());
    let (rest, _) = d.receive(&mut input, pos, T0);
    assert_eq!(rest, input.len());
}

/// An outbound cap of 1000 bytes, drawing on `budget` past it.
fn capped_at_1000(budget: &crate::MessageBudget) -> Config {
    Config {
        max_outbound_bytes: 1000,
        message_budget: budget.clone(),
        ..config()
    }
}

/// A 9000-byte binary message of sevens in three fragments.
fn three_fragments_of_3000() -> Vec<u8> {
    let mut input = frame(OpCode::Binary, false, &[7u8; 3000]);
    input.extend(frame(OpCode::Continuation, false, &[7u8; 3000]));
    input.extend(frame(OpCode::Continuation, true, &[7u8; 3000]));
    input
}

#[test]
fn a_message_in_progress_is_taken_whole_past_the_cap_on_a_loan_from_the_budget() {
    // The CI failure this answers: a blocking client wrote a 16 MiB message as two 8 MiB
    // fragments before reading; pausing after the first fragment left the second stuck in the
    // socket buffers (a deadlock whenever they held less than 8 MiB).
    let budget = crate::MessageBudget::new(10_000);
    let mut d = echo_server(&capped_at_1000(&budget));
    let mut input = three_fragments_of_3000();
    input.extend(frame(OpCode::Binary, true, &[8u8; 10]));
    let (pos, stop) = d.receive(&mut input, 0, T0);
    assert_eq!(stop, Stop::Paused);
    assert_eq!(pos, 3 * (3000 + 8), "the whole message, then the pause");
    assert_eq!(
        budget.in_use(),
        3 * (3000 + 4) - 1000,
        "past the cap: the loan"
    );
    assert!(!d.wants_read());
    d.release_input(&input);
    let out = write_all(&mut d, &[], T0);
    assert_eq!(message(&frames(&out)), (OpCode::Binary, vec![7u8; 9000]));
    assert_eq!(budget.in_use(), 0, "repaid as the queue drains");
    assert!(d.wants_read());
}

#[test]
fn a_backlog_the_budget_cannot_cover_is_closed_1013() {
    let budget = crate::MessageBudget::new(4_000);
    let mut d = echo_server(&capped_at_1000(&budget));
    let mut input = three_fragments_of_3000();
    d.receive(&mut input, 0, T0);
    d.release_input(&input);
    let seen = frames(&write_all(&mut d, &[], T0));
    assert_eq!(seen.len(), 2 + 1, "two fragments, then the close");
    assert_eq!(close_code(&seen[2]), 1013);
    assert!(d.wants_fin());
    drop(d);
    assert_eq!(budget.in_use(), 0);
}

#[test]
fn one_call_handles_a_bounded_number_of_events() {
    let mut d = echo_server(&config());
    d.set_events_per_call(100);
    let mut input = Vec::new();
    for _ in 0..110 {
        input.extend(frame(OpCode::Text, true, b"x"));
    }
    let (pos, stop) = d.receive(&mut input, 0, T0);
    assert_eq!((pos, stop), (100 * 7, Stop::Paused));
}

// ---- messages for the application, and the memory budget ----

fn app(config: &Config) -> Driver {
    Driver::new(Role::Server, Mode::Messages, &config.connection(), T0, 4)
}

#[test]
fn fragments_are_reassembled_and_the_budget_given_back() {
    let config = config();
    let mut d = app(&config);
    let mut input = frame(OpCode::Text, false, b"hello ");
    input.extend(frame(OpCode::Continuation, true, b"world"));
    let (pos, stop) = d.receive(&mut input, 0, T0);
    assert_eq!((pos, stop), (input.len(), Stop::Paused));
    assert_eq!(d.take_message(), Some(Message::Text("hello world".into())));
    assert_eq!(config.message_budget.in_use(), 0);
    // Half a message holds its reservation until the connection goes.
    let mut half = frame(OpCode::Binary, false, &[1; 100]);
    d.receive(&mut half, 0, T0);
    assert!(config.message_budget.in_use() >= 100);
    drop(d);
    assert_eq!(config.message_budget.in_use(), 0);
}

#[test]
fn past_the_budget_the_connection_is_closed_1013_before_the_memory_is_taken() {
    let config = Config {
        message_budget: crate::MessageBudget::new(1000),
        ..config()
    };
    let mut first = app(&config);
    let mut second = app(&config);
    let mut a = frame(OpCode::Binary, false, &[1; 900]);
    first.receive(&mut a, 0, T0);
    let mut b = frame(OpCode::Binary, false, &[2; 200]);
    let (_, out) = exchange(&mut second, &b.clone(), T0);
    assert_eq!(close_code(&frames(&out)[0]), 1013);
    assert_eq!(config.message_budget.in_use(), 900);
    // The first one is unaffected and finishes its message.
    let mut end = frame(OpCode::Continuation, true, &[1; 10]);
    first.receive(&mut end, 0, T0);
    assert_eq!(first.take_message().map(|m| m.len()), Some(910));
    assert_eq!(config.message_budget.in_use(), 0);
    b.clear();
}

// ---- permessage-deflate (RFC 7692) ----

fn deflate_pair(config: &Config, mode: Mode) -> (Driver, Session) {
    let negotiated = DeflateConfig::DEFAULT
        .policy
        .negotiate(["permessage-deflate; client_no_context_takeover"])
        .expect("agreed");
    let mut d = Driver::new(Role::Server, mode, &config.connection(), T0, 5);
    d.enable_deflate(negotiated.params, &DeflateConfig::DEFAULT);
    let client = Session::new(negotiated.params, Role::Client, &DeflateConfig::DEFAULT);
    (d, client)
}

fn compress(client: &mut Session, msg: &[u8]) -> Vec<u8> {
    let mut z = Vec::new();
    client.compress_piece(msg, true, &mut z).unwrap();
    z
}

#[test]
fn a_compressed_message_is_echoed_compressed_in_pieces() {
    let (mut d, mut client) = deflate_pair(&config(), Mode::Echo);
    let text: String = (0..20_000).map(|i| format!("{i} ")).collect();
    let z = compress(&mut client, text.as_bytes());
    let wire = compressed_frame(OpCode::Text, true, &z);
    let mut out = Vec::new();
    let mut kept = Vec::new();
    for piece in wire.chunks(7_000) {
        kept.extend_from_slice(piece);
        let (c, o) = exchange(&mut d, &kept, T0);
        kept.drain(..c);
        out.extend(o);
    }
    let seen = frames(&out);
    assert!(seen[0].rsv1, "RSV1 on the first frame");
    assert!(seen[1..].iter().all(|f| !f.rsv1), "and only there");
    let (opcode, echoed) = message(&seen);
    assert_eq!(opcode, OpCode::Text);
    let mut inflated = Vec::new();
    client
        .inflate(&echoed, true, &mut inflated, usize::MAX)
        .unwrap();
    assert_eq!(inflated, text.as_bytes());
}

#[test]
fn an_inflation_bomb_is_refused_1009_holding_one_step_at_most() {
    let config = Config {
        limits: Limits {
            max_message_size: 1 << 20,
            ..Limits::DEFAULT
        },
        ..config()
    };
    for mode in [Mode::Echo, Mode::Messages] {
        let (mut d, mut client) = deflate_pair(&config, mode);
        let z = compress(&mut client, &vec![0u8; 8 << 20]);
        assert!(
            z.len() < 100 << 10,
            "8 MiB of zeros compress to {} bytes",
            z.len()
        );
        let (_, out) = exchange(&mut d, &compressed_frame(OpCode::Binary, true, &z), T0);
        let seen = frames(&out);
        assert_eq!(close_code(seen.last().unwrap()), 1009);
        assert_eq!(config.message_budget.in_use(), 0);
    }
}

#[test]
fn invalid_utf8_after_inflating_is_1007() {
    let (mut d, mut client) = deflate_pair(&config(), Mode::Echo);
    let z = compress(&mut client, &[b'a', 0xff, b'b']);
    let (_, out) = exchange(&mut d, &compressed_frame(OpCode::Text, true, &z), T0);
    assert_eq!(close_code(frames(&out).last().unwrap()), 1007);
}

#[test]
fn compressed_messages_reach_the_application_inflated() {
    let (mut d, mut client) = deflate_pair(&config(), Mode::Messages);
    let z = compress(&mut client, b"hello hello hello hello");
    let mut input = compressed_frame(OpCode::Text, true, &z);
    d.receive(&mut input, 0, T0);
    assert_eq!(
        d.take_message(),
        Some(Message::Text("hello hello hello hello".into()))
    );
}

#[test]
fn an_idle_connection_is_small() {
    // The event loop keeps one Driver per idle connection (its Peer adds the socket and a few
    // words): what it holds between messages is this, and no heap (the outbound queue, the
    // message being reassembled and the close reason are allocated only while in use).
    let size = std::mem::size_of::<Driver>();
    eprintln!("size_of::<Driver>() = {size}");

    assert!(size <= 216, "{size}");
    let mut d = echo_server(&config());
    exchange(&mut d, &frame(OpCode::Text, true, b"hello"), T0);
    assert!(d.out.is_empty() && d.inbound.is_idle() && d.message.is_none());
}

/// A whole unmasked server frame, as a room makes it.
fn shared_frame(payload: &[u8]) -> std::sync::Arc<[u8]> {
    let mut out = vec![0u8; payload.len() + 14];
    let n = encode_frame(true, OpCode::Binary, None, payload, &mut out).unwrap();
    out.truncate(n);
    out.into()
}

// Before the fix a member closed by its room's policy kept its whole backlog of shared frames
// queued in front of the 1008: in memory until the close timeout, and the close never read.
#[test]
fn an_abort_drops_the_shared_frames_not_started_and_closes_after_the_frame_in_progress() {
    let mut d = app(&config());
    d.push_raw(b"HTTP/1.1 101\r\n\r\n");
    let head = write_all(&mut d, &[], T0);
    assert_eq!(head, b"HTTP/1.1 101\r\n\r\n");
    let frames_sent: Vec<_> = (0..4u8).map(|i| shared_frame(&[i; 4000])).collect();
    for f in &frames_sent {
        d.send_frame(f).unwrap();
    }
    d.send(Message::Text("small".into())).unwrap();
    // The socket takes 100 bytes of the first frame, then the policy closes the member.
    let mut first = Vec::new();
    {
        let mut slices = [IoSlice::new(&[]); 64];
        let count = d.transmit_slices(&[], &mut slices);
        assert!(count > 0);
        first.extend_from_slice(&slices[0][..100]);
    }
    d.transmitted(100, T0);
    d.abort(CloseCode::POLICY, "too slow", T0).unwrap();
    // Three frames' memory is given back at once (the first is in progress)...
    assert_eq!(
        frames_sent
            .iter()
            .map(std::sync::Arc::strong_count)
            .collect::<Vec<_>>(),
        [2, 1, 1, 1]
    );
    // ...and the peer sees the first frame whole, the small message queued after them (it is
    // not a shared frame) and the 1008: a valid stream.
    first.extend(write_all(&mut d, &[], T0));
    let seen = frames(&first);
    assert_eq!(seen.len(), 3, "{seen:?}");
    assert_eq!(seen[0].payload, vec![0u8; 4000]);
    assert_eq!(
        (seen[1].opcode, &seen[1].payload[..]),
        (OpCode::Text, &b"small"[..])
    );
    assert_eq!(close_code(&seen[2]), 1008);
}

// Small shared frames are copied into the connection's buffer (one slice for many): an abort
// must drop those copies too, or a member closed for falling behind first gets its whole
// backlog of small messages (before the fix, every one of them came out before the 1008).
#[test]
fn an_abort_drops_small_shared_copies_but_finishes_the_frame_in_progress() {
    let mut d = app(&config());
    d.push_raw(b"HTTP/1.1 101\r\n\r\n");
    let head = write_all(&mut d, &[], T0);
    assert_eq!(head, b"HTTP/1.1 101\r\n\r\n");
    let small: Vec<_> = (0..10u8).map(|i| shared_frame(&[i; 16])).collect();
    d.send(Message::Text("own".into())).unwrap();
    for f in &small[..5] {
        d.send_frame(f).unwrap();
    }
    d.send(Message::Text("between".into())).unwrap();
    for f in &small[5..] {
        d.send_frame(f).unwrap();
    }
    // The socket takes the own message (5 bytes) and 20 bytes: the first shared frame (18)
    // and 2 bytes of the second. Then the policy closes the member.
    let mut seen_bytes = Vec::new();
    {
        let mut slices = [IoSlice::new(&[]); 64];
        let count = d.transmit_slices(&[], &mut slices);
        let mut take = 25;
        for s in &slices[..count] {
            let k = s.len().min(take);
            seen_bytes.extend_from_slice(&s[..k]);
            take -= k;
        }
    }
    d.transmitted(25, T0);
    d.abort(CloseCode::POLICY, "too slow", T0).unwrap();
    seen_bytes.extend(write_all(&mut d, &[], T0));
    let seen = frames(&seen_bytes);
    let payloads: Vec<_> = seen.iter().map(|f| f.payload.clone()).collect();
    // The own message, shared frames 0 and 1 (1 was in progress), the message queued between
    // (not shared), then the 1008: frames 2-9 were dropped.
    assert_eq!(seen.len(), 5, "{payloads:?}");
    assert_eq!(payloads[0], b"own");
    assert_eq!(payloads[1], vec![0u8; 16]);
    assert_eq!(payloads[2], vec![1u8; 16]);
    assert_eq!(payloads[3], b"between");
    assert_eq!(close_code(&seen[4]), 1008);
}

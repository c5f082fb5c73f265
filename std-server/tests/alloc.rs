//! The echo fast path allocates nothing per message: messages that fit the read buffer are
//! echoed straight from it and the outbox reuses its buffers. The connection runs over an
//! in-memory stream and is polled by hand, so only this crate's (and ws-core's) allocations are
//! counted (an async runtime's reactor allocates on its own), by a counting global allocator
//! (all threads: work we cause on the async-io reactor thread counts too).

mod common;

#[path = "common/in_memory.rs"]
mod in_memory;

use common::frame;
use in_memory::{frames, Mem, Nothing, Pipe, ALLOCS};
use std::future::Future;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::task::{Context, Waker};
use ws_server::{ConnectionConfig, WebSocket};

/// How many whole messages (frames with FIN) the server's output holds, without allocating.
fn whole_messages(mut wire: &[u8]) -> usize {
    let mut n = 0;
    while wire.len() >= 2 {
        let (len, hl) = match wire[1] & 0x7f {
            126 if wire.len() >= 4 => (u16::from_be_bytes([wire[2], wire[3]]) as usize, 4),
            127 if wire.len() >= 10 => {
                let mut b = [0u8; 8];
                b.copy_from_slice(&wire[2..10]);
                (u64::from_be_bytes(b) as usize, 10)
            }
            l if l < 126 => (l as usize, 2),
            _ => break,
        };
        if wire.len() < hl + len {
            break;
        }
        n += usize::from(wire[0] & 0x80 != 0);
        wire = &wire[hl + len..];
    }
    n
}

/// The messages in the server's (unmasked) output, fragments joined: `(b0 with FIN, payload)`.
fn messages(wire: &[u8]) -> Vec<(u8, Vec<u8>)> {
    let mut out: Vec<(u8, Vec<u8>)> = Vec::new();
    let mut open = false;
    for (b0, payload) in frames(wire) {
        if open {
            out.last_mut().unwrap().1.extend_from_slice(payload);
        } else {
            out.push((b0 | 0x80, payload.to_vec()));
        }
        open = b0 & 0x80 == 0;
    }
    out
}

#[test]
fn echo_allocates_nothing_per_message() {
    let pipe = Arc::new(Mutex::new(Pipe::default()));
    pipe.lock().unwrap().output.reserve(64 << 20);
    let ws = WebSocket::from_upgraded(
        Mem(pipe.clone()),
        ws_core::Role::Server,
        &ConnectionConfig::default(),
        &[],
    );
    let mut echo = Box::pin(ws.echo());
    let waker = Waker::from(Arc::new(Nothing));
    let mut cx = Context::from_waker(&waker);
    // Queues `n` frames, polls the echo once, checks the replies; returns the allocations made
    // during the poll.
    let mut round = |n: usize, size: usize, opcode: u8| -> u64 {
        let payload: Vec<u8> = (0..size).map(|i| b'a' + (i % 26) as u8).collect();
        let one = frame(true, opcode, &payload);
        let mut input = Vec::with_capacity(one.len() * n);
        for _ in 0..n {
            input.extend_from_slice(&one);
        }
        let expected = vec![(0x80 | opcode, payload.clone()); n];
        pipe.lock().unwrap().input.extend(input);
        let before = ALLOCS.load(Ordering::Relaxed);
        // The connection yields after a budget of time: poll until every echo is written.
        let want: usize = expected.iter().map(|(_, p)| p.len() + 2).sum();
        for _ in 0..10_000 {
            assert!(echo.as_mut().poll(&mut cx).is_pending());
            let p = pipe.lock().unwrap();
            if p.input.is_empty() && p.output.len() >= want && whole_messages(&p.output) == n {
                break;
            }
        }
        let allocs = ALLOCS.load(Ordering::Relaxed) - before;
        let mut p = pipe.lock().unwrap();
        // A frame cut by a read boundary is echoed as fragments: compare messages.
        let got = messages(&p.output);
        assert_eq!(got.len(), expected.len());
        assert!(got == expected, "echo differs");
        p.output.clear();
        allocs
    };
    // Warm-up: the read buffer grows to its full size, the outbox gets its buffers, the
    // reassembly buffer (text frames cut by a read boundary) its capacity.
    round(20, 30_000, 2);
    round(20, 30_000, 1);
    round(1000, 100, 1);
    let small = round(1000, 100, 1);
    let binary = round(200, 20_000, 2);
    let text = round(200, 30_000, 1);
    let tiny = round(5000, 0, 2);
    eprintln!(
        "allocations: 1000 x 100 B text: {small}; 200 x 20 kB binary: {binary}; \
         200 x 30 kB text: {text}; 5000 empty: {tiny}"
    );
    assert_eq!(small, 0);
    assert_eq!(binary, 0);
    assert_eq!(text, 0);
    assert_eq!(tiny, 0);
}

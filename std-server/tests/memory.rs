//! Memory stays flat under hostile input: oversized frames are refused from the header alone,
//! and a client that floods without reading cannot grow the server's memory. RSS is measured
//! from /proc/self/statm of this process (the server runs in-process); tests here run one at a
//! time.

mod common;

use common::*;
use std::io::Write;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use ws_server::Config;

static SERIAL: Mutex<()> = Mutex::new(());

const MIB: usize = 1 << 20;

#[test]
fn oversized_frame_gets_1009_from_the_header_and_memory_stays_flat() {
    let _g = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let server = start(short_timeouts());
    assert_echo_works(server.addr);
    let before = rss();
    for declared in [(16u64 << 20) + 1, 1 << 30, 1 << 62] {
        let mut s = raw(server.addr);
        // Header only: a 64-bit length and a mask key; the payload never comes.
        let mut h = vec![0x82u8, 0x80 | 127];
        h.extend_from_slice(&declared.to_be_bytes());
        h.extend_from_slice(&[1, 2, 3, 4]);
        s.write_all(&h).unwrap();
        assert_eq!(read_close(&mut s), Some(1009), "declared {declared}");
        // Whatever we send now is payload of the declared frame as far as the server can tell,
        // so our close cannot reach it: it drops TCP after the close timeout.
        s.write_all(&close_frame(1009, b"")).unwrap();
        assert_closed_within(&mut s, Duration::from_secs(2));
    }
    let grew = rss().saturating_sub(before);
    assert!(grew < 8 * MIB, "RSS grew by {} KiB", grew / 1024);
    assert_echo_works(server.addr);
}

#[test]
fn message_over_the_limit_across_fragments_gets_1009() {
    let _g = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let mut config = Config::default();
    config.limits.max_message_size = MIB as u64;
    let server = start(config);
    let mut s = raw(server.addr);
    let part = vec![0u8; 600 << 10];
    s.write_all(&frame(false, 2, &part)).unwrap();
    s.write_all(&frame(true, 0, &part)).unwrap_or(());
    assert_eq!(read_close(&mut s), Some(1009));
    assert_echo_works(server.addr);
}

#[test]
fn flooding_client_that_never_reads_leaves_memory_bounded() {
    let _g = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let server = start(Config::default());
    assert_echo_works(server.addr);
    let before = rss();
    let mut peak = before;
    let mut s = raw(server.addr);
    s.set_write_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    let msg = frame(true, 2, &vec![0x55u8; 64 << 10]);
    let small = frame(true, 9, b"ping flood");
    let mut sent = 0usize;
    let t = Instant::now();
    // Echoed data and ping replies pile up; the server must stop reading instead of buffering.
    while sent < 512 * MIB && t.elapsed() < Duration::from_secs(15) {
        let buf = if sent % (4 * MIB) < (2 * MIB) {
            &msg
        } else {
            &small
        };
        match s.write_all(buf) {
            Ok(()) => sent += buf.len(),
            Err(_) => break, // the server stopped reading: our write blocked
        }
        peak = peak.max(rss());
    }
    std::thread::sleep(Duration::from_millis(200));
    peak = peak.max(rss());
    let grew = peak.saturating_sub(before);
    eprintln!(
        "flood: sent {} MiB before blocking; RSS grew {} KiB",
        sent / MIB,
        grew / 1024
    );
    assert!(
        sent < 512 * MIB,
        "the server kept reading a client that never reads"
    );
    assert!(grew < 32 * MIB, "RSS grew by {} KiB", grew / 1024);
    drop(s);
    assert_echo_works(server.addr);
}

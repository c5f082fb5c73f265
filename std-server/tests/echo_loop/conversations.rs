//! Random conversations (seeded, replayable): messages of every length class, text with 1- to
//! 4-byte characters, fragments cut anywhere and pings between them, written in pieces of 1 byte
//! to 300 KiB; every reply must come back exact and in order, also with a 4 KiB read buffer.

use crate::common::{assert_round_trip, frame, raw, read_frame, read_head, tcp, upgrade_request};
use crate::loop_engine::start;
use std::io::Write;
use std::time::Duration;
use ws_server::Config;

/// A small deterministic generator (xorshift64*), so a failure can be replayed from its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// A random conversation: the client's bytes and the server frames expected back, in order.
fn random_conversation(rng: &mut Rng) -> (Vec<u8>, Vec<(u8, Vec<u8>)>) {
    let chars = ["a", "Z", " ", "é", "ß", "✓", "€", "🚀", "😀"];
    let (mut wire, mut expected) = (Vec::new(), Vec::new());
    for _ in 0..150 {
        let len = match rng.below(10) {
            0 => 0,
            1..=4 => rng.below(126),
            5..=7 => 126 + rng.below(65_536 - 126),
            8 => 65_536 + rng.below(200_000),
            _ => 256 << 10,
        };
        let text = rng.below(2) == 0;
        let body: Vec<u8> = if text {
            let mut t = String::new();
            while t.len() < len {
                t.push_str(chars[rng.below(chars.len())]);
            }
            t.into_bytes()
        } else {
            (0..len).map(|_| rng.next() as u8).collect()
        };
        // 1 to 4 fragments cut anywhere (inside code points too), pings between them.
        let pieces = 1 + rng.below(4);
        let mut cuts: Vec<usize> = (1..pieces).map(|_| rng.below(body.len() + 1)).collect();
        cuts.sort_unstable();
        cuts.insert(0, 0);
        cuts.push(body.len());
        for k in 0..pieces {
            let op = if k > 0 {
                0
            } else if text {
                1
            } else {
                2
            };
            wire.extend(frame(k + 1 == pieces, op, &body[cuts[k]..cuts[k + 1]]));
            if k + 1 == pieces {
                expected.push((if text { 0x81 } else { 0x82 }, body.clone()));
            }
            if rng.below(4) == 0 {
                let ping: Vec<u8> = (0..rng.below(126)).map(|_| rng.next() as u8).collect();
                wire.extend(frame(true, 9, &ping));
                expected.push((0x8a, ping));
            }
        }
    }
    (wire, expected)
}

#[test]
fn random_conversations_split_at_random_points_are_answered_exactly() {
    random_conversations(Config::default());
}

#[test]
fn a_4_kib_read_buffer_serves_big_heads_and_random_conversations() {
    let config = Config {
        read_buffer: 4096,
        ..Config::default()
    };
    let server = start(config.clone());
    // A 6 KiB request head (under the 8 KiB head limit) does not fit the read buffer.
    let cookie = format!("Cookie: c={}\r\n", "x".repeat(6000));
    let request = upgrade_request("/").replace(
        "Host: localhost\r\n",
        &format!("Host: localhost\r\n{cookie}"),
    );
    let mut s = tcp(server.addr);
    s.write_all(request.as_bytes()).unwrap();
    let head = read_head(&mut s);
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    assert_round_trip(&mut s, 1, b"big head");
    drop(s);
    drop(server);
    random_conversations(config);
}

/// Six random conversations at once on an engine with `config`.
fn random_conversations(config: Config) {
    let server = start(config);
    let addr = server.addr;
    let threads: Vec<_> = (0..6u64)
        .map(|seed| {
            std::thread::spawn(move || {
                let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ (seed + 1));
                let (wire, expected) = random_conversation(&mut rng);
                let mut s = raw(addr);
                let mut reader = s.try_clone().unwrap();
                let check = std::thread::spawn(move || {
                    for (n, want) in expected.iter().enumerate() {
                        let got = read_frame(&mut reader);
                        assert!(
                            got == *want,
                            "seed {seed}, reply {n}: got {:#x} with {} bytes ({:x?}), want {:#x} \
                             with {}",
                            got.0,
                            got.1.len(),
                            &got.1[..got.1.len().min(24)],
                            want.0,
                            want.1.len()
                        );
                    }
                });
                // Writes of 1 byte to 300 KiB, now and then after a pause.
                let mut at = 0;
                while at < wire.len() {
                    let n = (1 + rng.below(300 << 10)).min(wire.len() - at);
                    let n = if rng.below(8) == 0 {
                        n.min(rng.below(20) + 1)
                    } else {
                        n
                    };
                    s.write_all(&wire[at..at + n]).unwrap();
                    at += n;
                    if rng.below(10) == 0 {
                        std::thread::sleep(Duration::from_millis(1));
                    }
                }
                check.join().expect("replies");
            })
        })
        .collect();
    for th in threads {
        th.join().expect("a conversation failed");
    }
}

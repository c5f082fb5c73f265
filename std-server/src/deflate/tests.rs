//! Codec tests: RFC 7692 §7.2.3's examples byte for byte, round trips under every chunking,
//! the tail handling, context takeover, bombs.

use super::*;
use ws_core::deflate::{Compressor, Decompressor, TAIL};

fn deflate_all(enc: &mut Encoder, msg: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    enc.compress_message(msg, &mut out).unwrap();
    out
}

fn inflate_all(dec: &mut Decoder, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    dec.inflate_into(payload, true, &mut out, usize::MAX)
        .unwrap();
    out
}

#[test]
fn rfc7692_7_2_3_examples_inflate() {
    let mut dec = Decoder::new(15, false);
    // §7.2.3.1 one compressed message, then §7.2.3.2 the same with the context taken over.
    assert_eq!(
        inflate_all(&mut dec, &[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]),
        b"Hello"
    );
    assert_eq!(
        inflate_all(&mut dec, &[0xf2, 0x00, 0x11, 0x00, 0x00]),
        b"Hello"
    );
    // §7.2.3.3 a stored block, §7.2.3.5 two blocks in one message, §7.2.3.6 an empty message.
    let stored = [
        0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00,
    ];
    assert_eq!(inflate_all(&mut dec, &stored), b"Hello");
    let two = [
        0xf2, 0x48, 0x05, 0x00, 0x00, 0x00, 0xff, 0xff, 0xca, 0xc9, 0xc9, 0x07, 0x00,
    ];
    assert_eq!(inflate_all(&mut dec, &two), b"Hello");
    assert_eq!(inflate_all(&mut dec, &[0x00]), b"");
    // §7.2.3.4 BFINAL set: the stream ends; the next message starts a new one.
    assert_eq!(
        inflate_all(&mut dec, &[0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00]),
        b"Hello"
    );
    assert_eq!(
        inflate_all(&mut dec, &[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]),
        b"Hello"
    );
}

#[test]
fn rfc7692_7_2_3_examples_deflate() {
    let mut enc = Encoder::new(6, 15, 8, false);
    assert_eq!(
        deflate_all(&mut enc, b"Hello"),
        [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]
    );
    assert_eq!(
        deflate_all(&mut enc, b"Hello"),
        [0xf2, 0x00, 0x11, 0x00, 0x00]
    );
    assert_eq!(deflate_all(&mut enc, b""), [0x00]);
    // Without context takeover every message compresses alone.
    let mut reset = Encoder::new(6, 15, 8, true);
    for _ in 0..3 {
        assert_eq!(
            deflate_all(&mut reset, b"Hello"),
            [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]
        );
    }
}

/// A text that compresses but not trivially.
fn sample(n: usize, seed: u32) -> Vec<u8> {
    let words = [
        "alpha ",
        "beta ",
        "gamma ",
        "delta ",
        "websocket ",
        "frame ",
        "\u{e9}t\u{e9} ",
    ];
    let mut x = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    let mut out = Vec::with_capacity(n + 16);
    while out.len() < n {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        out.extend_from_slice(words[(x % 7) as usize].as_bytes());
    }
    out.truncate(n);
    out
}

#[test]
fn round_trip_with_and_without_context_takeover_every_window() {
    for bits in 9..=15 {
        for reset in [false, true] {
            let mut enc = Encoder::new(6, bits, 4, reset);
            let mut dec = Decoder::new(bits, reset);
            for (i, n) in [0usize, 1, 5, 100, 4000, 70_000].into_iter().enumerate() {
                let msg = sample(n, i as u32);
                let payload = deflate_all(&mut enc, &msg);
                assert!(
                    !payload.ends_with(&TAIL) || payload.len() < 4,
                    "tail left in payload"
                );
                assert_eq!(
                    inflate_all(&mut dec, &payload),
                    msg,
                    "bits {bits} reset {reset} n {n}"
                );
            }
        }
    }
}

#[test]
fn context_takeover_makes_repeats_smaller_and_reset_does_not() {
    let msg = sample(2000, 7);
    let mut keep = Encoder::new(6, 15, 4, false);
    let first = deflate_all(&mut keep, &msg).len();
    let second = deflate_all(&mut keep, &msg).len();
    assert!(second * 10 < first, "{second} vs {first}");
    let mut reset = Encoder::new(6, 15, 4, true);
    assert_eq!(deflate_all(&mut reset, &msg).len(), first);
    assert_eq!(deflate_all(&mut reset, &msg).len(), first);
}

#[test]
fn streaming_with_tiny_buffers_round_trips() {
    let msg = sample(30_000, 3);
    let whole = deflate_all(&mut Encoder::new(6, 12, 4, false), &msg);
    // The trait with 16-byte outputs and 7-byte input pieces.
    let mut enc = Encoder::new(6, 12, 4, false);
    let mut streamed = Vec::new();
    let pieces: Vec<&[u8]> = msg.chunks(7).collect();
    for (i, piece) in pieces.iter().enumerate() {
        let end = i + 1 == pieces.len();
        let mut input = *piece;
        loop {
            let mut buf = [0u8; 16];
            let step = enc.compress(input, &mut buf, end).unwrap();
            streamed.extend_from_slice(&buf[..step.produced]);
            input = &input[step.consumed..];
            if step.done {
                break;
            }
        }
    }
    // Tiny pieces change zlib-rs's block decisions (and a flush ending exactly at the end of the
    // output adds a spare empty block), so only the decoded result must be the same.
    assert!(
        streamed.len() < whole.len() * 2,
        "{} vs {}",
        streamed.len(),
        whole.len()
    );
    assert!(!streamed.ends_with(&TAIL));
    // Inflate it one byte in, one byte out.
    let mut dec = Decoder::new(12, false);
    let mut out = Vec::new();
    for (i, byte) in streamed.iter().enumerate() {
        let end = i + 1 == streamed.len();
        let mut input: &[u8] = std::slice::from_ref(byte);
        loop {
            let mut one = [0u8; 1];
            let step = dec.decompress(input, &mut one, end).unwrap();
            out.extend_from_slice(&one[..step.produced]);
            input = &input[step.consumed..];
            if step.done {
                break;
            }
        }
    }
    assert_eq!(out, msg);
}

#[test]
fn window_8_is_compressed_with_distances_an_8_bit_inflater_accepts() {
    // zlib deflates "8" with a 9-bit window whose matches reach at most 250 bytes back.
    let msg = sample(20_000, 11);
    let payload = deflate_all(&mut Encoder::new(9, 8, 4, false), &msg);
    let mut inflater = zlib_rs::Inflate::new(false, 8);
    let mut input = payload.clone();
    input.extend_from_slice(&TAIL);
    let mut out = vec![0u8; msg.len() + 16];
    inflater
        .decompress(&input, &mut out, zlib_rs::InflateFlush::SyncFlush)
        .unwrap();
    assert_eq!(&out[..msg.len()], &msg[..]);
}

#[test]
fn a_1_kib_bomb_is_stopped_at_the_limit_with_bounded_memory() {
    let zeros = vec![0u8; 1 << 20];
    let bomb = deflate_all(&mut Encoder::new(9, 15, 8, true), &zeros);
    assert!(bomb.len() <= 1100, "bomb is {} bytes", bomb.len());
    let limit = 64 << 10;
    let mut dec = Decoder::new(15, false);
    let mut out = Vec::new();
    assert_eq!(
        dec.inflate_into(&bomb, true, &mut out, limit),
        Err(InflateError::TooBig)
    );
    assert!(
        out.capacity() <= limit + STEP + 1,
        "grew to {}",
        out.capacity()
    );
    assert_eq!(
        InflateError::TooBig.close_code(),
        ws_core::CloseCode::TOO_BIG
    );
    // Exactly at the limit is fine.
    let mut dec = Decoder::new(15, false);
    let mut out = Vec::new();
    let fits = deflate_all(&mut Encoder::new(9, 15, 8, true), &zeros[..limit]);
    dec.inflate_into(&fits, true, &mut out, limit).unwrap();
    assert_eq!(out.len(), limit);
}

#[test]
fn corrupt_payloads_fail_with_1007() {
    for bad in [
        &[0xff, 0xff, 0xff][..],
        &[0x02, 0xff, 0xff, 0xff, 0xff],
        &[0x00, 0x05, 0x00, 0x00, 0x00],
    ] {
        let mut out = Vec::new();
        let err = Decoder::new(15, false)
            .inflate_into(bad, true, &mut out, 1 << 20)
            .unwrap_err();
        assert_eq!(err, InflateError::Corrupt, "{bad:x?}");
        assert_eq!(err.close_code(), ws_core::CloseCode::INVALID_PAYLOAD);
    }
}

#[test]
fn session_threshold_shared_compressor_and_fragments() {
    let cfg = DeflateConfig::DEFAULT;
    let agreed = cfg
        .policy
        .negotiate(["permessage-deflate; client_max_window_bits"])
        .unwrap()
        .params;
    assert!(agreed.server_no_context_takeover);
    assert!(agreed.client_no_context_takeover);
    let mut server = Session::new(agreed, Role::Server, &cfg);
    let mut client = Session::new(agreed, Role::Client, &cfg);
    let mut out = Vec::new();
    assert!(!server.compress(b"short", &mut out).unwrap());
    assert!(out.is_empty());
    // Incompressible data is sent plain when the context is dropped anyway.
    let mut x = 0x9e37_79b9u32;
    let noise: Vec<u8> = (0..4096)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x >> 24) as u8
        })
        .collect();
    assert!(!server.compress(&noise, &mut out).unwrap());
    // Server to client, twice (shared compressor, no context takeover).
    for seed in 0..2 {
        let msg = sample(5000, seed);
        let mut wire = Vec::new();
        assert!(server.compress(&msg, &mut wire).unwrap());
        let mut got = Vec::new();
        client.inflate(&wire, true, &mut got, 1 << 20).unwrap();
        assert_eq!(got, msg);
    }
    // Client to server, the payload split over three "frames".
    for seed in 2..4 {
        let msg = sample(5000, seed);
        let mut wire = Vec::new();
        assert!(client.compress(&msg, &mut wire).unwrap());
        let mut got = Vec::new();
        let thirds: Vec<&[u8]> = wire.chunks(wire.len() / 3 + 1).collect();
        for (i, part) in thirds.iter().enumerate() {
            server
                .inflate(part, i + 1 == thirds.len(), &mut got, 1 << 20)
                .unwrap();
        }
        assert_eq!(got, msg);
    }
}

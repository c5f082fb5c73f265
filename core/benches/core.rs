//! Micro-benchmarks of ws-core's hot paths against their physical limits on this machine:
//! unmasking vs a plain u64-word XOR loop (and memcpy), UTF-8 validation vs simdutf8 and std,
//! frame header parsing, and the server handshake (parse + validate + accept + 101 response).
//!
//! Run: `cargo bench -p ws-core` (add `-- --quick --noplot` for a fast pass). The last lines
//! printed are the ratios to the limits, from criterion's saved estimates.

use criterion::{BenchmarkId, Criterion, Throughput};
use std::hint::black_box;
use std::path::PathBuf;
use ws_core::frame::apply_mask;
use ws_core::handshake::{write_accept_response, Accept, Header, RequestParser, Status};
use ws_core::limits::HeadLimits;
use ws_core::utf8::Utf8Validator;
use ws_core::{FrameHeader, Role};

const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

/// The reference: XOR 8 bytes at a time with the key repeated twice, nothing else.
fn xor_u64_limit(buf: &mut [u8], key: [u8; 4]) {
    let word = u64::from_ne_bytes([
        key[0], key[1], key[2], key[3], key[0], key[1], key[2], key[3],
    ]);
    let mut chunks = buf.chunks_exact_mut(8);
    for c in &mut chunks {
        let w = u64::from_ne_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]) ^ word;
        c.copy_from_slice(&w.to_ne_bytes());
    }
    for (b, k) in chunks.into_remainder().iter_mut().zip(key.iter().cycle()) {
        *b ^= k;
    }
}

fn mask(c: &mut Criterion) {
    let mut buf = vec![0x5au8; 1 << 20];
    let src = buf.clone();
    let mut g = c.benchmark_group("unmask_1MiB");
    g.throughput(Throughput::Bytes(buf.len() as u64));
    g.bench_function("apply_mask", |b| {
        b.iter(|| apply_mask(black_box(&mut buf), KEY, 0))
    });
    g.bench_function("u64_xor_limit", |b| {
        b.iter(|| xor_u64_limit(black_box(&mut buf), KEY))
    });
    g.bench_function("memcpy", |b| {
        b.iter(|| black_box(&mut buf).copy_from_slice(black_box(&src)))
    });
    g.finish();
}

/// `len` bytes of `unit` repeated, cut back to a character boundary.
fn text(unit: &str, len: usize) -> Vec<u8> {
    let mut s = unit.repeat(len / unit.len() + 1);
    let mut end = len;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.truncate(end);
    s.into_bytes()
}

fn utf8(c: &mut Criterion) {
    let ascii = text(
        "The quick brown fox jumps over the lazy dog; {\"id\": 42, \"ok\": true}\n",
        64 << 10,
    );
    let mixed = text(
        "WebSocket 协议在单个 TCP 连接上提供全双工通信，RFC 6455 于 2011 年发布。",
        64 << 10,
    );
    for (name, t) in [("ascii_64KiB", &ascii), ("mixed_zh_64KiB", &mixed)] {
        let mut g = c.benchmark_group(format!("utf8_{name}"));
        g.throughput(Throughput::Bytes(t.len() as u64));
        g.bench_function("ws_core", |b| {
            b.iter(|| {
                let mut v = Utf8Validator::new();
                v.feed(black_box(t)).and_then(|()| v.finish()).is_ok()
            })
        });
        g.bench_function("simdutf8_basic", |b| {
            b.iter(|| simdutf8::basic::from_utf8(black_box(t)).is_ok())
        });
        g.bench_function("simdutf8_compat", |b| {
            b.iter(|| simdutf8::compat::from_utf8(black_box(t)).is_ok())
        });
        g.bench_function("std", |b| {
            b.iter(|| core::str::from_utf8(black_box(t)).is_ok())
        });
        g.finish();
    }
}

fn frame_header(c: &mut Criterion) {
    let mut g = c.benchmark_group("frame_header_parse");
    let small = [0x82, 0x90, 0x37, 0xfa, 0x21, 0x3d];
    let medium = [0x82, 0xfe, 0x10, 0x00, 0x37, 0xfa, 0x21, 0x3d];
    let large = [
        0x82, 0xff, 0, 0, 0, 0, 0, 0x10, 0, 0, 0x37, 0xfa, 0x21, 0x3d,
    ];
    for (name, h) in [
        ("len7", &small[..]),
        ("len16", &medium[..]),
        ("len64", &large[..]),
    ] {
        g.bench_with_input(BenchmarkId::from_parameter(name), h, |b, h| {
            b.iter(|| FrameHeader::parse(black_box(h), Role::Server))
        });
    }
    g.finish();
}

const REQUEST: &[u8] = b"GET /chat HTTP/1.1\r\n\
Host: server.example.com\r\n\
Upgrade: websocket\r\n\
Connection: Upgrade\r\n\
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
Origin: http://example.com\r\n\
Sec-WebSocket-Version: 13\r\n\
User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0\r\n\
Accept-Encoding: gzip, deflate, br\r\n\
Accept-Language: en-US,en;q=0.9\r\n\
Cache-Control: no-cache\r\n\
Pragma: no-cache\r\n\
Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n";

/// Parses, validates and answers one upgrade request; returns the response length.
fn handshake_once(input: &[u8], out: &mut [u8]) -> usize {
    let mut headers = [Header::EMPTY; 32];
    let mut parser = RequestParser::new(HeadLimits::DEFAULT);
    match parser.feed(input, &mut headers) {
        Ok(Status::Complete((req, _))) => match req.upgrade() {
            Ok(up) => write_accept_response(up.key, &Accept::default(), out).unwrap_or(0),
            Err(_) => 0,
        },
        _ => 0,
    }
}

fn handshake(c: &mut Criterion) {
    let mut out = [0u8; 512];
    assert!(
        handshake_once(REQUEST, &mut out) > 0,
        "the benchmark request must be accepted"
    );
    let mut g = c.benchmark_group("handshake");
    g.bench_function("parse_accept_respond", |b| {
        b.iter(|| handshake_once(black_box(REQUEST), black_box(&mut out)))
    });
    g.finish();
}

/// Where criterion saves its estimates (its own lookup order, with the bench binary's target
/// directory in place of `cargo metadata`).
fn criterion_home() -> Option<PathBuf> {
    if let Some(h) = std::env::var_os("CRITERION_HOME") {
        return Some(h.into());
    }
    if let Some(t) = std::env::var_os("CARGO_TARGET_DIR") {
        return Some(PathBuf::from(t).join("criterion"));
    }
    // <target>/release/deps/core-<hash>
    let exe = std::env::current_exe().ok()?;
    Some(exe.parent()?.parent()?.parent()?.join("criterion"))
}

/// Mean time per iteration in ns of a finished benchmark, from its saved estimates.
fn mean_ns(group: &str, id: &str) -> Option<f64> {
    let path = criterion_home()?
        .join(group)
        .join(id)
        .join("new/estimates.json");
    let text = std::fs::read_to_string(path).ok()?;
    let after = text.split("\"mean\"").nth(1)?;
    let num = after.split("\"point_estimate\":").nth(1)?;
    num.split([',', '}']).next()?.trim().parse().ok()
}

fn print_ratios() {
    println!("\nratios (throughput of ws-core / reference; from the estimates above):");
    let rows = [
        (
            "unmask_1MiB",
            "apply_mask",
            "u64_xor_limit",
            "target >= 0.8",
        ),
        ("unmask_1MiB", "apply_mask", "memcpy", ""),
        (
            "utf8_ascii_64KiB",
            "ws_core",
            "simdutf8_basic",
            "target >= 0.9",
        ),
        ("utf8_ascii_64KiB", "ws_core", "std", ""),
        (
            "utf8_mixed_zh_64KiB",
            "ws_core",
            "simdutf8_basic",
            "target >= 0.9",
        ),
        ("utf8_mixed_zh_64KiB", "ws_core", "std", ""),
    ];
    for (group, ours, reference, note) in rows {
        match (mean_ns(group, ours), mean_ns(group, reference)) {
            (Some(a), Some(r)) => {
                println!("  {group}: {ours} / {reference} = {:.2}  {note}", r / a)
            }
            _ => println!("  {group}: {ours} / {reference}: not measured in this run"),
        }
    }
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    mask(&mut c);
    utf8(&mut c);
    frame_header(&mut c);
    handshake(&mut c);
    c.final_summary();
    print_ratios();
}

//! Memory per connection with permessage-deflate, measured with a counting allocator: the live
//! heap bytes a connection's codec state holds between messages, on the thread that made them.
//! Run with `--nocapture` to see the figures.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use ws_core::deflate::{PerMessageDeflate, ServerPolicy};
use ws_core::Role;
use ws_server::deflate::{DeflateConfig, Encoder, InflateError, Session, STEP};

/// Counts live and peak bytes allocated by the current thread.
struct Counting;

thread_local! {
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

fn add(n: isize) {
    let _ = LIVE.try_with(|live| {
        let now = live.get() + n;
        live.set(now);
        let _ = PEAK.try_with(|peak| peak.set(peak.get().max(now)));
    });
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        add(layout.size() as isize);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        add(-(layout.size() as isize));
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        add(layout.size() as isize);
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        add(new_size as isize - layout.size() as isize);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

fn live() -> isize {
    LIVE.with(Cell::get)
}

fn reset_peak() -> isize {
    let now = live();
    PEAK.with(|p| p.set(now));
    now
}

fn peak() -> isize {
    PEAK.with(Cell::get)
}

fn text(n: usize) -> Vec<u8> {
    let words = [
        "alpha ",
        "beta ",
        "gamma ",
        "delta ",
        "websocket ",
        "frame ",
    ];
    let mut x = 7u32;
    let mut out = Vec::new();
    while out.len() < n {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        out.extend_from_slice(words[(x % 6) as usize].as_bytes());
    }
    out.truncate(n);
    out
}

/// A client's compressed message for `params`.
fn from_client(params: PerMessageDeflate, msg: &[u8]) -> Vec<u8> {
    let dir = params.outgoing(Role::Client);
    let mut enc = Encoder::new(6, dir.zlib_window_bits(), 8, dir.no_context_takeover);
    let mut wire = Vec::new();
    enc.compress_message(msg, &mut wire).unwrap();
    wire
}

/// Live bytes one server connection holds after receiving and sending one message each way.
fn per_connection(offer: &str, cfg: &DeflateConfig) -> (isize, isize) {
    let params = cfg.policy.negotiate([offer]).unwrap().params;
    let msg = text(10_000);
    let wire = from_client(params, &msg);
    // Warm the shared per-thread compressor so it is not counted per connection.
    let mut warm = Session::new(params, Role::Server, cfg);
    warm.compress(&msg, &mut Vec::new()).unwrap();
    drop(warm);
    let before = live();
    let mut session = Session::new(params, Role::Server, cfg);
    let mut got = Vec::new();
    session.inflate(&wire, true, &mut got, 1 << 20).unwrap();
    assert_eq!(got, msg);
    let mut sent = Vec::new();
    assert!(session.compress(&msg, &mut sent).unwrap());
    drop((got, sent));
    let held = live() - before;
    let boxed = std::mem::size_of::<Session>() as isize;
    drop(session);
    (held, boxed)
}

#[test]
fn memory_per_connection_and_bomb_peak() {
    let cfg = DeflateConfig::DEFAULT;
    let chrome = "permessage-deflate; client_max_window_bits";
    let (heap, inline) = per_connection(chrome, &cfg);
    eprintln!(
        "default config, Chrome's offer: {heap} heap bytes held between messages + {inline} inline"
    );
    assert_eq!(heap, 0);
    let takeover = DeflateConfig {
        policy: ServerPolicy {
            client_no_context_takeover: false,
            ..cfg.policy
        },
        ..cfg
    };
    let (inflater, _) = per_connection(chrome, &takeover);
    eprintln!("client context takeover (inflater kept): {inflater} heap bytes per connection");
    assert!(inflater > 0 && inflater < 64 << 10, "{inflater}");
    let both = DeflateConfig {
        policy: ServerPolicy {
            server_no_context_takeover: false,
            ..takeover.policy
        },
        ..cfg
    };
    let (dedicated, _) = per_connection(chrome, &both);
    eprintln!("context takeover both ways (+ dedicated 15-bit compressor): {dedicated} heap bytes per connection");
    assert!(dedicated > inflater);

    // The shared compressor: once per thread and settings.
    for bits in [9u8, 12, 15] {
        for mem_level in [1u8, 4, 8] {
            let before = live();
            let enc = Encoder::new(6, bits, mem_level, false);
            eprintln!(
                "compressor window {bits} mem_level {mem_level}: {} bytes",
                live() - before
            );
            drop(enc);
        }
    }

    // A bomb: 1 KiB inflating to 1 MiB against a 64 KiB limit; the peak stays near the limit.
    let zeros = vec![0u8; 1 << 20];
    let mut bomb = Vec::new();
    Encoder::new(9, 15, 8, true)
        .compress_message(&zeros, &mut bomb)
        .unwrap();
    drop(zeros);
    assert!(bomb.len() <= 1100);
    let params = cfg.policy.negotiate([chrome]).unwrap().params;
    let mut session = Session::new(params, Role::Server, &cfg);
    let limit = 64 << 10;
    let base = reset_peak();
    let mut out = Vec::new();
    assert_eq!(
        session.inflate(&bomb, true, &mut out, limit),
        Err(InflateError::TooBig)
    );
    let rise = peak() - base;
    eprintln!(
        "bomb of {} bytes against a {limit}-byte limit: peak rise {rise} bytes",
        bomb.len()
    );
    // The output is capped at limit + 1 bytes; the rest is the inflater itself (~47 KiB).
    assert!(rise < (limit + STEP + (48 << 10)) as isize, "{rise}");
}

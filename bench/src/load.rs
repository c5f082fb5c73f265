//! The throughput/latency mode: many non-blocking connections on one thread, each keeping a
//! window of identical pre-masked messages in flight against an echo server.
//!
//! mio is the event loop: readiness (epoll) over non-blocking sockets with no runtime, no task
//! per connection and no allocation per message, so the generator spends its CPU on syscalls.

use crate::handshake::client_handshake;
use crate::procfs;
use crate::wire::{self, EchoReader};
use hdrhistogram::Histogram;
use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};
use std::collections::VecDeque;
use std::io::{self, ErrorKind, Read, Write};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// What to run.
#[derive(Clone, Debug)]
pub struct LoadConfig {
    /// The echo server.
    pub addr: SocketAddr,
    /// Connections, all driven by this thread.
    pub conns: usize,
    /// Payload bytes per message.
    pub size: usize,
    /// Messages in flight per connection.
    pub window: usize,
    /// Run before measuring (connections warm, buffers grown).
    pub warmup: Duration,
    /// The measured interval.
    pub duration: Duration,
    /// The server process, to read its CPU time over the measured interval.
    pub server_pid: Option<u32>,
}

/// What was measured over the measured interval.
#[derive(Debug)]
pub struct LoadResult {
    /// Messages echoed back completely.
    pub messages: u64,
    /// Length of the measured interval in seconds.
    pub elapsed_s: f64,
    /// Round-trip times in nanoseconds, from queueing a message to reading its echo's last byte.
    pub latency_ns: Histogram<u64>,
    /// Server CPU seconds (user + system) over the interval, when its pid was given.
    pub server_cpu_s: Option<f64>,
    /// This generator's CPU seconds over the interval.
    pub gen_cpu_s: f64,
}

struct Conn {
    stream: TcpStream,
    reader: EchoReader,
    /// Bytes of queued frames not written yet.
    out_left: usize,
    /// When each in-flight message was queued, oldest first.
    sent: VecDeque<Instant>,
}

fn err(context: &str, e: impl std::fmt::Display) -> String {
    format!("{context}: {e}")
}

/// Opens the connections, runs warm-up then the measured interval, and returns the figures.
pub fn run(cfg: &LoadConfig) -> Result<LoadResult, String> {
    let payload = wire::payload(cfg.size);
    let frame = wire::client_frame(&payload);
    let fl = frame.len();
    // `window` copies back to back: any pending suffix of the queue is one contiguous slice.
    let batch = frame.repeat(cfg.window.max(1));
    let poll = Poll::new().map_err(|e| err("epoll", e))?;
    let mut conns = Vec::with_capacity(cfg.conns);
    for i in 0..cfg.conns {
        let mut s = std::net::TcpStream::connect(cfg.addr).map_err(|e| err("connect", e))?;
        s.set_nodelay(true).map_err(|e| err("nodelay", e))?;
        let extra = client_handshake(&mut s, cfg.addr).map_err(|e| err("handshake", e))?;
        if !extra.is_empty() {
            return Err("server sent frames before any request".into());
        }
        s.set_nonblocking(true).map_err(|e| err("nonblocking", e))?;
        let mut stream = TcpStream::from_std(s);
        poll.registry()
            .register(
                &mut stream,
                Token(i),
                Interest::READABLE | Interest::WRITABLE,
            )
            .map_err(|e| err("register", e))?;
        conns.push(Conn {
            stream,
            reader: EchoReader::new(),
            out_left: 0,
            sent: VecDeque::new(),
        });
    }
    drive(cfg, poll, conns, &payload, &batch, fl)
}

fn drive(
    cfg: &LoadConfig,
    mut poll: Poll,
    mut conns: Vec<Conn>,
    payload: &[u8],
    batch: &[u8],
    fl: usize,
) -> Result<LoadResult, String> {
    let mut hist =
        Histogram::<u64>::new_with_bounds(1, 60_000_000_000, 3).map_err(|e| err("histogram", e))?;
    let mut events = Events::with_capacity(1024);
    let mut buf = vec![0u8; 256 * 1024];
    let start = Instant::now();
    for c in &mut conns {
        c.out_left = cfg.window * fl;
        c.sent.extend(std::iter::repeat_n(start, cfg.window));
        flush(c, batch, fl).map_err(|e| err("write", e))?;
    }
    let measure_at = start + cfg.warmup;
    let end_at = measure_at + cfg.duration;
    let mut measuring = false;
    let (mut t0, mut cpu) = (start, None);
    let mut messages = 0u64;
    loop {
        let now = Instant::now();
        if !measuring && now >= measure_at {
            measuring = true;
            messages = 0;
            hist.reset();
            t0 = now;
            cpu = Some(procfs::CpuClock::start(cfg.server_pid)?);
        }
        if measuring && now >= end_at {
            break;
        }
        poll.poll(&mut events, Some(Duration::from_millis(5)))
            .map_err(|e| err("poll", e))?;
        for ev in events.iter() {
            let c = conns.get_mut(ev.token().0).ok_or("unknown token")?;
            if ev.is_readable() || ev.is_read_closed() || ev.is_error() {
                let rec = if measuring { Some(&mut hist) } else { None };
                messages += read_all(c, &mut buf, payload, fl, rec)?;
            }
            flush(c, batch, fl).map_err(|e| err("write", e))?;
        }
    }
    let end = Instant::now();
    let (server_cpu_s, gen_cpu_s) = match cpu {
        Some(clock) => clock.elapsed()?,
        // Ended before the window opened: this process's whole CPU time, as before.
        None => (None, procfs::CpuClock::own_total()?),
    };
    Ok(LoadResult {
        messages,
        elapsed_s: (end - t0).as_secs_f64(),
        latency_ns: hist,
        server_cpu_s,
        gen_cpu_s,
    })
}

/// Reads until the socket is drained; for each completed echo, records its round-trip time in
/// `hist` (if given) and queues the next message. Returns how many messages completed.
fn read_all(
    c: &mut Conn,
    buf: &mut [u8],
    payload: &[u8],
    fl: usize,
    mut hist: Option<&mut Histogram<u64>>,
) -> Result<u64, String> {
    let mut done = 0;
    loop {
        match c.stream.read(buf) {
            Ok(0) => return Err("server closed the connection".into()),
            Ok(n) => {
                let k = c
                    .reader
                    .feed(&buf[..n], payload)
                    .map_err(|e| err("echo", format!("{e:?}")))?;
                if k > 0 {
                    let now = Instant::now();
                    for _ in 0..k {
                        let sent = c.sent.pop_front().ok_or("more echoes than messages sent")?;
                        if let Some(h) = hist.as_deref_mut() {
                            h.saturating_record((now - sent).as_nanos() as u64);
                        }
                        c.sent.push_back(now);
                    }
                    c.out_left += k as usize * fl;
                    done += k;
                }
                // A short read drained the socket (epoll(7), stream sockets): the next byte
                // to arrive raises a new edge.
                if n < buf.len() {
                    return Ok(done);
                }
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(done),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(err("read", e)),
        }
    }
}

/// Writes queued frames until done or the socket is full.
fn flush(c: &mut Conn, batch: &[u8], fl: usize) -> io::Result<()> {
    while c.out_left > 0 {
        // Offset of the next byte within its frame; the pending bytes are contiguous from there.
        let pos = (fl - c.out_left % fl) % fl;
        let pending = batch
            .get(pos..pos + c.out_left)
            .ok_or_else(|| io::Error::other("queue overflow"))?;
        match c.stream.write(pending) {
            Ok(0) => return Err(io::Error::new(ErrorKind::WriteZero, "wrote 0")),
            Ok(n) => c.out_left -= n,
            Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(()),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

//! The broadcast mode: N members of one room (`/room`), all driven by this thread; member 0 is
//! also the publisher. The server must send every data message a member sends to every member,
//! the sender included, unchanged. Each message carries a sequence number, so every member checks
//! it gets every message once and in order; a message is delivered when the last live member has
//! it, and its latency is from publishing it to that moment.
//!
//! Joining: the 101 may reach a member before the server has put it in the room, so the
//! publisher first sends probes, one every 200 ms, until every member has received one; from the
//! next message on, a member that misses one (a gap, or nothing for [`RoomConfig::stall`] after it
//! was published) or is closed by the server is lost: counted, dropped, no longer awaited.
//! After the measured interval nothing more is published and the run waits until every live
//! member has every message (or is lost for stalling).
//!
//! Stalled members ([`RoomConfig::stalled`], issue 15's "a member that stops reading"): the last
//! members join like the others, then never read again. They are not awaited (latency is to the
//! last *reading* member, and losses count reading members only); once the run is over they read
//! what the server still sends them, which tells what it did with them ([`StalledMember`]).

use crate::handshake::client_handshake_path;
use crate::procfs;
use crate::wire::{self, EchoReader, WireError};
use hdrhistogram::Histogram;
use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};
pub use stalled::{StallEnd, StalledMember};
use std::collections::VecDeque;
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::time::{Duration, Instant};

mod stalled;

/// The path every member asks for.
pub const ROOM_PATH: &str = "/room";

/// How long one probe may take to reach every member before the next probe is sent.
const PROBE_WAIT: Duration = Duration::from_millis(200);
/// How long probing may take in all before the run fails, in stall timeouts.
const JOIN_STALLS: u32 = 10;

/// What to run.
#[derive(Clone, Debug)]
pub struct RoomConfig {
    /// The room server.
    pub addr: SocketAddr,
    /// Members (connections), the publisher included.
    pub members: usize,
    /// Payload bytes per message (at least [`wire::SEQ_LEN`]).
    pub size: usize,
    /// Messages published but not yet delivered to every live member, at most.
    pub window: usize,
    /// Messages per second to publish, or `None`: as fast as the window allows.
    pub rate: Option<f64>,
    /// Run before measuring.
    pub warmup: Duration,
    /// The measured interval.
    pub duration: Duration,
    /// The server process, for its CPU time and memory.
    pub server_pid: Option<u32>,
    /// A live member that has not received a message this long after it was published is lost.
    pub stall: Duration,
    /// Members (the last ones, never the publisher) that stop reading once every member joined.
    pub stalled: usize,
}

/// What was measured (counts over the measured interval unless said otherwise).
#[derive(Debug)]
pub struct RoomResult {
    /// Members connected.
    pub members: usize,
    /// Messages published.
    pub published: u64,
    /// Messages that reached every live member.
    pub delivered: u64,
    /// Message copies received by members (what the server's CPU is divided by).
    pub deliveries: u64,
    /// Length of the measured interval in seconds.
    pub elapsed_s: f64,
    /// From publishing a message to the last live member receiving it, nanoseconds.
    pub latency_ns: Histogram<u64>,
    /// Server CPU seconds over the interval, when its pid was given.
    pub server_cpu_s: Option<f64>,
    /// This generator's CPU seconds over the interval.
    pub gen_cpu_s: f64,
    /// Members the server closed (close frame, EOF, reset), over the whole run.
    pub closed: usize,
    /// Members that missed a message or received a wrong one, over the whole run.
    pub missing: usize,
    /// Server VmRSS before the first member connected, KiB.
    pub rss_before_kib: Option<u64>,
    /// Server VmHWM (peak resident memory since it started) at the end, KiB.
    pub peak_rss_kib: Option<u64>,
    /// Seconds to connect and handshake every member.
    pub connect_s: f64,
    /// What the server did with each stalled member.
    pub stalled: Vec<StalledMember>,
    /// With stalled members and the server's pid: when the server closed connections during the
    /// run, from when they stalled (its open descriptors fell: with no reading member lost, the
    /// stalled members' connections).
    pub released: Vec<Duration>,
}

impl RoomResult {
    /// Members lost: closed or missing messages.
    pub fn lost(&self) -> usize {
        self.closed + self.missing
    }
}

/// Why a member no longer counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Loss {
    Closed,
    Missing,
}

/// Where a member is in the message sequence.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// No message received yet.
    Waiting,
    /// Received every message before `next` it was sent.
    Reading { next: u64 },
    /// Dropped from the count.
    Lost(Loss),
    /// Stopped reading on purpose ([`RoomConfig::stalled`]) having received every message
    /// before `next`: not awaited, judged at the end.
    Stalled { next: u64 },
}

struct Member {
    stream: TcpStream,
    reader: EchoReader,
    phase: Phase,
}

/// A published message not yet delivered to every live member.
struct Pending {
    seq: u64,
    /// When it was queued (latency starts here).
    at: Instant,
    /// When its last byte went into the publisher's socket (the stall clock starts here: a server
    /// that makes the publisher wait loses no member for it).
    sent: Option<Instant>,
    /// Live members that have it.
    count: usize,
}

/// The publisher's side: the frame template and the bytes not written yet.
struct Publisher {
    frame: Vec<u8>,
    payload_at: usize,
    next_seq: u64,
    /// Frames queued, from sequence number `first_seq` on (`first_seq == next_seq` when empty).
    out: Vec<u8>,
    first_seq: u64,
    /// Bytes of `out` written.
    written: usize,
}

/// Counters of the measured interval.
struct Tally {
    measuring: bool,
    published: u64,
    delivered: u64,
    deliveries: u64,
    hist: Histogram<u64>,
}

struct Room {
    poll: Poll,
    members: Vec<Member>,
    live: usize,
    pending: VecDeque<Pending>,
    /// Sequence numbers from here on are awaited by every live member (`u64::MAX` while probing).
    strict_from: u64,
    publisher: Publisher,
    expected: Vec<u8>,
    tally: Tally,
    closed: usize,
    missing: usize,
    buf: Vec<u8>,
    seqs: Vec<u64>,
    /// With stalled members: when each message from `strict_from` on was published.
    published_at: Vec<Instant>,
    /// When the stalled members stopped reading.
    stalled_since: Option<Instant>,
    /// The server's side of the stalled members' connections.
    watcher: stalled::Watcher,
}

fn err(context: &str, e: impl std::fmt::Display) -> String {
    format!("{context}: {e}")
}

/// Connects every member, probes until all have joined, runs warm-up then the measured interval.
pub fn run(cfg: &RoomConfig) -> Result<RoomResult, String> {
    if cfg.members == 0 {
        return Err("a room needs at least one member (the publisher)".into());
    }
    if cfg.size < wire::SEQ_LEN {
        return Err(format!("--size must be at least {}", wire::SEQ_LEN));
    }
    if cfg.stalled >= cfg.members {
        return Err("stalled members must leave the publisher (member 0) reading".into());
    }
    let rss_before_kib = cfg
        .server_pid
        .map(procfs::rss_kib)
        .transpose()
        .map_err(|e| err("server status", e))?;
    let start = Instant::now();
    let mut room = Room::connect(cfg)?;
    let connect_s = start.elapsed().as_secs_f64();
    room.join(cfg.stall * JOIN_STALLS)?;
    room.stall_last(cfg.stalled, cfg.server_pid);
    let t = room.measure(cfg)?;
    let peak_rss_kib = cfg
        .server_pid
        .map(procfs::peak_rss_kib)
        .transpose()
        .map_err(|e| err("server status", e))?;
    let (stalled, released) = room.judge_stalled()?;
    Ok(RoomResult {
        members: cfg.members,
        published: room.tally.published,
        delivered: room.tally.delivered,
        deliveries: room.tally.deliveries,
        elapsed_s: t.elapsed_s,
        latency_ns: room.tally.hist,
        server_cpu_s: t.server_cpu_s,
        gen_cpu_s: t.gen_cpu_s,
        closed: room.closed,
        missing: room.missing,
        rss_before_kib,
        peak_rss_kib,
        connect_s,
        stalled,
        released,
    })
}

/// The measured interval's length and CPU times.
struct Timing {
    elapsed_s: f64,
    server_cpu_s: Option<f64>,
    gen_cpu_s: f64,
}

impl Room {
    fn connect(cfg: &RoomConfig) -> Result<Self, String> {
        let poll = Poll::new().map_err(|e| err("epoll", e))?;
        let mut members = Vec::with_capacity(cfg.members);
        for i in 0..cfg.members {
            let mut s = std::net::TcpStream::connect(cfg.addr)
                .map_err(|e| err(&format!("connect #{i}"), e))?;
            s.set_nodelay(true).map_err(|e| err("nodelay", e))?;
            let extra =
                client_handshake_path(&mut s, cfg.addr, ROOM_PATH, crate::handshake::TIMEOUT)
                    .map_err(|e| err(&format!("handshake #{i}"), e))?;
            if !extra.is_empty() {
                return Err("server sent frames before anything was published".into());
            }
            s.set_nonblocking(true).map_err(|e| err("nonblocking", e))?;
            let mut stream = TcpStream::from_std(s);
            // Only the publisher writes; the others wait for readable edges alone.
            let interest = if i == 0 {
                Interest::READABLE | Interest::WRITABLE
            } else {
                Interest::READABLE
            };
            poll.registry()
                .register(&mut stream, Token(i), interest)
                .map_err(|e| err("register", e))?;
            members.push(Member {
                stream,
                reader: EchoReader::sequenced(),
                phase: Phase::Waiting,
            });
        }
        let frame = wire::client_frame(&wire::seq_payload(cfg.size, 0));
        let payload_at = frame.len() - cfg.size;
        Ok(Room {
            poll,
            live: members.len(),
            members,
            pending: VecDeque::with_capacity(cfg.window),
            strict_from: u64::MAX,
            publisher: Publisher {
                frame,
                payload_at,
                next_seq: 0,
                out: Vec::new(),
                first_seq: 0,
                written: 0,
            },
            expected: wire::payload(cfg.size),
            tally: Tally {
                measuring: false,
                published: 0,
                delivered: 0,
                deliveries: 0,
                hist: Histogram::new_with_bounds(1, 60_000_000_000, 3)
                    .map_err(|e| err("histogram", e))?,
            },
            closed: 0,
            missing: 0,
            buf: vec![0u8; 256 * 1024],
            seqs: Vec::new(),
            published_at: Vec::new(),
            stalled_since: None,
            watcher: stalled::Watcher::default(),
        })
    }

    /// Sends probes until every member has one; later messages are then awaited by all.
    fn join(&mut self, timeout: Duration) -> Result<(), String> {
        let mut events = Events::with_capacity(1024);
        let give_up = Instant::now() + timeout;
        loop {
            self.publish(Instant::now());
            let next_probe = Instant::now() + PROBE_WAIT;
            loop {
                self.flush()?;
                self.poll(&mut events, Duration::from_millis(2))?;
                if self.live < self.members.len() {
                    return Err(format!(
                        "{} members closed before all joined",
                        self.members.len() - self.live
                    ));
                }
                // A member that got a probe is in the room and gets everything published after
                // it; probes still on their way are accepted in order without counting.
                let all = self
                    .members
                    .iter()
                    .all(|m| matches!(m.phase, Phase::Reading { .. }));
                if all {
                    self.strict_from = self.publisher.next_seq;
                    return Ok(());
                }
                let now = Instant::now();
                if now >= give_up {
                    return Err("not every member joined the room in time".into());
                }
                if now >= next_probe {
                    break;
                }
            }
        }
    }

    /// Warm-up, then the measured interval; ends early if the publisher is lost.
    fn measure(&mut self, cfg: &RoomConfig) -> Result<Timing, String> {
        let mut events = Events::with_capacity(1024);
        let start = Instant::now();
        let measure_at = start + cfg.warmup;
        let end_at = measure_at + cfg.duration;
        let interval = cfg.rate.map(|r| Duration::from_secs_f64(1.0 / r.max(1e-3)));
        let mut next_due = start;
        let (mut t0, mut cpu) = (start, None);
        loop {
            let now = Instant::now();
            if !self.tally.measuring && now >= measure_at {
                self.tally.measuring = true;
                self.tally.hist.reset();
                t0 = now;
                cpu = Some(procfs::CpuClock::start(cfg.server_pid)?);
            }
            if (self.tally.measuring && now >= end_at) || self.publisher_lost() {
                break;
            }
            let mut wait = Duration::from_millis(5);
            while self.pending.len() < cfg.window {
                match interval {
                    None => {}
                    Some(_) if now < next_due => {
                        wait = wait.min(next_due - now);
                        break;
                    }
                    Some(iv) => next_due = (next_due + iv).max(now),
                }
                self.publish(now);
            }
            self.flush()?;
            self.poll(&mut events, wait)?;
            self.check_stall(Instant::now(), cfg.stall);
            self.watcher.tick(Instant::now());
        }
        let end = Instant::now();
        let (server_cpu_s, gen_cpu_s) = match cpu {
            Some(clock) => clock.elapsed()?,
            // Ended before the window opened: this process's whole CPU time, as before.
            None => (None, procfs::CpuClock::own_total()?),
        };
        self.tally.measuring = false;
        self.drain(&mut events, cfg.stall)?;
        Ok(Timing {
            elapsed_s: (end - t0).as_secs_f64(),
            server_cpu_s,
            gen_cpu_s,
        })
    }

    /// Publishes no more and waits until every live member has every message; those that do not
    /// get them within `stall` are lost. So a run without losses proves that every member got
    /// every message published, in order.
    fn drain(&mut self, events: &mut Events, stall: Duration) -> Result<(), String> {
        // Without the publisher, what it had not written never comes.
        while !self.pending.is_empty() && !self.publisher_lost() {
            self.flush()?;
            self.poll(events, Duration::from_millis(5))?;
            self.check_stall(Instant::now(), stall);
            self.watcher.tick(Instant::now());
        }
        Ok(())
    }

    /// Whether the server closed the publisher (member 0).
    fn publisher_lost(&self) -> bool {
        self.members
            .first()
            .is_none_or(|m| matches!(m.phase, Phase::Lost(_)))
    }

    /// Queues the next message on the publisher.
    fn publish(&mut self, now: Instant) {
        let p = &mut self.publisher;
        let seq = p.next_seq;
        p.next_seq += 1;
        wire::set_frame_seq(&mut p.frame, p.payload_at, seq);
        p.out.extend_from_slice(&p.frame);
        if seq >= self.strict_from {
            if self.stalled_since.is_some() {
                self.published_at.push(now);
            }
            self.pending.push_back(Pending {
                seq,
                at: now,
                sent: None,
                count: 0,
            });
            if self.tally.measuring {
                self.tally.published += 1;
            }
        }
    }

    /// Writes the publisher's queued bytes until done or its socket is full.
    fn flush(&mut self) -> Result<(), String> {
        let p = &mut self.publisher;
        let Some(m) = self.members.first_mut() else {
            return Ok(());
        };
        if matches!(m.phase, Phase::Lost(_)) {
            return Ok(());
        }
        let mut broken = false;
        while p.written < p.out.len() {
            match m.stream.write(&p.out[p.written..]) {
                Ok(0) => return Err("publisher: wrote 0 bytes".into()),
                Ok(n) => p.written += n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => {
                    broken = true;
                    break;
                }
            }
        }
        // Every frame has the template's length: the first `written / len` are out.
        let sent_to = p.first_seq + (p.written / p.frame.len().max(1)) as u64;
        if p.written == p.out.len() {
            p.out.clear();
            p.written = 0;
            p.first_seq = p.next_seq;
        }
        let now = Instant::now();
        for q in self.pending.iter_mut().take_while(|q| q.seq < sent_to) {
            q.sent.get_or_insert(now);
        }
        if broken {
            self.lose(0, Loss::Closed);
        }
        Ok(())
    }

    /// Waits up to `timeout` for readiness and handles every event.
    fn poll(&mut self, events: &mut Events, timeout: Duration) -> Result<(), String> {
        match self.poll.poll(events, Some(timeout)) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::Interrupted => return Ok(()),
            Err(e) => return Err(err("poll", e)),
        }
        for ev in events.iter() {
            let i = ev.token().0;
            if ev.is_readable() || ev.is_read_closed() || ev.is_error() {
                self.read(i);
            }
            if i == 0 && ev.is_writable() {
                self.flush()?;
            }
        }
        Ok(())
    }

    /// Reads member `i`'s socket until it is drained and accounts for every message in it.
    fn read(&mut self, i: usize) {
        loop {
            let Some(m) = self.members.get_mut(i) else {
                return;
            };
            if matches!(m.phase, Phase::Lost(_) | Phase::Stalled { .. }) {
                return;
            }
            let n = match m.stream.read(&mut self.buf) {
                Ok(0) => return self.lose(i, Loss::Closed),
                Ok(n) => n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(_) => return self.lose(i, Loss::Closed),
            };
            let mut seqs = std::mem::take(&mut self.seqs);
            let fed = m
                .reader
                .feed_each(&self.buf[..n], &self.expected, |s| seqs.push(s));
            let now = Instant::now();
            for s in seqs.drain(..) {
                self.receive(i, s, now);
            }
            self.seqs = seqs;
            match fed {
                Ok(()) => {}
                Err(WireError::Closed) => return self.lose(i, Loss::Closed),
                Err(WireError::BadFrame | WireError::Mismatch) => {
                    return self.lose(i, Loss::Missing)
                }
            }
            // A short read drained the socket (epoll(7), stream sockets).
            if n < self.buf.len() {
                return;
            }
        }
    }

    /// Member `i` received message `seq` at `now`.
    fn receive(&mut self, i: usize, seq: u64, now: Instant) {
        let Some(m) = self.members.get_mut(i) else {
            return;
        };
        let phase = m.phase;
        match phase {
            Phase::Lost(_) | Phase::Stalled { .. } => return,
            // Probing: a member may have joined after earlier probes.
            _ if seq < self.strict_from => {
                m.phase = Phase::Reading { next: seq + 1 };
                return;
            }
            Phase::Reading { next } if next == seq => m.phase = Phase::Reading { next: seq + 1 },
            _ => return self.lose(i, Loss::Missing),
        }
        if self.tally.measuring {
            self.tally.deliveries += 1;
        }
        let front = self.pending.front().map_or(seq, |p| p.seq);
        let at = seq.checked_sub(front).and_then(|d| usize::try_from(d).ok());
        if let Some(p) = at.and_then(|d| self.pending.get_mut(d)) {
            p.count += 1;
        }
        self.complete(now);
    }

    /// Retires the messages every live member has, oldest first (members read in order, so a
    /// message is complete no later than the next one).
    fn complete(&mut self, now: Instant) {
        while let Some(p) = self.pending.front() {
            if p.count < self.live {
                break;
            }
            if self.tally.measuring {
                self.tally.delivered += 1;
                self.tally
                    .hist
                    .saturating_record((now - p.at).as_nanos() as u64);
            }
            self.pending.pop_front();
        }
    }

    /// Drops member `i` from the count (and closes its socket): a message it had no longer
    /// counts it, one it lacks no longer waits for it.
    fn lose(&mut self, i: usize, loss: Loss) {
        let Some(m) = self.members.get_mut(i) else {
            return;
        };
        let had_up_to = match m.phase {
            Phase::Lost(_) | Phase::Stalled { .. } => return,
            Phase::Waiting => 0,
            Phase::Reading { next } => next,
        };
        m.phase = Phase::Lost(loss);
        let _ = self.poll.registry().deregister(&mut m.stream);
        let _ = m.stream.shutdown(Shutdown::Both);
        self.live -= 1;
        match loss {
            Loss::Closed => self.closed += 1,
            Loss::Missing => self.missing += 1,
        }
        for p in self.pending.iter_mut().filter(|p| p.seq < had_up_to) {
            p.count -= 1;
        }
        self.complete(Instant::now());
    }

    /// Members still waiting for the oldest pending message `stall` after it was published are
    /// lost.
    fn check_stall(&mut self, now: Instant, stall: Duration) {
        let Some(oldest) = self.pending.front() else {
            return;
        };
        match oldest.sent {
            Some(sent) if now.duration_since(sent) >= stall => {}
            _ => return,
        }
        let seq = oldest.seq;
        for i in 0..self.members.len() {
            let behind = match self.members[i].phase {
                Phase::Lost(_) | Phase::Stalled { .. } => false,
                Phase::Waiting => true,
                Phase::Reading { next } => next <= seq,
            };
            if behind {
                self.lose(i, Loss::Missing);
            }
        }
    }
}

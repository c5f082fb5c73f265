//! Stalled members: they join, then never read until the run is over (their socket buffers fill,
//! then the server's queue for them grows). Afterwards each reads what the server still has for
//! it, which tells what the server did: closed it with a close frame (ws-server's room policy:
//! 1008), dropped it without one, skipped messages it fell behind on (a lagging broadcast
//! channel), or kept every message for it (an unbounded queue: memory, shown by the peak RSS).

use super::{err, Phase, Room};
use crate::procfs;
use crate::wire::WireError;
use mio::{Events, Interest, Token};
use std::io::{ErrorKind, Read};
use std::time::{Duration, Instant};

/// How often the server's open descriptors are counted while members are stalled.
const WATCH_EVERY: Duration = Duration::from_millis(100);

/// A stalled member still open that has received nothing for this long has been sent all the
/// server had for it.
const QUIET: Duration = Duration::from_secs(1);
/// Reading back what stalled members were sent takes at most this long.
const JUDGE_LIMIT: Duration = Duration::from_secs(60);

/// How a stalled member's stream ended when it read again.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum StallEnd {
    /// A close frame with this code (if it had one). `after`: from when it stopped reading to
    /// the publishing of the first message it was not sent (when the server gave up on it);
    /// `None` if it was sent every message.
    Closed {
        code: Option<u16>,
        after: Option<Duration>,
    },
    /// EOF or a reset without a close frame (the server dropped the connection).
    Dropped,
    /// Still open: nothing more came for a while (the server kept it).
    Open,
    /// A message out of order or not the one published: a broken stream.
    Garbled,
}

/// What one stalled member received once it read again.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StalledMember {
    /// Messages published while it was stalled that it then received (in order).
    pub received: u64,
    /// Messages missing between those it received (dropped for it by the server).
    pub skipped: u64,
    /// How its stream ended.
    pub end: StallEnd,
}

/// The server's open descriptors, counted every [`WATCH_EVERY`] once members stalled: each one
/// fewer than then is a connection the server let go of (reading members are not lost, or the
/// record says so). `/proc/net/tcp` would name the connection, but it lists every socket of the
/// machine (about 150 bytes each: 15 MB while another run holds 100 000 idle connections), and
/// reading that every 100 ms would stall this single-threaded generator and show in the very p99
/// being measured.
#[derive(Default)]
pub(super) struct Watcher {
    pid: Option<u32>,
    since: Option<Instant>,
    fds: usize,
    released: Vec<Instant>,
    last: Option<Instant>,
}

impl Watcher {
    /// Counts the descriptors of server `pid` now, when members stall.
    fn start(&mut self, pid: Option<u32>, now: Instant) {
        self.fds = pid.and_then(|p| procfs::open_fds(p).ok()).unwrap_or(0);
        self.pid = pid.filter(|_| self.fds > 0);
        self.since = Some(now);
    }

    /// Counts them again if [`WATCH_EVERY`] has passed since the last time.
    pub(super) fn tick(&mut self, now: Instant) {
        let Some(pid) = self.pid else {
            return;
        };
        if self.last.is_some_and(|t| now - t < WATCH_EVERY) {
            return;
        }
        self.last = Some(now);
        let Ok(n) = procfs::open_fds(pid) else {
            return;
        };
        while self.fds.saturating_sub(self.released.len()) > n {
            self.released.push(now);
        }
    }

    /// When the server let go of connections, from when members stalled.
    fn released_after(&self) -> Vec<Duration> {
        let Some(since) = self.since else {
            return Vec::new();
        };
        self.released
            .iter()
            .map(|t| t.duration_since(since))
            .collect()
    }
}

/// A stalled member being read back.
struct Judging {
    i: usize,
    next: u64,
    received: u64,
    skipped: u64,
    end: Option<StallEnd>,
}

impl Room {
    /// The last `k` members stop reading (they are no longer polled or awaited); the
    /// descriptors of server `pid` are watched from now on.
    pub(super) fn stall_last(&mut self, k: usize, pid: Option<u32>) {
        if k == 0 {
            return;
        }
        let from = self.members.len().saturating_sub(k).max(1);
        for m in self.members.iter_mut().skip(from) {
            let next = match m.phase {
                Phase::Reading { next } => next,
                Phase::Waiting | Phase::Lost(_) | Phase::Stalled { .. } => continue,
            };
            let _ = self.poll.registry().deregister(&mut m.stream);
            m.phase = Phase::Stalled { next };
            self.live -= 1;
        }
        let now = Instant::now();
        self.watcher.start(pid, now);
        self.stalled_since = Some(now);
    }

    /// Lets every stalled member read what the server still sends it, until its stream ends or
    /// nothing comes for [`QUIET`].
    /// (Call once the run is over: reading changes what the server does with them.) Also when
    /// the server let go of connections while they were stalled.
    pub(super) fn judge_stalled(&mut self) -> Result<(Vec<StalledMember>, Vec<Duration>), String> {
        self.watcher.tick(Instant::now());
        let released = self.watcher.released_after();
        let mut judging: Vec<Judging> = Vec::new();
        for (i, m) in self.members.iter_mut().enumerate() {
            if let Phase::Stalled { next } = m.phase {
                self.poll
                    .registry()
                    .register(&mut m.stream, Token(i), Interest::READABLE)
                    .map_err(|e| err("register", e))?;
                judging.push(Judging {
                    i,
                    // Probes it had not read yet do not count.
                    next: next.max(self.strict_from),
                    received: 0,
                    skipped: 0,
                    end: None,
                });
            }
        }
        let mut events = Events::with_capacity(64);
        let give_up = Instant::now() + JUDGE_LIMIT;
        let mut last_bytes = Instant::now();
        while judging.iter().any(|j| j.end.is_none()) {
            for j in judging.iter_mut().filter(|j| j.end.is_none()) {
                if self.read_stalled(j) {
                    last_bytes = Instant::now();
                }
            }
            let now = Instant::now();
            if now.duration_since(last_bytes) >= QUIET || now >= give_up {
                break;
            }
            match self.poll.poll(&mut events, Some(Duration::from_millis(20))) {
                Ok(()) => {}
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(err("poll", e)),
            }
        }
        let members = judging
            .into_iter()
            .map(|j| StalledMember {
                received: j.received,
                skipped: j.skipped,
                end: j.end.unwrap_or(StallEnd::Open),
            })
            .collect();
        Ok((members, released))
    }

    /// Reads stalled member `j` until its socket is drained or its stream ends; whether it got
    /// any bytes.
    fn read_stalled(&mut self, j: &mut Judging) -> bool {
        let mut got = false;
        let Some(m) = self.members.get_mut(j.i) else {
            j.end = Some(StallEnd::Garbled);
            return false;
        };
        loop {
            let n = match m.stream.read(&mut self.buf) {
                Ok(0) => {
                    j.end = Some(StallEnd::Dropped);
                    return got;
                }
                Ok(n) => n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => return got,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(_) => {
                    j.end = Some(StallEnd::Dropped);
                    return got;
                }
            };
            got = true;
            let mut seqs = std::mem::take(&mut self.seqs);
            let fed = m
                .reader
                .feed_each(&self.buf[..n], &self.expected, |s| seqs.push(s));
            for s in seqs.drain(..) {
                // Probes from before it stalled come first, in order.
                if s < self.strict_from {
                    continue;
                }
                if s < j.next {
                    j.end = Some(StallEnd::Garbled);
                }
                j.skipped += s - j.next.min(s);
                j.received += 1;
                j.next = s + 1;
            }
            self.seqs = seqs;
            match fed {
                _ if j.end.is_some() => {}
                Ok(()) => {}
                Err(WireError::Closed) => {
                    let stopped = self.stalled_since;
                    let unsent = j.next.checked_sub(self.strict_from);
                    let at = unsent.and_then(|d| self.published_at.get(d as usize));
                    j.end = Some(StallEnd::Closed {
                        code: m.reader.close_code(),
                        after: at.zip(stopped).map(|(at, s)| at.duration_since(s)),
                    });
                }
                Err(WireError::BadFrame | WireError::Mismatch) => j.end = Some(StallEnd::Garbled),
            }
            if j.end.is_some() {
                return got;
            }
        }
    }
}

//! A room's backpressure policy: what happens to a member that does not keep up.

use super::frames::{Frames, Share};
use crate::driver::Framing;
use crate::shared::Backlog;
use std::time::Duration;

/// The reason of the 1008 close a member gets when the policy closes it.
pub(crate) const FELL_BEHIND: &str = "too slow: fell behind the room";

/// What a [`crate::Room`] does with a member whose backlog grows because it reads slower than
/// the room publishes.
///
/// The default, made for a chat room: **lossless for every member that keeps up, and memory
/// bounded by the ones that do not.** A member is never sent a partial stream: it gets every
/// message in order, or it is closed with 1008 (policy violation) and can come back and resume
/// (the chat app replays what it missed from its history). A member is closed when
/// - the bytes its socket has not taken have stayed above [`RoomPolicy::backlog`] for longer
///   than [`RoomPolicy::grace`] (it is not reading, or reads slower than the room talks), or
/// - everything queued to it passes [`RoomPolicy::hard_limit`] (the memory bound, whatever the
///   grace).
///
/// Bytes queued to a member whose task has not run yet count only against the hard limit: when
/// the server itself is too busy to keep up, that is not the members' fault (measured: with the
/// executor starved by another test, every member of a room read on time and still had 0.5 MiB
/// waiting for its task, so judging those bytes closed them all).
///
/// A burst (say 100 messages of 16 KiB published at once) pushes every member above the soft
/// limit for as long as the socket takes to drain it; members that read are back under it within
/// the grace period, so they lose nothing. Because a published frame is shared (each member's
/// queue holds a reference to one copy), a member's backlog costs its bytes only once however
/// many members hold it: the room's memory is the largest backlog, not the sum.
///
/// What uWebSockets does instead: a per-socket `maxBackpressure` (64 KiB by default); past it a
/// publish *skips* that socket, dropping the message silently (uWS.js reports it to a `dropped`
/// handler), unless `closeOnBackpressureLimit` is set, in which case the socket is closed at
/// once. Either a member that merely lags during a burst loses messages without being told (a
/// gap in a chat), or it is closed for a burst it would have absorbed. The grace period here
/// tells a burst from a member that stopped reading, and the hard limit still bounds memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RoomPolicy {
    /// Soft limit on a member's backlog in bytes (default 1 MiB).
    pub backlog: usize,
    /// How long a member may stay above [`RoomPolicy::backlog`] (default 5 s).
    pub grace: Duration,
    /// Hard limit on a member's backlog in bytes: passing it closes the member at once (default
    /// 64 MiB).
    pub hard_limit: usize,
}

impl RoomPolicy {
    /// The defaults, see the field docs.
    pub const DEFAULT: Self = Self {
        backlog: 1 << 20,
        grace: Duration::from_secs(5),
        hard_limit: 64 << 20,
    };

    /// Judges a member with `backlog` at `now`, before a frame of `len` bytes is added;
    /// `over_since` is when (ms on any monotonic count) it went above the soft limit (kept between calls). The soft limit
    /// and grace period look at the bytes its socket has not taken (a slow peer), the hard limit
    /// at everything queued to it (memory, whoever is slow: a server too busy to run the
    /// member's task must not close its members for it).
    #[inline]
    pub(crate) fn judge(
        &self,
        over_since: &mut Option<u64>,
        backlog: Backlog,
        len: usize,
        now: u64,
    ) -> Verdict {
        if backlog.total > 0 && backlog.total.saturating_add(len) > self.hard_limit {
            return Verdict::Close;
        }
        if backlog.unwritten <= self.backlog {
            // Caught up since: a later burst starts a new grace period.
            *over_since = None;
            return Verdict::Send;
        }
        let since = *over_since.get_or_insert(now);
        if u128::from(now.saturating_sub(since)) > self.grace.as_millis() {
            Verdict::Close
        } else {
            Verdict::Send
        }
    }
}

impl RoomPolicy {
    /// One member's part of a publish, on either engine: what to queue to connection `id` (which
    /// takes `framing` and has `backlog`), or `None` when the policy closes it (logged here; the
    /// caller closes it with 1008 and [`FELL_BEHIND`]).
    // Once per member per publish: always inlined, the call cost 15 of its 39 instructions
    // (callgrind, room-1000).
    #[inline(always)]
    pub(crate) fn offer<'f>(
        &self,
        frames: &'f mut Frames<'_>,
        framing: Framing,
        over_since: &mut Option<u64>,
        backlog: Backlog,
        now: u64,
        id: u64,
    ) -> Option<Share<'f>> {
        let share = frames.share(framing);
        match self.judge(over_since, backlog, share.len(), now) {
            Verdict::Send => Some(share),
            Verdict::Close => {
                fell_behind(id, backlog);
                None
            }
        }
    }
}

/// Logs a member closed for falling behind (out of line: the publish loop inlines the rest).
#[cold]
fn fell_behind(id: u64, backlog: Backlog) {
    log::info!("conn={id} closing 1008: fell behind its room ({backlog:?})");
}

impl Default for RoomPolicy {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// What to do with one member for one published message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Queue the message.
    Send,
    /// Close the member with 1008.
    Close,
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: u64 = 1;

    fn grace(p: &RoomPolicy) -> u64 {
        p.grace.as_millis() as u64
    }

    /// `n` bytes taken by the driver and not written.
    fn unwritten(n: usize) -> Backlog {
        Backlog {
            unwritten: n,
            total: n,
        }
    }

    #[test]
    fn a_burst_within_the_grace_period_is_sent() {
        let p = RoomPolicy::DEFAULT;
        let t0 = 1_000u64;
        let mut over = None;
        // Far above the soft limit, for all but the end of the grace period.
        for i in 0..5000u32 {
            let v = p.judge(
                &mut over,
                unwritten(40 << 20),
                16 << 10,
                t0 + MS * u64::from(i),
            );
            assert_eq!(v, Verdict::Send, "at {i} ms");
        }
        assert_eq!(over, Some(t0));
    }

    #[test]
    fn above_the_soft_limit_past_the_grace_period_closes() {
        let p = RoomPolicy::DEFAULT;
        let t0 = 1_000u64;
        let mut over = None;
        assert_eq!(
            p.judge(&mut over, unwritten((1 << 20) + 1), 1, t0),
            Verdict::Send
        );
        assert_eq!(
            p.judge(&mut over, unwritten((1 << 20) + 1), 1, t0 + grace(&p)),
            Verdict::Send
        );
        assert_eq!(
            p.judge(&mut over, unwritten((1 << 20) + 1), 1, t0 + grace(&p) + MS),
            Verdict::Close
        );
    }

    #[test]
    fn catching_up_restarts_the_grace_period() {
        let p = RoomPolicy::DEFAULT;
        let t0 = 1_000u64;
        let mut over = None;
        assert_eq!(p.judge(&mut over, unwritten(2 << 20), 1, t0), Verdict::Send);
        // Drained between two bursts.
        assert_eq!(
            p.judge(&mut over, unwritten(0), 1, t0 + 4000 * MS),
            Verdict::Send
        );
        assert_eq!(over, None);
        assert_eq!(
            p.judge(&mut over, unwritten(2 << 20), 1, t0 + 6000 * MS),
            Verdict::Send
        );
        assert_eq!(over, Some(t0 + 6000 * MS));
    }

    #[test]
    fn the_hard_limit_closes_at_once_but_one_message_always_fits_an_empty_queue() {
        let p = RoomPolicy::DEFAULT;
        let t0 = 1_000u64;
        let mut over = None;
        assert_eq!(
            p.judge(&mut over, unwritten((64 << 20) - 10), 11, t0),
            Verdict::Close
        );
        let mut over = None;
        assert_eq!(
            p.judge(&mut over, unwritten(0), 100 << 20, t0),
            Verdict::Send
        );
    }

    #[test]
    fn bytes_the_member_has_not_taken_yet_do_not_count_against_the_grace() {
        // The server was too busy to run the member's task: not the member's fault.
        let p = RoomPolicy::DEFAULT;
        let t0 = 1_000u64;
        let mut over = None;
        let busy = Backlog {
            unwritten: 0,
            total: 30 << 20,
        };
        assert_eq!(p.judge(&mut over, busy, 1, t0), Verdict::Send);
        assert_eq!(p.judge(&mut over, busy, 1, t0 + 60_000 * MS), Verdict::Send);
        let huge = Backlog {
            unwritten: 0,
            total: 64 << 20,
        };
        assert_eq!(p.judge(&mut over, huge, 1, t0), Verdict::Close);
    }
}

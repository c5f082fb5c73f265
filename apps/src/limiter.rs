//! Message rate limits: a token bucket that tolerates bursts and closes persistent abusers, per
//! connection ([`RateLimiter`]) and shared by key ([`SharedLimiter`]: per address, per voter), so
//! that opening more connections does not multiply the rate.
//!
//! The bucket holds up to `rate` tokens and refills at `rate` per second. A message takes one token. Once
//! the bucket is empty, messages are refused (the client is told) and the balance goes negative; when the
//! debt reaches `rate` (the client kept sending at least twice the rate for a second, or a little over it
//! for longer) the verdict is [`Verdict::Close`] and the connection is closed with 1008.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::Instant;

/// What to do with one incoming message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Within the limit: handle it.
    Allow,
    /// Over the limit: drop it and tell the client.
    Refuse,
    /// Over the limit persistently: close the connection (1008).
    Close,
}

/// A token bucket for one connection; time is passed in.
#[derive(Debug, Clone)]
pub struct RateLimiter {
    rate: f64,
    tokens: f64,
    last: Instant,
}

impl RateLimiter {
    /// A full bucket allowing `per_second` messages per second (at least 1).
    pub fn new(per_second: u32, now: Instant) -> RateLimiter {
        let rate = f64::from(per_second.max(1));
        RateLimiter {
            rate,
            tokens: rate,
            last: now,
        }
    }

    /// Accounts one message arriving at `now`.
    pub fn check(&mut self, now: Instant) -> Verdict {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now;
        self.tokens = (self.tokens + elapsed * self.rate).min(self.rate);
        self.tokens -= 1.0;
        if self.tokens >= 0.0 {
            Verdict::Allow
        } else if self.tokens > -self.rate {
            Verdict::Refuse
        } else {
            Verdict::Close
        }
    }
}

/// Buckets shared by every connection with the same key (an IP address, a voter).
///
/// Memory: one bucket per key seen; past [`SharedLimiter::PRUNE_AT`] keys, the buckets that have
/// refilled completely (idle keys) are dropped, which forgets nothing a full bucket would not.
#[derive(Debug)]
pub struct SharedLimiter<K> {
    per_second: u32,
    buckets: Mutex<HashMap<K, RateLimiter>>,
}

impl<K: Hash + Eq + Clone> SharedLimiter<K> {
    /// Keys held before idle ones are pruned.
    pub const PRUNE_AT: usize = 4096;

    /// Buckets of `per_second` messages per second (at least 1) per key.
    pub fn new(per_second: u32) -> SharedLimiter<K> {
        SharedLimiter {
            per_second,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Accounts one message from `key` at `now`.
    pub fn check(&self, key: &K, now: Instant) -> Verdict {
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() >= Self::PRUNE_AT && !buckets.contains_key(key) {
            buckets.retain(|_, b| !b.is_full_at(now));
        }
        buckets
            .entry(key.clone())
            .or_insert_with(|| RateLimiter::new(self.per_second, now))
            .check(now)
    }
}

impl RateLimiter {
    /// Whether the bucket would be full at `now` (the key has been idle long enough).
    fn is_full_at(&self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.tokens + elapsed * self.rate >= self.rate
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn steady_rate_is_allowed_forever() {
        let t0 = Instant::now();
        let mut l = RateLimiter::new(20, t0);
        for i in 0..1_000u32 {
            let now = t0 + Duration::from_millis(50) * i;
            assert_eq!(l.check(now), Verdict::Allow, "message {i}");
        }
    }

    #[test]
    fn burst_is_allowed_then_refused_then_closed() {
        let t0 = Instant::now();
        let mut l = RateLimiter::new(20, t0);
        let verdicts: Vec<_> = (0..41).map(|_| l.check(t0)).collect();
        assert!(verdicts[..20].iter().all(|v| *v == Verdict::Allow));
        assert!(verdicts[20..39].iter().all(|v| *v == Verdict::Refuse));
        assert_eq!(verdicts[39], Verdict::Close);
    }

    #[test]
    fn refusals_recover_after_a_pause() {
        let t0 = Instant::now();
        let mut l = RateLimiter::new(20, t0);
        for _ in 0..25 {
            l.check(t0);
        }
        assert_eq!(l.check(t0 + Duration::from_secs(2)), Verdict::Allow);
    }

    #[test]
    fn a_shared_bucket_is_one_per_key_and_idle_keys_are_pruned() {
        let t0 = Instant::now();
        let l = SharedLimiter::new(2);
        assert_eq!(l.check(&"a", t0), Verdict::Allow);
        assert_eq!(l.check(&"a", t0), Verdict::Allow);
        assert_eq!(l.check(&"a", t0), Verdict::Refuse);
        assert_eq!(l.check(&"b", t0), Verdict::Allow);
        let many = SharedLimiter::new(1);
        for k in 0..SharedLimiter::<usize>::PRUNE_AT {
            many.check(&k, t0);
        }
        // A second later every bucket is full again: a new key prunes them all.
        many.check(&usize::MAX, t0 + Duration::from_secs(1));
        assert_eq!(many.buckets.lock().unwrap().len(), 1);
    }
}

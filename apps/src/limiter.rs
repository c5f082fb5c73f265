//! Per-connection message rate limit: a token bucket that tolerates bursts and closes persistent abusers.
//!
//! The bucket holds up to `rate` tokens and refills at `rate` per second. A message takes one token. Once
//! the bucket is empty, messages are refused (the client is told) and the balance goes negative; when the
//! debt reaches `rate` (the client kept sending at least twice the rate for a second, or a little over it
//! for longer) the verdict is [`Verdict::Close`] and the connection is closed with 1008.

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
}

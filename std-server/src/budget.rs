//! The memory budget for messages being reassembled, shared by every connection of a server.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// The default budget: 256 MiB for all messages in flight at once (four messages at the default
/// 64 MiB message limit, or thousands of ordinary ones).
pub const DEFAULT_MESSAGE_BUDGET: usize = 256 << 20;

/// A cap on the sum of the bytes that connections hold while they reassemble messages for the
/// application (inflated bytes for compressed messages). Clones share one count, so every
/// connection of a server (whose [`crate::Config`] is cloned into each) draws on the same budget.
///
/// A connection whose next chunk would take the total past the cap is closed with 1013 ("try
/// again later", RFC 6455 §7.4.1 via the IANA registry) before the memory is taken: its message is
/// within the size limit, the server is only busy, so a retry may succeed where 1009 would say
/// the message itself is too big. The echo path streams; it draws only for what it queues past
/// a connection's outbound cap while the peer is still sending that message, and for the part of
/// a frame it gathers into one fragment of the echo (at most 512 KiB; without the budget for it,
/// the frame is echoed in pieces as it comes instead).
#[derive(Clone, Debug)]
pub struct MessageBudget {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    limit: usize,
    used: AtomicUsize,
}

impl MessageBudget {
    /// A budget of `limit` bytes.
    pub fn new(limit: usize) -> Self {
        Self {
            inner: Arc::new(Inner {
                limit,
                used: AtomicUsize::new(0),
            }),
        }
    }

    /// The cap in bytes.
    pub fn limit(&self) -> usize {
        self.inner.limit
    }

    /// Bytes reserved right now.
    pub fn in_use(&self) -> usize {
        self.inner.used.load(Ordering::Relaxed)
    }

    /// Reserves `n` bytes; `false` (nothing reserved) if that would pass the cap.
    pub(crate) fn try_reserve(&self, n: usize) -> bool {
        self.inner
            .used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                used.checked_add(n)
                    .filter(|&total| total <= self.inner.limit)
            })
            .is_ok()
    }

    /// Gives back `n` reserved bytes.
    pub(crate) fn release(&self, n: usize) {
        if n > 0 {
            self.inner.used.fetch_sub(n, Ordering::AcqRel);
        }
    }
}

impl Default for MessageBudget {
    fn default() -> Self {
        Self::new(DEFAULT_MESSAGE_BUDGET)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reservations_stop_at_the_limit_and_clones_share_it() {
        let a = MessageBudget::new(100);
        let b = a.clone();
        assert!(a.try_reserve(60));
        assert!(!b.try_reserve(41));
        assert!(b.try_reserve(40));
        assert_eq!(a.in_use(), 100);
        a.release(60);
        assert_eq!(b.in_use(), 40);
        assert!(!a.try_reserve(usize::MAX));
    }
}

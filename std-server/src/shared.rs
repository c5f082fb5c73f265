//! State shared between a connection's driver (the reader side) and its [`crate::Writer`]s: the
//! queue of messages other tasks want sent, its byte count, and the driver's waker.

use crate::driver::Framing;
use crate::message::Message;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::Waker;
use ws_core::CloseCode;

/// Something a writer asked the driver to send.
#[derive(Debug)]
pub(crate) enum Item {
    /// A data message.
    Msg(Message),
    /// A whole data frame shared with other connections (a room's broadcast).
    Frame(Arc<[u8]>),
    /// A close frame with this code and reason.
    Close(CloseCode, String),
    /// A close that first drops the frames queued and not started (the room's policy, the
    /// cap): what a peer that stopped reading was sent need not wait in memory behind it.
    Abort(CloseCode, String),
}

impl From<crate::room::frames::Share<'_>> for Item {
    fn from(share: crate::room::frames::Share<'_>) -> Self {
        match share {
            crate::room::frames::Share::Frame(f) => Self::Frame(f.clone()),
            crate::room::frames::Share::Message(m) => Self::Msg(m),
        }
    }
}

impl Item {
    /// The bytes it adds to the connection's backlog.
    pub(crate) fn len(&self) -> usize {
        match self {
            Self::Msg(m) => m.len(),
            Self::Frame(f) => f.len(),
            Self::Close(..) | Self::Abort(..) => 0,
        }
    }
}

/// The queue and its bookkeeping.
#[derive(Debug)]
pub(crate) struct Queue {
    /// Items in order.
    pub(crate) items: VecDeque<Item>,
    /// The driver to wake when an item arrives.
    pub(crate) waker: Option<Waker>,
    /// Set once the connection can send nothing more.
    pub(crate) closed: bool,
    /// How the connection takes a frame shared with others (set after the handshake).
    pub(crate) framing: Framing,
}

/// A connection's backlog in bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Backlog {
    /// Taken by the connection's driver and not yet written to its socket: what grows when the
    /// peer reads slower than it is sent to.
    pub(crate) unwritten: usize,
    /// Everything queued to it (`unwritten`, plus what its task has not taken yet: that grows
    /// too when the server, not the peer, is the bottleneck).
    pub(crate) total: usize,
}

/// Shared by the driver and every writer of one connection.
#[derive(Debug)]
pub(crate) struct Shared {
    /// The connection id (for logs).
    pub(crate) id: u64,
    /// The outbound cap in bytes.
    pub(crate) cap: usize,
    /// Payload bytes in `queue`.
    pub(crate) queued: AtomicUsize,
    /// Bytes in the driver's outbox (updated by the driver).
    pub(crate) outbox: AtomicUsize,
    queue: Mutex<Queue>,
}

impl Shared {
    /// New shared state for connection `id` with outbound cap `cap`.
    pub(crate) fn new(id: u64, cap: usize, framing: Framing) -> Self {
        Self {
            id,
            cap,
            queued: AtomicUsize::new(0),
            outbox: AtomicUsize::new(0),
            queue: Mutex::new(Queue {
                items: VecDeque::new(),
                waker: None,
                closed: false,
                framing,
            }),
        }
    }

    /// The queue, even if a holder panicked.
    pub(crate) fn lock(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Bytes waiting to be sent (queued plus in the outbox).
    pub(crate) fn pending(&self) -> usize {
        self.queued.load(Ordering::Relaxed) + self.outbox.load(Ordering::Relaxed)
    }

    /// What a room judges: the bytes the connection's socket has not taken, and all it holds.
    pub(crate) fn backlog(&self) -> Backlog {
        let unwritten = self.outbox.load(Ordering::Relaxed);
        Backlog {
            unwritten,
            total: unwritten + self.queued.load(Ordering::Relaxed),
        }
    }

    /// Enqueues `item` and wakes the driver (no-op once closed). Returns false if closed.
    pub(crate) fn push(&self, item: Item) -> bool {
        let mut q = self.lock();
        if q.closed {
            return false;
        }
        self.queued.fetch_add(item.len(), Ordering::Relaxed);
        q.items.push_back(item);
        if let Some(w) = q.waker.take() {
            w.wake();
        }
        true
    }

    /// Drops queued messages and asks for a close (the overflow path).
    pub(crate) fn abort_with(&self, code: CloseCode, reason: &str) {
        let mut q = self.lock();
        if q.closed {
            return;
        }
        q.items.clear();
        self.queued.store(0, Ordering::Relaxed);
        q.items.push_back(Item::Abort(code, reason.to_owned()));
        q.closed = true;
        if let Some(w) = q.waker.take() {
            w.wake();
        }
    }
}

//! What the applications' callbacks act on: the loop's connections, its topics, and the list of
//! connections given output since their last write (written once the callbacks are done).

use super::app::ConnId;
use super::peer::Peer;
use super::topics::Topics;
use crate::driver::Driver;
use crate::message::Message;
use crate::room::frames::Frames;
use crate::room::policy::FELL_BEHIND;
use crate::room::Published;
use crate::shared::Backlog;
use slab::Slab;
use ws_core::{CloseCode, SendError};

/// The connections and topics of one loop.
pub(super) struct Hub {
    pub(super) peers: Slab<Box<Peer>>,
    pub(super) topics: Topics,
    /// Connections whose queue went from empty to not since their last write. (One with bytes
    /// queued already waits for its socket to take them: its writable edge writes the rest.)
    pub(super) touched: Vec<usize>,
    /// The time of the current event (ms).
    pub(super) now: u64,
}

impl Hub {
    /// An empty hub.
    pub(super) fn new() -> Self {
        Self {
            peers: Slab::new(),
            topics: Topics::default(),
            touched: Vec::new(),
            now: 0,
        }
    }

    /// The driver of `conn`, if it is still there and upgraded.
    fn driver(&mut self, conn: ConnId) -> Option<&mut Driver> {
        self.peers
            .get_mut(conn.key)
            .filter(|p| p.id() == conn.id)
            .and_then(|p| p.driver_mut())
    }

    /// Runs `f` on the driver of `conn` and notes it for a write if its queue was empty.
    fn with_driver<T>(&mut self, conn: ConnId, f: impl FnOnce(&mut Driver, u64) -> T) -> Option<T> {
        let now = self.now;
        let d = self.driver(conn)?;
        let idle = d.queued() == 0;
        let result = f(d, now);
        if idle && d.queued() > 0 {
            self.touched.push(conn.key);
        }
        Some(result)
    }

    pub(super) fn send(&mut self, conn: ConnId, msg: Message) -> Result<(), SendError> {
        self.with_driver(conn, |d, _| d.send(msg))
            .unwrap_or(Err(SendError::Closing))
    }

    pub(super) fn close(&mut self, conn: ConnId, code: CloseCode, reason: &str) {
        self.with_driver(conn, |d, now| d.close(code, reason, now));
    }

    pub(super) fn subscribe(&mut self, conn: ConnId, topic: &str) -> bool {
        if !self.driver(conn).is_some_and(|d| d.is_open()) {
            return false;
        }
        self.topics.subscribe(conn, topic);
        true
    }

    pub(super) fn unsubscribe(&mut self, conn: ConnId, topic: &str) -> bool {
        self.topics.unsubscribe(conn, topic)
    }

    /// Queues `msg` to every member of `topic`: framed once per framing, each member judged by
    /// the policy first; members it closes (1008) and members found closing leave the topic.
    pub(super) fn publish(&mut self, topic: &str, msg: &Message) -> Published {
        let mut report = Published::default();
        let Some((topic, mut members)) = self.topics.take(topic) else {
            return report;
        };
        let policy = self.topics.policy(&topic);
        let mut frames = Frames::new(msg);
        let mut left = Vec::new();
        members.retain_mut(|m| {
            let kept = self.with_driver(m.conn, |d, now| {
                if !d.is_open() {
                    return false;
                }
                let queued = d.queued();
                let backlog = Backlog {
                    unwritten: queued,
                    total: queued,
                };
                let id = m.conn.id;
                let framing = d.framing();
                match policy.offer(&mut frames, framing, &mut m.over_since, backlog, now, id) {
                    Some(share) => d.send_share(share),
                    None => {
                        let _ = d.abort(CloseCode::POLICY, FELL_BEHIND, now);
                        return false;
                    }
                }
                .is_ok()
            });
            if kept == Some(true) {
                report.delivered += 1;
                true
            } else {
                report.removed += 1;
                left.push(m.conn.key);
                false
            }
        });
        self.topics.put_back(topic, members, &left);
        report.frames = frames.made();
        report
    }
}

//! Rooms (topics): publish a message once to every member connection.
//!
//! A published message is framed once, and with permessage-deflate compressed once per set of
//! negotiated settings (the server compresses without context takeover by default, so the same
//! bytes are valid on every connection with the same settings). Each member's queue then holds a
//! reference to those bytes, never a copy, and its engine writes them with the rest of its output
//! in one vectored write. A connection may be a member of any number of rooms. What happens to a
//! member that reads slower than the room publishes is the room's [`RoomPolicy`].
//!
//! Exceptions, framed per member: client-role connections (each client frame has its own mask)
//! and connections that compress with context takeover (a server that allows
//! `server_no_context_takeover: false`).

pub(crate) mod frames;
pub(crate) mod policy;
mod prepared;

pub use policy::RoomPolicy;
pub use prepared::Prepared;

use crate::driver::Framing;
use crate::message::Message;
use crate::shared::Shared;
use crate::websocket::Writer;
use frames::Frames;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;
use ws_core::CloseCode;

/// A set of connections that receive every message published to it.
///
/// `Send + Sync`: share it in an `Arc`; publish from any task. Members are added with a
/// [`Writer`] ([`crate::WebSocket::writer`] or [`crate::WebSocket::split`]) and leave when they
/// unsubscribe, when their connection closes (noticed at the next publish) or when the policy
/// closes them.
///
/// ```
/// use ws_server::{Message, Room};
/// let room = Room::new();
/// // In each connection's handler: `room.subscribe(&writer);` then, for each message read,
/// let report = room.publish(&Message::Text("hello".into()));
/// assert_eq!(report.delivered, 0); // nobody here yet
/// ```
#[derive(Debug)]
pub struct Room {
    policy: RoomPolicy,
    /// The zero of the members' clocks (the policy counts milliseconds).
    epoch: Instant,
    members: Mutex<HashMap<u64, Member>>,
}

/// One member connection.
#[derive(Debug)]
struct Member {
    shared: Arc<Shared>,
    framing: Framing,
    /// Messages numbered up to this one are not sent to it ([`Room::publish_numbered`]).
    seen: u64,
    /// When its backlog went above the policy's soft limit.
    over_since: Option<u64>,
}

/// What one publish did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Published {
    /// Members the message was queued to.
    pub delivered: usize,
    /// Members skipped because they already have it ([`Room::publish_numbered`]).
    pub skipped: usize,
    /// Members closed by the policy (1008) or found closed, and removed.
    pub removed: usize,
    /// Distinct frames made (one plain, one per set of compression settings that compressed).
    pub frames: usize,
}

impl Default for Room {
    fn default() -> Self {
        Self::with_policy(RoomPolicy::DEFAULT)
    }
}

impl Room {
    /// An empty room with the default [`RoomPolicy`].
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty room with `policy`.
    pub fn with_policy(policy: RoomPolicy) -> Self {
        Self {
            policy,
            epoch: Instant::now(),
            members: Mutex::default(),
        }
    }

    /// The room's backpressure policy.
    pub fn policy(&self) -> RoomPolicy {
        self.policy
    }

    fn members(&self) -> MutexGuard<'_, HashMap<u64, Member>> {
        self.members.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Adds the connection of `writer` (a no-op if it is a member already); `false` if the
    /// connection is closed.
    pub fn subscribe(&self, writer: &Writer) -> bool {
        self.subscribe_after(writer, 0)
    }

    /// Adds the connection of `writer`, which already has the messages numbered up to `seen`
    /// (see [`Room::publish_numbered`]: it will not be sent them again); `false` if the connection
    /// is closed. Subscribing again updates `seen`.
    pub fn subscribe_after(&self, writer: &Writer, seen: u64) -> bool {
        let shared = writer.shared();
        let framing = {
            let q = shared.lock();
            if q.closed {
                return false;
            }
            q.framing
        };
        let id = shared.id;
        self.members()
            .entry(id)
            .and_modify(|m| m.seen = seen)
            .or_insert(Member {
                shared,
                framing,
                seen,
                over_since: None,
            });
        true
    }

    /// Removes the connection of `writer`; whether it was a member.
    pub fn unsubscribe(&self, writer: &Writer) -> bool {
        self.members().remove(&writer.id()).is_some()
    }

    /// Whether the connection `id` is a member.
    pub fn contains(&self, id: u64) -> bool {
        self.members().contains_key(&id)
    }

    /// How many members it has (closed ones count until the next publish notices them).
    pub fn len(&self) -> usize {
        self.members().len()
    }

    /// Whether it has no members.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Queues `msg` to every member, without waiting: framed once (and compressed once per set of
    /// compression settings), each member's queue holding a reference. Members are judged by the
    /// room's [`RoomPolicy`] first; those it closes (1008) and those found closed are removed.
    pub fn publish(&self, msg: &Message) -> Published {
        self.publish_numbered(u64::MAX, msg)
    }

    /// [`Room::publish`] for a message numbered `seq` (e.g. its id in a store): members that
    /// subscribed with [`Room::subscribe_after`] a number at or past `seq` already have it and are
    /// skipped. (`u64::MAX` reaches every member.)
    pub fn publish_numbered(&self, seq: u64, msg: &Message) -> Published {
        let mut report = Published::default();
        let mut frames = Frames::new(msg);
        let now = u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX);
        let mut members = self.members();
        members.retain(|_, m| {
            if m.seen >= seq && seq != u64::MAX {
                report.skipped += 1;
                return true;
            }
            let offered = self.policy.offer(
                &mut frames,
                m.framing,
                &mut m.over_since,
                m.shared.backlog(),
                now,
                m.shared.id,
            );
            let Some(share) = offered else {
                m.shared.abort_with(CloseCode::POLICY, policy::FELL_BEHIND);
                report.removed += 1;
                return false;
            };
            if m.shared.push(share.into()) {
                report.delivered += 1;
                true
            } else {
                report.removed += 1;
                false
            }
        });
        report.frames = frames.made();
        report
    }
}

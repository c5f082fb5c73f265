//! Applications on the event loop: the [`App`] callbacks and the [`Conn`] they act through.

use super::hub::Hub;
use crate::http::HttpResponse;
use crate::message::Message;
use crate::room::Published;
use ws_core::{CloseCode, SendError};

/// The request head of an upgrade, as ws-core parsed it (path, query, headers), borrowed.
pub type Head<'a, 'h> = ws_core::handshake::Request<'a, 'h>;

/// An application served by an [`super::AppLoop`]: callbacks run on the loop's thread, one at a
/// time, so the application owns its state without locks.
///
/// Every callback gets the [`Conn`] it concerns; through it the application sends, closes,
/// joins and leaves topics, and publishes. [`App::on_message`] runs before the connection
/// processes the bytes behind that message, so an answer precedes whatever those bytes make it
/// send (a close for a bad frame, the reply to a close). What the callbacks queue is written once
/// those for the messages of one read are done (one vectored write per connection and read,
/// however many messages it brought).
pub trait App {
    /// Whether to accept a valid upgrade request (path, `Origin`, cookies): `Err` answers with
    /// that response instead. Default: accept every upgrade.
    fn admit(&mut self, head: &Head<'_, '_>) -> Result<(), HttpResponse> {
        let _ = head;
        Ok(())
    }

    /// The connection is upgraded (its 101 is queued); `path` is the one it asked for (per-path
    /// rooms, say).
    fn on_open(&mut self, conn: &mut Conn<'_>, path: &str) {
        let _ = (conn, path);
    }

    /// A whole text or binary message arrived (reassembled within the [`crate::MessageBudget`]).
    fn on_message(&mut self, conn: &mut Conn<'_>, msg: Message);

    /// The connection is gone (it already left every topic; sending to it fails): the close
    /// code and reason it ended with (1006 when the transport went without a close).
    fn on_close(&mut self, conn: &mut Conn<'_>, code: CloseCode, reason: &str) {
        let _ = (conn, code, reason);
    }
}

/// A connection of one loop, valid until it closes (a later connection never takes its id).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ConnId {
    /// Its slot in the loop.
    pub(super) key: usize,
    /// The process-wide connection number (the `conn=` of the logs).
    pub(super) id: u64,
}

impl ConnId {
    /// The process-wide connection number (as in the logs).
    pub fn number(self) -> u64 {
        self.id
    }
}

/// What a callback can do: act on its connection, on others by [`ConnId`], and on topics.
pub struct Conn<'a> {
    pub(super) hub: &'a mut Hub,
    pub(super) me: ConnId,
}

impl Conn<'_> {
    /// This connection.
    pub fn id(&self) -> ConnId {
        self.me
    }

    /// Queues `msg` to this connection.
    pub fn send(&mut self, msg: Message) -> Result<(), SendError> {
        self.hub.send(self.me, msg)
    }

    /// Queues `msg` to connection `to`; `Err(Closing)` if it is closing or gone.
    pub fn send_to(&mut self, to: ConnId, msg: Message) -> Result<(), SendError> {
        self.hub.send(to, msg)
    }

    /// Starts the close handshake of this connection with `code` and `reason`.
    pub fn close(&mut self, code: CloseCode, reason: &str) {
        self.hub.close(self.me, code, reason);
    }

    /// Joins `topic` (a no-op if a member); `false` if the connection is closing or gone.
    pub fn subscribe(&mut self, topic: &str) -> bool {
        self.hub.subscribe(self.me, topic)
    }

    /// Leaves `topic`; whether it was a member.
    pub fn unsubscribe(&mut self, topic: &str) -> bool {
        self.hub.unsubscribe(self.me, topic)
    }

    /// Queues `msg` to every member of `topic` (this connection too if a member): framed once,
    /// each member's queue holding a reference, each member judged by the topic's
    /// [`crate::RoomPolicy`] first ([`super::AppLoop::with_topic_policy`], or else the loop's).
    pub fn publish(&mut self, topic: &str, msg: &Message) -> Published {
        self.hub.publish(topic, msg)
    }

    /// How many members `topic` has.
    pub fn members(&self, topic: &str) -> usize {
        self.hub.topics.len(topic)
    }
}

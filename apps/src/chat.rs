//! The chat room: every member gets its uid first, then the stored history, then live messages.
//!
//! Protocol (JSON text frames). Server → client: `{"type":"hello","uid"}` once, then
//! `{"type":"message","id","uid","time","message","history":true}` for each stored message,
//! `{"type":"history_end"}`, then live `{"type":"message",...,"history":false}`, and
//! `{"type":"error","error"}` for a refused message. Client → server: `{"message":"..."}`.
//!
//! A message is committed to the database before it is broadcast; the room's lock spans the commit
//! and the enqueueing, so every member sees messages in database order and a joiner's history and
//! live stream neither overlap nor leave a gap. Members leave on close, error or an unanswered ping
//! (the server's idle ping closes the connection, which ends its reader). Live messages are
//! published to a [`ws_server::Room`]: framed (and compressed) once, every member's queue holding a
//! reference. A member that stops reading is closed by the room's policy (1008 after its backlog
//! stays over 1 MiB for 5 s, or at once past 64 MiB) without slowing the others, and resumes with
//! the messages it missed when its page reconnects (see [`Resume`]).

use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use serde_json::json;

use crate::limiter::{RateLimiter, SharedLimiter, Verdict};
use crate::session::SessionKey;
use crate::store::{ChatRecord, Store};
use crate::web::now_ms;
use ws_server::{CloseCode, Message, Room, RoomPolicy, WebSocket, Writer};

/// The chat room's bounds.
#[derive(Debug, Clone)]
pub struct ChatConfig {
    /// Messages replayed to a joiner (default 100).
    pub history: usize,
    /// Longest message text in bytes (default 4096); longer ones get an error reply.
    pub max_message_bytes: usize,
    /// Messages per second per connection (default 20); see [`RateLimiter`].
    pub rate_per_second: u32,
    /// Messages per second per client IP address, all its connections together (default 40:
    /// room for a few people behind one NAT, not for 50 sockets of one flooder).
    pub rate_per_address: u32,
    /// What happens to a member that does not keep up (default [`RoomPolicy::DEFAULT`]: closed
    /// with 1008 after its backlog stays over 1 MiB for 5 s, or at once past 64 MiB).
    pub room: RoomPolicy,
}

impl Default for ChatConfig {
    fn default() -> Self {
        ChatConfig {
            history: 100,
            max_message_bytes: 4096,
            rate_per_second: 20,
            rate_per_address: 40,
            room: RoomPolicy::DEFAULT,
        }
    }
}

/// The room: its members and the store.
#[derive(Debug)]
pub struct ChatRoom {
    store: Arc<Store>,
    config: ChatConfig,
    /// The members; each joined with the id of the newest message it already has (from the
    /// history it was sent on joining), so a message committed before the join and published
    /// after it is not sent twice.
    room: Room,
    /// Held across a join's history read and subscribe, and across a post's publish: every
    /// message committed is in a joiner's history or published to it after it joined.
    joins: Mutex<()>,
    /// Held from a message's commit to its broadcast (broadcasts in commit order).
    post_order: Mutex<()>,
    by_address: SharedLimiter<IpAddr>,
    /// Signs member tokens, so a reloaded page keeps its uid and nobody else can claim it.
    key: SessionKey,
}

/// What signs a member token (`uid.tag`): see [`SessionKey::sign`].
const MEMBER_PURPOSE: &str = "chat-member";

/// What a page that joins again presents: its member token from an earlier hello (keeps its uid)
/// and the id of the newest message it has (only newer ones are replayed).
#[derive(Debug, Clone, Default)]
pub struct Resume {
    /// `uid.tag` from an earlier hello.
    pub member: Option<String>,
    /// The newest message id the page has.
    pub since: Option<i64>,
    /// The epoch that id belongs to (Redis: see [`crate::cluster`]; one node has none).
    pub epoch: Option<String>,
}

fn record_json(r: &ChatRecord, history: bool) -> String {
    json!({
        "type": "message", "id": r.id, "uid": r.uid, "time": r.time_ms,
        "message": r.body, "history": history,
    })
    .to_string()
}

pub(crate) fn error_json(text: &str) -> Message {
    Message::Text(json!({ "type": "error", "error": text }).to_string())
}

impl ChatRoom {
    /// An empty room over `store`; member tokens are signed with `key`.
    pub fn new(store: Arc<Store>, config: ChatConfig, key: SessionKey) -> ChatRoom {
        ChatRoom {
            room: Room::with_policy(config.room),
            key,
            store,
            by_address: SharedLimiter::new(config.rate_per_address),
            config,
            joins: Mutex::new(()),
            post_order: Mutex::new(()),
        }
    }

    fn joins(&self) -> MutexGuard<'_, ()> {
        self.joins.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// How many members are connected.
    pub fn member_count(&self) -> usize {
        self.room.len()
    }

    /// Serves one member, connected from `peer`, until its connection ends.
    pub async fn run(self: Arc<Self>, ws: WebSocket, peer: IpAddr, resume: Resume) {
        let (mut reader, writer) = ws.split();
        let uid = match resume.member.as_deref().and_then(|t| self.member_uid(t)) {
            Some(uid) => uid,
            None => match crate::session::uuid_v4() {
                Ok(u) => u,
                Err(e) => {
                    log::error!("chat: no randomness for a uid: {e}");
                    writer.close(CloseCode::INTERNAL_ERROR, "internal error");
                    while reader.recv().await.is_some() {}
                    return;
                }
            },
        };
        let room = self.clone();
        let w = writer.clone();
        let member = format!("{uid}.{}", self.key.sign(MEMBER_PURPOSE, &uid));
        let hello = json!({ "type": "hello", "uid": uid, "member": member }).to_string();
        let joined = blocking::unblock(move || room.join(w, hello, resume.since)).await;
        if let Err(e) = joined {
            log::error!("chat: reading history failed: {e}");
            writer.close(CloseCode::INTERNAL_ERROR, "history unavailable");
        }
        let mut limiter = RateLimiter::new(self.config.rate_per_second, Instant::now());
        while let Some(msg) = reader.recv().await {
            if !admit(&mut limiter, &self.by_address, peer, &writer) {
                continue; // refused or closing: keep driving the connection to its end
            }
            match self.parse(&msg) {
                Ok(text) => {
                    let room = self.clone();
                    let uid = uid.clone();
                    if let Err(e) = blocking::unblock(move || room.post(&uid, &text)).await {
                        log::error!("chat: storing a message failed: {e}");
                        let why = if crate::store::is_busy(&e) {
                            "message not stored: the server is busy, try again"
                        } else {
                            "message not stored, try again"
                        };
                        let _ = writer.send(error_json(why));
                    }
                }
                Err(why) => {
                    let _ = writer.send(error_json(&why));
                }
            }
        }
        self.room.unsubscribe(&writer);
        log::debug!("chat: member {uid} left ({:?})", reader.close_info());
    }

    /// The uid a member token (`uid.tag`, from an earlier hello) proves, if its tag is valid.
    fn member_uid(&self, token: &str) -> Option<String> {
        member_uid(&self.key, token)
    }

    /// Sends hello and the history (all of it, or what came after `since` for a member that
    /// reconnects), then adds the member, all under the joins lock.
    fn join(
        &self,
        writer: Writer,
        hello: String,
        since: Option<i64>,
    ) -> Result<(), crate::store::StoreError> {
        let _joins = self.joins();
        let history = self
            .store
            .chat_after(since.unwrap_or(0), self.config.history)?;
        let mut ok = writer.send(Message::Text(hello)).is_ok();
        for r in &history {
            ok = ok && writer.send(Message::Text(record_json(r, true))).is_ok();
        }
        let end = json!({ "type": "history_end" }).to_string();
        ok = ok && writer.send(Message::Text(end)).is_ok();
        if ok {
            let seen = history.last().map_or(since.unwrap_or(0), |r| r.id);
            self.room
                .subscribe_after(&writer, u64::try_from(seen).unwrap_or(0));
        }
        Ok(())
    }

    /// Checks a client frame: `{"message": "<text within the limit>"}`.
    fn parse(&self, msg: &Message) -> Result<String, String> {
        parse_message(&self.config, msg)
    }

    /// Stores a message (committed), then publishes it to every member that does not have it
    /// yet. The joins lock is taken only to publish, so joins (which read the history) never wait
    /// for a commit that waits for another process's write lock.
    pub fn post(&self, uid: &str, body: &str) -> Result<(), crate::store::StoreError> {
        let _order = self.post_order.lock().unwrap_or_else(|e| e.into_inner());
        let record = self.store.append_chat(uid, now_ms(), body)?;
        let text = record_json(&record, false);
        let _joins = self.joins();
        let seq = u64::try_from(record.id).unwrap_or(0);
        let report = self.room.publish_numbered(seq, &Message::Text(text));
        if report.removed > 0 {
            log::info!("chat: {} member(s) left the room", report.removed);
        }
        Ok(())
    }
}

/// The uid a member token (`uid.tag`, from an earlier hello) proves, if its tag is valid.
pub(crate) fn member_uid(key: &SessionKey, token: &str) -> Option<String> {
    let (uid, tag) = token.rsplit_once('.')?;
    let well_formed = uid.len() == 36 && uid.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-');
    (well_formed && key.verify(MEMBER_PURPOSE, uid, tag)).then(|| uid.to_owned())
}

/// Signs a member token for `uid`.
pub(crate) fn member_token(key: &SessionKey, uid: &str) -> String {
    format!("{uid}.{}", key.sign(MEMBER_PURPOSE, uid))
}

/// Whether a member's next message may go on, by its connection's limit and then its address's
/// (charged only for what the connection's own limit lets by). A refused message gets an error
/// reply; past the sustained limit the connection is closed with 1008. Both chat rooms (this
/// node's and the Redis one) admit messages through it.
pub(crate) fn admit(
    limiter: &mut RateLimiter,
    by_address: &SharedLimiter<IpAddr>,
    peer: IpAddr,
    writer: &Writer,
) -> bool {
    let now = Instant::now();
    let verdict = match limiter.check(now) {
        Verdict::Allow => by_address.check(&peer, now),
        own => own,
    };
    match verdict {
        Verdict::Allow => true,
        Verdict::Refuse => {
            let _ = writer.send(error_json("rate limit: message dropped, slow down"));
            false
        }
        Verdict::Close => {
            writer.close(CloseCode::POLICY, "rate limit exceeded");
            false
        }
    }
}

/// Checks a client frame: `{"message": "<text within the limit>"}`.
pub(crate) fn parse_message(config: &ChatConfig, msg: &Message) -> Result<String, String> {
    let Message::Text(text) = msg else {
        return Err("send text frames: {\"message\": \"...\"}".into());
    };
    let value: serde_json::Value = serde_json::from_str(text)
        .map_err(|_| "not JSON: send {\"message\": \"...\"}".to_owned())?;
    let Some(body) = value.get("message").and_then(|m| m.as_str()) else {
        return Err("missing \"message\" text: send {\"message\": \"...\"}".into());
    };
    if body.len() > config.max_message_bytes {
        return Err(format!(
            "message too long: {} bytes, at most {}",
            body.len(),
            config.max_message_bytes
        ));
    }
    if body.trim().is_empty() {
        return Err("empty message".into());
    }
    Ok(body.to_owned())
}

//! The chat room of one node when several share it through Redis.
//!
//! Protocol: the single-node room's (see [`crate::chat`]) with a position on every message:
//! `"id"` is its offset and `"epoch"` the epoch it belongs to; `hello` carries the epoch too. A
//! page that reconnects presents `?since=<offset>&epoch=<epoch>` and gets exactly the messages
//! after it, or `{"type":"reset","reason":"epoch"|"trimmed","epoch"}` (Redis lost its data, or
//! the stream no longer reaches back that far) followed by the latest history. While Redis is
//! unreachable, members get `{"type":"status","redis":"down","text"}` (then `"up"`), messages
//! are refused with an error, and joins are answered with hello and an empty history; they get
//! their history when Redis returns.
//!
//! Delivery: nothing is sent to members on the post path. Every node (this one too) receives
//! each stored message from its subscription, in the stream's order; the node's cursor (epoch,
//! offset) drops what it already delivered and fills any gap (a lost subscription, a missed
//! publish) from the stream, so each member gets every message once, in order.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use serde_json::json;

use super::chat_log::{ChatLog, Entry, View};
use super::pool::Pool;
use crate::chat::{admit, error_json, member_token, member_uid, parse_message, ChatConfig, Resume};
use crate::limiter::{RateLimiter, SharedLimiter};
use crate::session::SessionKey;
use crate::shared::SharedError;
use crate::web::now_ms;
use ws_server::{CloseCode, Message, Prepared, WebSocket, Writer};

/// Where a member is.
#[derive(Debug)]
enum Phase {
    /// It has everything up to `seen` of `epoch`.
    Live { epoch: String, seen: u64 },
    /// It joined while Redis was unreachable: its history is sent when Redis returns.
    Waiting { resume: Resume },
}

#[derive(Debug)]
struct Member {
    writer: Writer,
    phase: Phase,
}

/// What this node has delivered to its members: everything up to `last` of `epoch`.
#[derive(Debug, Default)]
struct Cursor {
    epoch: Option<String>,
    last: u64,
}

/// The chat room of one node, sharing its history and order with the others through Redis.
#[derive(Debug)]
pub struct ClusterChat {
    pool: Arc<Pool>,
    log: ChatLog,
    config: ChatConfig,
    key: SessionKey,
    /// Locked before `members` when both are held.
    cursor: Mutex<Cursor>,
    members: Mutex<HashMap<u64, Member>>,
    by_address: SharedLimiter<IpAddr>,
}

fn entry_json(e: &Entry, history: bool) -> Message {
    Message::Text(
        json!({
            "type": "message", "id": e.off, "epoch": e.epoch, "uid": e.uid, "time": e.time,
            "message": e.body, "history": history,
        })
        .to_string(),
    )
}

fn reset_json(reason: &str, epoch: &str) -> Message {
    Message::Text(json!({ "type": "reset", "reason": reason, "epoch": epoch }).to_string())
}

/// The status message members get when the link to Redis changes.
pub fn status_json(up: bool) -> String {
    let (state, text) = if up {
        ("up", "connected to the shared store again")
    } else {
        (
            "down",
            "the shared store (Redis) is unreachable: messages cannot be sent until it is back",
        )
    };
    json!({ "type": "status", "redis": state, "text": text }).to_string()
}

impl ClusterChat {
    /// A room over `pool`, keeping `stream_len` messages in Redis.
    pub fn new(
        pool: Arc<Pool>,
        config: ChatConfig,
        key: SessionKey,
        stream_len: usize,
    ) -> ClusterChat {
        ClusterChat {
            pool,
            log: ChatLog::new(stream_len.max(config.history)),
            by_address: SharedLimiter::new(config.rate_per_address),
            config,
            key,
            cursor: Mutex::new(Cursor::default()),
            members: Mutex::new(HashMap::new()),
        }
    }

    fn cursor(&self) -> MutexGuard<'_, Cursor> {
        self.cursor.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn members(&self) -> MutexGuard<'_, HashMap<u64, Member>> {
        self.members.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// How many members this node serves.
    pub fn member_count(&self) -> usize {
        self.members().len()
    }

    /// Serves one member, connected from `peer`, until its connection ends.
    pub async fn run(self: Arc<Self>, ws: WebSocket, peer: IpAddr, resume: Resume) {
        let (mut reader, writer) = ws.split();
        let uid = match resume
            .member
            .as_deref()
            .and_then(|t| member_uid(&self.key, t))
        {
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
        let id = writer.id();
        let room = self.clone();
        let (w, u) = (writer.clone(), uid.clone());
        let joined = blocking::unblock(move || room.join(w, &u, resume)).await;
        if let Err(e) = joined {
            log::error!("chat: reading history failed: {e}");
            writer.close(CloseCode::INTERNAL_ERROR, "history unavailable");
        }
        let mut limiter = RateLimiter::new(self.config.rate_per_second, Instant::now());
        while let Some(msg) = reader.recv().await {
            if !admit(&mut limiter, &self.by_address, peer, &writer) {
                continue;
            }
            match parse_message(&self.config, &msg) {
                Ok(text) => {
                    let room = self.clone();
                    let uid = uid.clone();
                    let stored = blocking::unblock(move || {
                        room.log.append(&room.pool, &uid, now_ms(), &text)
                    })
                    .await;
                    if let Err(e) = stored {
                        log::warn!("chat: message refused: {e}");
                        let _ = writer.send(error_json(&e.refusal("message")));
                    }
                }
                Err(why) => {
                    let _ = writer.send(error_json(&why));
                }
            }
        }
        self.members().remove(&id);
        log::debug!("chat: member {uid} left ({:?})", reader.close_info());
    }

    /// The history a member gets: what came after its position, or (fresh, or its position is
    /// gone) a reset reason and the latest history.
    fn history_for(&self, resume: &Resume) -> Result<(View, Option<&'static str>), SharedError> {
        let since = resume.since.and_then(|s| u64::try_from(s).ok());
        if let Some(since) = since {
            let view = self.log.after(&self.pool, since)?;
            let reason = match resume.epoch.as_deref() {
                Some(e) if e == view.epoch && view.covers(since) => return Ok((view, None)),
                Some(e) if e == view.epoch => "trimmed",
                _ => "epoch",
            };
            return Ok((
                self.log.tail(&self.pool, self.config.history)?,
                Some(reason),
            ));
        }
        Ok((self.log.tail(&self.pool, self.config.history)?, None))
    }

    /// Sends hello and the history, then adds the member, under the members lock (the
    /// subscriber's deliveries wait, so the history and the live messages neither overlap nor
    /// leave a gap).
    fn join(&self, writer: Writer, uid: &str, resume: Resume) -> Result<(), SharedError> {
        let mut members = self.members();
        let found = self.history_for(&resume);
        let epoch = match &found {
            Ok((view, _)) => Some(view.epoch.as_str()),
            Err(_) => None,
        };
        let hello = json!({
            "type": "hello", "uid": uid, "member": member_token(&self.key, uid), "epoch": epoch,
        });
        let mut ok = writer.send(Message::Text(hello.to_string())).is_ok();
        let phase = match found {
            Ok((view, reset)) => {
                ok = ok && send_history(&writer, &view, reset);
                Phase::Live {
                    epoch: view.epoch,
                    seen: view.top,
                }
            }
            Err(SharedError::Unavailable(e)) => {
                log::warn!("chat: member joined while Redis is unreachable: {e}");
                ok = ok && writer.send(Message::Text(status_json(false))).is_ok();
                let end = json!({ "type": "history_end" }).to_string();
                ok = ok && writer.send(Message::Text(end)).is_ok();
                Phase::Waiting { resume }
            }
            Err(e) => return Err(e),
        };
        if ok {
            members.insert(writer.id(), Member { writer, phase });
        }
        Ok(())
    }

    /// Delivers one published message (from the subscription): in order after the cursor, or
    /// a catch-up from the stream when it is not the next one.
    pub fn on_published(&self, entry: Entry) {
        let mut cursor = self.cursor();
        if cursor.epoch.as_deref() == Some(entry.epoch.as_str()) {
            if entry.off <= cursor.last {
                return; // delivered already (by a catch-up)
            }
            if entry.off == cursor.last + 1 {
                cursor.last = entry.off;
                self.deliver(&[entry]);
                // Redis answers again (it just published): members that joined during a
                // failed read get their history now.
                self.admit_waiting();
                return;
            }
        }
        if let Err(e) = self.catch_up_locked(&mut cursor) {
            log::warn!("chat: catching up from the stream failed: {e}");
        }
    }

    /// Brings this node's members up to the stream (after the subscription (re)connects).
    pub fn catch_up(&self) -> Result<(), SharedError> {
        let mut cursor = self.cursor();
        self.catch_up_locked(&mut cursor)
    }

    fn catch_up_locked(&self, cursor: &mut Cursor) -> Result<(), SharedError> {
        let mut view = match &cursor.epoch {
            Some(_) => self.log.after(&self.pool, cursor.last)?,
            // First contact: nothing was delivered by this node yet; start at the newest.
            None => self.log.tail(&self.pool, 0)?,
        };
        if cursor.epoch.as_deref() != Some(view.epoch.as_str()) {
            if cursor.epoch.is_some() {
                log::warn!(
                    "chat: Redis lost the room's history (new epoch {}): members are reset",
                    view.epoch
                );
                view = self.log.after(&self.pool, 0)?;
                cursor.last = 0;
            } else {
                cursor.last = view.top;
                view.entries.clear();
            }
            cursor.epoch = Some(view.epoch.clone());
        } else if !view.covers(cursor.last) {
            log::warn!(
                "chat: the stream was trimmed past this node's position {}: members may miss messages",
                cursor.last
            );
        }
        if let Some(last) = view.entries.last() {
            cursor.last = cursor.last.max(last.off);
        }
        self.reset_stale(&view.epoch);
        self.deliver(&view.entries);
        self.admit_waiting();
        Ok(())
    }

    /// Members holding another epoch than `epoch` get a reset (Redis lost the data they have).
    fn reset_stale(&self, epoch: &str) {
        for m in self.members().values_mut() {
            if let Phase::Live { epoch: e, seen } = &mut m.phase {
                if e != epoch {
                    let _ = m.writer.send(reset_json("epoch", epoch));
                    *e = epoch.to_owned();
                    *seen = 0;
                }
            }
        }
    }

    /// Sends entries to every live member that does not have them; drops members that fail.
    /// Each entry is serialised and framed once, every member's queue holding a reference.
    fn deliver(&self, entries: &[Entry]) {
        if entries.is_empty() {
            return;
        }
        let mut prepared: Vec<Prepared> = entries
            .iter()
            .map(|e| Prepared::new(entry_json(e, false)))
            .collect();
        self.members().retain(|_, m| {
            let Phase::Live { epoch, seen } = &mut m.phase else {
                return true;
            };
            for (e, message) in entries.iter().zip(prepared.iter_mut()) {
                if *epoch != e.epoch {
                    if let Err(err) = m.writer.send(reset_json("epoch", &e.epoch)) {
                        log::info!("chat: dropping member conn={}: {err}", m.writer.id());
                        return false;
                    }
                    *epoch = e.epoch.clone();
                    *seen = 0;
                }
                if e.off <= *seen {
                    continue;
                }
                if let Err(err) = m.writer.send_prepared(message) {
                    log::info!("chat: dropping member conn={}: {err}", m.writer.id());
                    return false;
                }
                *seen = e.off;
            }
            true
        });
    }

    /// Members that joined while Redis was down get their history now.
    fn admit_waiting(&self) {
        let mut members = self.members();
        if !members
            .values()
            .any(|m| matches!(m.phase, Phase::Waiting { .. }))
        {
            return;
        }
        for m in members.values_mut() {
            let Phase::Waiting { resume } = &m.phase else {
                continue;
            };
            match self.history_for(resume) {
                Ok((view, reset)) => {
                    send_history(&m.writer, &view, reset);
                    m.phase = Phase::Live {
                        epoch: view.epoch,
                        seen: view.top,
                    };
                }
                Err(e) => {
                    log::warn!("chat: history for a waiting member failed: {e}");
                    return;
                }
            }
        }
    }

    /// Tells every member the link to Redis changed.
    pub fn announce(&self, up: bool) {
        let text = status_json(up);
        for m in self.members().values() {
            let _ = m.writer.send(Message::Text(text.clone()));
        }
    }
}

/// Sends an optional reset, the history and `history_end`; false if the writer failed.
fn send_history(writer: &Writer, view: &View, reset: Option<&str>) -> bool {
    let mut ok = true;
    if let Some(reason) = reset {
        ok = writer.send(reset_json(reason, &view.epoch)).is_ok();
    }
    for e in &view.entries {
        ok = ok && writer.send(entry_json(e, true)).is_ok();
    }
    let end = json!({ "type": "history_end", "epoch": view.epoch }).to_string();
    ok && writer.send(Message::Text(end)).is_ok()
}

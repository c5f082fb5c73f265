//! The chat room's history in Redis: a Stream whose entry ids are the message offsets
//! (`<offset>-0`), and a hash holding the room's epoch and its newest offset.
//!
//! The epoch is a random string created together with an empty stream whenever the hash is
//! missing: Redis restarted without persistence (or lost the keys), so offsets start again at 1
//! under a new epoch and a client holding the old one is told to reset. Appending is one Lua
//! script (epoch, next offset, XADD with MAXLEN ~, PUBLISH of the entry with its position), so
//! the stream order and the order every node receives are the same, and nothing is published
//! that was not stored.

use redis::Script;
use serde::Deserialize;

use super::pool::Pool;
use crate::shared::SharedError;

/// The stream of messages.
pub const STREAM_KEY: &str = "ws:chat:stream";
/// The hash `{epoch, top}`.
pub const META_KEY: &str = "ws:chat:meta";
/// The channel every append is published on.
pub const CHANNEL: &str = "ws:chat";

/// Makes the epoch if the meta hash is missing (shared by both scripts).
const ENSURE_EPOCH: &str = r"
local epoch = redis.call('HGET', KEYS[1], 'epoch')
if not epoch then
  redis.call('DEL', KEYS[2])
  epoch = ARGV[1]
  redis.call('HSET', KEYS[1], 'epoch', epoch, 'top', 0)
end
";

/// KEYS: meta, stream. ARGV: new epoch, maxlen, uid, time_ms, body, channel.
const APPEND: &str = r"
local off = redis.call('HINCRBY', KEYS[1], 'top', 1)
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], off .. '-0',
  'uid', ARGV[3], 'time', ARGV[4], 'body', ARGV[5])
local entry = cjson.encode({epoch = epoch, off = off, uid = ARGV[3],
  time = tonumber(ARGV[4]), body = ARGV[5]})
redis.call('PUBLISH', ARGV[6], entry)
return entry
";

/// KEYS: meta, stream. ARGV: new epoch, 'after' | 'tail', offset | count.
/// Returns JSON `{epoch, top, oldest, entries: [[off, uid, time, body], ...]}` (oldest 0: empty).
const READ: &str = r"
local top = tonumber(redis.call('HGET', KEYS[1], 'top'))
local first = redis.call('XRANGE', KEYS[2], '-', '+', 'COUNT', 1)
local oldest = 0
if first[1] then oldest = tonumber(string.match(first[1][1], '^(%d+)')) end
local raw
if ARGV[2] == 'tail' and tonumber(ARGV[3]) == 0 then
  raw = {}
elseif ARGV[2] == 'after' then
  raw = redis.call('XRANGE', KEYS[2], tostring(tonumber(ARGV[3]) + 1), '+')
else
  raw = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', ARGV[3])
end
local entries = {}
for i, e in ipairs(raw) do
  local f = e[2]
  entries[i] = {tonumber(string.match(e[1], '^(%d+)')), f[2], tonumber(f[4]), f[6]}
end
return cjson.encode({epoch = epoch, top = top, oldest = oldest, entries = entries})
";

/// One stored message with its position.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Entry {
    /// The epoch it was stored under.
    pub epoch: String,
    /// Its offset in that epoch (1, 2, ...).
    pub off: u64,
    /// The sender's uid.
    pub uid: String,
    /// Server time when stored, ms since the Unix epoch.
    pub time: i64,
    /// The text.
    pub body: String,
}

/// A consistent look at the room's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct View {
    /// The current epoch.
    pub epoch: String,
    /// The newest offset stored in it (0: none yet).
    pub top: u64,
    /// The oldest offset still in the stream (0: the stream is empty).
    pub oldest: u64,
    /// The entries asked for, oldest first.
    pub entries: Vec<Entry>,
}

impl View {
    /// Whether every message after `since` (in this view's epoch) is still in the stream.
    pub fn covers(&self, since: u64) -> bool {
        since <= self.top && (since == self.top || (self.oldest != 0 && self.oldest <= since + 1))
    }
}

#[derive(Deserialize)]
struct RawView {
    epoch: String,
    top: u64,
    oldest: u64,
    // cjson encodes an empty table as `{}`: read a value, take an array if it is one.
    entries: serde_json::Value,
}

/// The room's history in Redis.
#[derive(Debug)]
pub struct ChatLog {
    append: Script,
    read: Script,
    /// Entries kept in the stream (MAXLEN ~).
    pub stream_len: usize,
}

/// A fresh random epoch (offered to the scripts; used only if the room has none).
fn new_epoch() -> Result<String, SharedError> {
    let b: [u8; 8] =
        crate::session::random_bytes().map_err(|e| SharedError::Failed(e.to_string()))?;
    Ok(b.iter().map(|x| format!("{x:02x}")).collect())
}

fn bad_reply(e: impl std::fmt::Display) -> SharedError {
    SharedError::Failed(format!("redis chat script: unexpected reply: {e}"))
}

impl ChatLog {
    /// The scripts, for a stream kept to about `stream_len` entries.
    pub fn new(stream_len: usize) -> ChatLog {
        ChatLog {
            append: Script::new(&format!("{ENSURE_EPOCH}{APPEND}")),
            read: Script::new(&format!("{ENSURE_EPOCH}{READ}")),
            stream_len: stream_len.max(1),
        }
    }

    /// Stores and publishes a message; returns it with its position.
    pub fn append(
        &self,
        pool: &Pool,
        uid: &str,
        time_ms: i64,
        body: &str,
    ) -> Result<Entry, SharedError> {
        let epoch = new_epoch()?;
        let json: String = pool.with(|c| {
            self.append
                .key(META_KEY)
                .key(STREAM_KEY)
                .arg(&epoch)
                .arg(self.stream_len)
                .arg(uid)
                .arg(time_ms)
                .arg(body)
                .arg(CHANNEL)
                .invoke(c)
        })?;
        serde_json::from_str(&json).map_err(bad_reply)
    }

    /// The entries after offset `since`.
    pub fn after(&self, pool: &Pool, since: u64) -> Result<View, SharedError> {
        self.read_view(pool, "after", since)
    }

    /// The newest `count` entries.
    pub fn tail(&self, pool: &Pool, count: usize) -> Result<View, SharedError> {
        self.read_view(pool, "tail", count as u64)
    }

    fn read_view(&self, pool: &Pool, mode: &str, n: u64) -> Result<View, SharedError> {
        let epoch = new_epoch()?;
        let json: String = pool.with(|c| {
            self.read
                .key(META_KEY)
                .key(STREAM_KEY)
                .arg(&epoch)
                .arg(mode)
                .arg(n)
                .invoke(c)
        })?;
        let raw: RawView = serde_json::from_str(&json).map_err(bad_reply)?;
        let rows: Vec<(u64, String, i64, String)> = match raw.entries {
            serde_json::Value::Array(_) => {
                serde_json::from_value(raw.entries).map_err(bad_reply)?
            }
            _ => Vec::new(),
        };
        let mut entries: Vec<Entry> = rows
            .into_iter()
            .map(|(off, uid, time, body)| Entry {
                epoch: raw.epoch.clone(),
                off,
                uid,
                time,
                body,
            })
            .collect();
        if mode == "tail" {
            entries.reverse();
        }
        Ok(View {
            epoch: raw.epoch,
            top: raw.top,
            oldest: raw.oldest,
            entries,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(top: u64, oldest: u64) -> View {
        View {
            epoch: "e".into(),
            top,
            oldest,
            entries: vec![],
        }
    }

    #[test]
    fn covers_only_what_the_stream_still_holds() {
        assert!(view(0, 0).covers(0), "empty room, client has nothing");
        assert!(view(10, 1).covers(0));
        assert!(view(10, 5).covers(4), "next one (5) is the oldest kept");
        assert!(!view(10, 5).covers(3), "4 was trimmed");
        assert!(view(10, 5).covers(10), "client has everything");
        assert!(
            !view(10, 5).covers(11),
            "client ahead of the room: another epoch's offset"
        );
        assert!(!view(10, 0).covers(3), "stream emptied");
    }
}

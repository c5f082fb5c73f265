//! Sessions and votes in Redis: one vote per voter across all nodes, moved atomically.
//!
//! Keys: `ws:votes` (hash voter → candidate), `ws:counts` (hash candidate → count),
//! `ws:session:<sid>` (the user, expiring with the login). A vote is one Lua script: it reads
//! the voter's previous candidate, moves the vote, adjusts both counts and publishes the new
//! counts on `ws:vote`, so counts stay exact under concurrent voters on any node and every
//! node's pages receive the changes in the order Redis applied them.

use std::collections::HashMap;
use std::sync::Arc;

use std::time::{Duration, Instant};

use redis::Script;

use super::pool::Pool;
use crate::shared::{Fanout, Reach, SharedError, VoteStore};
use crate::store::VoteChange;

/// Hash voter → candidate.
pub const VOTES_KEY: &str = "ws:votes";
/// Hash candidate → count.
pub const COUNTS_KEY: &str = "ws:counts";
/// Channel of count changes: a JSON array `[candidate, count, ...]`.
pub const VOTE_CHANNEL: &str = "ws:vote";
/// Channel of notify texts: JSON `{"node", "id", "text"}`.
pub const NOTIFY_CHANNEL: &str = "ws:notify";

/// How long `POST /notify` waits for the other nodes' page counts: a node answers as soon as
/// it has queued the text to its pages (a few ms for thousands), so a node that has not
/// answered by then is stuck or gone, and the answer says it was not counted.
pub const NOTIFY_WAIT: Duration = Duration::from_millis(1000);

/// The list where the nodes push their page counts for notify `id` (expires after 10 s).
pub fn notify_acks_key(id: &str) -> String {
    format!("ws:notify:acks:{id}")
}
/// Channel of logouts: the session id, so every node closes that login's sockets.
pub const LOGOUT_CHANNEL: &str = "ws:logout";

/// KEYS: votes, counts. ARGV: voter, candidate, channel. Returns `[candidate, count, ...]`.
const CAST: &str = r"
local prev = redis.call('HGET', KEYS[1], ARGV[1])
if prev == ARGV[2] then return {} end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
local out = {}
if prev then
  out[#out + 1] = tonumber(prev)
  out[#out + 1] = redis.call('HINCRBY', KEYS[2], prev, -1)
end
out[#out + 1] = tonumber(ARGV[2])
out[#out + 1] = redis.call('HINCRBY', KEYS[2], ARGV[2], 1)
redis.call('PUBLISH', ARGV[3], cjson.encode(out))
return out
";

/// Votes and sessions of every node, in Redis.
#[derive(Debug)]
pub struct RedisVotes {
    pool: Arc<Pool>,
    cast: Script,
    /// This node's id: notify messages it published are not delivered twice to its pages.
    node: String,
}

fn session_key(sid: &str) -> String {
    format!("ws:session:{sid}")
}

/// Decodes the script's `[candidate, count, ...]` (counts never go below zero).
pub fn pairs(flat: &[i64]) -> Vec<(i64, u64)> {
    flat.chunks_exact(2)
        .map(|p| (p[0], u64::try_from(p[1]).unwrap_or(0)))
        .collect()
}

impl RedisVotes {
    /// Over `pool`, as node `node`.
    pub fn new(pool: Arc<Pool>, node: String) -> RedisVotes {
        RedisVotes {
            pool,
            cast: Script::new(CAST),
            node,
        }
    }
}

impl VoteStore for RedisVotes {
    fn insert_session(
        &self,
        sid: &str,
        user: &str,
        expires_ms: i64,
        _now_ms: i64,
    ) -> Result<(), SharedError> {
        self.pool.with(|c| {
            redis::cmd("SET")
                .arg(session_key(sid))
                .arg(user)
                .arg("PXAT")
                .arg(expires_ms)
                .query::<()>(c)
        })
    }

    fn session_live(&self, sid: &str, user: &str, now_ms: i64) -> Result<bool, SharedError> {
        // The key expires with the login (PXAT); the cookie's own expiry was checked too.
        let _ = now_ms;
        let found: Option<String> = self
            .pool
            .with(|c| redis::cmd("GET").arg(session_key(sid)).query(c))?;
        Ok(found.as_deref() == Some(user))
    }

    fn delete_session(&self, sid: &str) -> Result<(), SharedError> {
        // One transaction: the other nodes hear of the logout only if it was stored.
        self.pool.with(|c| {
            redis::pipe()
                .atomic()
                .cmd("DEL")
                .arg(session_key(sid))
                .ignore()
                .cmd("PUBLISH")
                .arg(LOGOUT_CHANNEL)
                .arg(sid)
                .ignore()
                .query::<()>(c)
        })
    }

    fn cast_vote(&self, user: &str, candidate: i64) -> Result<VoteChange, SharedError> {
        let flat: Vec<i64> = self.pool.with(|c| {
            self.cast
                .key(VOTES_KEY)
                .key(COUNTS_KEY)
                .arg(user)
                .arg(candidate)
                .arg(VOTE_CHANNEL)
                .invoke(c)
        })?;
        Ok(VoteChange {
            changed: pairs(&flat),
        })
    }

    fn vote_counts(&self) -> Result<HashMap<i64, u64>, SharedError> {
        let all: HashMap<i64, i64> = self
            .pool
            .with(|c| redis::cmd("HGETALL").arg(COUNTS_KEY).query(c))?;
        Ok(all
            .into_iter()
            .filter_map(|(k, v)| Some((k, u64::try_from(v).ok().filter(|n| *n > 0)?)))
            .collect())
    }

    fn vote_of(&self, user: &str) -> Result<Option<i64>, SharedError> {
        self.pool
            .with(|c| redis::cmd("HGET").arg(VOTES_KEY).arg(user).query(c))
    }

    fn fanout(&self) -> Fanout {
        Fanout::Cluster
    }

    fn publish_notify(&self, text: &str) -> Result<Option<Reach>, SharedError> {
        let id: [u8; 8] =
            crate::session::random_bytes().map_err(|e| SharedError::Failed(e.to_string()))?;
        let id: String = id.iter().map(|b| format!("{b:02x}")).collect();
        let msg = serde_json::json!({ "node": self.node, "id": id, "text": text }).to_string();
        let receivers: u64 = self
            .pool
            .with(|c| redis::cmd("PUBLISH").arg(NOTIFY_CHANNEL).arg(msg).query(c))?;
        // This node's own subscriber is one of the receivers (while it is connected).
        let mut reach = Reach {
            other_nodes: receivers.saturating_sub(1),
            answered: 0,
            pages: 0,
        };
        let key = notify_acks_key(&id);
        let deadline = Instant::now() + NOTIFY_WAIT;
        while reach.answered < reach.other_nodes {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            let popped: Option<(String, u64)> = self.pool.with(|c| {
                redis::cmd("BLPOP")
                    .arg(&key)
                    .arg(left.as_secs_f64().max(0.01))
                    .query(c)
            })?;
            let Some((_, pages)) = popped else { break };
            reach.answered += 1;
            reach.pages += pages;
        }
        Ok(Some(reach))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_reply_pairs() {
        assert_eq!(pairs(&[1, 0, 2, 5]), [(1, 0), (2, 5)]);
        assert_eq!(pairs(&[3, 1]), [(3, 1)]);
        assert_eq!(pairs(&[]), []);
        assert_eq!(pairs(&[1, -1]), [(1, 0)]);
    }
}

//! Several nodes serving one chat room and one vote through Redis (`serve --redis URL`).
//!
//! What is shared: the chat history (a Redis Stream with an epoch and offsets, see
//! [`chat_log`]) and its order, votes and counts ([`votes`]), login sessions, and notify texts.
//! Each node keeps its own members and voting pages and hears the others through one
//! subscription ([`subscriber`]). The session signing key must be the same on every node
//! (`--session-secret`, `WS_SESSION_SECRET` or `--session-secret-file`): a cookie made by one
//! node is then valid on another.
//!
//! What it does not do: Redis Cluster or Sentinel (one Redis server); TLS to Redis.

pub mod chat_log;
pub mod pool;
pub mod room;
pub mod subscriber;
pub mod votes;

use std::sync::Arc;

use crate::shared::SharedError;

/// How the apps reach Redis.
#[derive(Debug, Clone)]
pub struct RedisConfig {
    /// `redis://host:port[/db]`.
    pub url: String,
    /// Chat messages kept in the stream (MAXLEN ~), so a member can resume after that many.
    pub stream_len: usize,
}

/// A node's Redis side: its connections and its id.
#[derive(Debug, Clone)]
pub struct Cluster {
    /// Connections for commands and scripts.
    pub pool: Arc<Pool>,
    /// This node's random id.
    pub node: String,
}

pub use pool::Pool;

impl Cluster {
    /// Connections to `config.url`; says in the log whether Redis answers now (the node starts
    /// either way and recovers when it does).
    pub fn open(config: &RedisConfig) -> Result<Cluster, SharedError> {
        let pool = Arc::new(Pool::new(&config.url)?);
        match pool.with(|c| redis::cmd("PING").query::<String>(c)) {
            Ok(_) => log::info!("redis: connected to {}", config.url),
            Err(e) => log::error!(
                "redis: {} does not answer ({e}); serving, writes refused until it does",
                config.url
            ),
        }
        let id: [u8; 6] =
            crate::session::random_bytes().map_err(|e| SharedError::Failed(e.to_string()))?;
        Ok(Cluster {
            pool,
            node: id.iter().map(|b| format!("{b:02x}")).collect(),
        })
    }
}

//! Blocking connections to Redis, kept for reuse; a failed connection is dropped and the next
//! call opens a new one, so the nodes recover by themselves when Redis comes back.
//!
//! Why blocking: redis-rs's async API (`aio`) compiles tokio and tokio-util even with its smol
//! support; the apps already run SQLite on the `blocking` pool, and Redis calls go the same way.

use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use redis::{Client, Connection, RedisError};

use crate::shared::SharedError;

/// How long a connect, a read or a write may take before Redis counts as unreachable: long
/// enough for a loaded server on the same network, short enough that a refused write is answered
/// while the user still waits for it.
pub const IO_TIMEOUT: Duration = Duration::from_secs(2);

/// Idle connections kept at most (more are closed after use).
const MAX_IDLE: usize = 16;

/// Connections to one Redis server.
pub struct Pool {
    client: Client,
    idle: Mutex<Vec<Connection>>,
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool").finish_non_exhaustive()
    }
}

/// Maps a client error: a connection failure is [`SharedError::Unavailable`].
pub fn shared_error(e: &RedisError) -> SharedError {
    if is_connection_failure(e) {
        SharedError::Unavailable(e.to_string())
    } else {
        SharedError::Failed(format!("redis: {e}"))
    }
}

/// Whether `e` means the connection is gone (it must not be reused).
fn is_connection_failure(e: &RedisError) -> bool {
    e.is_io_error() || e.is_timeout() || e.is_connection_dropped() || e.is_connection_refusal()
}

impl Pool {
    /// A pool for `url` (`redis://host:port[/db]`); connects lazily.
    pub fn new(url: &str) -> Result<Pool, SharedError> {
        let client = Client::open(url).map_err(|e| SharedError::Failed(format!("{url}: {e}")))?;
        Ok(Pool {
            client,
            idle: Mutex::new(Vec::new()),
        })
    }

    fn idle(&self) -> MutexGuard<'_, Vec<Connection>> {
        self.idle.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A new connection with the timeouts set (also used for the subscription).
    pub fn connect(&self) -> Result<Connection, RedisError> {
        let con = self.client.get_connection_with_timeout(IO_TIMEOUT)?;
        con.set_read_timeout(Some(IO_TIMEOUT))?;
        con.set_write_timeout(Some(IO_TIMEOUT))?;
        Ok(con)
    }

    /// Closes the idle connections (the subscriber calls it when it loses Redis, so no call
    /// after Redis's return fails on a connection to the server that went away).
    pub fn clear(&self) {
        self.idle().clear();
    }

    /// Runs `f` on a connection (an idle one, or a new one).
    pub fn with<T>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, RedisError>,
    ) -> Result<T, SharedError> {
        let taken = self.idle().pop();
        let mut con = match taken {
            Some(c) => c,
            None => self.connect().map_err(|e| shared_error(&e))?,
        };
        let result = f(&mut con);
        match &result {
            // Dropped, with the idle ones (they went to the same server): the next call
            // reconnects. Not retried here: a script may have run before the reply was lost.
            Err(e) if is_connection_failure(e) => self.clear(),
            _ => {
                let mut idle = self.idle();
                if idle.len() < MAX_IDLE {
                    idle.push(con);
                }
            }
        }
        result.map_err(|e| shared_error(&e))
    }
}

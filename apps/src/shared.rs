//! The seam between the voting app and where its state lives: the embedded SQLite store of one
//! node ([`Store`], the default) or Redis shared by several nodes ([`crate::cluster`]).
//!
//! Both are blocking (called through `blocking::unblock`, off the executor threads) and commit
//! before they return, so the app never reports a vote or a login that was not stored.

use std::collections::HashMap;
use std::fmt;

use crate::store::{self, Store, VoteChange};

/// Why the shared state refused or failed an operation, as the user should hear it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SharedError {
    /// The local database is locked by another writer past its wait (try again).
    Busy(String),
    /// The shared store (Redis) cannot be reached: nothing was stored.
    Unavailable(String),
    /// Any other failure (a bug or a corrupt store).
    Failed(String),
}

impl SharedError {
    /// The sentence a client gets when its `what` ("vote", "message") was refused.
    pub fn refusal(&self, what: &str) -> String {
        match self {
            SharedError::Busy(_) => format!("{what} not stored: the server is busy, try again"),
            SharedError::Unavailable(_) => format!(
                "{what} not stored: the shared store (Redis) is unreachable; try again when it is back"
            ),
            SharedError::Failed(_) => format!("{what} not stored, try again"),
        }
    }
}

impl fmt::Display for SharedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SharedError::Busy(e) => write!(f, "database busy: {e}"),
            SharedError::Unavailable(e) => write!(f, "redis unreachable: {e}"),
            SharedError::Failed(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for SharedError {}

impl From<store::StoreError> for SharedError {
    fn from(e: store::StoreError) -> SharedError {
        if store::is_busy(&e) {
            SharedError::Busy(e.to_string())
        } else {
            SharedError::Failed(e.to_string())
        }
    }
}

/// Who sends a vote's new counts to the voting pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fanout {
    /// The node that stored the vote, to its own pages (one node: SQLite).
    ThisNode,
    /// The store publishes the change; every node's subscriber sends it to its pages (Redis).
    Cluster,
}

/// How far a notify reached beyond this node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reach {
    /// Other nodes that received it.
    pub other_nodes: u64,
    /// Of those, the ones that said how many pages they gave it to within the wait.
    pub answered: u64,
    /// Pages on the nodes that answered.
    pub pages: u64,
}

/// Sessions and votes, wherever they are kept.
pub trait VoteStore: Send + Sync + fmt::Debug {
    /// Stores a new login session (expiring at `expires_ms`).
    fn insert_session(
        &self,
        sid: &str,
        user: &str,
        expires_ms: i64,
        now_ms: i64,
    ) -> Result<(), SharedError>;
    /// Whether session `sid` of `user` exists (not logged out) and has not expired at `now_ms`.
    fn session_live(&self, sid: &str, user: &str, now_ms: i64) -> Result<bool, SharedError>;
    /// Revokes a session (logout).
    fn delete_session(&self, sid: &str) -> Result<(), SharedError>;
    /// Records `user`'s vote for `candidate`, moving an earlier one, atomically.
    fn cast_vote(&self, user: &str, candidate: i64) -> Result<VoteChange, SharedError>;
    /// The count of every candidate that has votes.
    fn vote_counts(&self) -> Result<HashMap<i64, u64>, SharedError>;
    /// The candidate `user` votes for, if any.
    fn vote_of(&self, user: &str) -> Result<Option<i64>, SharedError>;
    /// Who sends vote changes to the pages.
    fn fanout(&self) -> Fanout;
    /// Hands a notify text to the other nodes and waits (briefly) for their page counts;
    /// `Ok(None)`: there are none (one node).
    fn publish_notify(&self, text: &str) -> Result<Option<Reach>, SharedError>;
}

impl VoteStore for Store {
    fn insert_session(
        &self,
        sid: &str,
        user: &str,
        expires_ms: i64,
        now_ms: i64,
    ) -> Result<(), SharedError> {
        Ok(Store::insert_session(self, sid, user, expires_ms, now_ms)?)
    }

    fn session_live(&self, sid: &str, user: &str, now_ms: i64) -> Result<bool, SharedError> {
        Ok(Store::session_live(self, sid, user, now_ms)?)
    }

    fn delete_session(&self, sid: &str) -> Result<(), SharedError> {
        Ok(Store::delete_session(self, sid)?)
    }

    fn cast_vote(&self, user: &str, candidate: i64) -> Result<VoteChange, SharedError> {
        Ok(Store::cast_vote(self, user, candidate)?)
    }

    fn vote_counts(&self) -> Result<HashMap<i64, u64>, SharedError> {
        Ok(Store::vote_counts(self)?)
    }

    fn vote_of(&self, user: &str) -> Result<Option<i64>, SharedError> {
        Ok(Store::vote_of(self, user)?)
    }

    fn fanout(&self) -> Fanout {
        Fanout::ThisNode
    }

    fn publish_notify(&self, _text: &str) -> Result<Option<Reach>, SharedError> {
        Ok(None)
    }
}

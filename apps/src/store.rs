//! Durable state of the apps: chat history, votes and login sessions in one SQLite file.
//!
//! SQLite (through rusqlite, with the library bundled so no system package is needed) gives what the
//! apps need and a hand-rolled file would not: atomic, durable commits (WAL journal, `synchronous=FULL`,
//! so a committed message or vote survives a crash or power loss) and transactions, which keep vote
//! counts consistent when many users move their vote at once. Every method commits before it returns,
//! so callers broadcast only what is already on disk.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

/// An error from the embedded database.
pub type StoreError = rusqlite::Error;

/// The database file's name inside the data directory.
pub const DB_FILE: &str = "ws.sqlite3";

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS chat_messages (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    uid     TEXT    NOT NULL,
    time_ms INTEGER NOT NULL,
    body    TEXT    NOT NULL
);
CREATE TABLE IF NOT EXISTS votes (
    user      TEXT    PRIMARY KEY,
    candidate INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS votes_by_candidate ON votes (candidate);
CREATE TABLE IF NOT EXISTS sessions (
    sid        TEXT    PRIMARY KEY,
    user       TEXT    NOT NULL,
    expires_ms INTEGER NOT NULL
);
";

/// One stored chat message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatRecord {
    /// Database row id (increasing in commit order).
    pub id: i64,
    /// The sender's connection uid.
    pub uid: String,
    /// Server time when it was received, in milliseconds since the Unix epoch.
    pub time_ms: i64,
    /// The message text.
    pub body: String,
}

/// What a vote changed: the candidates whose count moved, with their new counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VoteChange {
    /// `(candidate id, new count)` for each candidate whose count changed (none if the vote was repeated).
    pub changed: Vec<(i64, u64)>,
}

/// How long a write waits for another process's write lock before it is refused (`busy`):
/// long enough for ordinary commits of other writers (a few ms each), short enough that a page
/// or a chat message is answered with a clear error instead of hanging.
pub const WRITE_WAIT_MS: u32 = 1000;

/// The apps' database: a writer connection and a reader connection, each behind its own mutex.
/// In WAL mode readers never wait for a writer, so reads (sessions, counts, history) do not queue
/// behind a write that is waiting for the lock (SQLite serialises writers anyway).
#[derive(Debug)]
pub struct Store {
    writer: Mutex<Connection>,
    /// `None` for an in-memory database (a second connection would be another database).
    reader: Option<Mutex<Connection>>,
}

/// Whether `e` means the database was locked by another writer past [`WRITE_WAIT_MS`].
pub fn is_busy(e: &StoreError) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}

impl Store {
    /// Opens (creating if needed) `<dir>/ws.sqlite3` in WAL mode with full fsync on commit.
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        let path = dir.join(DB_FILE);
        let writer = Self::init(Connection::open(&path)?)?;
        let reader = Connection::open_with_flags(
            &path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        reader.busy_timeout(std::time::Duration::from_millis(WRITE_WAIT_MS.into()))?;
        Ok(Store {
            writer: Mutex::new(writer),
            reader: Some(Mutex::new(reader)),
        })
    }

    /// An in-memory database (tests).
    pub fn open_in_memory() -> Result<Store, StoreError> {
        Ok(Store {
            writer: Mutex::new(Self::init(Connection::open_in_memory()?)?),
            reader: None,
        })
    }

    fn init(conn: Connection) -> Result<Connection, StoreError> {
        // journal_mode returns a row, so it is read rather than executed.
        let _mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
        conn.execute_batch(&format!(
            "PRAGMA synchronous=FULL; PRAGMA busy_timeout={WRITE_WAIT_MS}; PRAGMA foreign_keys=ON;"
        ))?;
        conn.execute_batch(SCHEMA)?;
        merge_legacy_voters(&conn)?;
        Ok(conn)
    }

    /// The connection for writes.
    fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave SQLite inconsistent (it rolls back), so recover.
        self.writer.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The connection for reads (never queued behind a pending write).
    fn read(&self) -> MutexGuard<'_, Connection> {
        match &self.reader {
            Some(r) => r.lock().unwrap_or_else(|e| e.into_inner()),
            None => self.conn(),
        }
    }

    /// Appends a chat message and commits it; returns the stored record.
    pub fn append_chat(
        &self,
        uid: &str,
        time_ms: i64,
        body: &str,
    ) -> Result<ChatRecord, StoreError> {
        let conn = self.conn();
        conn.execute(
            "INSERT INTO chat_messages (uid, time_ms, body) VALUES (?1, ?2, ?3)",
            params![uid, time_ms, body],
        )?;
        Ok(ChatRecord {
            id: conn.last_insert_rowid(),
            uid: uid.to_owned(),
            time_ms,
            body: body.to_owned(),
        })
    }

    /// The last `limit` chat messages, oldest first.
    pub fn chat_history(&self, limit: usize) -> Result<Vec<ChatRecord>, StoreError> {
        self.chat_after(0, limit)
    }

    /// The last `limit` chat messages with an id above `after`, oldest first (what a member
    /// that saw up to `after` missed, at most `limit` of it).
    pub fn chat_after(&self, after: i64, limit: usize) -> Result<Vec<ChatRecord>, StoreError> {
        let conn = self.read();
        let mut stmt = conn.prepare_cached(
            "SELECT id, uid, time_ms, body FROM
               (SELECT id, uid, time_ms, body FROM chat_messages WHERE id > ?2
                ORDER BY id DESC LIMIT ?1)
             ORDER BY id ASC",
        )?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = stmt.query_map([limit, after], |r| {
            Ok(ChatRecord {
                id: r.get(0)?,
                uid: r.get(1)?,
                time_ms: r.get(2)?,
                body: r.get(3)?,
            })
        })?;
        rows.collect()
    }

    /// Records `user`'s vote for `candidate`, moving an earlier vote, in one transaction.
    pub fn cast_vote(&self, user: &str, candidate: i64) -> Result<VoteChange, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let previous: Option<i64> = tx
            .query_row("SELECT candidate FROM votes WHERE user = ?1", [user], |r| {
                r.get(0)
            })
            .optional()?;
        if previous == Some(candidate) {
            tx.commit()?;
            return Ok(VoteChange { changed: vec![] });
        }
        tx.execute(
            "INSERT INTO votes (user, candidate) VALUES (?1, ?2)
             ON CONFLICT (user) DO UPDATE SET candidate = excluded.candidate",
            params![user, candidate],
        )?;
        let mut changed = Vec::with_capacity(2);
        for c in previous.into_iter().chain(std::iter::once(candidate)) {
            let n: i64 = tx.query_row(
                "SELECT COUNT(*) FROM votes WHERE candidate = ?1",
                [c],
                |r| r.get(0),
            )?;
            changed.push((c, u64::try_from(n).unwrap_or(0)));
        }
        tx.commit()?;
        Ok(VoteChange { changed })
    }

    /// The current count of every candidate that has votes.
    pub fn vote_counts(&self) -> Result<HashMap<i64, u64>, StoreError> {
        let conn = self.read();
        let mut stmt =
            conn.prepare_cached("SELECT candidate, COUNT(*) FROM votes GROUP BY candidate")?;
        let rows = stmt.query_map([], |r| {
            let n: i64 = r.get(1)?;
            Ok((r.get::<_, i64>(0)?, u64::try_from(n).unwrap_or(0)))
        })?;
        rows.collect()
    }

    /// The candidate `user` currently votes for, if any.
    pub fn vote_of(&self, user: &str) -> Result<Option<i64>, StoreError> {
        self.read()
            .query_row("SELECT candidate FROM votes WHERE user = ?1", [user], |r| {
                r.get(0)
            })
            .optional()
    }

    /// Stores a new login session (and drops the expired ones).
    pub fn insert_session(
        &self,
        sid: &str,
        user: &str,
        expires_ms: i64,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        // One transaction: one wait for the write lock, not one per statement.
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute("DELETE FROM sessions WHERE expires_ms <= ?1", [now_ms])?;
        tx.execute(
            "INSERT INTO sessions (sid, user, expires_ms) VALUES (?1, ?2, ?3)",
            params![sid, user, expires_ms],
        )?;
        tx.commit()
    }

    /// Whether session `sid` of `user` exists (was not logged out) and has not expired at `now_ms`.
    pub fn session_live(&self, sid: &str, user: &str, now_ms: i64) -> Result<bool, StoreError> {
        let found: Option<i64> = self
            .read()
            .query_row(
                "SELECT expires_ms FROM sessions WHERE sid = ?1 AND user = ?2",
                params![sid, user],
                |r| r.get(0),
            )
            .optional()?;
        Ok(found.is_some_and(|exp| exp > now_ms))
    }

    /// Deletes a session (logout).
    pub fn delete_session(&self, sid: &str) -> Result<(), StoreError> {
        self.conn()
            .execute("DELETE FROM sessions WHERE sid = ?1", [sid])?;
        Ok(())
    }
}

/// The schema version after [`merge_legacy_voters`] (`PRAGMA user_version`).
const VOTERS_KEYED: i64 = 1;

/// Once per database: re-keys votes stored before login names were normalised (a name as typed)
/// under their voter key ([`crate::names::voter_key`]), so `Ann` and `ANN`, stored as two votes
/// then, become one voter. Where several rows become one voter, the row already under the key
/// wins (it was cast by this version), else the most recently inserted one; the others are
/// dropped, and their number is logged.
fn merge_legacy_voters(conn: &Connection) -> Result<(), StoreError> {
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version >= VOTERS_KEYED {
        return Ok(());
    }
    let tx = conn.unchecked_transaction()?;
    let rows: Vec<(i64, String, i64)> = {
        let mut stmt = tx.prepare("SELECT rowid, user, candidate FROM votes ORDER BY rowid")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        rows.collect::<Result<_, _>>()?
    };
    // Per voter key: (is the row already keyed, rowid, candidate) of the winner so far.
    let mut winners: HashMap<String, (bool, i64, i64)> = HashMap::new();
    for (rowid, user, candidate) in &rows {
        let key = crate::names::voter_key(user.trim());
        let this = (key == *user, *rowid, *candidate);
        let slot = winners.entry(key).or_insert(this);
        if (this.0, this.1) > (slot.0, slot.1) {
            *slot = this;
        }
    }
    let changed = rows.len() - winners.values().filter(|w| w.0).count();
    if changed > 0 {
        tx.execute("DELETE FROM votes", [])?;
        let mut insert = tx.prepare("INSERT INTO votes (user, candidate) VALUES (?1, ?2)")?;
        for (key, (_, _, candidate)) in &winners {
            insert.execute(params![key, candidate])?;
        }
        log::info!(
            "votes: {} stored under names as typed re-keyed to their voter; {} merged into another vote",
            changed,
            rows.len() - winners.len()
        );
    }
    tx.execute_batch(&format!("PRAGMA user_version = {VOTERS_KEYED}"))?;
    tx.commit()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_is_bounded_and_oldest_first() {
        let s = Store::open_in_memory().unwrap();
        for i in 0..5 {
            s.append_chat("u", i, &format!("m{i}")).unwrap();
        }
        let h = s.chat_history(3).unwrap();
        let bodies: Vec<_> = h.iter().map(|r| r.body.as_str()).collect();
        assert_eq!(bodies, ["m2", "m3", "m4"]);
        assert!(h.windows(2).all(|w| w[0].id < w[1].id));
    }

    #[test]
    fn revote_moves_the_vote() {
        let s = Store::open_in_memory().unwrap();
        assert_eq!(s.cast_vote("ann", 1).unwrap().changed, [(1, 1)]);
        assert_eq!(s.cast_vote("bob", 1).unwrap().changed, [(1, 2)]);
        assert_eq!(s.cast_vote("ann", 2).unwrap().changed, [(1, 1), (2, 1)]);
        assert_eq!(s.cast_vote("ann", 2).unwrap().changed, []);
        let counts = s.vote_counts().unwrap();
        assert_eq!(counts.get(&1), Some(&1));
        assert_eq!(counts.get(&2), Some(&1));
        assert_eq!(s.vote_of("ann").unwrap(), Some(2));
    }

    // Before the fix, votes stored under "Ann" and "ANN" (names as typed, before normalisation)
    // stayed two votes, while the same people logging in now are one voter.
    #[test]
    fn legacy_votes_are_merged_per_voter_once() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(SCHEMA).unwrap();
        conn.execute_batch(
            "INSERT INTO votes VALUES ('Ann', 1); INSERT INTO votes VALUES ('bob', 1);
             INSERT INTO votes VALUES ('ANN', 2); INSERT INTO votes VALUES ('\u{FF23}arl', 3);
             INSERT INTO votes VALUES ('Dee', 1); INSERT INTO votes VALUES ('dee', 3);",
        )
        .unwrap();
        conn.execute("INSERT INTO votes VALUES (?1, 2)", ["\u{FF23}ARL"])
            .unwrap();
        let s = Store {
            writer: Mutex::new(Store::init(conn).unwrap()),
            reader: None,
        };
        // ann: the later of two legacy rows (2); dee: the row already keyed (3); carl (fullwidth
        // C): the later legacy row (2); bob as he was.
        assert_eq!(s.vote_of("ann").unwrap(), Some(2));
        assert_eq!(s.vote_of("dee").unwrap(), Some(3));
        assert_eq!(s.vote_of("carl").unwrap(), Some(2));
        assert_eq!(s.vote_of("bob").unwrap(), Some(1));
        assert_eq!(s.vote_of("Ann").unwrap(), None);
        let counts = s.vote_counts().unwrap();
        assert_eq!(
            (counts.get(&1), counts.get(&2), counts.get(&3)),
            (Some(&1), Some(&2), Some(&1))
        );
        // Once only: rows written as typed after the migration (none are, but a second run
        // must not touch the table) stay.
        s.conn()
            .execute("INSERT INTO votes VALUES ('Zed', 1)", [])
            .unwrap();
        let conn = std::mem::replace(&mut *s.conn(), Connection::open_in_memory().unwrap());
        let conn = Store::init(conn).unwrap();
        let n: i64 = conn
            .query_row("SELECT COUNT(*) FROM votes WHERE user = 'Zed'", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(n, 1);
    }

    #[test]
    fn data_survives_reopen() {
        let dir = std::env::temp_dir().join(format!("ws-store-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        {
            let s = Store::open(&dir).unwrap();
            s.append_chat("u1", 7, "kept").unwrap();
            s.cast_vote("ann", 3).unwrap();
            s.insert_session("sid1", "ann", 100, 0).unwrap();
        }
        let s = Store::open(&dir).unwrap();
        assert_eq!(s.chat_history(10).unwrap()[0].body, "kept");
        assert_eq!(s.vote_counts().unwrap().get(&3), Some(&1));
        assert!(s.session_live("sid1", "ann", 50).unwrap());
        assert!(!s.session_live("sid1", "ann", 100).unwrap());
        assert!(!s.session_live("sid1", "bob", 50).unwrap());
        s.delete_session("sid1").unwrap();
        assert!(!s.session_live("sid1", "ann", 50).unwrap());
        drop(s);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

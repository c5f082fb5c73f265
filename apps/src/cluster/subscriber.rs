//! Each node's one subscription to Redis: the chat room's messages, the vote counts, the
//! notify texts and the logouts of every node, handed to this node's pages in the order Redis published them.
//!
//! It also watches the link: when the subscription fails it logs, tells the pages, drops the
//! pooled connections and retries every [`RETRY`] until Redis answers again; then it catches
//! the chat room up from the stream (what was stored meanwhile, or a reset if Redis lost data)
//! and sends the voting pages fresh counts.

use std::sync::{Arc, Weak};
use std::thread;
use std::time::Duration;

use redis::Msg;

use super::chat_log::{Entry, CHANNEL};
use super::pool::Pool;
use super::room::{status_json, ClusterChat};
use super::votes::{notify_acks_key, pairs, LOGOUT_CHANNEL, NOTIFY_CHANNEL, VOTE_CHANNEL};
use crate::shared::SharedError;
use crate::vote::VoteApp;

/// The pause between two attempts to reach Redis while it is down.
pub const RETRY: Duration = Duration::from_millis(250);

/// After this long without a message the subscription sends a PING; no answer within as long
/// again means Redis is gone (a frozen server or a silent network keeps the TCP connection
/// open, and the node would otherwise wait for it forever).
pub const PING_AFTER: Duration = Duration::from_secs(3);

/// The state of the link to Redis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Link {
    Starting,
    Up,
    Down,
}

/// What the subscription delivers to.
pub struct Subscriber {
    /// Connections (to reconnect and to read the stream).
    pub pool: Arc<Pool>,
    /// The chat room (the thread ends when it is dropped).
    pub chat: Weak<ClusterChat>,
    /// The voting app.
    pub vote: Weak<VoteApp>,
    /// This node's id (its own notify texts are delivered by the request, not here).
    pub node: String,
}

impl Subscriber {
    /// Starts the subscription thread.
    pub fn spawn(self) -> std::io::Result<()> {
        thread::Builder::new()
            .name("redis-subscriber".into())
            .spawn(move || self.run())
            .map(|_| ())
    }

    fn run(self) {
        let mut link = Link::Starting;
        while self.chat.strong_count() > 0 {
            let failure = match self.pool.connect() {
                Ok(mut con) => {
                    let _ = con.set_read_timeout(Some(PING_AFTER));
                    let mut sub = con.as_pubsub();
                    match sub.subscribe(&[CHANNEL, VOTE_CHANNEL, NOTIFY_CHANNEL, LOGOUT_CHANNEL]) {
                        Ok(()) => match self.link_up(&mut link) {
                            Ok(()) => loop {
                                match sub.get_message() {
                                    Ok(msg) => self.dispatch(&msg),
                                    // Quiet for PING_AFTER (nothing was half read): is it there?
                                    Err(e) if e.is_timeout() => {
                                        if let Err(e) = sub.ping::<redis::Value>() {
                                            break format!("no answer to a ping: {e}");
                                        }
                                    }
                                    Err(e) => break e.to_string(),
                                }
                            },
                            Err(e) => e.to_string(),
                        },
                        Err(e) => e.to_string(),
                    }
                }
                Err(e) => e.to_string(),
            };
            if link != Link::Down {
                log::error!("redis: unreachable ({failure}); writes are refused until it is back");
                link = Link::Down;
                self.pool.clear();
                self.announce(false);
            }
            thread::sleep(RETRY);
        }
    }

    /// Subscribed: catches the chat up and refreshes the counts, then says the link is up. A
    /// failure (e.g. Redis still loading its data) keeps the link down; the caller retries.
    fn link_up(&self, link: &mut Link) -> Result<(), SharedError> {
        if let Some(chat) = self.chat.upgrade() {
            chat.catch_up()?;
        }
        if let Some(vote) = self.vote.upgrade() {
            vote.refresh_counts()?;
        }
        if *link == Link::Down {
            log::info!("redis: reachable again");
            self.announce(true);
        }
        *link = Link::Up;
        Ok(())
    }

    fn announce(&self, up: bool) {
        if let Some(chat) = self.chat.upgrade() {
            chat.announce(up);
        }
        if let Some(vote) = self.vote.upgrade() {
            vote.broadcast_text(&status_json(up));
        }
    }

    fn dispatch(&self, msg: &Msg) {
        let payload = msg.get_payload_bytes();
        match msg.get_channel_name() {
            CHANNEL => match serde_json::from_slice::<Entry>(payload) {
                Ok(entry) => {
                    if let Some(chat) = self.chat.upgrade() {
                        chat.on_published(entry);
                    }
                }
                Err(e) => log::warn!("redis: bad chat publish: {e}"),
            },
            VOTE_CHANNEL => match serde_json::from_slice::<Vec<i64>>(payload) {
                Ok(flat) => {
                    if let Some(vote) = self.vote.upgrade() {
                        vote.broadcast_counts(&pairs(&flat));
                    }
                }
                Err(e) => log::warn!("redis: bad vote publish: {e}"),
            },
            NOTIFY_CHANNEL => {
                #[derive(serde::Deserialize)]
                struct Notify {
                    node: String,
                    id: String,
                    text: String,
                }
                match serde_json::from_slice::<Notify>(payload) {
                    Ok(n) if n.node != self.node => {
                        let Some(vote) = self.vote.upgrade() else {
                            return;
                        };
                        let pages = vote.broadcast_text(&n.text);
                        // The publishing node waits for this count (its answer adds them up).
                        let key = notify_acks_key(&n.id);
                        let acked = self.pool.with(|c| {
                            redis::pipe()
                                .cmd("RPUSH")
                                .arg(&key)
                                .arg(pages)
                                .ignore()
                                .cmd("EXPIRE")
                                .arg(&key)
                                .arg(10)
                                .ignore()
                                .query::<()>(c)
                        });
                        if let Err(e) = acked {
                            log::warn!("redis: notify count not sent back: {e}");
                        }
                    }
                    Ok(_) => {}
                    Err(e) => log::warn!("redis: bad notify publish: {e}"),
                }
            }
            LOGOUT_CHANNEL => {
                if let (Some(vote), Ok(sid)) = (self.vote.upgrade(), std::str::from_utf8(payload)) {
                    vote.close_session(sid);
                }
            }
            other => log::debug!("redis: message on unexpected channel {other}"),
        }
    }
}

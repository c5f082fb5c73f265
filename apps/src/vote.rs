//! Live voting with login and notify.
//!
//! - `GET /login` (form), `POST /login` (`name=...`): a signed session cookie, then 303 to `/vote`.
//! - `GET /vote`: the candidates with their counts, rendered on the server; needs a session.
//! - `GET /vote/ws`: refused before any 101 with 403 for a foreign `Origin` and 401 without a live
//!   session. Client → server: a candidate id as text. Server → clients: first
//!   `{"type":"counts","counts":[{"user":id,"count":n},...],"voted":id|null}` (the counts when the
//!   socket joined the broadcast set, so nothing cast after the page's render is missed), then
//!   `{"type":"vote","user":<candidate id>,"count":n}` for each changed candidate (to every page),
//!   `{"type":"voted","candidate":id}` (to the voter), `{"type":"error","error"}` (to the voter),
//!   `{"type":"notify","msg"}` (to every page).
//! - `POST /notify` with `Authorization: Bearer <token>`: pushes the body (text, or JSON
//!   `{"msg": ...}`) to every voting page; answers `{"delivered": n}` (with Redis, the pages of
//!   every node get it and the answer is `{"delivered": <pages of all nodes counted>, "scope":
//!   "cluster", "this_node": n, "nodes": <nodes that received it>, "nodes_counted": <nodes that
//!   said how many pages within 1 s>}`).
//! - With Redis (see [`crate::cluster`]) pages also get `{"type":"status","redis":"down"|"up"}`
//!   and, when Redis returns, `{"type":"counts","counts":[...]}` without `voted`.
//! - `POST /logout`: revokes the session and closes the sockets opened with it (1008); a socket is
//!   also closed with 1008 when its session expires.
//!
//! A login is a name, as in the original demo (no passwords): the voter is the name (normalised,
//! case-insensitive: see [`crate::names`]), so the same name logged in twice holds one vote. Logging out closes that login's sockets; another login of
//! the same name (another browser) keeps its own session and sockets.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use async_io::Timer;
use futures_util::future::{select, Either};
use serde_json::json;

use crate::limiter::{RateLimiter, SharedLimiter, Verdict};
use crate::names::{self, NameError, MAX_NAME_CHARS};
use crate::origin::{Scheme, Site};
use crate::pages::{CandidateView, Pages};
use crate::session::{self, Session, SessionKey, COOKIE_NAME};
use crate::shared::{Fanout, SharedError, VoteStore};
use crate::web::{self, now_ms};
use ws_server::{CloseCode, HttpResponse, Message, Reply, Request, Upgrade, WebSocket, Writer};

/// Longest notify message in bytes.
pub const MAX_NOTIFY_BYTES: usize = 4096;

/// The voting app's settings.
#[derive(Debug, Clone)]
pub struct VoteConfig {
    /// Candidate names; ids are their positions, from 1.
    pub candidates: Vec<String>,
    /// The bearer token `POST /notify` requires.
    pub notify_token: String,
    /// How long a login lasts.
    pub session_ttl: Duration,
    /// Votes per second per connection, and per voter over all their connections.
    pub rate_per_second: u32,
}

struct Socket {
    sid: String,
    writer: Writer,
}

/// The voting app's state.
pub struct VoteApp {
    store: Arc<dyn VoteStore>,
    key: SessionKey,
    pages: Pages,
    config: VoteConfig,
    site: Arc<Site>,
    sockets: Mutex<HashMap<u64, Socket>>,
    /// Held from a vote's commit to its broadcast.
    cast_order: Mutex<()>,
    /// The vote rate per voter, all their sockets together.
    by_voter: SharedLimiter<String>,
}

impl std::fmt::Debug for VoteApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VoteApp")
            .field("config", &self.config.candidates)
            .finish_non_exhaustive()
    }
}

fn err_msg(text: &str) -> Message {
    Message::Text(json!({ "type": "error", "error": text }).to_string())
}

impl VoteApp {
    /// A voting app over `store` (SQLite or Redis), signing sessions with `key`, served as `site`.
    pub fn new(
        store: Arc<dyn VoteStore>,
        key: SessionKey,
        config: VoteConfig,
        site: Arc<Site>,
    ) -> VoteApp {
        VoteApp {
            by_voter: SharedLimiter::new(config.rate_per_second),
            store,
            key,
            pages: Pages::new(),
            config,
            site,
            sockets: Mutex::new(HashMap::new()),
            cast_order: Mutex::new(()),
        }
    }

    fn sockets(&self) -> MutexGuard<'_, HashMap<u64, Socket>> {
        self.sockets.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether the request came through an `https://` public origin (its Host names one).
    fn served_over_https(&self, req: &Request) -> bool {
        self.site
            .origin_for(req)
            .is_some_and(|o| o.scheme == Scheme::Https)
    }

    fn candidate_exists(&self, id: i64) -> bool {
        usize::try_from(id).is_ok_and(|i| i >= 1 && i <= self.config.candidates.len())
    }

    /// The request's session if its cookie is valid, unexpired and not logged out; `Err` (a
    /// 503 to answer) when that cannot be checked because Redis is unreachable.
    async fn checked_session(
        self: &Arc<Self>,
        req: &Request,
    ) -> Result<Option<Session>, HttpResponse> {
        let Some(s) = req
            .cookie(COOKIE_NAME)
            .and_then(|c| Session::from_cookie(c, &self.key, now_ms()))
        else {
            return Ok(None);
        };
        let app = self.clone();
        let (sid, user) = (s.sid.clone(), s.user.clone());
        match blocking::unblock(move || app.store.session_live(&sid, &user, now_ms())).await {
            Ok(live) => Ok(live.then_some(s)),
            Err(e @ SharedError::Unavailable(_)) => {
                log::warn!("vote: session lookup failed: {e}");
                Err(web::error(
                    503,
                    "the shared store (Redis) is unreachable: try again in a moment",
                )
                .header("Retry-After", "2"))
            }
            Err(e) => {
                log::error!("vote: session lookup failed: {e}");
                Ok(None)
            }
        }
    }

    /// The request's session if its cookie is valid, unexpired and not logged out (none if
    /// that cannot be checked).
    async fn session(self: &Arc<Self>, req: &Request) -> Option<Session> {
        self.checked_session(req).await.ok().flatten()
    }

    /// Routes the voting app's paths; `None` if `path` is not one of them.
    pub async fn route(self: &Arc<Self>, req: Request) -> Option<Reply> {
        let reply = match (req.method.as_str(), req.path.as_str()) {
            ("GET", "/login") => self.login_form(None, ""),
            ("POST", "/login") => self.login(&req).await,
            ("POST", "/logout") => self.logout(&req).await,
            ("GET", "/vote") => self.vote_page(&req).await,
            ("GET", "/vote/ws") => return Some(self.upgrade(req).await),
            ("POST", "/notify") => self.notify(&req).await,
            (_, "/login" | "/logout" | "/vote" | "/vote/ws" | "/notify") => {
                web::error(405, "method not allowed")
            }
            _ => return None,
        };
        Some(Reply::Http(reply))
    }

    fn login_form(&self, error: Option<&str>, name: &str) -> HttpResponse {
        match self.pages.login(error, name) {
            Ok(html) => {
                let mut r = web::page(html);
                if error.is_some() {
                    r.status = 400;
                }
                r
            }
            Err(e) => {
                log::error!("vote: login template: {e}");
                web::error(500, "internal error")
            }
        }
    }

    async fn login(self: &Arc<Self>, req: &Request) -> HttpResponse {
        let typed = web::form_value(&req.body, "name").unwrap_or_default();
        let name = match names::normalise(&typed) {
            Ok(name) => name,
            Err(NameError::Length) => {
                let why = format!("Please enter a name of 1 to {MAX_NAME_CHARS} characters.");
                return self.login_form(Some(&why), typed.trim());
            }
            Err(NameError::Invisible) => {
                let why = "A name cannot contain invisible or control characters.";
                return self.login_form(Some(why), "");
            }
        };
        let sid = match session::uuid_v4() {
            Ok(s) => s,
            Err(e) => {
                log::error!("vote: no randomness for a session id: {e}");
                return web::error(500, "internal error");
            }
        };
        let ttl_ms = i64::try_from(self.config.session_ttl.as_millis()).unwrap_or(i64::MAX);
        let now = now_ms();
        let s = Session {
            sid,
            user: name,
            expires_ms: now.saturating_add(ttl_ms),
        };
        let app = self.clone();
        let (sid, user, exp) = (s.sid.clone(), s.user.clone(), s.expires_ms);
        if let Err(e) =
            blocking::unblock(move || app.store.insert_session(&sid, &user, exp, now)).await
        {
            if matches!(e, SharedError::Busy(_) | SharedError::Unavailable(_)) {
                log::warn!("vote: login not stored: {e}");
                let why = if matches!(e, SharedError::Busy(_)) {
                    "The server is busy (its database is locked): please try again in a moment."
                } else {
                    "The shared store (Redis) is unreachable: please try again in a moment."
                };
                let mut r = self.login_form(Some(why), &s.user);
                r.status = 503;
                return r.header("Retry-After", "2");
            }
            log::error!("vote: storing a session failed: {e}");
            return web::error(500, "internal error");
        }
        let secure = self.served_over_https(req);
        let cookie = session::set_cookie_header(&s.to_cookie(&self.key), ttl_ms / 1000, secure);
        HttpResponse::redirect("/vote").header("Set-Cookie", &cookie)
    }

    async fn logout(self: &Arc<Self>, req: &Request) -> HttpResponse {
        if let Some(s) = self.session(req).await {
            let app = self.clone();
            let sid = s.sid.clone();
            if let Err(e) = blocking::unblock(move || app.store.delete_session(&sid)).await {
                log::error!("vote: deleting a session failed: {e}");
            }
            self.close_session(&s.sid);
        }
        let clear = session::clear_cookie_header(self.served_over_https(req));
        HttpResponse::redirect("/login").header("Set-Cookie", &clear)
    }

    async fn vote_page(self: &Arc<Self>, req: &Request) -> HttpResponse {
        let s = match self.checked_session(req).await {
            Ok(Some(s)) => s,
            Ok(None) => return HttpResponse::redirect("/login"),
            Err(unavailable) => return unavailable,
        };
        let app = self.clone();
        let user = names::voter_key(&s.user);
        let counts = blocking::unblock(move || {
            Ok::<_, SharedError>((app.store.vote_counts()?, app.store.vote_of(&user)?))
        })
        .await;
        let (counts, mine) = match counts {
            Ok(c) => c,
            Err(e @ SharedError::Unavailable(_)) => {
                log::warn!("vote: reading counts failed: {e}");
                return web::error(503, "the shared store (Redis) is unreachable: try again");
            }
            Err(e) => {
                log::error!("vote: reading counts failed: {e}");
                return web::error(500, "internal error");
            }
        };
        let views: Vec<CandidateView> = (1i64..)
            .zip(&self.config.candidates)
            .map(|(id, name)| CandidateView {
                id,
                name: name.clone(),
                count: counts.get(&id).copied().unwrap_or(0),
                mine: mine == Some(id),
            })
            .collect();
        match self.pages.vote(&s.user, &views) {
            Ok(html) => web::page(html),
            Err(e) => {
                log::error!("vote: vote template: {e}");
                web::error(500, "internal error")
            }
        }
    }

    async fn upgrade(self: &Arc<Self>, req: Request) -> Reply {
        // Host and Origin: checked for every app by `Apps::route` (crate::origin).
        let s = match self.checked_session(&req).await {
            Ok(Some(s)) => s,
            Ok(None) => return Reply::Http(web::error(401, "log in first")),
            Err(unavailable) => return Reply::Http(unavailable),
        };
        let app = self.clone();
        Reply::Upgrade(Upgrade::new(move |ws| app.run(ws, s)))
    }

    /// Serves one voting page's socket until it closes or its session ends.
    async fn run(self: Arc<Self>, ws: WebSocket, s: Session) {
        let (mut reader, writer) = ws.split();
        let id = writer.id();
        let app = self.clone();
        let (sid, user, w) = (s.sid.clone(), s.user.clone(), writer.clone());
        if let Err(e) = blocking::unblock(move || app.register(id, sid, &user, w)).await {
            log::error!("vote: reading counts for a new socket failed: {e}");
            writer.close(CloseCode::INTERNAL_ERROR, "counts unavailable");
        }
        let left_ms = u64::try_from(s.expires_ms.saturating_sub(now_ms())).unwrap_or(0);
        let mut expiry = Some(Timer::at(Instant::now() + Duration::from_millis(left_ms)));
        let mut limiter = RateLimiter::new(self.config.rate_per_second, Instant::now());
        let voter = names::voter_key(&s.user);
        loop {
            let msg = match expiry.as_mut() {
                Some(timer) => match select(Box::pin(reader.recv()), timer).await {
                    Either::Left((m, _)) => m,
                    Either::Right(_) => {
                        writer.close(CloseCode::POLICY, "session expired");
                        expiry = None;
                        continue;
                    }
                },
                None => reader.recv().await,
            };
            let Some(msg) = msg else { break };
            let now = Instant::now();
            let verdict = match limiter.check(now) {
                Verdict::Allow => self.by_voter.check(&voter, now),
                own => own,
            };
            match verdict {
                Verdict::Allow => self.handle_vote(&s.user, &writer, msg).await,
                Verdict::Refuse => {
                    let _ = writer.send(err_msg("too many votes: slow down"));
                }
                Verdict::Close => writer.close(CloseCode::POLICY, "rate limit exceeded"),
            }
        }
        self.sockets().remove(&id);
    }

    async fn handle_vote(self: &Arc<Self>, user: &str, writer: &Writer, msg: Message) {
        let id = match &msg {
            Message::Text(t) => t.trim().parse::<i64>().ok(),
            Message::Binary(_) => None,
        };
        let Some(candidate) = id.filter(|c| self.candidate_exists(*c)) else {
            let _ = writer.send(err_msg("unknown candidate"));
            return;
        };
        let app = self.clone();
        let user = user.to_owned();
        let voted = blocking::unblock(move || app.cast(&user, candidate)).await;
        match voted {
            Ok(()) => {
                let _ = writer.send(Message::Text(
                    json!({ "type": "voted", "candidate": candidate }).to_string(),
                ));
            }
            Err(e) => {
                log::error!("vote: storing a vote failed: {e}");
                let _ = writer.send(err_msg(&e.refusal("vote")));
            }
        }
    }

    /// Adds a socket to the broadcast set and sends it the current counts (and the user's own
    /// vote) as one `counts` message, under the sockets lock: every vote is either in that
    /// snapshot or broadcast after it, so a page never misses one cast between its render and its
    /// socket's registration.
    fn register(
        &self,
        id: u64,
        sid: String,
        user: &str,
        writer: Writer,
    ) -> Result<(), SharedError> {
        let mut sockets = self.sockets();
        let counts = self.store.vote_counts()?;
        let mine = self.store.vote_of(&names::voter_key(user))?;
        let counts: Vec<_> = (1i64..=self.config.candidates.len() as i64)
            .map(|c| json!({ "user": c, "count": counts.get(&c).copied().unwrap_or(0) }))
            .collect();
        let snapshot = json!({ "type": "counts", "counts": counts, "voted": mine });
        let _ = writer.send(Message::Text(snapshot.to_string()));
        sockets.insert(id, Socket { sid, writer });
        Ok(())
    }

    /// Commits the vote, then broadcasts the changed counts, both under the cast lock (so pages
    /// see counts in commit order). The sockets lock is taken only to broadcast: notify and new
    /// pages never wait for a commit that waits for another process's write lock. A page that
    /// registers between a commit and its broadcast sees the new count twice (counts are
    /// absolute, so that is harmless).
    ///
    /// On Redis ([`Fanout::Cluster`]) the store publishes the change and every node's
    /// subscriber calls [`VoteApp::broadcast_counts`] in Redis's order, this node included.
    fn cast(&self, user: &str, candidate: i64) -> Result<(), SharedError> {
        let _order = self.cast_order.lock().unwrap_or_else(|e| e.into_inner());
        let change = self.store.cast_vote(&names::voter_key(user), candidate)?;
        if self.store.fanout() == Fanout::ThisNode {
            self.broadcast_counts(&change.changed);
        }
        Ok(())
    }

    /// Sends `(candidate, count)` changes to every voting page of this node.
    pub fn broadcast_counts(&self, changed: &[(i64, u64)]) {
        let mut sockets = self.sockets();
        for &(c, n) in changed {
            let text = json!({ "type": "vote", "user": c, "count": n }).to_string();
            sockets.retain(|_, k| k.writer.send(Message::Text(text.clone())).is_ok());
        }
    }

    /// Closes this node's sockets opened with session `sid` (logged out here, or on another
    /// node: see [`crate::cluster::subscriber`]).
    pub fn close_session(&self, sid: &str) {
        for sock in self.sockets().values().filter(|k| k.sid == sid) {
            sock.writer.close(CloseCode::POLICY, "logged out");
        }
    }

    /// Sends every page of this node the current counts (after Redis came back: it may have
    /// lost them). Blocking: called from the Redis subscriber's thread.
    pub fn refresh_counts(&self) -> Result<(), SharedError> {
        let counts = self.store.vote_counts()?;
        let counts: Vec<_> = (1i64..=self.config.candidates.len() as i64)
            .map(|c| json!({ "user": c, "count": counts.get(&c).copied().unwrap_or(0) }))
            .collect();
        self.broadcast_text(&json!({ "type": "counts", "counts": counts }).to_string());
        Ok(())
    }

    /// Sends `text` (a JSON message) to every voting page of this node; returns how many took it.
    pub fn broadcast_text(&self, text: &str) -> u64 {
        let mut delivered = 0u64;
        self.sockets().retain(|_, k| {
            let ok = k.writer.send(Message::Text(text.to_owned())).is_ok();
            delivered += u64::from(ok);
            ok
        });
        delivered
    }

    async fn notify(self: &Arc<Self>, req: &Request) -> HttpResponse {
        let token = req
            .header("authorization")
            .and_then(|h| h.strip_prefix("Bearer "))
            .map(str::trim);
        if !token.is_some_and(|t| web::ct_eq(t.as_bytes(), self.config.notify_token.as_bytes())) {
            return web::api_error(401, "bearer token required")
                .header("WWW-Authenticate", "Bearer");
        }
        let Ok(body) = std::str::from_utf8(&req.body) else {
            return web::api_error(400, "body must be UTF-8 text");
        };
        let is_json = req
            .header("content-type")
            .is_some_and(|c| c.trim_start().starts_with("application/json"));
        let msg = if is_json {
            match serde_json::from_str::<serde_json::Value>(body) {
                Ok(v) => match v.get("msg").and_then(|m| m.as_str()) {
                    Some(m) => m.to_owned(),
                    None => return web::api_error(400, "JSON body must be {\"msg\": \"...\"}"),
                },
                Err(_) => return web::api_error(400, "invalid JSON"),
            }
        } else {
            body.trim().to_owned()
        };
        if msg.is_empty() || msg.len() > MAX_NOTIFY_BYTES {
            return web::api_error(400, "message must be 1 to 4096 bytes");
        }
        let text = json!({ "type": "notify", "msg": msg }).to_string();
        let delivered = self.broadcast_text(&text);
        let app = self.clone();
        match blocking::unblock(move || app.store.publish_notify(&text)).await {
            Ok(None) => web::json(200, &json!({ "delivered": delivered })),
            // Redis: every node's pages, counted by the nodes that answered in time.
            Ok(Some(reach)) => web::json(
                200,
                &json!({
                    "delivered": delivered + reach.pages, "scope": "cluster",
                    "this_node": delivered, "nodes": 1 + reach.other_nodes,
                    "nodes_counted": 1 + reach.answered,
                }),
            ),
            Err(e) => {
                log::warn!("vote: notify not published to the other nodes: {e}");
                web::json(
                    503,
                    &json!({ "delivered": delivered, "scope": "this node",
                             "error": "not sent to the other nodes: the shared store (Redis) is unreachable" }),
                )
            }
        }
    }

    /// How many voting pages are connected.
    pub fn socket_count(&self) -> usize {
        self.sockets().len()
    }
}

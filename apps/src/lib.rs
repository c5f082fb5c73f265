//! `ws-apps`: the seed's demo apps, written on ws-server's public API only: an echo page, a chat
//! room with durable history, and live voting with login and notify (`ws-server serve`; the
//! binary `ws-server` lives in this crate so that the library does not compile SQLite, minijinja,
//! clap, HMAC or serde).
//!
//! Paths: `/` (index), `/echo` + `/echo/ws`, `/chat` + `/chat/ws`, `/login`, `/logout`, `/vote` +
//! `/vote/ws`, `/notify`, `/static/*`. With [`AppConfig::redis`] several nodes share the state
//! through Redis (see [`cluster`]); otherwise it lives in `<data dir>/ws.sqlite3` (see [`store`]); the
//! session key in `<data dir>/session.key` and the notify token in `<data dir>/notify.token` unless
//! configured. What it does not do: TLS (put a TLS proxy in front), accounts with passwords (a
//! login is a name, as in the original demo).

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod chat;
pub mod cluster;
pub mod flags;
pub mod limiter;
pub mod names;
pub mod origin;
pub mod pages;
pub mod relay;
pub mod serve;
pub mod session;
pub mod shared;
pub mod store;
pub mod tls;
pub mod vote;
pub mod web;

use std::io;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chat::{ChatConfig, ChatRoom};
use cluster::room::ClusterChat;
use cluster::RedisConfig;
use origin::{Origin, Refusal, Site};
use session::SessionKey;
use store::Store;
use vote::{VoteApp, VoteConfig};
use ws_server::{Handler, HttpResponse, Reply, Request, Upgrade, WebSocket};

/// The notify token file's name inside the data directory.
pub const TOKEN_FILE: &str = "notify.token";

/// Everything the apps need to start.
#[derive(Debug, Clone)]
pub struct AppConfig {
    /// Where the database, session key and notify token live (created if missing).
    pub data_dir: PathBuf,
    /// The voting candidates (ids 1, 2, ... in this order).
    pub candidates: Vec<String>,
    /// The notify bearer token; `None`: read or create `<data dir>/notify.token`.
    pub notify_token: Option<String>,
    /// The session signing secret; `None`: read or create `<data dir>/session.key`.
    pub session_secret: Option<String>,
    /// The chat room's bounds.
    pub chat: ChatConfig,
    /// How long a login lasts.
    pub session_ttl: Duration,
    /// Votes per second per voting socket.
    pub vote_rate_per_second: u32,
    /// The origins the pages are served under (scheme, host, port; see [`origin`]): requests
    /// naming another `Host` are refused (421), WebSocket handshakes and logins/logouts from
    /// another `Origin` too (403). Must not be empty: [`origin::defaults_for`] gives the
    /// loopback names of a listen address (what `ws-server serve` uses without
    /// `--public-origin`).
    pub public_origins: Vec<Origin>,
    /// `Some`: share chat, votes, sessions and notify with other nodes through Redis (see
    /// [`cluster`]); `None`: the embedded SQLite store of this node (the default).
    pub redis: Option<RedisConfig>,
}

impl AppConfig {
    /// The defaults with data in `data_dir`: candidates 小明, 小强, 小刚; 100 messages of history;
    /// 4 KiB messages; 20 messages/s; 12 h sessions; no public origin yet (set one, e.g.
    /// [`origin::defaults_for`] the listen address).
    pub fn new(data_dir: impl Into<PathBuf>) -> AppConfig {
        AppConfig {
            data_dir: data_dir.into(),
            candidates: ["小明", "小强", "小刚"].map(String::from).to_vec(),
            notify_token: None,
            session_secret: None,
            chat: ChatConfig::default(),
            session_ttl: Duration::from_secs(12 * 3600),
            vote_rate_per_second: 20,
            public_origins: Vec::new(),
            redis: None,
        }
    }
}

/// The chat room of this node: alone (SQLite) or one of several (Redis).
#[derive(Debug, Clone)]
pub enum Chat {
    /// One node, history in SQLite.
    Local(Arc<ChatRoom>),
    /// One of several nodes sharing the room through Redis.
    Cluster(Arc<ClusterChat>),
}

impl Chat {
    /// How many members this node serves.
    pub fn member_count(&self) -> usize {
        match self {
            Chat::Local(room) => room.member_count(),
            Chat::Cluster(room) => room.member_count(),
        }
    }
}

/// The three apps, ready to serve; cheap to clone.
#[derive(Debug, Clone)]
pub struct Apps {
    chat: Chat,
    vote: Arc<VoteApp>,
    notify_token: Arc<str>,
    site: Arc<Site>,
}

impl Apps {
    /// Opens the data directory (database, keys) and builds the apps.
    pub fn open(config: AppConfig) -> io::Result<Apps> {
        if config.public_origins.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "no public origin: the apps must know the scheme://host:port they are served under",
            ));
        }
        create_private_dir(&config.data_dir)?;
        check_writable(&config.data_dir)?;
        let key =
            match &config.session_secret {
                Some(secret) => SessionKey::from_secret(secret),
                None if config.redis.is_some() => return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "with --redis every node must sign sessions with the same key: give it with \
                     --session-secret, --session-secret-file or WS_SESSION_SECRET",
                )),
                None => SessionKey::load_or_create(&config.data_dir)?,
            };
        let token = match &config.notify_token {
            Some(t) if !t.trim().is_empty() => t.trim().to_owned(),
            _ => load_or_create_token(&config.data_dir)?,
        };
        let site = Arc::new(Site::new(config.public_origins));
        let vote_config = VoteConfig {
            candidates: config.candidates.clone(),
            notify_token: token.clone(),
            session_ttl: config.session_ttl,
            rate_per_second: config.vote_rate_per_second,
        };
        if let Some(redis) = &config.redis {
            let cluster = cluster::Cluster::open(redis).map_err(io::Error::other)?;
            let votes = cluster::votes::RedisVotes::new(cluster.pool.clone(), cluster.node.clone());
            let vote = Arc::new(VoteApp::new(
                Arc::new(votes),
                key.clone(),
                vote_config,
                site.clone(),
            ));
            let chat = Arc::new(ClusterChat::new(
                cluster.pool.clone(),
                config.chat.clone(),
                key,
                redis.stream_len,
            ));
            cluster::subscriber::Subscriber {
                pool: cluster.pool,
                chat: Arc::downgrade(&chat),
                vote: Arc::downgrade(&vote),
                node: cluster.node,
            }
            .spawn()?;
            return Ok(Apps {
                chat: Chat::Cluster(chat),
                vote,
                notify_token: token.into(),
                site,
            });
        }
        let store = Arc::new(Store::open(&config.data_dir).map_err(io::Error::other)?);
        let chat = Arc::new(ChatRoom::new(
            store.clone(),
            config.chat.clone(),
            key.clone(),
        ));
        let vote = Arc::new(VoteApp::new(store, key, vote_config, site.clone()));
        Ok(Apps {
            chat: Chat::Local(chat),
            vote,
            notify_token: token.into(),
            site,
        })
    }

    /// The bearer token `POST /notify` expects.
    pub fn notify_token(&self) -> &str {
        &self.notify_token
    }

    /// The chat room (e.g. to count members).
    pub fn chat(&self) -> &Chat {
        &self.chat
    }

    /// The voting app.
    pub fn vote(&self) -> &Arc<VoteApp> {
        &self.vote
    }

    /// The request handler serving every app.
    pub fn handler(&self) -> impl Handler {
        let apps = self.clone();
        move |req: Request| {
            let apps = apps.clone();
            async move { apps.route(req).await }
        }
    }

    /// Answers one request.
    pub async fn route(&self, req: Request) -> Reply {
        let checked = match (req.method.as_str(), req.path.as_str()) {
            (_, "/echo/ws" | "/chat/ws" | "/vote/ws") => self.site.check_websocket(&req),
            // Bearer-token API, no cookie: not a CSRF target.
            ("GET" | "HEAD", _) | ("POST", "/notify") => self.site.check_host(&req),
            _ => self.site.check_state_change(&req),
        };
        match checked {
            Ok(()) => {}
            Err(Refusal::UnknownHost) => {
                return Reply::Http(web::error(421, "unknown host: not a name of this site"))
            }
            Err(Refusal::CrossSite) => {
                return Reply::Http(web::error(403, "cross-site request refused"))
            }
        }
        match req.path.as_str() {
            "/echo/ws" => return Reply::Upgrade(Upgrade::new(WebSocket::echo)),
            "/chat/ws" => {
                let peer = req.peer.ip();
                let query = req.query.as_deref().unwrap_or_default().as_bytes();
                let resume = chat::Resume {
                    member: web::form_value(query, "member"),
                    since: web::form_value(query, "since").and_then(|s| s.parse().ok()),
                    epoch: web::form_value(query, "epoch").filter(|e| !e.is_empty()),
                };
                return match self.chat.clone() {
                    Chat::Local(room) => {
                        Reply::Upgrade(Upgrade::new(move |ws| room.run(ws, peer, resume)))
                    }
                    Chat::Cluster(room) => {
                        Reply::Upgrade(Upgrade::new(move |ws| room.run(ws, peer, resume)))
                    }
                };
            }
            _ => {}
        }
        let path = req.path.clone();
        let method = req.method.clone();
        if let Some(reply) = self.vote.route(req).await {
            return reply;
        }
        match pages::asset(&path) {
            Some((content_type, body)) if method == "GET" || method == "HEAD" => {
                Reply::Http(web::secure(
                    HttpResponse::new(200)
                        .header("Content-Type", content_type)
                        .body(body.to_vec()),
                ))
            }
            Some(_) => Reply::Http(web::error(405, "method not allowed")),
            None => Reply::Http(web::error(404, "not found")),
        }
    }
}

/// Creates `dir` (and parents) readable only by its owner, if it does not exist yet.
fn create_private_dir(dir: &std::path::Path) -> io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(dir)
}

/// Fails with a clear message unless `dir` and the database in it can be written: the apps
/// would otherwise start and then fail each login, vote and chat message at run time.
fn check_writable(dir: &std::path::Path) -> io::Result<()> {
    let not_writable = |what: &std::path::Path, e: io::Error| {
        io::Error::new(
            e.kind(),
            format!(
                "data directory {} is not writable ({}: {e}); the apps keep chat history, votes \
                 and sessions there: fix its permissions or choose another with --data-dir",
                dir.display(),
                what.display()
            ),
        )
    };
    let probe = dir.join(format!(".write-probe-{}", std::process::id()));
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)
        .map_err(|e| not_writable(&probe, e))?;
    std::fs::remove_file(&probe).map_err(|e| not_writable(&probe, e))?;
    let db = dir.join(store::DB_FILE);
    if db.exists() {
        std::fs::OpenOptions::new()
            .append(true)
            .open(&db)
            .map_err(|e| not_writable(&db, e))?;
    }
    Ok(())
}

/// Reads `<dir>/notify.token`, or creates it once (random, mode 0600).
fn load_or_create_token(dir: &std::path::Path) -> io::Result<String> {
    let path = dir.join(TOKEN_FILE);
    match std::fs::read_to_string(&path) {
        Ok(t) if !t.trim().is_empty() => Ok(t.trim().to_owned()),
        Ok(_) => Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{} is empty", path.display()),
        )),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            let bytes: [u8; 24] = session::random_bytes()?;
            let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
            session::write_private(&path, token.as_bytes())?;
            Ok(token)
        }
        Err(e) => Err(e),
    }
}

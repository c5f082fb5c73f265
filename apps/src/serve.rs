//! The `ws-server serve` subcommand: its flags and the function that runs the apps.

use std::io;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use crate::origin::{Origin, Scheme};
use crate::tls::{Tls, TlsArgs};
use crate::{AppConfig, Apps};
use ws_server::{Config, Server, ShutdownHandle};

/// Flags of `ws-server serve` (the demo apps).
#[derive(Args, Debug, Clone)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8000")]
    pub addr: String,
    /// Directory for the database, the session key and the notify token (created if missing).
    #[arg(long, default_value = "data")]
    pub data_dir: PathBuf,
    /// Voting candidates, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "小明,小强,小刚")]
    pub candidates: Vec<String>,
    /// Bearer token for POST /notify (default: env WS_NOTIFY_TOKEN, else <data-dir>/notify.token).
    #[arg(long)]
    pub notify_token: Option<String>,
    /// Secret that signs session cookies (default: env WS_SESSION_SECRET, else <data-dir>/session.key).
    #[arg(long)]
    pub session_secret: Option<String>,
    /// File holding the session secret (its first line), e.g. one file deployed to every node.
    #[arg(long, conflicts_with = "session_secret")]
    pub session_secret_file: Option<PathBuf>,
    /// Share chat, votes, sessions and notify with other nodes through this Redis server
    /// (redis://HOST:PORT[/DB]); needs the same session secret on every node. Default: this
    /// node alone, with SQLite in --data-dir.
    #[arg(long)]
    pub redis: Option<String>,
    /// With --redis: chat messages kept in Redis (MAXLEN ~), so a page that reconnects can
    /// resume after that many; past it, the page gets a reset and the latest history.
    #[arg(long, default_value_t = 1000)]
    pub redis_stream_len: usize,
    /// Chat messages replayed to a new member.
    #[arg(long, default_value_t = 100)]
    pub history: usize,
    /// Longest chat message in bytes (longer: error reply, connection stays).
    #[arg(long, default_value_t = 4096)]
    pub max_chat_message: usize,
    /// Chat messages (and votes) per second per connection, and votes per voter over all their
    /// connections; sustained excess closes with 1008.
    #[arg(long, default_value_t = 20)]
    pub rate: u32,
    /// Chat messages per second per client IP address, over all its connections.
    #[arg(long, default_value_t = 40)]
    pub rate_per_address: u32,
    /// How long a login lasts, in seconds.
    #[arg(long, default_value_t = 12 * 3600)]
    pub session_ttl_secs: u64,
    /// Largest WebSocket message accepted, in bytes (past it, 1009).
    #[arg(long, default_value_t = 64 << 10)]
    pub max_message_size: u64,
    /// Seconds without traffic before the server pings (an unanswered ping removes the member).
    #[arg(long, default_value_t = 30)]
    pub idle_ping_secs: u64,
    /// Seconds to wait for the pong.
    #[arg(long, default_value_t = 30)]
    pub pong_timeout_secs: u64,
    /// Cap on bytes queued to one client by its own replies (history, errors); a client past it
    /// is closed (1008). Chat broadcasts follow --room-backlog, --room-grace, --room-hard-limit.
    #[arg(long, default_value_t = 1 << 20)]
    pub max_outbound_bytes: usize,
    /// The scheme://host[:port] the pages are reached under (repeat or comma-separate for
    /// several; e.g. https://vote.example.org behind a TLS proxy). Requests naming another Host
    /// get 421; WebSockets, logins and logouts from another Origin 403. Default: the listen
    /// address's loopback names (http://localhost:PORT, http://127.0.0.1:PORT, http://[::1]:PORT).
    #[arg(long, value_delimiter = ',')]
    pub public_origin: Vec<String>,
    /// https:// and wss:// (the default public origins become https://...).
    #[command(flatten)]
    pub tls: TlsArgs,
    /// The chat room's backpressure: when a member that does not keep up is closed (1008).
    #[command(flatten)]
    pub room: crate::flags::RoomOptions,
}

impl ServeArgs {
    /// The apps' configuration (secrets fall back to the environment).
    pub fn app_config(&self) -> io::Result<AppConfig> {
        let mut c = AppConfig::new(&self.data_dir);
        c.candidates = self
            .candidates
            .iter()
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect();
        c.notify_token = self
            .notify_token
            .clone()
            .or_else(|| std::env::var("WS_NOTIFY_TOKEN").ok());
        c.session_secret = match &self.session_secret_file {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| {
                    io::Error::new(
                        e.kind(),
                        format!("--session-secret-file {}: {e}", path.display()),
                    )
                })?;
                let secret = text.lines().next().unwrap_or_default().trim().to_owned();
                if secret.is_empty() {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidInput,
                        format!("--session-secret-file {} is empty", path.display()),
                    ));
                }
                Some(secret)
            }
            None => self
                .session_secret
                .clone()
                .or_else(|| std::env::var("WS_SESSION_SECRET").ok()),
        };
        c.redis = self.redis.as_ref().map(|url| crate::cluster::RedisConfig {
            url: url.clone(),
            stream_len: self.redis_stream_len,
        });
        c.chat.history = self.history;
        c.chat.max_message_bytes = self.max_chat_message;
        c.chat.rate_per_second = self.rate;
        c.chat.rate_per_address = self.rate_per_address;
        c.chat.room = self.room.policy();
        c.vote_rate_per_second = self.rate;
        c.session_ttl = Duration::from_secs(self.session_ttl_secs);
        Ok(c)
    }

    /// The public origins: `--public-origin`, else the defaults for the bound address (https://
    /// ones when the server itself serves TLS).
    pub fn public_origins(&self, bound: std::net::SocketAddr) -> io::Result<Vec<Origin>> {
        if self.public_origin.is_empty() {
            let mut origins = crate::origin::defaults_for(bound);
            if self.tls.enabled() {
                for o in &mut origins {
                    o.scheme = Scheme::Https;
                }
            }
            return Ok(origins);
        }
        self.public_origin
            .iter()
            .map(|o| {
                Origin::parse(o).ok_or_else(|| {
                    io::Error::new(
                        io::ErrorKind::InvalidInput,
                        format!("--public-origin {o:?}: expected http(s)://host[:port]"),
                    )
                })
            })
            .collect()
    }

    /// The server's configuration.
    pub fn server_config(&self) -> Config {
        let mut c = Config::default();
        c.limits.max_message_size = self.max_message_size;
        c.limits.max_frame_payload = c.limits.max_frame_payload.min(self.max_message_size);
        c.idle_ping = Duration::from_secs(self.idle_ping_secs);
        c.pong_timeout = Duration::from_secs(self.pong_timeout_secs);
        c.max_outbound_bytes = self.max_outbound_bytes;
        c
    }
}

/// Opens the apps, binds, hands the shutdown handle and the TLS (for a reload) to `on_bound`
/// (e.g. to wire signals) and serves until a graceful shutdown.
pub async fn serve(
    args: &ServeArgs,
    on_bound: impl FnOnce(ShutdownHandle, Option<Tls>),
) -> io::Result<()> {
    let tls = args.tls.load()?;
    let mut server = Server::bind(&args.addr, args.server_config()).await?;
    if let Some(tls) = &tls {
        server = server.with_tls(tls.acceptor.clone());
    }
    let scheme = if tls.is_some() { "https" } else { "http" };
    let mut config = args.app_config()?;
    config.public_origins = args.public_origins(server.local_addr())?;
    let origins: Vec<String> = config
        .public_origins
        .iter()
        .map(ToString::to_string)
        .collect();
    // Opened before anything is served: a bad data directory fails the start.
    let apps = Apps::open(config)?;
    log::info!("public origins: {}", origins.join(", "));
    log::info!(
        "apps on {scheme}://{} ({}; notify token: {})",
        server.local_addr(),
        match &args.redis {
            Some(url) => format!("shared state in Redis at {url}"),
            None => format!("data in {}", args.data_dir.display()),
        },
        if args.notify_token.is_some() || std::env::var_os("WS_NOTIFY_TOKEN").is_some() {
            "from configuration".to_owned()
        } else {
            format!("{}", args.data_dir.join(crate::TOKEN_FILE).display())
        }
    );
    on_bound(server.shutdown_handle(), tls);
    server.serve(apps.handler()).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        serve: ServeArgs,
    }

    #[test]
    fn the_chat_room_policy_comes_from_the_room_flags() {
        let cli = Cli::try_parse_from([
            "serve",
            "--room-backlog",
            "4096",
            "--room-grace",
            "200ms",
            "--room-hard-limit",
            "65536",
        ])
        .expect("flags parse");
        let room = cli.serve.app_config().expect("config").chat.room;
        assert_eq!(room.backlog, 4096);
        assert_eq!(room.grace, std::time::Duration::from_millis(200));
        assert_eq!(room.hard_limit, 65536);
        let default = Cli::try_parse_from(["serve"]).expect("no flags");
        let room = default.serve.app_config().expect("config").chat.room;
        assert_eq!(room.grace, ws_server::RoomPolicy::DEFAULT.grace);
    }
}

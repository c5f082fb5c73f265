//! The flags shared by the server subcommands: every limit and timeout of [`ws_server::Config`].

use clap::Args;
use std::time::Duration;
pub use ws_apps::flags::{parse_duration, RoomOptions};
use ws_server::Config;

/// Limits and timeouts (defaults are the library's).
#[derive(Args, Debug, Clone)]
pub struct ServerOptions {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:9001")]
    pub addr: String,
    /// Largest frame payload in bytes; a larger declared length is refused with 1009.
    #[arg(long, default_value_t = 16 << 20)]
    pub max_frame_size: u64,
    /// Largest message (sum of fragments) in bytes; past it, 1009.
    #[arg(long, default_value_t = 64 << 20)]
    pub max_message_size: u64,
    /// Most fragments per message; past it, 1009.
    #[arg(long, default_value_t = ws_server::Limits::DEFAULT.max_fragments)]
    pub max_fragments: u32,
    /// Largest handshake request head in bytes; past it, 431.
    #[arg(long, default_value_t = 8 << 10)]
    pub max_head_bytes: usize,
    /// Most request headers; past it, 431.
    #[arg(long, default_value_t = 64)]
    pub max_headers: usize,
    /// Largest HTTP request body (Content-Length) in bytes; past it, 413.
    #[arg(long, default_value_t = 64 << 10)]
    pub max_request_body: usize,
    /// Time for the TLS handshake (with --tls-*) and the whole request head to arrive (e.g. 10s, 500ms); a silent or trickling client is dropped.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub handshake_timeout: Duration,
    /// Send a ping after this long without receiving anything (0 disables).
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    pub idle_ping: Duration,
    /// Close with 1011 if the pong has not arrived this long after the ping (0 disables).
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    pub pong_timeout: Duration,
    /// After sending a close, drop TCP if the peer has not answered within this; also the grace
    /// period of a graceful shutdown.
    #[arg(long, default_value = "5s", value_parser = parse_duration)]
    pub close_timeout: Duration,
    /// Cap on queued outbound bytes per connection; reading pauses at the cap and a broadcast past it closes the connection with 1008.
    #[arg(long, default_value_t = 1 << 20)]
    pub max_outbound_bytes: usize,
    /// Most concurrent connections; past it, new requests get 503.
    #[arg(long, default_value_t = 10_000)]
    pub max_connections: usize,
    /// Read buffer in bytes, one per executor thread, lent to the connection that reads (idle connections hold none; echoed messages that fit are answered without allocating).
    #[arg(long, default_value_t = 256 << 10)]
    pub read_buffer: usize,
}

impl ServerOptions {
    /// The library configuration these flags describe.
    pub fn config(&self) -> Config {
        let mut c = Config::default();
        c.limits.max_frame_payload = self.max_frame_size;
        c.limits.max_message_size = self.max_message_size;
        c.limits.max_fragments = self.max_fragments;
        c.head.max_head_bytes = self.max_head_bytes;
        c.head.max_headers = self.max_headers;
        c.max_request_body = self.max_request_body;
        c.handshake_timeout = self.handshake_timeout;
        c.idle_ping = self.idle_ping;
        c.pong_timeout = self.pong_timeout;
        c.close_timeout = self.close_timeout;
        c.max_outbound_bytes = self.max_outbound_bytes;
        c.max_connections = self.max_connections;
        c.read_buffer = self.read_buffer;
        c
    }
}

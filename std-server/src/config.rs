//! Server and client configuration, with documented defaults.

use std::time::Duration;
use ws_core::limits::HeadLimits;
use ws_core::Limits;

use crate::budget::MessageBudget;
use crate::deflate::DeflateConfig;

/// How one connection behaves, in either role: limits, timeouts, buffers, permessage-deflate
/// and the message memory budget. A server's [`Config`] has the same fields plus the
/// server-only ones ([`Config::connection`] takes these out); a client gets only these
/// ([`ClientConfig::connection`]).
#[derive(Clone, Debug)]
pub struct ConnectionConfig {
    /// Frame and message size limits (default 16 MiB frames, 64 MiB messages); past them, 1009.
    pub limits: Limits,
    /// Handshake head limits (default 8 KiB, 64 headers): the request head a server reads (past
    /// them, 431), the response head a client reads.
    pub head: HeadLimits,
    /// Time allowed for the opening handshake (default 10 s): a server's whole request head (and
    /// body), a client's request and the server's answer.
    pub handshake_timeout: Duration,
    /// Send a ping after this long without receiving anything (default 30 s).
    pub idle_ping: Duration,
    /// Close with 1011 when no pong arrives this long after the ping (default 30 s), and drop
    /// the transport as soon as that close is written (the close timeout is not waited: a peer
    /// that does not answer pings will not answer a close either).
    pub pong_timeout: Duration,
    /// Drop the transport when the peer does not answer our close within this (default 5 s);
    /// also the grace period of a graceful shutdown.
    pub close_timeout: Duration,
    /// Cap on queued outbound bytes per connection (default 1 MiB): reading from the peer pauses
    /// (between its messages: the echo of a message still arriving is queued past the cap on a
    /// loan from [`Config::message_budget`]) while it is reached; a [`crate::Writer::send`] past
    /// it closes the connection with 1008.
    pub max_outbound_bytes: usize,
    /// Size of the read buffer (default 256 KiB). One buffer per executor thread is lent to the
    /// connection that is reading; a connection keeps only the bytes it has not processed yet (a
    /// partial frame), so an idle connection holds no read buffer. Echoes are written straight
    /// from it, without copying.
    pub read_buffer: usize,
    /// permessage-deflate (RFC 7692): what a server agrees to (`policy`) and what a client offers
    /// (`offer`), and the codec settings. Default: on, without context takeover either way (no
    /// codec memory between messages; see [`crate::deflate`]); [`DeflateConfig::DISABLED`]
    /// turns it off.
    pub deflate: DeflateConfig,
    /// The memory all connections sharing this budget may hold at once for messages they are
    /// reassembling for the application (default [`crate::DEFAULT_MESSAGE_BUDGET`], 256 MiB;
    /// clones share it). Past it, the connection whose chunk would exceed it is closed with 1013
    /// before the memory is taken. The echo path streams and uses none.
    pub message_budget: MessageBudget,
}

impl Default for ConnectionConfig {
    fn default() -> Self {
        Self {
            limits: Limits::DEFAULT,
            head: HeadLimits::DEFAULT,
            handshake_timeout: Duration::from_secs(10),
            idle_ping: Duration::from_secs(30),
            pong_timeout: Duration::from_secs(30),
            close_timeout: Duration::from_secs(5),
            max_outbound_bytes: 1 << 20,
            read_buffer: 256 << 10,
            deflate: DeflateConfig::DEFAULT,
            message_budget: MessageBudget::default(),
        }
    }
}

impl ConnectionConfig {
    /// The core's timer intervals in milliseconds (the clock unit this crate feeds ws-core).
    pub(crate) fn timers(&self) -> ws_core::Timers {
        ws_core::Timers {
            idle_ping: nonzero_ms(self.idle_ping),
            pong_timeout: nonzero_ms(self.pong_timeout),
            close_timeout: nonzero_ms(self.close_timeout),
        }
    }
}

/// A server's configuration: how each connection behaves (the fields of [`ConnectionConfig`])
/// plus the server-only limits.
#[derive(Clone, Debug)]
pub struct Config {
    /// Frame and message size limits (default 16 MiB frames, 64 MiB messages); past them, 1009.
    pub limits: Limits,
    /// Handshake head limits (default 8 KiB, 64 headers): the request head a server reads (past
    /// them, 431), the response head a client reads.
    pub head: HeadLimits,
    /// Time allowed for the opening handshake (default 10 s): a server's whole request head (and
    /// body), a client's request and the server's answer.
    pub handshake_timeout: Duration,
    /// Send a ping after this long without receiving anything (default 30 s).
    pub idle_ping: Duration,
    /// Close with 1011 when no pong arrives this long after the ping (default 30 s), and drop
    /// the transport as soon as that close is written (the close timeout is not waited: a peer
    /// that does not answer pings will not answer a close either).
    pub pong_timeout: Duration,
    /// Drop the transport when the peer does not answer our close within this (default 5 s);
    /// also the grace period of a graceful shutdown.
    pub close_timeout: Duration,
    /// Cap on queued outbound bytes per connection (default 1 MiB): reading from the peer pauses
    /// (between its messages: the echo of a message still arriving is queued past the cap on a
    /// loan from [`Config::message_budget`]) while it is reached; a [`crate::Writer::send`] past
    /// it closes the connection with 1008.
    pub max_outbound_bytes: usize,
    /// Size of the read buffer (default 256 KiB). One buffer per executor thread is lent to the
    /// connection that is reading; a connection keeps only the bytes it has not processed yet (a
    /// partial frame), so an idle connection holds no read buffer. Echoes are written straight
    /// from it, without copying.
    pub read_buffer: usize,
    /// permessage-deflate (RFC 7692): what a server agrees to (`policy`) and what a client offers
    /// (`offer`), and the codec settings. Default: on, without context takeover either way (no
    /// codec memory between messages; see [`crate::deflate`]); [`DeflateConfig::DISABLED`]
    /// turns it off.
    pub deflate: DeflateConfig,
    /// The memory all connections sharing this budget may hold at once for messages they are
    /// reassembling for the application (default [`crate::DEFAULT_MESSAGE_BUDGET`], 256 MiB;
    /// clones share it). Past it, the connection whose chunk would exceed it is closed with 1013
    /// before the memory is taken. The echo path streams and uses none.
    pub message_budget: MessageBudget,
    /// Most concurrent connections (default 10 000); past it, new requests get 503.
    pub max_connections: usize,
    /// Largest accepted HTTP request body (`Content-Length`, e.g. a POST form); past it, 413.
    /// Default 64 KiB.
    pub max_request_body: usize,
}

impl Default for Config {
    fn default() -> Self {
        // One place for the per-connection defaults.
        let c = ConnectionConfig::default();
        Self {
            limits: c.limits,
            head: c.head,
            handshake_timeout: c.handshake_timeout,
            idle_ping: c.idle_ping,
            pong_timeout: c.pong_timeout,
            close_timeout: c.close_timeout,
            max_outbound_bytes: c.max_outbound_bytes,
            read_buffer: c.read_buffer,
            deflate: c.deflate,
            message_budget: c.message_budget,
            max_connections: 10_000,
            max_request_body: 64 << 10,
        }
    }
}

impl Config {
    /// The per-connection part (the message budget is shared, not copied).
    pub fn connection(&self) -> ConnectionConfig {
        ConnectionConfig {
            limits: self.limits,
            head: self.head,
            handshake_timeout: self.handshake_timeout,
            idle_ping: self.idle_ping,
            pong_timeout: self.pong_timeout,
            close_timeout: self.close_timeout,
            max_outbound_bytes: self.max_outbound_bytes,
            read_buffer: self.read_buffer,
            deflate: self.deflate,
            message_budget: self.message_budget.clone(),
        }
    }
}

/// A zero duration disables the timer.
fn nonzero_ms(d: Duration) -> Option<u64> {
    let ms = u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
    (ms > 0).then_some(ms)
}

/// What a client asks for and how its connection behaves.
#[derive(Clone, Debug, Default)]
pub struct ClientConfig {
    /// Extra request headers (e.g. `Cookie`).
    pub headers: Vec<(String, String)>,
    /// Subprotocols to offer, in order of preference.
    pub subprotocols: Vec<String>,
    /// The `Origin` header, if any.
    pub origin: Option<String>,
    /// How the connection behaves: limits, timeouts, buffers, what permessage-deflate to offer.
    pub connection: ConnectionConfig,
    /// Which server certificates `wss://` accepts (default: Mozilla's roots, webpki-roots).
    #[cfg(feature = "tls")]
    pub tls: crate::tls::ClientTls,
}

//! What is under test: the echo server on each engine, on the bare-metal firmware under QEMU, or
//! at a URL given on the command line (server roles); or our client (client role).

use std::fmt;

/// One run of Autobahn against one of our peers; each has its own port and report directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// `ws-server echo` on the default engine (one task per connection), tested by the fuzzingclient.
    Server,
    /// `ws-server echo --engine loop` (one thread, one epoll), tested by the fuzzingclient.
    ServerLoop,
    /// `ws-server echo --engine app-loop` (the echo as an application's callbacks on the event
    /// loop: whole messages through `App::on_message` and `Conn::send`), tested by the
    /// fuzzingclient.
    ServerAppLoop,
    /// Our client (`ws_server::connect`), tested by the fuzzingserver.
    Client,
    /// The bare-metal echo firmware (embedded/net-echo: ws-core on smoltcp on a Cortex-M4 with a
    /// LAN9118, under QEMU `mps2-an386`), reached through QEMU's port forward on 127.0.0.1, tested
    /// by the fuzzingclient.
    ServerMcu,
    /// `ws-server echo --tls-cert --tls-key` (default engine over rustls), tested by the
    /// fuzzingclient over `wss://` (it does not verify certificates, so a self-signed one works).
    ServerTls,
    /// Our client over `wss://` (the certificate pinned), tested by the fuzzingserver started
    /// with that certificate and key.
    ClientTls,
    /// Any WebSocket server at the URL given with `--url` (a user's own device or product),
    /// tested by the fuzzingclient; never started, stopped or compared with expected results.
    External,
}

impl Role {
    /// Every role of the project's own report (what a default run runs), in run and table order.
    /// [`Role::External`] is not one: it runs only when `--url` names a server.
    pub const ALL: [Role; 7] = [
        Role::Server,
        Role::ServerLoop,
        Role::ServerAppLoop,
        Role::Client,
        Role::ServerMcu,
        Role::ServerTls,
        Role::ClientTls,
    ];

    /// The name used on the command line, in the expected file and as the report directory.
    pub fn name(self) -> &'static str {
        match self {
            Role::Server => "server",
            Role::ServerLoop => "server-loop",
            Role::ServerAppLoop => "server-app-loop",
            Role::Client => "client",
            Role::ServerMcu => "server-mcu",
            Role::ServerTls => "server-tls",
            Role::ClientTls => "client-tls",
            Role::External => "external",
        }
    }

    /// Parses a [`Role::name`].
    pub fn parse(name: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.name() == name)
    }

    /// The agent name in the Autobahn reports.
    pub fn agent(self) -> &'static str {
        match self {
            Role::Server => "ws-server",
            Role::ServerLoop => "ws-server-loop",
            Role::ServerAppLoop => "ws-server-app-loop",
            Role::Client => "ws-client",
            Role::ServerMcu => "ws-net-echo",
            Role::ServerTls => "ws-server-tls",
            Role::ClientTls => "ws-client-tls",
            Role::External => "external",
        }
    }

    /// True for the roles where wstest is the client and our echo server the testee.
    pub fn is_server(self) -> bool {
        !matches!(self, Role::Client | Role::ClientTls)
    }

    /// True for the roles whose testee is our `ws-server echo` binary (on the role's engine).
    pub fn runs_ws_server(self) -> bool {
        matches!(
            self,
            Role::Server | Role::ServerLoop | Role::ServerAppLoop | Role::ServerTls
        )
    }

    /// True for the roles that run over TLS (`wss://`).
    pub fn is_tls(self) -> bool {
        matches!(self, Role::ServerTls | Role::ClientTls)
    }

    /// The case patterns a full run of this role covers: every case, except for the TLS roles,
    /// which run sections 1 to 10. Sections 12 and 13 (permessage-deflate) do not change with the
    /// transport and take the suite's Python side about 10 minutes per role; CI stays within its
    /// time with the TLS roles beside the others.
    pub fn full_cases(self) -> &'static [&'static str] {
        if self.is_tls() {
            &[
                "1.*", "2.*", "3.*", "4.*", "5.*", "6.*", "7.*", "8.*", "9.*", "10.*",
            ]
        } else {
            &["*"]
        }
    }

    /// Arguments after `ws-server echo --addr ADDR` that select the engine (server roles only).
    pub fn engine_args(self) -> &'static [&'static str] {
        match self {
            Role::ServerLoop => &["--engine", "loop"],
            Role::ServerAppLoop => &["--engine", "app-loop"],
            Role::Server
            | Role::Client
            | Role::ServerMcu
            | Role::ServerTls
            | Role::ClientTls
            | Role::External => &[],
        }
    }

    /// One line saying what runs, for the summary.
    pub fn describe(self) -> &'static str {
        match self {
            Role::Server => "`ws-server echo` (default engine: a task per connection) under wstest -m fuzzingclient",
            Role::ServerLoop => "`ws-server echo --engine loop` (one thread, one epoll) under wstest -m fuzzingclient",
            Role::ServerAppLoop => "`ws-server echo --engine app-loop` (the echo as an application on the event loop) under wstest -m fuzzingclient",
            Role::Client => "the ws_server::connect echo client under wstest -m fuzzingserver",
            Role::ServerMcu => "the bare-metal echo firmware (ws-core + smoltcp + LAN9118 on a Cortex-M4, QEMU mps2-an386, 64 KiB of RAM) through QEMU's port forward, under wstest -m fuzzingclient",
            Role::ServerTls => "`ws-server echo --tls-cert --tls-key` (default engine over rustls) under wstest -m fuzzingclient over wss://, sections 1-10",
            Role::ClientTls => "the ws_server::connect echo client over wss:// (certificate pinned) under wstest -m fuzzingserver with a key and certificate, sections 1-10",
            Role::External => "the server at --url under wstest -m fuzzingclient",
        }
    }

    /// What to expect of sections 12 and 13 (permessage-deflate), when it differs from "OK".
    pub fn deflate_note(self) -> Option<&'static str> {
        match self {
            Role::ServerMcu => Some(
                "the firmware declines permessage-deflate (no inflater in static memory), so \
                 Autobahn marks every case of sections 12 and 13 UNIMPLEMENTED; they still run and \
                 check that the declined offer gets a 101 and a clean close handshake",
            ),
            Role::Server
            | Role::ServerLoop
            | Role::ServerAppLoop
            | Role::Client
            | Role::ServerTls
            | Role::ClientTls
            | Role::External => None,
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

//! What is under test: the echo server on each engine (server role) or our client (client role).

use std::fmt;

/// One run of Autobahn against one of our peers; each has its own port and report directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// `ws-server echo` on the default engine (one task per connection), tested by the fuzzingclient.
    Server,
    /// `ws-server echo --engine loop` (one thread, one epoll), tested by the fuzzingclient.
    ServerLoop,
    /// Our client (`ws_server::connect`), tested by the fuzzingserver.
    Client,
}

impl Role {
    /// Every role, in run and table order.
    pub const ALL: [Role; 3] = [Role::Server, Role::ServerLoop, Role::Client];

    /// The name used on the command line, in the expected file and as the report directory.
    pub fn name(self) -> &'static str {
        match self {
            Role::Server => "server",
            Role::ServerLoop => "server-loop",
            Role::Client => "client",
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
            Role::Client => "ws-client",
        }
    }

    /// True for the roles where wstest is the client and our echo server the testee.
    pub fn is_server(self) -> bool {
        self != Role::Client
    }

    /// Arguments after `ws-server echo --addr ADDR` that select the engine (server roles only).
    pub fn engine_args(self) -> &'static [&'static str] {
        match self {
            Role::ServerLoop => &["--engine", "loop"],
            Role::Server | Role::Client => &[],
        }
    }

    /// One line saying what runs, for the summary.
    pub fn describe(self) -> &'static str {
        match self {
            Role::Server => "`ws-server echo` (default engine: a task per connection) under wstest -m fuzzingclient",
            Role::ServerLoop => "`ws-server echo --engine loop` (one thread, one epoll) under wstest -m fuzzingclient",
            Role::Client => "the ws_server::connect echo client under wstest -m fuzzingserver",
        }
    }

    /// What to expect of sections 12 and 13 (permessage-deflate), when it differs from "OK".
    pub fn deflate_note(self) -> Option<&'static str> {
        match self {
            Role::Server | Role::ServerLoop | Role::Client => None,
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

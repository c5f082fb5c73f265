//! Load generator and peer echo servers for benchmarking ws-server.
//!
//! The `ws-load` binary drives an echo server over loopback: many non-blocking connections on one
//! thread (mio), pre-masked client frames built once, a window of messages in flight per
//! connection, a latency histogram and one JSON line of results. Its idle mode holds N handshaken
//! connections and reports the server's resident memory per connection. `fws-echo` and `tt-echo`
//! are the peer servers (fastwebsockets and tokio-tungstenite) measured in the same run, and
//! `ws-bench-report` turns the JSON lines into the markdown table. The broadcast mode
//! ([`room`]) drives N members of one room on `/room` against `ws-server room`, `fws-room` and
//! `tt-room`: one publisher, every member checks it gets every message in order; with stalled
//! members (`--stalled K`) the last K stop reading, and the record says what the server did with
//! them while the others' latency is measured.
//!
//! What it does not do: TLS, compression, fragmented client messages, talking to anything but
//! loopback addresses.

pub mod args;
pub mod fws_echo;
pub mod handshake;
pub mod idle;
pub mod load;
pub mod procfs;
pub mod report;
pub mod room;
pub mod wire;

/// The `--addr` argument of a server binary, or `default`.
pub fn addr_arg(default: &str) -> String {
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        if a == "--addr" {
            if let Some(v) = it.next() {
                return v;
            }
        }
    }
    default.to_string()
}

/// Raises this process's soft descriptor limit to its hard limit (the broadcast scenarios hold
/// 10 000 sockets in one process); returns the limit now in force.
pub fn raise_fd_limit() -> std::io::Result<u64> {
    use rustix::process::{getrlimit, setrlimit, Resource};
    let mut lim = getrlimit(Resource::Nofile);
    if lim.current != lim.maximum {
        lim.current = lim.maximum;
        setrlimit(Resource::Nofile, lim)?;
    }
    Ok(lim.current.unwrap_or(u64::MAX))
}

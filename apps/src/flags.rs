//! Command-line flags the library's [`crate::serve::ServeArgs`] shares with the binary's other
//! subcommands.

use clap::Args;
use std::time::Duration;
use ws_server::RoomPolicy;

/// The room's backpressure (defaults: [`RoomPolicy::DEFAULT`]).
#[derive(Args, Debug, Clone)]
pub struct RoomOptions {
    /// Soft limit in bytes on what a member's socket has not taken; staying above it for longer
    /// than --room-grace closes the member with 1008.
    #[arg(long, default_value_t = RoomPolicy::DEFAULT.backlog)]
    pub room_backlog: usize,
    /// How long a member may stay above --room-backlog (e.g. 5s, 500ms).
    #[arg(long, default_value = "5s", value_parser = parse_duration)]
    pub room_grace: Duration,
    /// Hard limit in bytes on everything queued to a member: passing it closes it with 1008 at once.
    #[arg(long, default_value_t = RoomPolicy::DEFAULT.hard_limit)]
    pub room_hard_limit: usize,
}

impl RoomOptions {
    /// The policy these flags describe.
    pub fn policy(&self) -> RoomPolicy {
        RoomPolicy {
            backlog: self.room_backlog,
            grace: self.room_grace,
            hard_limit: self.room_hard_limit,
        }
    }
}

/// Parses `10s`, `500ms`, `2m` or a plain number of seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (num, unit) = match s.find(|c: char| !c.is_ascii_digit() && c != '.') {
        Some(i) => (
            s.get(..i).unwrap_or_default(),
            s.get(i..).unwrap_or_default(),
        ),
        None => (s, "s"),
    };
    let n: f64 = num.parse().map_err(|_| format!("not a duration: {s:?}"))?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" => n,
        "m" => n * 60.0,
        _ => return Err(format!("unknown unit in {s:?} (use ms, s or m)")),
    };
    Duration::try_from_secs_f64(secs).map_err(|e| e.to_string())
}

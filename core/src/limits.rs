//! Limits and timer intervals, with safe defaults.

/// Bounds on what a peer may make this side hold or process.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest accepted frame payload; a larger declared length fails with 1009 from the header
    /// alone. Default 16 MiB.
    pub max_frame_payload: u64,
    /// Largest accepted message (sum of its fragments); past it, 1009. Default 64 MiB.
    pub max_message_size: u64,
    /// Most fragments in one message; past it, 1009. Default 1 Mi (a 64 MiB message in 64-byte
    /// fragments; Autobahn 9.3.1 sends 4 MiB as 65 537 frames).
    pub max_fragments: u32,
}

impl Limits {
    /// The defaults: 16 MiB frames, 64 MiB messages, 1 Mi fragments per message.
    pub const DEFAULT: Self = Self {
        max_frame_payload: 16 << 20,
        max_message_size: 64 << 20,
        max_fragments: 1 << 20,
    };
}

impl Default for Limits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// Timer intervals in the caller's time unit (the same unit as the `now` values it passes in,
/// e.g. milliseconds). `None` disables a timer. Default: all disabled.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Timers {
    /// Send a keep-alive ping after this long without receiving anything.
    pub idle_ping: Option<u64>,
    /// Fail the connection with 1011 when no pong arrives this long after our ping.
    pub pong_timeout: Option<u64>,
    /// After sending a close, report the transport must be dropped if the peer has not answered
    /// within this long.
    pub close_timeout: Option<u64>,
}

/// Bounds on an HTTP request or response head.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeadLimits {
    /// Largest head in bytes, up to and including the blank line; past it, 431. Default 8 KiB.
    pub max_head_bytes: usize,
    /// Most header lines; past it, 431. Default 64.
    pub max_headers: usize,
}

impl HeadLimits {
    /// The defaults: 8 KiB and 64 headers.
    pub const DEFAULT: Self = Self {
        max_head_bytes: 8 << 10,
        max_headers: 64,
    };
}

impl Default for HeadLimits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

//! The read buffer all connections of one event loop share: the connection whose socket is
//! ready reads into it, and its echoes are written from it before the next one reads. Beside it,
//! what the connection being served has for the application (its opening, its messages), where
//! its processing stopped for the application to hear a message, and its turn so far.

use crate::config::Config;
use crate::driver::Mode;
use crate::message::Message;
use std::time::Instant;
use ws_core::connection::MIN_INPUT;

/// Room for frames that follow a request head in the same read.
const HEAD_SLACK: usize = 4096;

/// The loop's shared read buffer.
pub(super) struct Scratch {
    /// The kept bytes of the connection being served, then what one read brought.
    pub(super) buf: Vec<u8>,
    /// What goes to the application.
    pub(super) to_app: ToApp,
    /// Set when the connection being served stopped at a message: the rest of what it read is
    /// still in `buf`, to be processed once the application has heard the message (and queued
    /// its answer ahead of anything the bytes behind it make the connection send).
    pub(super) resume: Option<Resume>,
    /// The reads of the connection being served in this turn (resuming is part of the turn).
    pub(super) turn: Turn,
}

/// Where processing stopped in [`Scratch::buf`]: `buf[at..len]` is still to be processed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Resume {
    /// The first byte not processed.
    pub(super) at: usize,
    /// The end of what was read.
    pub(super) len: usize,
}

/// One connection's turn: how many reads it made and when its second one began.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Turn {
    /// Reads so far.
    pub(super) reads: usize,
    /// When the second read began (most turns need one read, and a clock read per turn showed
    /// in the round-trip profile).
    pub(super) started: Option<Instant>,
}

/// What the connection being served has for the application.
pub(super) struct ToApp {
    /// How the loop's connections consume messages: echoed, or handed to the application.
    pub(super) mode: Mode,
    /// Its opening and messages, in order.
    pub(super) events: Vec<AppEvent>,
}

/// Something the application hears about one connection.
pub(super) enum AppEvent {
    /// It was upgraded; the path it asked for.
    Open(Box<str>),
    /// It sent this message.
    Message(Message),
}

impl Scratch {
    /// A buffer for `config`: `config.read_buffer`, at least a whole request head (plus slack)
    /// and a whole control frame.
    pub(super) fn new(config: &Config, mode: Mode) -> Self {
        let size = config
            .read_buffer
            .max(config.head.max_head_bytes + HEAD_SLACK)
            .max(2 * MIN_INPUT);
        Self {
            buf: vec![0; size],
            to_app: ToApp {
                mode,
                events: Vec::new(),
            },
            resume: None,
            turn: Turn::default(),
        }
    }
}

//! The buffers all connections of one event loop share: input is read into `buf` by the
//! connection whose socket is ready, and its replies collect in `out` until one write.

use super::batch::Batch;
use crate::config::Config;
use ws_core::connection::MIN_INPUT;

/// Room for frames that follow a request head in the same read.
const HEAD_SLACK: usize = 4096;

/// The loop's shared read buffer and output batch.
pub(super) struct Scratch {
    /// Read buffer: the kept bytes of the connection being served, then what one read brought.
    pub(super) buf: Vec<u8>,
    /// Replies to one read, written with one (vectored) write.
    pub(super) out: Batch,
}

impl Scratch {
    /// Buffers for `config`: the read buffer is `config.read_buffer`, at least a whole request
    /// head (plus slack) and a whole control frame.
    pub(super) fn new(config: &Config) -> Self {
        let size = config
            .read_buffer
            .max(config.head.max_head_bytes + HEAD_SLACK)
            .max(2 * MIN_INPUT);
        Self {
            buf: vec![0; size],
            out: Batch::with_capacity(64 << 10),
        }
    }
}

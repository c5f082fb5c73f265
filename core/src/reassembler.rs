//! A fixed-capacity reassembler for embedded users: turns [`crate::Event::Data`] chunks into
//! whole messages of up to `N` bytes and answers 1009 past `N`.
//!
//! ```
//! use ws_core::reassembler::Reassembler;
//! use ws_core::MessageKind;
//! let mut r = Reassembler::<16>::new();
//! assert_eq!(r.push(MessageKind::Text, b"Hel", false), Ok(None));
//! assert_eq!(r.push(MessageKind::Text, b"lo", true), Ok(Some((MessageKind::Text, &b"Hello"[..]))));
//! // Past N bytes: fail the connection with 1009.
//! assert!(r.push(MessageKind::Binary, &[0; 17], true).is_err());
//! ```

use crate::connection::{Event, MessageKind};
use crate::error::ProtocolError;

/// Collects one message of up to `N` bytes at a time.
#[derive(Clone, Debug, Default)]
pub struct Reassembler<const N: usize> {
    buf: heapless::Vec<u8, N>,
    /// The last push completed a message: clear before the next one.
    complete: bool,
}

impl<const N: usize> Reassembler<N> {
    /// An empty reassembler.
    pub const fn new() -> Self {
        Self {
            buf: heapless::Vec::new(),
            complete: false,
        }
    }

    /// Appends a chunk; returns the whole message when `end` is set. A message longer than `N`
    /// bytes gives [`ProtocolError::MessageTooLarge`] (close code 1009): fail the connection (e.g.
    /// with [`crate::Connection::send_close`] and that code). The buffer is then emptied.
    pub fn push(
        &mut self,
        kind: MessageKind,
        chunk: &[u8],
        end: bool,
    ) -> Result<Option<(MessageKind, &[u8])>, ProtocolError> {
        if core::mem::take(&mut self.complete) {
            self.buf.clear();
        }
        if self.buf.extend_from_slice(chunk).is_err() {
            self.buf.clear();
            return Err(ProtocolError::MessageTooLarge);
        }
        if end {
            self.complete = true;
            Ok(Some((kind, self.buf.as_slice())))
        } else {
            Ok(None)
        }
    }

    /// [`Reassembler::push`] for an event: data chunks are collected, other events give `None`.
    pub fn push_event(
        &mut self,
        event: &Event<'_>,
    ) -> Result<Option<(MessageKind, &[u8])>, ProtocolError> {
        match *event {
            Event::Data {
                kind, payload, end, ..
            } => self.push(kind, payload, end),
            _ => Ok(None),
        }
    }

    /// Bytes collected for the message in progress.
    pub fn len(&self) -> usize {
        if self.complete {
            0
        } else {
            self.buf.len()
        }
    }

    /// Whether no bytes of a message in progress are held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

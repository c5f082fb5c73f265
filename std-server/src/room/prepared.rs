//! A message sent to many connections one by one, framed once: for fan-outs that a [`super::Room`]
//! does not fit (each recipient chosen or told something of its own, e.g. a position in a log).

use super::frames::Frames;
use crate::driver::Framing;
use crate::message::Message;
use crate::shared::Item;

/// A message framed on first use, once per framing its recipients need (plain, and once per set
/// of permessage-deflate settings), like a [`super::Room`]'s publish; each
/// [`crate::Writer::send_prepared`] then queues a reference to those bytes, never a copy.
///
/// ```
/// use ws_server::{Message, Prepared};
/// let mut news = Prepared::new(Message::Text("hello".into()));
/// // for each chosen writer: `writer.send_prepared(&mut news)?;`
/// assert_eq!(news.message(), &Message::Text("hello".into()));
/// assert_eq!(news.frames_made(), 0); // nothing framed until the first send
/// ```
#[derive(Debug)]
pub struct Prepared {
    frames: Frames<'static>,
}

impl Prepared {
    /// `msg`, not framed yet.
    pub fn new(msg: Message) -> Self {
        Self {
            frames: Frames::owned(msg),
        }
    }

    /// The message.
    pub fn message(&self) -> &Message {
        self.frames.message()
    }

    /// How many distinct frames were made so far (plain and compressed).
    pub fn frames_made(&self) -> usize {
        self.frames.made()
    }

    /// What a connection that takes `framing` queues (see [`Frames::share`]).
    pub(crate) fn item_for(&mut self, framing: Framing) -> Item {
        self.frames.share(framing).into()
    }
}

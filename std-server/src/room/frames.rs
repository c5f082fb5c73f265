//! One published message's frames: made once per framing the room's members need (plain, and
//! one per set of permessage-deflate settings), then shared by reference.

use crate::deflate::SharedKey;
use crate::driver::Framing;
use crate::message::Message;
use std::borrow::Cow;
use std::sync::Arc;
use ws_core::frame::FrameHeader;
use ws_core::{MessageKind, OpCode};

/// The frames of one message, made on first use.
#[derive(Debug)]
pub(crate) struct Frames<'a> {
    /// Borrowed for one publish, owned by a [`super::Prepared`].
    msg: Cow<'a, Message>,
    plain: Option<Arc<[u8]>>,
    /// One per deflate key seen so far (rooms rarely see more than one or two).
    deflated: Vec<(SharedKey, Arc<[u8]>)>,
    /// How many frames were made (plain and compressed).
    made: usize,
}

impl<'a> Frames<'a> {
    /// No frame made yet for `msg`.
    pub(crate) fn new(msg: &'a Message) -> Self {
        Self {
            msg: Cow::Borrowed(msg),
            plain: None,
            deflated: Vec::new(),
            made: 0,
        }
    }

    /// No frame made yet for `msg`, which it keeps.
    pub(crate) fn owned(msg: Message) -> Frames<'static> {
        Frames {
            msg: Cow::Owned(msg),
            plain: None,
            deflated: Vec::new(),
            made: 0,
        }
    }

    /// The message.
    pub(crate) fn message(&self) -> &Message {
        &self.msg
    }

    /// How many distinct frames were made.
    pub(crate) fn made(&self) -> usize {
        self.made
    }

    /// What a connection that takes `framing` is sent: the shared frame (borrowed: a queue that
    /// copies a small frame in needs no reference of its own), or the message itself when it
    /// frames its own (client role, context takeover).
    #[inline(always)]
    pub(crate) fn share(&mut self, framing: Framing) -> Share<'_> {
        match framing {
            Framing::Own => Share::Message(self.msg.clone().into_owned()),
            Framing::Plain => Share::Frame(self.plain()),
            Framing::Deflate(key) => Share::Frame(self.deflated(key)),
        }
    }

    /// The frame compressed with `key`, made on first use.
    fn deflated(&mut self, key: SharedKey) -> &Arc<[u8]> {
        let Self {
            msg,
            plain,
            deflated,
            made,
        } = self;
        let at = match deflated.iter().position(|(k, _)| *k == key) {
            Some(at) => at,
            None => {
                let frame = match key.compress(msg.as_bytes()) {
                    Some(z) => {
                        *made += 1;
                        frame(msg.kind(), true, &z)
                    }
                    // Not worth compressing for this key: the plain frame, shared with the rest.
                    None => plain_frame(msg, plain, made).clone(),
                };
                deflated.push((key, frame));
                deflated.len() - 1
            }
        };
        match deflated.get(at) {
            Some((_, f)) => f,
            None => plain_frame(msg, plain, made),
        }
    }

    #[inline]
    fn plain(&mut self) -> &Arc<[u8]> {
        plain_frame(&self.msg, &mut self.plain, &mut self.made)
    }
}

/// The plain frame of `msg`, made on first use (counted in `made`).
fn plain_frame<'p>(
    msg: &Message,
    plain: &'p mut Option<Arc<[u8]>>,
    made: &mut usize,
) -> &'p Arc<[u8]> {
    plain.get_or_insert_with(|| {
        *made += 1;
        frame(msg.kind(), false, msg.as_bytes())
    })
}

/// One connection's part of a message made for many.
#[derive(Debug)]
pub(crate) enum Share<'f> {
    /// A whole frame shared by reference.
    Frame(&'f Arc<[u8]>),
    /// The message, for a connection that frames its own.
    Message(Message),
}

impl Share<'_> {
    /// The bytes it adds to the connection's backlog.
    pub(crate) fn len(&self) -> usize {
        match self {
            Self::Frame(f) => f.len(),
            Self::Message(m) => m.len(),
        }
    }
}

/// A whole unmasked server frame (RSV1 set when `compressed`, RFC 7692 §6), in one allocation.
pub(crate) fn frame(kind: MessageKind, compressed: bool, payload: &[u8]) -> Arc<[u8]> {
    let header = FrameHeader {
        fin: true,
        rsv1: compressed,
        rsv2: false,
        rsv3: false,
        opcode: match kind {
            MessageKind::Text => OpCode::Text,
            MessageKind::Binary => OpCode::Binary,
        },
        mask: None,
        payload_len: payload.len() as u64,
    };
    let mut head = [0u8; ws_core::frame::MAX_HEADER_LEN];
    let n = header.encode(&mut head).unwrap_or(0);
    // A chain of two slices has an exact length: collected into the Arc with one allocation.
    head.get(..n)
        .unwrap_or_default()
        .iter()
        .chain(payload)
        .copied()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_match_rfc_6455_section_5_7() {
        // "Hello", unmasked text: 81 05 48 65 6c 6c 6f.
        assert_eq!(
            &*frame(MessageKind::Text, false, b"Hello"),
            &[0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]
        );
        // 256 bytes binary: 82 7E 01 00 then the payload.
        let f = frame(MessageKind::Binary, false, &[9; 256]);
        assert_eq!(&f[..4], &[0x82, 0x7E, 0x01, 0x00]);
        assert_eq!(f.len(), 260);
        // Compressed: RSV1 set (RFC 7692 §6).
        assert_eq!(frame(MessageKind::Text, true, &[0])[0], 0xC1);
    }

    #[test]
    fn a_framing_costs_each_connection_twelve_bytes() {
        // Held by every connection's shared state, idle ones included.
        assert!(std::mem::size_of::<Framing>() <= 12);
    }

    #[test]
    fn the_plain_frame_is_made_once() {
        let msg = Message::Text("hi".into());
        let mut frames = Frames::new(&msg);
        let frame = |share: Share<'_>| match share {
            Share::Frame(f) => Some(f.clone()),
            Share::Message(_) => None,
        };
        let a = frame(frames.share(Framing::Plain));
        let b = frame(frames.share(Framing::Plain));
        assert!(matches!((a, b), (Some(a), Some(b)) if Arc::ptr_eq(&a, &b)));
        assert_eq!(frame(frames.share(Framing::Own)), None);
        assert_eq!(frames.made(), 1);
    }
}

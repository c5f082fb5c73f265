//! How an echoing connection takes the next incoming frame, decided from its header: await it
//! whole (binary that fits the read buffer: echoed in place), feed it to ws-core as it comes, or
//! echo it chunk by chunk as it arrives (pass-through). Shared by both echo engines.

use ws_core::frame::FrameHeader;
use ws_core::{Limits, OpCode};

/// Whether the current incoming frame is echoed as it arrives (binary frames larger than the
/// read buffer: echoing chunk by chunk needs no reassembly and cannot go wrong half-way, since
/// binary payload cannot turn invalid).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Passthrough {
    /// No: frames are echoed whole or reassembled.
    Off,
    /// Yes; the echo's header (for this payload length) is not written yet.
    Header(u64),
    /// Yes; header written, each chunk goes out as it comes.
    Body,
}

/// What to do with a frame whose header was just parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Plan {
    /// Wait for more input: a whole binary frame that fits the read buffer is awaited.
    Await,
    /// Give it to ws-core now: `frame_len` bytes (header included) belong to it.
    Take {
        /// Header plus payload length.
        frame_len: u64,
        /// How its echo is produced.
        passthrough: Passthrough,
    },
}

/// The plan for frame `h` (header `header_len` bytes) with `available` bytes of it buffered and
/// a read buffer of `buffer` bytes. `may_pass_through`: the connection can echo this frame as it
/// comes (an echo server with no message being reassembled and no compression).
pub(crate) fn plan(
    h: &FrameHeader,
    header_len: usize,
    available: usize,
    buffer: usize,
    limits: &Limits,
    may_pass_through: bool,
) -> Plan {
    let frame_len = header_len as u64 + h.payload_len;
    let fits = frame_len <= buffer as u64 && h.payload_len <= limits.max_frame_payload;
    // Text goes to the core as it comes so invalid UTF-8 fails fast (RFC 6455 §8.1, Autobahn
    // 6.4.3).
    if fits && (available as u64) < frame_len && h.opcode == OpCode::Binary {
        return Plan::Await;
    }
    let pass = may_pass_through
        && !fits
        && h.opcode == OpCode::Binary
        && h.fin
        && h.payload_len <= limits.max_frame_payload
        && h.payload_len <= limits.max_message_size;
    Plan::Take {
        frame_len,
        passthrough: if pass {
            Passthrough::Header(h.payload_len)
        } else {
            Passthrough::Off
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ws_core::Role;

    fn header(bytes: &[u8]) -> (FrameHeader, usize) {
        match FrameHeader::parse(bytes, Role::Server) {
            Ok(Some(h)) => h,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn binary_that_fits_is_awaited_text_is_not() {
        // Masked binary and text frames of 100 bytes, 10 of them buffered, 1 KiB buffer.
        let (bin, hl) = header(&[0x82, 0xe4, 1, 2, 3, 4]);
        assert_eq!(
            plan(&bin, hl, 10, 1024, &Limits::DEFAULT, true),
            Plan::Await
        );
        let (text, hl) = header(&[0x81, 0xe4, 1, 2, 3, 4]);
        let take = Plan::Take {
            frame_len: 106,
            passthrough: Passthrough::Off,
        };
        assert_eq!(plan(&text, hl, 10, 1024, &Limits::DEFAULT, true), take);
        assert_eq!(plan(&bin, hl, 106, 1024, &Limits::DEFAULT, true), take);
    }

    #[test]
    fn binary_larger_than_the_buffer_passes_through_when_allowed() {
        // FIN binary, 64 KiB payload (16-bit length), 1 KiB buffer.
        let (h64k, hl) = header(&[0x82, 0xfe, 0xff, 0xff, 1, 2, 3, 4]);
        let through = plan(&h64k, hl, 10, 1024, &Limits::DEFAULT, true);
        assert_eq!(
            through,
            Plan::Take {
                frame_len: 8 + 65535,
                passthrough: Passthrough::Header(65535)
            }
        );
        let assembled = plan(&h64k, hl, 10, 1024, &Limits::DEFAULT, false);
        assert_eq!(
            assembled,
            Plan::Take {
                frame_len: 8 + 65535,
                passthrough: Passthrough::Off
            }
        );
        // Not the last fragment, or over the message limit: never passed through.
        let (frag, _) = header(&[0x02, 0xfe, 0xff, 0xff, 1, 2, 3, 4]);
        let small = Limits {
            max_message_size: 1000,
            ..Limits::DEFAULT
        };
        for (h, limits) in [(&frag, Limits::DEFAULT), (&h64k, small)] {
            match plan(h, hl, 10, 1024, &limits, true) {
                Plan::Take { passthrough, .. } => assert_eq!(passthrough, Passthrough::Off),
                Plan::Await => panic!("awaited"),
            }
        }
    }
}

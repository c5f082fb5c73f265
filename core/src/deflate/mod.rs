//! permessage-deflate (RFC 7692): negotiation in both roles, and the codec traits.
//!
//! This module parses and writes `Sec-WebSocket-Extensions` values and decides the parameters;
//! it does not compress. Compression sits behind [`Compressor`] and [`Decompressor`], implemented
//! outside the core (ws-server implements them on zlib-rs), so an embedded user can plug in their own.
//!
//! Server: [`ServerPolicy::negotiate`] picks the first acceptable offer (an unacceptable offer is
//! declined and the next is tried; none acceptable means no extension, never an error) and
//! [`Negotiated::write_response`] writes the response value. Client: [`ClientOffer::write`] writes
//! the offer and [`ClientOffer::accept`] validates the server's answer.
//!
//! ```
//! use ws_core::deflate::{ServerPolicy, PerMessageDeflate};
//! let chrome = "permessage-deflate; client_max_window_bits";
//! let policy = ServerPolicy { client_max_window_bits: 12, ..ServerPolicy::DEFAULT };
//! let agreed = policy.negotiate([chrome]).unwrap();
//! let mut buf = [0u8; 128];
//! assert_eq!(agreed.write_response(&mut buf).unwrap(),
//!            "permessage-deflate; client_max_window_bits=12");
//! assert_eq!(agreed.params.client_max_window_bits, 12);
//! ```

mod client;
mod codec;
mod lexer;
pub(crate) mod parse;
mod server;
mod write;

pub use client::{AnswerError, ClientOffer};
pub use codec::{Compressor, Decompressor, Step};
pub use parse::EXTENSION_NAME;
pub use server::{Negotiated, ServerPolicy};

use crate::Role;

/// The longest value [`Negotiated::write_response`] or [`ClientOffer::write`] can produce.
pub const MAX_HEADER_VALUE_LEN: usize = 128;

/// The four bytes a sync flush ends with, removed from each message by the sender and appended by
/// the receiver before inflating (RFC 7692 §7.2.1, §7.2.2).
pub const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

/// The agreed parameters of an active permessage-deflate extension (RFC 7692 §7.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PerMessageDeflate {
    /// The server resets its compression context after each message.
    pub server_no_context_takeover: bool,
    /// The client resets its compression context after each message.
    pub client_no_context_takeover: bool,
    /// The largest LZ77 window (log2, 8..=15) the server compresses with.
    pub server_max_window_bits: u8,
    /// The largest LZ77 window (log2, 8..=15) the client compresses with.
    pub client_max_window_bits: u8,
}

impl PerMessageDeflate {
    /// The parameters when none were given: context takeover both ways, 32 KiB windows.
    pub const DEFAULT: Self = Self {
        server_no_context_takeover: false,
        client_no_context_takeover: false,
        server_max_window_bits: 15,
        client_max_window_bits: 15,
    };

    /// How this side, as `role`, compresses what it sends.
    pub const fn outgoing(&self, role: Role) -> Direction {
        match role {
            Role::Server => {
                Direction::new(self.server_max_window_bits, self.server_no_context_takeover)
            }
            Role::Client => {
                Direction::new(self.client_max_window_bits, self.client_no_context_takeover)
            }
        }
    }

    /// How the peer compresses what this side, as `role`, receives.
    pub const fn incoming(&self, role: Role) -> Direction {
        match role {
            Role::Server => self.outgoing(Role::Client),
            Role::Client => self.outgoing(Role::Server),
        }
    }
}

impl Default for PerMessageDeflate {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// The parameters of one direction of a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Direction {
    /// The agreed maximum window (log2, 8..=15).
    pub max_window_bits: u8,
    /// Whether the context is reset after each message.
    pub no_context_takeover: bool,
}

impl Direction {
    const fn new(max_window_bits: u8, no_context_takeover: bool) -> Self {
        Self {
            max_window_bits,
            no_context_takeover,
        }
    }

    /// The window to give a zlib-style codec: the agreed one, but at least 9. zlib cannot deflate
    /// raw streams with an 8-bit window; with 9 its matches reach at most 250 bytes back, within
    /// the 256 bytes an 8-bit peer allows, and an inflater with a larger window accepts any stream.
    pub const fn zlib_window_bits(&self) -> u8 {
        if self.max_window_bits < 9 {
            9
        } else {
            self.max_window_bits
        }
    }
}

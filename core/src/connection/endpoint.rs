//! The two ends of a connection as types (RFC 6455 §5.1, §5.3): a [`Server`] never masks; a
//! [`Client`] masks every frame it sends with a fresh key from the source it was built with.
//!
//! The role is chosen once, at construction, so no call takes a mask key: a server cannot be
//! handed one and a client cannot be handed a forgotten or stale one.
//!
//! ```compile_fail
//! // A server takes no mask key.
//! use ws_core::{Connection, Limits, MessageKind, Timers};
//! let mut server = Connection::server(Limits::DEFAULT, Timers::default(), 0);
//! server.send_data(MessageKind::Text, b"x", true, [1, 2, 3, 4], &mut [0u8; 16]);
//! ```
//!
//! ```compile_fail
//! // A client cannot be built without a key source.
//! use ws_core::{Connection, Limits, Timers};
//! let client = Connection::client(Limits::DEFAULT, Timers::default(), 0);
//! ```
//!
//! ```compile_fail
//! // `receive` takes room for a whole reply, not any slice.
//! use ws_core::{Connection, Limits, Timers};
//! let mut server = Connection::server(Limits::DEFAULT, Timers::default(), 0);
//! server.receive(&mut [0x89, 0x80, 0, 0, 0, 0], &mut [0u8; 8], 0);
//! ```

use crate::Role;

/// Where a client's mask keys come from. RFC 6455 §5.3: each key must be unpredictable (from a
/// strong source of entropy), so the core has no generator of its own; pass one in, e.g. a
/// closure over the platform's RNG: `|| rand::random()`.
pub trait MaskKeys {
    /// The key for the next frame.
    fn next_key(&mut self) -> [u8; 4];
}

impl<F: FnMut() -> [u8; 4]> MaskKeys for F {
    fn next_key(&mut self) -> [u8; 4] {
        self()
    }
}

mod sealed {
    /// Only [`super::Server`] and [`super::Client`] are endpoints.
    pub trait Sealed {}
    impl Sealed for super::Server {}
    impl<K: super::MaskKeys> Sealed for super::Client<K> {}
}

/// A connection's role as a type: [`Server`] or [`Client`] (sealed).
pub trait Endpoint: sealed::Sealed {
    /// The role as a value.
    const ROLE: Role;
    /// The mask key for the next frame this side sends: `None` for a server.
    fn next_mask(&mut self) -> Option<[u8; 4]>;
}

/// The server role: receives masked frames, sends unmasked ones. Holds nothing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Server;

impl Endpoint for Server {
    const ROLE: Role = Role::Server;
    fn next_mask(&mut self) -> Option<[u8; 4]> {
        None
    }
}

/// The client role: receives unmasked frames, masks every frame it sends with a key from `K`.
#[derive(Clone)]
pub struct Client<K>(pub K);

impl<K: MaskKeys> Endpoint for Client<K> {
    const ROLE: Role = Role::Client;
    fn next_mask(&mut self) -> Option<[u8; 4]> {
        Some(self.0.next_key())
    }
}

impl<K> core::fmt::Debug for Client<K> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // The key source stays private (and closures have no Debug).
        f.write_str("Client")
    }
}

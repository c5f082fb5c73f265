//! The server side of the negotiation (RFC 7692 §5, §7.1).

use super::parse::{ClientBits, Elements, Params};
use super::write::Writer;
use super::{PerMessageDeflate, EXTENSION_NAME};
use crate::error::BufferTooSmall;

/// What the server is willing to agree to. Window sizes are log2 values in 8..=15 (8 is answered
/// as 8 and compressed with 9, see [`super::Direction::zlib_window_bits`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ServerPolicy {
    /// Accept the extension at all; `false` declines every offer.
    pub enabled: bool,
    /// The largest window this server compresses with (lowered further if the client asks).
    pub server_max_window_bits: u8,
    /// The window the server asks the client to stay within, when the client's offer allows it
    /// (`client_max_window_bits`); a client that does not offer it uses 15.
    pub client_max_window_bits: u8,
    /// Reset the compressor after each message (always done if the client asks).
    pub server_no_context_takeover: bool,
    /// Ask the client to reset its compressor after each message (lets this side drop the
    /// inflate window between messages).
    pub client_no_context_takeover: bool,
}

impl ServerPolicy {
    /// Enabled, with the protocol defaults: 32 KiB windows and context takeover both ways.
    pub const DEFAULT: Self = Self {
        enabled: true,
        server_max_window_bits: 15,
        client_max_window_bits: 15,
        server_no_context_takeover: false,
        client_no_context_takeover: false,
    };

    /// Declines every offer.
    pub const DISABLED: Self = Self {
        enabled: false,
        ..Self::DEFAULT
    };

    /// Picks the first acceptable `permessage-deflate` offer from the `Sec-WebSocket-Extensions`
    /// values (one per header line, in order). Offers with an unknown or repeated parameter, a bad
    /// value or broken syntax are declined (RFC 7692 §5.1); `None` if none is acceptable.
    pub fn negotiate<'a, I>(&self, header_values: I) -> Option<Negotiated>
    where
        I: IntoIterator<Item = &'a str>,
    {
        if !self.enabled {
            return None;
        }
        header_values
            .into_iter()
            .flat_map(Elements::new)
            .filter(|e| e.is_deflate)
            .find_map(|e| e.params.ok().map(|offer| self.answer(&offer)))
    }

    /// The answer to an acceptable offer.
    fn answer(&self, offer: &Params) -> Negotiated {
        let own_server = self.server_max_window_bits.clamp(8, 15);
        let own_client = self.client_max_window_bits.clamp(8, 15);
        let server_max_window_bits = offer
            .server_max_window_bits
            .map_or(own_server, |asked| asked.min(own_server));
        let (client_max_window_bits, echo_client_bits) = match offer.client_max_window_bits {
            ClientBits::Absent => (15, false),
            ClientBits::Bare => (own_client, own_client < 15),
            ClientBits::Value(limit) => (limit.min(own_client), true),
        };
        Negotiated {
            params: PerMessageDeflate {
                server_no_context_takeover: offer.server_no_context_takeover
                    || self.server_no_context_takeover,
                client_no_context_takeover: offer.client_no_context_takeover
                    || self.client_no_context_takeover,
                server_max_window_bits,
                client_max_window_bits,
            },
            echo_server_bits: offer.server_max_window_bits.is_some() || server_max_window_bits < 15,
            echo_client_bits,
        }
    }
}

impl Default for ServerPolicy {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// An accepted offer: the agreed parameters and what the response must say.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Negotiated {
    /// The parameters in force once the 101 is sent.
    pub params: PerMessageDeflate,
    echo_server_bits: bool,
    echo_client_bits: bool,
}

impl Negotiated {
    /// Writes the `Sec-WebSocket-Extensions` response value into `out` and returns it
    /// ([`super::MAX_HEADER_VALUE_LEN`] bytes always suffice).
    pub fn write_response<'b>(&self, out: &'b mut [u8]) -> Result<&'b str, BufferTooSmall> {
        let p = &self.params;
        let mut w = Writer::new(out);
        w.text(EXTENSION_NAME);
        if p.server_no_context_takeover {
            w.param("server_no_context_takeover", None);
        }
        if p.client_no_context_takeover {
            w.param("client_no_context_takeover", None);
        }
        if self.echo_server_bits {
            w.param("server_max_window_bits", Some(p.server_max_window_bits));
        }
        if self.echo_client_bits {
            w.param("client_max_window_bits", Some(p.client_max_window_bits));
        }
        w.finish()
    }
}

//! permessage-deflate (RFC 7692) for ws-server: the settings, and the per-connection codec on
//! zlib-rs.
//!
//! Why zlib-rs, used directly: RFC 7692 needs raw deflate with LZ77 windows below 15 bits and a
//! sync flush. miniz_oxide (flate2's default backend) ignores window sizes, so it cannot honour
//! `server_max_window_bits`. flate2's `zlib-rs` backend can, but flate2 has no way to set zlib's
//! memory level, which sizes the compressor's block buffers. zlib-rs (the Trifecta Tech
//! Foundation's Rust port of zlib, the backend flate2 itself ships) exposes both through a safe
//! API, with no C toolchain.
//!
//! Memory (measured by `tests/deflate_memory.rs` with a counting allocator, zlib-rs 0.6): a
//! compressor costs about 130 KiB + 4 × 2^window_bits bytes whatever the memory level (its hash
//! table has a fixed 64 Ki entries), an inflater about 47 KiB whatever the window (zlib-rs always
//! allocates a 32 KiB window). So the defaults ask for no context takeover in both directions:
//! the server compresses with one compressor per thread, shared by every connection on that
//! thread (each message is compressed in one synchronous call), and a connection's inflater lives
//! only while a compressed message is being received. Between messages a connection holds no
//! codec memory at all (0 heap bytes measured; `Session` itself is a few hundred bytes inline).
//! With client context takeover (`client_no_context_takeover: false`), better ratios for small
//! similar messages cost about 47 KiB per connection once it has received a compressed message.

mod decoder;
mod encoder;
pub(crate) mod glue;

pub use decoder::{Decoder, InflateError, STEP};
pub use encoder::{CompressError, Encoder};

use std::cell::RefCell;
// ws-core types in this module's public signatures, re-exported so a user needs no ws-core.
use ws_core::deflate::Direction;
pub use ws_core::deflate::{
    ClientOffer, Compressor, Decompressor, PerMessageDeflate, ServerPolicy, Step,
};
use ws_core::Role;

/// permessage-deflate settings, for both roles.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeflateConfig {
    /// What a server agrees to ([`ServerPolicy::DISABLED`] declines every offer). Default: on,
    /// 15-bit windows, no context takeover in either direction (see the module docs: no codec
    /// memory is held between messages).
    pub policy: ServerPolicy,
    /// What a client offers (`None`: no offer). Default:
    /// `permessage-deflate; client_no_context_takeover; client_max_window_bits`.
    pub offer: Option<ClientOffer>,
    /// Compression level 0..=9 (default 1: with zlib-rs about 10× faster than 6 for about 1.5×
    /// the bytes on text; see `examples/deflate_bench.rs`).
    pub level: u8,
    /// zlib memory level 1..=9 for a dedicated compressor's block buffers (default 4).
    pub mem_level: u8,
    /// Messages shorter than this are sent uncompressed (default 64 bytes).
    pub min_message_size: usize,
}

impl DeflateConfig {
    /// The defaults, see the field docs.
    pub const DEFAULT: Self = Self {
        policy: ServerPolicy {
            enabled: true,
            server_max_window_bits: 15,
            client_max_window_bits: 15,
            server_no_context_takeover: true,
            client_no_context_takeover: true,
        },
        offer: Some(ClientOffer {
            server_max_window_bits: None,
            client_max_window_bits: Some(15),
            server_no_context_takeover: false,
            client_no_context_takeover: true,
        }),
        level: 1,
        mem_level: 4,
        min_message_size: 64,
    };

    /// Extension off in both roles.
    pub const DISABLED: Self = Self {
        policy: ServerPolicy::DISABLED,
        offer: None,
        ..Self::DEFAULT
    };
}

impl Default for DeflateConfig {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// The per-connection permessage-deflate state: compresses what this side sends and inflates
/// what it receives, with the negotiated parameters.
#[derive(Debug)]
pub struct Session {
    params: PerMessageDeflate,
    outgoing: Direction,
    incoming: Direction,
    level: u8,
    mem_level: u8,
    min_message_size: usize,
    /// A dedicated compressor, only with context takeover (created at the first message).
    encoder: Option<Encoder>,
    /// The inflater, created at the first compressed message; dropped after each message without
    /// context takeover.
    decoder: Option<Decoder>,
}

impl Session {
    /// The state for a connection where `params` were agreed, on the `role` side.
    pub fn new(params: PerMessageDeflate, role: Role, config: &DeflateConfig) -> Self {
        Self {
            params,
            outgoing: params.outgoing(role),
            incoming: params.incoming(role),
            level: config.level,
            mem_level: config.mem_level,
            min_message_size: config.min_message_size,
            encoder: None,
            decoder: None,
        }
    }

    /// The agreed parameters.
    pub fn params(&self) -> PerMessageDeflate {
        self.params
    }

    /// Compresses `message` into `out` (appended) and returns `true`, or returns `false` with `out`
    /// untouched when the message should go uncompressed (shorter than the threshold, or, without
    /// context takeover, not made smaller by compression).
    pub fn compress(&mut self, message: &[u8], out: &mut Vec<u8>) -> Result<bool, CompressError> {
        if let Some(key) = self.shared_key() {
            return key.compress_into(message, out);
        }
        if message.len() < self.min_message_size {
            return Ok(false);
        }
        let start = out.len();
        let bits = self.outgoing.zlib_window_bits();
        let (level, mem_level) = (self.level, self.mem_level);
        let encoder = self
            .encoder
            .get_or_insert_with(|| Encoder::new(level, bits, mem_level, false));
        if let Err(e) = encoder.compress_message(message, out) {
            // Start afresh: the peer never sees the half-compressed message, and a new stream
            // that does not refer back to earlier ones is still valid for its inflater.
            self.encoder = None;
            out.truncate(start);
            return Err(e);
        }
        Ok(true)
    }

    /// Inflates a piece of a compressed message (the payload chunks of its frames, in order) and
    /// appends it to `out`; `end` marks the last piece. Fails with [`InflateError::TooBig`] (1009)
    /// as soon as `out` would exceed `limit`, having allocated at most `limit + STEP`.
    pub fn inflate(
        &mut self,
        input: &[u8],
        end: bool,
        out: &mut Vec<u8>,
        limit: usize,
    ) -> Result<(), InflateError> {
        let incoming = self.incoming;
        let decoder = self.decoder.get_or_insert_with(|| {
            Decoder::new(incoming.zlib_window_bits(), incoming.no_context_takeover)
        });
        let result = decoder.inflate_into(input, end, out, limit);
        if result.is_err() || (end && incoming.no_context_takeover) {
            self.decoder = None;
        }
        result
    }
}

/// The settings that decide a compressed message's bytes when the compressor keeps no context:
/// connections with equal keys can share one compressed frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct SharedKey {
    level: u8,
    window_bits: u8,
    mem_level: u8,
    /// 32 bits: every connection's shared state holds a key (8 bytes, not 16).
    min_message_size: u32,
}

impl SharedKey {
    /// The compressed payload for `message`, or `None` to send it plain (below the threshold, not
    /// made smaller, or a compressor failure, which is logged): what [`Session::compress`] does on
    /// every connection with this key.
    pub(crate) fn compress(&self, message: &[u8]) -> Option<Vec<u8>> {
        let mut out = Vec::new();
        match self.compress_into(message, &mut out) {
            Ok(true) => Some(out),
            Ok(false) => None,
            Err(e) => {
                log::error!("permessage-deflate: {e}; sending uncompressed");
                None
            }
        }
    }

    /// [`Session::compress`] without context takeover: appends the compressed payload to `out`
    /// and returns `true`, or returns `false` with `out` untouched.
    fn compress_into(&self, message: &[u8], out: &mut Vec<u8>) -> Result<bool, CompressError> {
        if message.len() < self.min_message_size as usize {
            return Ok(false);
        }
        let start = out.len();
        with_shared_encoder(self.level, self.window_bits, self.mem_level, |enc| {
            enc.compress_message(message, out)
        })?;
        if out.len() - start >= message.len() {
            // The context was dropped anyway, so sending this one plain is invisible to the peer.
            out.truncate(start);
            return Ok(false);
        }
        Ok(true)
    }
}

impl Session {
    /// The key of this connection's outgoing compression, if it keeps no context (so one
    /// compressed frame serves every connection with the same key).
    pub(crate) fn shared_key(&self) -> Option<SharedKey> {
        self.outgoing.no_context_takeover.then(|| SharedKey {
            level: self.level,
            window_bits: self.outgoing.zlib_window_bits(),
            mem_level: self.mem_level,
            min_message_size: u32::try_from(self.min_message_size).unwrap_or(u32::MAX),
        })
    }

    /// Inflates from `input` into `output` (one bounded step of a compressed message; `end`:
    /// `input` ends the message). The streaming form of [`Session::inflate`]: the caller handles
    /// each step's output before the next, so memory stays at one step whatever the message
    /// inflates to.
    pub fn inflate_step(
        &mut self,
        input: &[u8],
        end: bool,
        output: &mut [u8],
    ) -> Result<ws_core::deflate::Step, InflateError> {
        use ws_core::deflate::Decompressor;
        let incoming = self.incoming;
        let decoder = self.decoder.get_or_insert_with(|| {
            Decoder::new(incoming.zlib_window_bits(), incoming.no_context_takeover)
        });
        let result = decoder.decompress(input, output, end);
        let finished = matches!(result, Ok(s) if s.done && end);
        if result.is_err() || (finished && incoming.no_context_takeover) {
            self.decoder = None;
        }
        result
    }

    /// Compresses one piece of a message that is sent as fragments (`end`: the last piece) and
    /// appends the bytes to go on the wire to `out`. Without context takeover each piece is
    /// compressed on its own by the thread's shared compressor and ends with a sync flush (the
    /// pieces concatenated are one valid deflate stream, RFC 7692 §7.2.1, whose last tail is
    /// removed): no compressor is held between pieces. With context takeover the connection's
    /// own compressor streams the message.
    pub fn compress_piece(
        &mut self,
        piece: &[u8],
        end: bool,
        out: &mut Vec<u8>,
    ) -> Result<(), CompressError> {
        let bits = self.outgoing.zlib_window_bits();
        if self.outgoing.no_context_takeover {
            with_shared_encoder(self.level, bits, self.mem_level, |enc| {
                enc.compress_message(piece, out)
            })?;
            if !end {
                out.extend_from_slice(&ws_core::deflate::TAIL);
            }
            return Ok(());
        }
        let (level, mem_level) = (self.level, self.mem_level);
        let encoder = self
            .encoder
            .get_or_insert_with(|| Encoder::new(level, bits, mem_level, false));
        let result = encoder.compress_piece(piece, end, out);
        if result.is_err() {
            self.encoder = None;
        }
        result
    }
}

/// (level, window bits, memory level).
type EncoderKey = (u8, u8, u8);

thread_local! {
    /// Compressors without context takeover, one per [`EncoderKey`].
    static SHARED: RefCell<Vec<(EncoderKey, Encoder)>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` with this thread's shared compressor for these settings (a fresh one if it is busy).
/// Sound because such a compressor resets after each message and `f` compresses whole messages.
fn with_shared_encoder<R>(
    level: u8,
    bits: u8,
    mem_level: u8,
    f: impl FnOnce(&mut Encoder) -> Result<R, CompressError>,
) -> Result<R, CompressError> {
    let key = (level, bits, mem_level);
    SHARED.with(|cell| {
        let Ok(mut shared) = cell.try_borrow_mut() else {
            return f(&mut Encoder::new(level, bits, mem_level, true));
        };
        let index = match shared.iter().position(|(k, _)| *k == key) {
            Some(i) => i,
            None => {
                shared.push((key, Encoder::new(level, bits, mem_level, true)));
                shared.len() - 1
            }
        };
        let Some((_, encoder)) = shared.get_mut(index) else {
            return f(&mut Encoder::new(level, bits, mem_level, true));
        };
        let result = f(encoder);
        if result.is_err() {
            // Never leave a half-written message in a shared compressor.
            *encoder = Encoder::new(level, bits, mem_level, true);
        }
        result
    })
}

#[cfg(test)]
mod tests;

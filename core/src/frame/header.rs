//! Frame header parse (streaming, nom) and encode.

use super::OpCode;
use crate::error::{BufferTooSmall, ProtocolError};
use crate::Role;

/// The longest frame header: 2 + 8 (64-bit length) + 4 (mask key).
pub const MAX_HEADER_LEN: usize = 14;

/// A parsed frame header (RFC 6455 §5.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameHeader {
    /// Final fragment of a message.
    pub fin: bool,
    /// RSV1 (used by permessage-deflate).
    pub rsv1: bool,
    /// RSV2.
    pub rsv2: bool,
    /// RSV3.
    pub rsv3: bool,
    /// The opcode.
    pub opcode: OpCode,
    /// Mask key, present on client-to-server frames.
    pub mask: Option<[u8; 4]>,
    /// Payload length in bytes.
    pub payload_len: u64,
}

impl FrameHeader {
    /// Parses a header from the start of `input`, as received by `receiver`: `Ok(None)` when more
    /// bytes are needed, `Ok(Some((header, header_len)))` when complete. Checks every rule that the
    /// header alone decides (§5.1, §5.2, §5.5), except RSV bits, fragmentation order and size
    /// limits, which depend on connection state ([`crate::Connection`] checks them).
    pub fn parse(input: &[u8], receiver: Role) -> Result<Option<(Self, usize)>, ProtocolError> {
        todo!()
    }

    /// The encoded length of this header (2 to 14 bytes), always the minimal length form.
    pub const fn encoded_len(&self) -> usize {
        todo!()
    }

    /// Writes this header into `out`; returns bytes written or the room needed.
    pub fn encode(&self, out: &mut [u8]) -> Result<usize, BufferTooSmall> {
        todo!()
    }
}

/// Writes a whole frame (header then payload, masked with `mask` if given) into `out`; returns bytes
/// written or the room needed.
pub fn encode_frame(
    fin: bool,
    opcode: OpCode,
    mask: Option<[u8; 4]>,
    payload: &[u8],
    out: &mut [u8],
) -> Result<usize, BufferTooSmall> {
    todo!()
}

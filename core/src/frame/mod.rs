//! Frames (RFC 6455 §5.2): opcodes, header parsing and encoding, masking.

mod header;
mod mask;
mod opcode;

pub use header::{encode_frame, FrameHeader, MAX_HEADER_LEN};
pub use mask::apply_mask;
pub use opcode::OpCode;

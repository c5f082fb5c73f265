//! Frames (RFC 6455 §5.2): opcodes, header parsing and encoding, masking.

mod header;
mod mask;
mod opcode;

pub(crate) use header::RawHeader;
pub use header::{encode_frame, FrameHeader, MAX_CONTROL_PAYLOAD, MAX_HEADER_LEN};
pub use mask::{apply_mask, apply_mask_bytewise};
pub use opcode::OpCode;

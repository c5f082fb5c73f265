//! Frames (RFC 6455 §5.2): opcodes, header parsing and encoding, masking.
//!
//! Every example frame of RFC 6455 §5.7, encoded and parsed back:
//!
//! ```
//! use ws_core::frame::{encode_frame, FrameHeader, OpCode};
//! use ws_core::Role;
//!
//! let key = Some([0x37, 0xfa, 0x21, 0x3d]);
//! let long = [0u8; 65536];
//! let examples: [(bool, OpCode, Option<[u8; 4]>, &[u8], &[u8]); 7] = [
//!     // A single-frame unmasked text message.
//!     (true, OpCode::Text, None, b"Hello", b"\x81\x05\x48\x65\x6c\x6c\x6f"),
//!     // A single-frame masked text message.
//!     (true, OpCode::Text, key, b"Hello", b"\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58"),
//!     // A fragmented unmasked text message.
//!     (false, OpCode::Text, None, b"Hel", b"\x01\x03\x48\x65\x6c"),
//!     (true, OpCode::Continuation, None, b"lo", b"\x80\x02\x6c\x6f"),
//!     // Unmasked ping request and masked ping response (a pong).
//!     (true, OpCode::Ping, None, b"Hello", b"\x89\x05\x48\x65\x6c\x6c\x6f"),
//!     (true, OpCode::Pong, key, b"Hello", b"\x8a\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58"),
//!     // 64 KiB binary message in a single unmasked frame (the header; 256 bytes: 82 7E 01 00).
//!     (true, OpCode::Binary, None, &long, b"\x82\x7F\x00\x00\x00\x00\x00\x01\x00\x00"),
//! ];
//! let mut out = vec![0u8; 70_000];
//! for (fin, opcode, mask, payload, wire) in examples {
//!     let n = encode_frame(fin, opcode, mask, payload, &mut out).unwrap();
//!     assert_eq!(&out[..wire.len()], wire);
//!     let receiver = if mask.is_some() { Role::Server } else { Role::Client };
//!     let (header, len) = FrameHeader::parse(&out[..n], receiver).unwrap().unwrap();
//!     assert_eq!((header.fin, header.opcode, header.mask), (fin, opcode, mask));
//!     assert_eq!((header.payload_len, len + payload.len()), (payload.len() as u64, n));
//! }
//! ```

mod header;
mod mask;
mod opcode;

pub(crate) use header::RawHeader;
pub use header::{encode_frame, FrameHeader, MAX_CONTROL_PAYLOAD, MAX_HEADER_LEN};
pub use mask::apply_mask;
pub use opcode::OpCode;

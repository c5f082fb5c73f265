//! Frame header parse (streaming, nom) and encode (RFC 6455 §5.2).

use nom::bytes::streaming::take;
use nom::number::streaming::{be_u16, be_u64, be_u8};
use nom::{IResult, Parser};

use super::{apply_mask, OpCode};
use crate::error::{BufferTooSmall, ProtocolError};
use crate::Role;

/// The longest frame header: 2 + 8 (64-bit length) + 4 (mask key).
pub const MAX_HEADER_LEN: usize = 14;

/// Largest payload of a control frame (§5.5).
pub const MAX_CONTROL_PAYLOAD: usize = 125;

/// A parsed frame header (RFC 6455 §5.2).
///
/// ```
/// use ws_core::{FrameHeader, OpCode, Role};
/// // RFC 6455 §5.7: a single-frame masked text message "Hello" (client to server).
/// let frame = [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58];
/// let (header, len) = FrameHeader::parse(&frame, Role::Server).unwrap().unwrap();
/// assert_eq!(len, 6);
/// assert!(header.fin);
/// assert_eq!(header.opcode, OpCode::Text);
/// assert_eq!(header.mask, Some([0x37, 0xfa, 0x21, 0x3d]));
/// assert_eq!(header.payload_len, 5);
/// // Any prefix is just "not yet".
/// assert_eq!(FrameHeader::parse(&frame[..5], Role::Server), Ok(None));
/// ```
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
    /// Payload length in bytes (below 2^63: §5.2 reserves the most significant bit).
    pub payload_len: u64,
}

/// Why the nom-driven parse stopped: more bytes needed, or a rule broken.
enum Stop {
    Incomplete,
    Invalid(ProtocolError),
}

impl From<nom::Err<nom::error::Error<&[u8]>>> for Stop {
    fn from(_: nom::Err<nom::error::Error<&[u8]>>) -> Self {
        // The streaming byte parsers used here can only fail for want of input.
        Stop::Incomplete
    }
}

fn byte(input: &[u8]) -> IResult<&[u8], u8> {
    be_u8(input)
}

/// Parses the header, checking each rule as soon as the bytes that decide it are present.
fn parse_header(input: &[u8], receiver: Role) -> Result<(FrameHeader, usize), Stop> {
    let (rest, b0) = byte(input)?;
    let opcode =
        OpCode::from_bits(b0 & 0x0F).ok_or(Stop::Invalid(ProtocolError::ReservedOpCode))?;
    let fin = b0 & 0x80 != 0;
    if opcode.is_control() && !fin {
        return Err(Stop::Invalid(ProtocolError::FragmentedControlFrame));
    }
    let (rest, b1) = byte(rest)?;
    let masked = b1 & 0x80 != 0;
    let len7 = b1 & 0x7F;
    if opcode.is_control() && usize::from(len7) > MAX_CONTROL_PAYLOAD {
        return Err(Stop::Invalid(ProtocolError::ControlFrameTooLong));
    }
    match (receiver, masked) {
        (Role::Server, false) => return Err(Stop::Invalid(ProtocolError::UnmaskedFrameFromClient)),
        (Role::Client, true) => return Err(Stop::Invalid(ProtocolError::MaskedFrameFromServer)),
        _ => {}
    }
    let (rest, payload_len) = match len7 {
        126 => {
            let (rest, len) = be_u16.parse(rest)?;
            if len < 126 {
                return Err(Stop::Invalid(ProtocolError::NonMinimalLength));
            }
            (rest, u64::from(len))
        }
        127 => {
            let (rest, len) = be_u64.parse(rest)?;
            if len >> 63 != 0 {
                return Err(Stop::Invalid(ProtocolError::LengthMsbSet));
            }
            if len <= 0xFFFF {
                return Err(Stop::Invalid(ProtocolError::NonMinimalLength));
            }
            (rest, len)
        }
        n => (rest, u64::from(n)),
    };
    let (rest, mask) = if masked {
        let (rest, key) = take(4usize).parse(rest)?;
        let mut k = [0u8; 4];
        k.copy_from_slice(key);
        (rest, Some(k))
    } else {
        (rest, None)
    };
    let header = FrameHeader {
        fin,
        rsv1: b0 & 0x40 != 0,
        rsv2: b0 & 0x20 != 0,
        rsv3: b0 & 0x10 != 0,
        opcode,
        mask,
        payload_len,
    };
    Ok((header, input.len() - rest.len()))
}

/// A header read for its extent only, without checking any rule: used to skip frames after the
/// connection has failed or sent its close, while waiting for the peer's close.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RawHeader {
    /// The 4-bit opcode, possibly reserved.
    pub opcode: u8,
    /// The mask key, if the mask bit is set.
    pub mask: Option<[u8; 4]>,
    /// The declared payload length.
    pub payload_len: u64,
    /// Bytes the header took.
    pub header_len: usize,
}

fn parse_raw(input: &[u8]) -> Result<RawHeader, Stop> {
    let (rest, b0) = byte(input)?;
    let (rest, b1) = byte(rest)?;
    let (rest, payload_len) = match b1 & 0x7F {
        126 => {
            let (rest, len) = be_u16.parse(rest)?;
            (rest, u64::from(len))
        }
        127 => be_u64.parse(rest)?,
        n => (rest, u64::from(n)),
    };
    let (rest, mask) = if b1 & 0x80 != 0 {
        let (rest, key) = take(4usize).parse(rest)?;
        let mut k = [0u8; 4];
        k.copy_from_slice(key);
        (rest, Some(k))
    } else {
        (rest, None)
    };
    Ok(RawHeader {
        opcode: b0 & 0x0F,
        mask,
        payload_len,
        header_len: input.len() - rest.len(),
    })
}

impl RawHeader {
    /// The header at the start of `input`, or `None` if it is not complete yet.
    pub(crate) fn parse(input: &[u8]) -> Option<Self> {
        parse_raw(input).ok()
    }
}

impl FrameHeader {
    /// Parses a header from the start of `input`, as received by `receiver`: `Ok(None)` when more
    /// bytes are needed, `Ok(Some((header, header_len)))` when complete. Checks every rule that the
    /// header alone decides (§5.1, §5.2, §5.5), except RSV bits, fragmentation order and size
    /// limits, which depend on connection state ([`crate::Connection`] checks them). A rule is
    /// checked as soon as the bytes deciding it have arrived, so a bad first byte fails at once.
    pub fn parse(input: &[u8], receiver: Role) -> Result<Option<(Self, usize)>, ProtocolError> {
        match parse_header(input, receiver) {
            Ok(done) => Ok(Some(done)),
            Err(Stop::Incomplete) => Ok(None),
            Err(Stop::Invalid(e)) => Err(e),
        }
    }

    /// The encoded length of this header (2 to 14 bytes), always the minimal length form.
    pub const fn encoded_len(&self) -> usize {
        let len = match self.payload_len {
            0..=125 => 2,
            126..=0xFFFF => 4,
            _ => 10,
        };
        if self.mask.is_some() {
            len + 4
        } else {
            len
        }
    }

    /// Writes this header into `out`; returns bytes written or the room needed. The length is
    /// written in its minimal form (a length of 2^63 or more cannot be sent and is written as is;
    /// a receiver rejects it).
    ///
    /// ```
    /// use ws_core::{FrameHeader, OpCode};
    /// // RFC 6455 §5.7: a 256-byte unmasked binary frame starts 82 7E 01 00.
    /// let header = FrameHeader { fin: true, rsv1: false, rsv2: false, rsv3: false,
    ///     opcode: OpCode::Binary, mask: None, payload_len: 256 };
    /// let mut out = [0u8; 14];
    /// assert_eq!(header.encode(&mut out), Ok(4));
    /// assert_eq!(&out[..4], &[0x82, 0x7E, 0x01, 0x00]);
    /// assert_eq!(header.encode(&mut out[..3]), Err(ws_core::BufferTooSmall { needed: 4 }));
    /// ```
    pub fn encode(&self, out: &mut [u8]) -> Result<usize, BufferTooSmall> {
        let needed = self.encoded_len();
        let out = out.get_mut(..needed).ok_or(BufferTooSmall { needed })?;
        let mut buf = [0u8; MAX_HEADER_LEN];
        buf[0] = u8::from(self.fin) << 7
            | u8::from(self.rsv1) << 6
            | u8::from(self.rsv2) << 5
            | u8::from(self.rsv3) << 4
            | self.opcode.bits();
        let mask_bit = if self.mask.is_some() { 0x80 } else { 0 };
        let mut at = 2;
        match self.payload_len {
            len @ 0..=125 => buf[1] = mask_bit | len as u8,
            len @ 126..=0xFFFF => {
                buf[1] = mask_bit | 126;
                buf[2..4].copy_from_slice(&(len as u16).to_be_bytes());
                at = 4;
            }
            len => {
                buf[1] = mask_bit | 127;
                buf[2..10].copy_from_slice(&len.to_be_bytes());
                at = 10;
            }
        }
        if let (Some(key), Some(dst)) = (self.mask, buf.get_mut(at..at + 4)) {
            dst.copy_from_slice(&key);
        }
        out.copy_from_slice(buf.get(..needed).ok_or(BufferTooSmall { needed })?);
        Ok(needed)
    }
}

/// Writes a whole frame (header then payload, masked with `mask` if given) into `out`; returns bytes
/// written or the room needed. RSV bits are clear.
///
/// ```
/// use ws_core::{frame::encode_frame, OpCode};
/// // RFC 6455 §5.7: an unmasked ping with body "Hello".
/// let mut out = [0u8; 16];
/// let n = encode_frame(true, OpCode::Ping, None, b"Hello", &mut out).unwrap();
/// assert_eq!(&out[..n], &[0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]);
/// ```
pub fn encode_frame(
    fin: bool,
    opcode: OpCode,
    mask: Option<[u8; 4]>,
    payload: &[u8],
    out: &mut [u8],
) -> Result<usize, BufferTooSmall> {
    let header = FrameHeader {
        fin,
        rsv1: false,
        rsv2: false,
        rsv3: false,
        opcode,
        mask,
        payload_len: payload.len() as u64,
    };
    let head_len = header.encoded_len();
    let needed = head_len + payload.len();
    let out = out.get_mut(..needed).ok_or(BufferTooSmall { needed })?;
    let (head, body) = out.split_at_mut(head_len);
    header.encode(head)?;
    body.copy_from_slice(payload);
    if let Some(key) = mask {
        apply_mask(body, key, 0);
    }
    Ok(needed)
}

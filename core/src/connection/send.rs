//! Sending: data frames, pings, pongs and the close (RFC 6455 §5.4, §5.5).

use super::{Connection, Endpoint, MessageKind, State};
use crate::close::{write_close_payload, CloseCode, MAX_REASON_LEN};
use crate::error::{BufferTooSmall, SendError};
use crate::frame::{apply_mask, encode_frame, FrameHeader, OpCode, MAX_CONTROL_PAYLOAD};

impl<E: Endpoint> Connection<E> {
    /// The opcode of the next data frame of a `kind` message, checking fragmentation order.
    fn data_opcode(&self, kind: MessageKind) -> Result<OpCode, SendError> {
        if self.state != State::Open {
            return Err(SendError::Closing);
        }
        match (self.send_kind, kind) {
            (None, MessageKind::Text) => Ok(OpCode::Text),
            (None, MessageKind::Binary) => Ok(OpCode::Binary),
            (Some(open), kind) if open == kind => Ok(OpCode::Continuation),
            (Some(_), _) => Err(SendError::FragmentOrder),
        }
    }

    /// Writes one data frame carrying `payload`. The first frame of a message carries `kind`; while
    /// a message sent with `fin = false` is unfinished, frames are continuations (`kind` must stay
    /// the same, else [`SendError::FragmentOrder`]). The client role masks it with a fresh key.
    /// Text is not re-validated: the caller sends UTF-8. Returns the bytes written.
    pub fn send_data(
        &mut self,
        kind: MessageKind,
        payload: &[u8],
        fin: bool,
        output: &mut [u8],
    ) -> Result<usize, SendError> {
        self.write_data(
            kind,
            Some(payload),
            payload.len() as u64,
            fin,
            false,
            output,
        )
    }

    /// Like [`Connection::send_data`] but writes only the header for a payload of `len` bytes that
    /// the caller transmits itself right after. Lets a server send large payloads without copying.
    /// In the client role the header's last 4 bytes are the frame's mask key: mask the payload
    /// with them ([`crate::frame::apply_mask`]) before sending it.
    pub fn send_data_header(
        &mut self,
        kind: MessageKind,
        len: u64,
        fin: bool,
        output: &mut [u8],
    ) -> Result<usize, SendError> {
        self.write_data(kind, None, len, fin, false, output)
    }

    /// Like [`Connection::send_data`] for a message compressed with permessage-deflate (RFC 7692
    /// §6): RSV1 is set on its first frame. Needs [`Connection::set_deflate`], else
    /// [`SendError::ExtensionNotActive`]. Continue a message with the method that started it.
    pub fn send_compressed_data(
        &mut self,
        kind: MessageKind,
        payload: &[u8],
        fin: bool,
        output: &mut [u8],
    ) -> Result<usize, SendError> {
        self.write_data(kind, Some(payload), payload.len() as u64, fin, true, output)
    }

    /// [`Connection::send_data_header`] for a compressed message (RSV1 on its first frame).
    pub fn send_compressed_data_header(
        &mut self,
        kind: MessageKind,
        len: u64,
        fin: bool,
        output: &mut [u8],
    ) -> Result<usize, SendError> {
        self.write_data(kind, None, len, fin, true, output)
    }

    /// One data frame: the header, then `payload` (masked in the client role) if given.
    #[allow(clippy::too_many_arguments)]
    fn write_data(
        &mut self,
        kind: MessageKind,
        payload: Option<&[u8]>,
        len: u64,
        fin: bool,
        compressed: bool,
        output: &mut [u8],
    ) -> Result<usize, SendError> {
        let opcode = self.data_opcode(kind)?;
        if compressed && !self.deflate {
            return Err(SendError::ExtensionNotActive);
        }
        let mut header = FrameHeader {
            fin,
            rsv1: compressed && opcode != OpCode::Continuation,
            rsv2: false,
            rsv3: false,
            opcode,
            // A placeholder of the right size: the key is drawn only once the frame fits.
            mask: self.out_mask_len_only(),
            payload_len: len,
        };
        let head_len = header.encoded_len();
        let body_len = payload.map_or(0, <[u8]>::len);
        let needed = head_len + body_len;
        let out = output.get_mut(..needed).ok_or(BufferTooSmall { needed })?;
        header.mask = self.out_mask();
        let (head, body) = out.split_at_mut(head_len);
        header.encode(head)?;
        if let Some(payload) = payload {
            body.copy_from_slice(payload);
            if let Some(key) = header.mask {
                apply_mask(body, key, 0);
            }
        }
        self.send_kind = if fin { None } else { Some(kind) };
        Ok(needed)
    }

    /// A control frame in the Open state.
    fn send_control(
        &mut self,
        opcode: OpCode,
        payload: &[u8],
        output: &mut [u8],
    ) -> Result<usize, SendError> {
        if self.state != State::Open {
            return Err(SendError::Closing);
        }
        if payload.len() > MAX_CONTROL_PAYLOAD {
            return Err(SendError::ControlTooLong);
        }
        let needed = 2 + self.out_mask_len_only().map_or(0, |k| k.len()) + payload.len();
        if output.len() < needed {
            return Err(BufferTooSmall { needed }.into());
        }
        let mask = self.out_mask();
        Ok(encode_frame(true, opcode, mask, payload, output)?)
    }

    /// Writes a ping (payload at most 125 bytes). The pong timeout is not armed: it belongs to the
    /// keep-alive ping of [`Connection::handle_timeout`].
    pub fn send_ping(&mut self, payload: &[u8], output: &mut [u8]) -> Result<usize, SendError> {
        self.send_control(OpCode::Ping, payload, output)
    }

    /// Writes an unsolicited pong (payload at most 125 bytes).
    pub fn send_pong(&mut self, payload: &[u8], output: &mut [u8]) -> Result<usize, SendError> {
        self.send_control(OpCode::Pong, payload, output)
    }

    /// Writes a close frame (`code` `None` sends an empty payload and ignores `reason`; the reason
    /// must fit in 123 bytes) and moves to [`State::Closing`]; no data may be sent afterwards. Arms
    /// the close timeout from `now`.
    pub fn send_close(
        &mut self,
        code: Option<CloseCode>,
        reason: &str,
        now: u64,
        output: &mut [u8],
    ) -> Result<usize, SendError> {
        if self.state != State::Open {
            return Err(SendError::Closing);
        }
        if let Some(code) = code {
            if !code.is_sendable() {
                return Err(SendError::InvalidCloseCode);
            }
            if reason.len() > MAX_REASON_LEN {
                return Err(SendError::ControlTooLong);
            }
        }
        let mut body = [0u8; MAX_CONTROL_PAYLOAD];
        let len = write_close_payload(code, reason, &mut body);
        let payload = body.get(..len).unwrap_or_default();
        let written = self.send_control(OpCode::Close, payload, output)?;
        self.enter_closing(now);
        Ok(written)
    }
}

//! Sending: data frames, pings, pongs and the close (RFC 6455 §5.4, §5.5).

use super::{Connection, MessageKind, State};
use crate::close::{write_close_payload, CloseCode, MAX_REASON_LEN};
use crate::error::SendError;
use crate::frame::{encode_frame, FrameHeader, OpCode, MAX_CONTROL_PAYLOAD};

impl Connection {
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
    /// the same, else [`SendError::FragmentOrder`]). `mask` is used in the client role. Text is not
    /// re-validated: the caller sends UTF-8.
    pub fn send_data(
        &mut self,
        kind: MessageKind,
        payload: &[u8],
        fin: bool,
        mask: [u8; 4],
        output: &mut [u8],
    ) -> Result<usize, SendError> {
        let opcode = self.data_opcode(kind)?;
        let written = encode_frame(fin, opcode, self.out_mask(mask), payload, output)?;
        self.send_kind = if fin { None } else { Some(kind) };
        Ok(written)
    }

    /// Like [`Connection::send_data`] but writes only the header for a payload of `len` bytes that
    /// the caller transmits itself right after (masked with [`crate::frame::apply_mask`] and the
    /// same `mask` in the client role). Lets a server send large payloads without copying.
    pub fn send_data_header(
        &mut self,
        kind: MessageKind,
        len: u64,
        fin: bool,
        mask: [u8; 4],
        output: &mut [u8],
    ) -> Result<usize, SendError> {
        let opcode = self.data_opcode(kind)?;
        let header = FrameHeader {
            fin,
            rsv1: false,
            rsv2: false,
            rsv3: false,
            opcode,
            mask: self.out_mask(mask),
            payload_len: len,
        };
        let written = header.encode(output)?;
        self.send_kind = if fin { None } else { Some(kind) };
        Ok(written)
    }

    /// A control frame in the Open state.
    fn send_control(
        &mut self,
        opcode: OpCode,
        payload: &[u8],
        mask: [u8; 4],
        output: &mut [u8],
    ) -> Result<usize, SendError> {
        if self.state != State::Open {
            return Err(SendError::Closing);
        }
        if payload.len() > MAX_CONTROL_PAYLOAD {
            return Err(SendError::ControlTooLong);
        }
        Ok(encode_frame(
            true,
            opcode,
            self.out_mask(mask),
            payload,
            output,
        )?)
    }

    /// Writes a ping (payload at most 125 bytes). The pong timeout is not armed: it belongs to the
    /// keep-alive ping of [`Connection::handle_timeout`].
    pub fn send_ping(
        &mut self,
        payload: &[u8],
        mask: [u8; 4],
        output: &mut [u8],
    ) -> Result<usize, SendError> {
        self.send_control(OpCode::Ping, payload, mask, output)
    }

    /// Writes an unsolicited pong (payload at most 125 bytes).
    pub fn send_pong(
        &mut self,
        payload: &[u8],
        mask: [u8; 4],
        output: &mut [u8],
    ) -> Result<usize, SendError> {
        self.send_control(OpCode::Pong, payload, mask, output)
    }

    /// Writes a close frame (`code` `None` sends an empty payload and ignores `reason`; the reason
    /// must fit in 123 bytes) and moves to [`State::Closing`]; no data may be sent afterwards. Arms
    /// the close timeout from `now`.
    pub fn send_close(
        &mut self,
        code: Option<CloseCode>,
        reason: &str,
        now: u64,
        mask: [u8; 4],
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
        let written = self.send_control(OpCode::Close, payload, mask, output)?;
        self.enter_closing(now);
        Ok(written)
    }
}

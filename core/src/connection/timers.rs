//! Timers without a clock: the caller passes `now` in, the connection says when to wake it.

use super::{Connection, State, Timeout, NEVER};
use crate::close::CloseCode;
use crate::error::BufferTooSmall;
use crate::frame::{encode_frame, OpCode};

impl Connection {
    /// When the idle timer fires: `idle_ping` after the last received bytes or keep-alive ping,
    /// unless a pong is awaited.
    fn idle_deadline(&self) -> u64 {
        if self.idle_ping == NEVER || self.deadline != NEVER {
            NEVER
        } else {
            self.idle_base.saturating_add(self.idle_ping)
        }
    }

    /// The time at which [`Connection::handle_timeout`] wants to be called, if any: the keep-alive
    /// ping, the pong deadline (Open) or the close deadline (Closing).
    pub fn poll_timeout(&self) -> Option<u64> {
        let at = match self.state {
            State::Open => self.deadline.min(self.idle_deadline()),
            State::Closing => self.deadline,
            State::Closed => NEVER,
        };
        (at != NEVER).then_some(at)
    }

    /// Runs the timers at `now`: the keep-alive ping (an empty ping; arms the pong deadline), the
    /// pong deadline (fails the connection with 1011), the close deadline (the transport must be
    /// dropped). Writes at most one frame (at most 8 bytes) into `output`; fails, changing nothing,
    /// if it does not fit.
    pub fn handle_timeout(
        &mut self,
        now: u64,
        mask: [u8; 4],
        output: &mut [u8],
    ) -> Result<Timeout, BufferTooSmall> {
        match self.state {
            State::Closed => Ok(Timeout::Nothing),
            State::Closing if self.deadline != NEVER && now >= self.deadline => {
                self.enter_closed();
                Ok(Timeout::DropTransport)
            }
            State::Closing => Ok(Timeout::Nothing),
            State::Open if self.deadline != NEVER && now >= self.deadline => {
                let code = CloseCode::INTERNAL_ERROR.0.to_be_bytes();
                let n = encode_frame(true, OpCode::Close, self.out_mask(mask), &code, output)?;
                self.recv_kind = None;
                self.enter_closing(now);
                Ok(Timeout::PongOverdue(n))
            }
            State::Open if self.idle_deadline() != NEVER && now >= self.idle_deadline() => {
                let n = encode_frame(true, OpCode::Ping, self.out_mask(mask), &[], output)?;
                self.idle_base = now;
                self.deadline = now.saturating_add(self.pong_timeout);
                if self.pong_timeout == NEVER {
                    self.deadline = NEVER;
                }
                Ok(Timeout::Ping(n))
            }
            State::Open => Ok(Timeout::Nothing),
        }
    }
}

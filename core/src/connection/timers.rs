//! Timers without a clock: the caller passes `now` in, the connection says when to wake it.

use super::{Connection, Endpoint, State, Timeout, TimerEvent, MIN_OUTPUT, NEVER};
use crate::close::CloseCode;
use crate::frame::{encode_frame, OpCode};

impl<E: Endpoint> Connection<E> {
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
    /// dropped). Writes at most one frame (at most 8 bytes; masked in the client role) at the
    /// start of `output`, whose type guarantees the room, and says how many bytes in
    /// [`Timeout::written`].
    pub fn handle_timeout(&mut self, now: u64, output: &mut [u8; MIN_OUTPUT]) -> Timeout {
        let fired = |written, event| Timeout {
            written,
            event: Some(event),
        };
        let nothing = Timeout {
            written: 0,
            event: None,
        };
        match self.state {
            State::Closed => nothing,
            State::Closing if self.deadline != NEVER && now >= self.deadline => {
                self.enter_closed();
                fired(0, TimerEvent::DropTransport)
            }
            State::Closing => nothing,
            State::Open if self.deadline != NEVER && now >= self.deadline => {
                let code = CloseCode::INTERNAL_ERROR.0.to_be_bytes();
                let written = self.timer_frame(OpCode::Close, &code, output);
                self.recv_kind = None;
                self.enter_closing(now);
                fired(written, TimerEvent::PongOverdue)
            }
            State::Open if self.idle_deadline() != NEVER && now >= self.idle_deadline() => {
                let written = self.timer_frame(OpCode::Ping, &[], output);
                self.idle_base = now;
                self.deadline = now.saturating_add(self.pong_timeout);
                if self.pong_timeout == NEVER {
                    self.deadline = NEVER;
                }
                fired(written, TimerEvent::Ping)
            }
            State::Open => nothing,
        }
    }

    /// Writes a ping or close of at most 2 payload bytes; it always fits in `output`.
    fn timer_frame(
        &mut self,
        opcode: OpCode,
        payload: &[u8],
        output: &mut [u8; MIN_OUTPUT],
    ) -> usize {
        let mask = self.out_mask();
        encode_frame(true, opcode, mask, payload, output).unwrap_or(0)
    }
}

//! Timers: ws-core's clock-free deadlines (idle ping, pong, close) and the transport deadline
//! after the close handshake, on one runtime-independent async-io timer.

use super::{Conn, ABNORMAL};
use std::future::Future;
use std::pin::Pin;
use std::task::Context;
use std::time::{Duration, Instant};
use ws_core::connection::{TimerEvent, MIN_OUTPUT};
use ws_core::CloseCode;

impl Conn {
    /// Runs due timers and arms the timer for the next deadline; returns whether one fired.
    pub(super) fn poll_timers(&mut self, cx: &mut Context<'_>) -> bool {
        if self.done {
            return false;
        }
        let now = Instant::now();
        if let Some(d) = self.transport_deadline {
            if now >= d {
                log::info!(
                    "conn={} peer did not finish closing in time; dropping",
                    self.id()
                );
                self.set_close_info(ABNORMAL, "close timeout");
                self.finish();
                return true;
            }
        }
        let core_at = self
            .core
            .poll_timeout()
            .map(|ms| self.epoch + Duration::from_millis(ms));
        if core_at.is_some_and(|at| now >= at) {
            self.run_core_timeout();
            return true;
        }
        let next = match (core_at, self.transport_deadline) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let Some(next) = next else {
            return false;
        };
        // Re-arm only for an earlier deadline: one that moved later (the idle timer restarts
        // with every read) is picked up when the armed timer fires, so reads do not notify the
        // reactor (each `set_at` does).
        if self.timer_at.is_none_or(|t| next < t) {
            self.timer.set_at(next);
            self.timer_at = Some(next);
        }
        if Pin::new(&mut self.timer).poll(cx).is_ready() {
            self.timer_at = None;
            return true;
        }
        false
    }

    fn run_core_timeout(&mut self) {
        // The peer stalled while streaming a passed-through frame: the ping (or 1011 close) due
        // now cannot be written inside the echo's payload.
        if self.drop_if_mid_echo("timer frame", ABNORMAL, "stalled in the middle of a frame") {
            return;
        }
        let now = self.now_ms();
        let Self { core, out, .. } = self;
        let mut frame = [0u8; MIN_OUTPUT];
        let t = core.handle_timeout(now, &mut frame);
        if t.written > 0 {
            out.extend(frame.get(..t.written).unwrap_or_default());
        }
        match t.event {
            Some(TimerEvent::Ping) => log::debug!("conn={} idle: ping sent", self.id()),
            Some(TimerEvent::PongOverdue) => {
                log::info!("conn={} no pong in time: closing 1011", self.id());
                self.set_close_info(CloseCode::INTERNAL_ERROR, "pong timeout");
                // A peer that does not answer pings is gone (or behind a half-open connection):
                // waiting the close timeout for its close would keep a ghost that broadcasts
                // still count as a member.
                self.drop_when_flushed = true;
            }
            Some(TimerEvent::DropTransport) => {
                log::info!(
                    "conn={} peer did not answer our close in time; dropping",
                    self.id()
                );
                self.set_close_info(ABNORMAL, "close timeout");
                self.finish();
            }
            None => {}
        }
    }
}

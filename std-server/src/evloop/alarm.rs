//! The loop's one timer: a timerfd in the epoll set, armed for the earliest connection deadline,
//! so `epoll_wait` needs no timeout. (A timeout costs the kernel an hrtimer per wait: 0.35 us
//! per echo in the same-CPU round-trip benchmark; the alarm is re-armed only when the earliest
//! deadline moves closer, and after each sweep.)

use super::peer::NEVER;
use mio::unix::SourceFd;
use mio::{Interest, Registry, Token};
use rustix::fd::{AsRawFd, OwnedFd};
use rustix::time::{
    timerfd_create, timerfd_settime, Itimerspec, TimerfdClockId, TimerfdFlags, TimerfdTimerFlags,
    Timespec,
};
use std::io;

/// A one-shot monotonic timer that wakes the poller.
pub(super) struct Alarm {
    fd: OwnedFd,
    /// When it rings (ms on the loop's clock), or [`NEVER`].
    armed: u64,
}

impl Alarm {
    /// A disarmed alarm registered with `registry` under `token`.
    pub(super) fn new(registry: &Registry, token: Token) -> io::Result<Self> {
        let fd = timerfd_create(
            TimerfdClockId::Monotonic,
            TimerfdFlags::NONBLOCK | TimerfdFlags::CLOEXEC,
        )?;
        registry.register(&mut SourceFd(&fd.as_raw_fd()), token, Interest::READABLE)?;
        Ok(Self { fd, armed: NEVER })
    }

    /// Makes it ring no later than `at` (`now` is the current time, both in ms).
    pub(super) fn ensure(&mut self, at: u64, now: u64) -> io::Result<()> {
        if at < self.armed {
            self.set(at, now)?;
        }
        Ok(())
    }

    /// Makes it ring at `at` exactly ([`NEVER`] disarms it).
    pub(super) fn set(&mut self, at: u64, now: u64) -> io::Result<()> {
        if at == self.armed {
            return Ok(());
        }
        let value = if at == NEVER {
            Timespec::default()
        } else {
            let ms = at.saturating_sub(now);
            Timespec {
                tv_sec: i64::try_from(ms / 1000).unwrap_or(i64::MAX),
                // A zero value would disarm the timer: a due deadline rings in 1 ns.
                tv_nsec: i64::try_from(ms % 1000 * 1_000_000).unwrap_or(0).max(1),
            }
        };
        let spec = Itimerspec {
            it_interval: Timespec::default(),
            it_value: value,
        };
        timerfd_settime(&self.fd, TimerfdTimerFlags::empty(), &spec)?;
        self.armed = at;
        Ok(())
    }

    /// After it rang: consumes the expiration and marks it disarmed.
    pub(super) fn rang(&mut self) {
        let mut count = [0u8; 8];
        let _ = rustix::io::read(&self.fd, &mut count);
        self.armed = NEVER;
    }
}

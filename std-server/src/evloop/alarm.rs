//! The loop's one timer. On Linux a timerfd in the epoll set, armed for the earliest connection
//! deadline, so `epoll_wait` needs no timeout. (A timeout costs the kernel an hrtimer per wait:
//! 0.35 us per echo in the same-CPU round-trip benchmark; the alarm is re-armed only when the
//! earliest deadline moves closer, and after each sweep.) Elsewhere the poll timeout does it.

use super::peer::NEVER;
#[cfg(not(target_os = "linux"))]
pub(super) use timeout::Alarm;
#[cfg(target_os = "linux")]
pub(super) use timerfd::Alarm;

#[cfg(target_os = "linux")]
mod timerfd {
    use super::NEVER;
    use mio::unix::SourceFd;
    use mio::{Interest, Registry, Token};
    use rustix::fd::{AsRawFd, OwnedFd};
    use rustix::time::{
        timerfd_create, timerfd_settime, Itimerspec, TimerfdClockId, TimerfdFlags,
        TimerfdTimerFlags, Timespec,
    };
    use std::io;
    use std::time::Duration;

    /// A one-shot monotonic timer that wakes the poller.
    pub(in crate::evloop) struct Alarm {
        fd: OwnedFd,
        /// When it rings (ms on the loop's clock), or [`NEVER`].
        armed: u64,
    }

    impl Alarm {
        /// A disarmed alarm registered with `registry` under `token`.
        pub(in crate::evloop) fn new(registry: &Registry, token: Token) -> io::Result<Self> {
            let fd = timerfd_create(
                TimerfdClockId::Monotonic,
                TimerfdFlags::NONBLOCK | TimerfdFlags::CLOEXEC,
            )?;
            registry.register(&mut SourceFd(&fd.as_raw_fd()), token, Interest::READABLE)?;
            Ok(Self { fd, armed: NEVER })
        }

        /// Makes it ring no later than `at` (`now` is the current time, both in ms).
        pub(in crate::evloop) fn ensure(&mut self, at: u64, now: u64) -> io::Result<()> {
            if at < self.armed {
                self.set(at, now)?;
            }
            Ok(())
        }

        /// Makes it ring at `at` exactly ([`NEVER`] disarms it).
        pub(in crate::evloop) fn set(&mut self, at: u64, now: u64) -> io::Result<()> {
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
        pub(in crate::evloop) fn rang(&mut self) {
            let mut count = [0u8; 8];
            let _ = rustix::io::read(&self.fd, &mut count);
            self.armed = NEVER;
        }

        /// The poll timeout it needs: none, the timerfd wakes the poller.
        pub(in crate::evloop) fn poll_timeout(&self, _now: u64) -> Option<Duration> {
            None
        }
    }
}

#[cfg(not(target_os = "linux"))]
mod timeout {
    use super::NEVER;
    use mio::{Registry, Token};
    use std::io;
    use std::time::Duration;

    /// The earliest deadline, turned into the poll timeout.
    pub(in crate::evloop) struct Alarm {
        armed: u64,
    }

    impl Alarm {
        /// A disarmed alarm.
        pub(in crate::evloop) fn new(_registry: &Registry, _token: Token) -> io::Result<Self> {
            Ok(Self { armed: NEVER })
        }

        /// Makes it ring no later than `at`.
        pub(in crate::evloop) fn ensure(&mut self, at: u64, _now: u64) -> io::Result<()> {
            self.armed = self.armed.min(at);
            Ok(())
        }

        /// Makes it ring at `at` exactly ([`NEVER`] disarms it).
        pub(in crate::evloop) fn set(&mut self, at: u64, _now: u64) -> io::Result<()> {
            self.armed = at;
            Ok(())
        }

        /// Nothing to consume.
        pub(in crate::evloop) fn rang(&mut self) {}

        /// The poll timeout until it rings.
        pub(in crate::evloop) fn poll_timeout(&self, now: u64) -> Option<Duration> {
            (self.armed != NEVER).then(|| Duration::from_millis(self.armed.saturating_sub(now)))
        }
    }
}

//! Reads and writes bounded by a deadline (for handshakes and one-shot HTTP responses).

use crate::conn::Stream;
use async_io::Timer;
use std::future::{poll_fn, Future};
use std::io;
use std::pin::Pin;
use std::task::Poll;
use std::time::Instant;

/// Reads once into `buf`, failing with `TimedOut` at `deadline`.
pub(crate) async fn read_until<S: Stream + ?Sized>(
    io: &mut S,
    buf: &mut [u8],
    deadline: Instant,
) -> io::Result<usize> {
    let mut timer = Timer::at(deadline);
    poll_fn(|cx| {
        if let Poll::Ready(r) = Pin::new(&mut *io).poll_read(cx, buf) {
            return Poll::Ready(r);
        }
        if Pin::new(&mut timer).poll(cx).is_ready() {
            return Poll::Ready(Err(io::ErrorKind::TimedOut.into()));
        }
        Poll::Pending
    })
    .await
}

/// Writes all of `data` and flushes, failing with `TimedOut` at `deadline`.
pub(crate) async fn write_all_until<S: Stream + ?Sized>(
    io: &mut S,
    mut data: &[u8],
    deadline: Instant,
) -> io::Result<()> {
    let mut timer = Timer::at(deadline);
    poll_fn(|cx| {
        while !data.is_empty() {
            match Pin::new(&mut *io).poll_write(cx, data) {
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(n)) => data = data.get(n..).unwrap_or_default(),
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => {
                    if Pin::new(&mut timer).poll(cx).is_ready() {
                        return Poll::Ready(Err(io::ErrorKind::TimedOut.into()));
                    }
                    return Poll::Pending;
                }
            }
        }
        Pin::new(&mut *io).poll_flush(cx)
    })
    .await
}

/// Closes the write side (TCP FIN), bounded by `deadline`.
pub(crate) async fn close_until<S: Stream + ?Sized>(io: &mut S, deadline: Instant) {
    let mut timer = Timer::at(deadline);
    poll_fn(|cx| {
        if Pin::new(&mut *io).poll_close(cx).is_ready() || Pin::new(&mut timer).poll(cx).is_ready()
        {
            return Poll::Ready(());
        }
        Poll::Pending
    })
    .await
}

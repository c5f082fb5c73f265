//! In-memory pipes: a blocking one (threads, channels) and an async one (single-threaded, wakers).
#![allow(dead_code)]

use std::cell::RefCell;
use std::collections::VecDeque;
use std::convert::Infallible;
use std::rc::Rc;
use std::sync::mpsc::{channel, Receiver, Sender};
use std::task::{Poll, Waker};

/// One end of a blocking pipe: reads what the other end wrote, in pieces of at most `piece`
/// bytes (so frames and heads arrive split); read returns 0 once the other end is dropped.
pub struct End {
    rx: Receiver<Vec<u8>>,
    tx: Sender<Vec<u8>>,
    pending: VecDeque<u8>,
    piece: usize,
}

/// Two connected ends.
pub fn pipe(piece: usize) -> (End, End) {
    let (a_tx, b_rx) = channel();
    let (b_tx, a_rx) = channel();
    let a = End {
        rx: a_rx,
        tx: a_tx,
        pending: VecDeque::new(),
        piece,
    };
    let b = End {
        rx: b_rx,
        tx: b_tx,
        pending: VecDeque::new(),
        piece,
    };
    (a, b)
}

impl End {
    /// Everything the other end writes until it is dropped.
    pub fn read_to_end(mut self) -> Vec<u8> {
        let mut out: Vec<u8> = self.pending.drain(..).collect();
        while let Ok(chunk) = self.rx.recv() {
            out.extend(chunk);
        }
        out
    }
}

impl embedded_io::ErrorType for End {
    type Error = Infallible;
}

impl embedded_io::Read for End {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Infallible> {
        if self.pending.is_empty() {
            match self.rx.recv() {
                Ok(chunk) => self.pending.extend(chunk),
                Err(_) => return Ok(0),
            }
        }
        let n = buf.len().min(self.pending.len()).min(self.piece);
        for (dst, src) in buf.iter_mut().zip(self.pending.drain(..n)) {
            *dst = src;
        }
        Ok(n)
    }
}

impl embedded_io::Write for End {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Infallible> {
        // A peer that went away just drops what it is sent.
        let _ = self.tx.send(buf.to_vec());
        Ok(buf.len())
    }
    fn flush(&mut self) -> Result<(), Infallible> {
        Ok(())
    }
}

#[derive(Default)]
struct Queue {
    bytes: VecDeque<u8>,
    waker: Option<Waker>,
    closed: bool,
}

/// One end of an async pipe (single-threaded); reads come in pieces of at most `piece` bytes.
pub struct AsyncEnd {
    incoming: Rc<RefCell<Queue>>,
    outgoing: Rc<RefCell<Queue>>,
    piece: usize,
}

/// Two connected async ends.
pub fn async_pipe(piece: usize) -> (AsyncEnd, AsyncEnd) {
    let ab = Rc::new(RefCell::new(Queue::default()));
    let ba = Rc::new(RefCell::new(Queue::default()));
    let a = AsyncEnd {
        incoming: ba.clone(),
        outgoing: ab.clone(),
        piece,
    };
    let b = AsyncEnd {
        incoming: ab,
        outgoing: ba,
        piece,
    };
    (a, b)
}

impl Drop for AsyncEnd {
    fn drop(&mut self) {
        let mut q = self.outgoing.borrow_mut();
        q.closed = true;
        if let Some(w) = q.waker.take() {
            w.wake();
        }
    }
}

impl embedded_io_async::ErrorType for AsyncEnd {
    type Error = Infallible;
}

impl embedded_io_async::Read for AsyncEnd {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, Infallible> {
        futures_lite::future::poll_fn(|cx| {
            let mut q = self.incoming.borrow_mut();
            if q.bytes.is_empty() {
                if q.closed {
                    return Poll::Ready(Ok(0));
                }
                q.waker = Some(cx.waker().clone());
                return Poll::Pending;
            }
            let n = buf.len().min(q.bytes.len()).min(self.piece);
            for (dst, src) in buf.iter_mut().zip(q.bytes.drain(..n)) {
                *dst = src;
            }
            Poll::Ready(Ok(n))
        })
        .await
    }
}

impl embedded_io_async::Write for AsyncEnd {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, Infallible> {
        let mut q = self.outgoing.borrow_mut();
        q.bytes.extend(buf);
        if let Some(w) = q.waker.take() {
            w.wake();
        }
        Ok(buf.len())
    }
    async fn flush(&mut self) -> Result<(), Infallible> {
        Ok(())
    }
}

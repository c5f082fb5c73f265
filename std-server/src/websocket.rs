//! The application's view of one connection: [`WebSocket`], and its [`Reader`] / [`Writer`]
//! halves.

use crate::config::ConnectionConfig;
use crate::conn::{Conn, Stream};
use crate::driver::Mode;
use crate::error::Error;
use crate::message::Message;
use crate::shared::{Item, Shared};
use std::future::poll_fn;
use std::sync::Arc;
use std::task::Poll;
use ws_core::{CloseCode, Role, SendError};

/// One WebSocket connection (server or client role) over any futures-io stream.
///
/// Progress: a connection reads, writes and runs its timers (idle ping, pong and close
/// timeouts) only while one of its futures is polled. Keep a `recv()` pending (the usual
/// `while let Some(m) = ws.recv().await` loop); messages queued by [`Writer`]s from other tasks
/// are sent while it waits.
///
/// Cancel safety: [`WebSocket::recv`] and [`Reader::recv`] are cancel-safe: all state lives in
/// the connection, so a `select!` that drops the future loses no message and no byte.
/// [`WebSocket::send`], [`WebSocket::ping`] and [`WebSocket::close`] queue their frame in full
/// before the first `.await`; if the future is dropped, the frame still goes out with the next
/// poll of any method (never half a frame). [`Writer::send`] and [`Writer::close`] are not async.
///
/// Dropping a `WebSocket` (or its [`Reader`]) drops the transport without a close handshake:
/// call [`WebSocket::close`] first for a clean close.
pub struct WebSocket {
    /// Boxed so that moving a `WebSocket` (into a task, a callback, a split) moves a pointer and
    /// futures that hold one stay small (an idle connection's memory is mostly its futures).
    conn: Box<Conn>,
}

impl std::fmt::Debug for WebSocket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebSocket").field("id", &self.id()).finish()
    }
}

impl WebSocket {
    /// Wraps a stream on which the opening handshake is already done. `leftover` are bytes
    /// received after the handshake head (they are processed as frames first).
    pub fn from_upgraded<S: Stream + 'static>(
        stream: S,
        role: Role,
        config: &ConnectionConfig,
        leftover: &[u8],
    ) -> Self {
        Self::from_parts(
            Box::new(stream),
            role,
            config,
            leftover,
            crate::conn::next_id(),
            None,
        )
    }

    pub(crate) fn from_parts(
        io: Box<dyn Stream>,
        role: Role,
        config: &ConnectionConfig,
        leftover: &[u8],
        id: u64,
        subprotocol: Option<String>,
    ) -> Self {
        Self {
            conn: Box::new(Conn::new(io, role, config, leftover, id, subprotocol)),
        }
    }

    /// Activates permessage-deflate (after a handshake that agreed on it).
    pub(crate) fn enable_deflate(
        &mut self,
        params: ws_core::deflate::PerMessageDeflate,
        config: &crate::deflate::DeflateConfig,
    ) {
        self.conn.enable_deflate(params, config);
    }

    /// The agreed permessage-deflate (RFC 7692) parameters, if the extension is active.
    pub fn deflate(&self) -> Option<ws_core::deflate::PerMessageDeflate> {
        self.conn.deflate_params()
    }

    pub(crate) fn shared(&self) -> Arc<Shared> {
        self.conn.shared.clone()
    }

    /// The connection id used in logs.
    pub fn id(&self) -> u64 {
        self.conn.id()
    }

    /// The negotiated subprotocol, if any.
    pub fn subprotocol(&self) -> Option<&str> {
        self.conn.subprotocol.as_deref()
    }

    /// The next message; `None` once the connection is closed (see [`WebSocket::close_info`]).
    /// Pings are answered and the close handshake completed on the way. Cancel-safe.
    pub async fn recv(&mut self) -> Option<Message> {
        poll_fn(|cx| self.conn.poll_next(cx)).await
    }

    /// Sends a message and waits until it is written to the transport.
    pub async fn send(&mut self, m: Message) -> Result<(), Error> {
        if self.conn.is_done() {
            return Err(Error::Closed);
        }
        self.conn.send_message(m).map_err(send_error)?;
        self.flush().await
    }

    /// Sends a ping (payload at most 125 bytes) and waits until it is written.
    pub async fn ping(&mut self, payload: &[u8]) -> Result<(), Error> {
        if self.conn.is_done() {
            return Err(Error::Closed);
        }
        self.conn.send_ping(payload).map_err(send_error)?;
        self.flush().await
    }

    /// Starts the close handshake with `code` and `reason` (cut to 123 bytes) and drives the
    /// connection until the transport is closed (messages still arriving are discarded). Bounded
    /// by the close timeout.
    pub async fn close(&mut self, code: CloseCode, reason: &str) -> Result<(), Error> {
        if self.conn.is_done() {
            return Err(Error::Closed);
        }
        self.conn.send_close(code, reason).map_err(send_error)?;
        poll_fn(|cx| loop {
            match self.conn.poll_next(cx) {
                Poll::Ready(Some(_)) => continue,
                Poll::Ready(None) => return Poll::Ready(()),
                Poll::Pending => return Poll::Pending,
            }
        })
        .await;
        Ok(())
    }

    /// Why the connection closed: the close code received (or sent, if we closed first or failed
    /// the connection; 1006 when the transport ended without a close, 1005 for an empty close).
    pub fn close_info(&self) -> Option<(CloseCode, String)> {
        self.conn.close_info()
    }

    /// Echoes every message back until the connection closes (the reference echo server). Whole
    /// messages that fit the read buffer are echoed from it without allocating; the replies to all
    /// frames of one read leave in one write.
    pub async fn echo(mut self) {
        self.conn.set_mode(Mode::Echo);
        poll_fn(|cx| self.conn.poll_next(cx).map(|_| ())).await;
    }

    /// A cloneable, non-blocking writer for this connection (e.g. to [`crate::Room::subscribe`]
    /// it); what it queues is sent while this `WebSocket` is polled.
    pub fn writer(&self) -> Writer {
        Writer {
            shared: self.conn.shared.clone(),
        }
    }

    /// Splits into a reader (drives the connection) and a cloneable, non-blocking writer.
    pub fn split(self) -> (Reader, Writer) {
        let writer = Writer {
            shared: self.conn.shared.clone(),
        };
        (Reader { ws: self }, writer)
    }

    async fn flush(&mut self) -> Result<(), Error> {
        poll_fn(|cx| self.conn.poll_flush(cx)).await?;
        Ok(())
    }
}

/// Maps a ws-core send error to this crate's error.
fn send_error(e: SendError) -> Error {
    match e {
        SendError::Closing => Error::Closed,
        other => Error::InvalidInput(other),
    }
}

/// The reading half: receives messages and drives the connection (including the writes queued by
/// [`Writer`]s). Dropping it drops the transport.
#[derive(Debug)]
pub struct Reader {
    ws: WebSocket,
}

impl Reader {
    /// The next message; `None` once closed. Cancel-safe.
    pub async fn recv(&mut self) -> Option<Message> {
        self.ws.recv().await
    }

    /// Why the connection closed (see [`WebSocket::close_info`]).
    pub fn close_info(&self) -> Option<(CloseCode, String)> {
        self.ws.close_info()
    }

    /// The connection id used in logs.
    pub fn id(&self) -> u64 {
        self.ws.id()
    }
}

/// The writing half: cheap to clone, `Send + Sync`, usable from any task; never blocks.
#[derive(Clone, Debug)]
pub struct Writer {
    shared: Arc<Shared>,
}

impl Writer {
    /// Queues a message without waiting. If the queued bytes would pass the cap
    /// ([`Config::max_outbound_bytes`]; a single message is always accepted into an empty queue),
    /// the connection is closed with 1008 and `Err(Error::Backpressure)` returned; after the
    /// connection closed, `Err(Error::Closed)`.
    pub fn send(&self, m: Message) -> Result<(), Error> {
        self.queue(Item::Msg(m))
    }

    /// [`Writer::send`] for a message framed once for many connections: the queue holds a
    /// reference to its frame (made on the first send that needs it), not a copy. Same cap and
    /// errors as [`Writer::send`].
    pub fn send_prepared(&self, m: &mut crate::Prepared) -> Result<(), Error> {
        let framing = self.shared.lock().framing;
        self.queue(m.item_for(framing))
    }

    /// Queues `item` within the cap (see [`Writer::send`]).
    fn queue(&self, item: Item) -> Result<(), Error> {
        let pending = self.shared.pending();
        if pending > 0 && pending.saturating_add(item.len()) > self.shared.cap {
            self.shared
                .abort_with(CloseCode::POLICY, "outbound queue over its cap");
            return Err(Error::Backpressure);
        }
        if self.shared.push(item) {
            Ok(())
        } else {
            Err(Error::Closed)
        }
    }

    /// Asks the connection to close with `code` and `reason` after the messages already queued.
    pub fn close(&self, code: CloseCode, reason: &str) {
        if self.shared.push(Item::Close(code, reason.to_owned())) {
            self.shared.lock().closed = true;
        }
    }

    /// The connection id used in logs.
    pub fn id(&self) -> u64 {
        self.shared.id
    }

    pub(crate) fn shared(&self) -> Arc<Shared> {
        self.shared.clone()
    }

    /// Bytes queued and not yet written.
    pub fn queued_bytes(&self) -> usize {
        self.shared.pending()
    }

    /// Whether the connection can no longer send.
    pub fn is_closed(&self) -> bool {
        self.shared.lock().closed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn send<T: Send>(_: &T) {}
    fn send_sync_clone<T: Send + Sync + Clone>() {}

    #[test]
    fn halves_and_futures_can_cross_tasks() {
        send_sync_clone::<Writer>();
        fn check(mut ws: WebSocket, mut r: Reader) {
            send(&ws.recv());
            send(&ws.send(Message::Text(String::new())));
            send(&r.recv());
            send(&ws);
        }
        let _ = check;
    }
}

//! The adapter over async `embedded_io_async::{Read, Write}` streams (embassy-net's `TcpSocket`).
//! It mirrors blocking.rs line for line (only `async`/`.await` differ): change both together.

use crate::session::{HandshakeStep, Session, Step};
use crate::{Error, MaskKeys, Message, NoMasks};
use embedded_io_async::{Read, Write};
use ws_core::handshake::{ClientRequest, RequestParser, ResponseParser};
use ws_core::{CloseCode, Connection, MessageKind, Role};

/// A WebSocket over an async stream `T`, with buffers borrowed for `'b`; `M` gives client mask
/// keys ([`NoMasks`] for a server).
pub struct WebSocket<'b, T, M = NoMasks> {
    io: T,
    session: Session<'b>,
    masks: M,
}

impl<'b, T: Read + Write> WebSocket<'b, T, NoMasks> {
    /// Server: reads the opening request from `io` and answers it (101, or the error response,
    /// then `Err(Error::Handshake)`). Bytes after the head stay in `rx` for [`WebSocket::read`].
    pub async fn accept(
        io: T,
        rx: &'b mut [u8],
        tx: &'b mut [u8],
    ) -> Result<Self, Error<T::Error>> {
        let mut ws = Self {
            io,
            session: Session::new(Role::Server, rx, tx)?,
            masks: NoMasks,
        };
        let mut parser = RequestParser::new(ws.session.head_limits());
        loop {
            match ws.session.accept_step(&mut parser) {
                HandshakeStep::Read => ws.fill().await?,
                HandshakeStep::Write(n, result) => {
                    ws.write(n).await?;
                    return match result {
                        Ok(()) => Ok(ws),
                        Err(Some(e)) => Err(Error::Handshake(e)),
                        Err(None) => Err(Error::BufferTooSmall),
                    };
                }
            }
        }
    }
}

impl<'b, T: Read + Write, M: MaskKeys> WebSocket<'b, T, M> {
    /// Client: sends the opening request (with the 16 random bytes `nonce`) and validates the
    /// server's 101. `masks` gives a fresh random key for every frame sent.
    pub async fn connect(
        io: T,
        request: &ClientRequest<'_>,
        nonce: [u8; 16],
        masks: M,
        rx: &'b mut [u8],
        tx: &'b mut [u8],
    ) -> Result<Self, Error<T::Error>> {
        let mut ws = Self {
            io,
            session: Session::new(Role::Client, rx, tx)?,
            masks,
        };
        let (n, expected) = ws.session.connect_request(request, nonce)?;
        ws.write(n).await?;
        let mut parser = ResponseParser::new(ws.session.head_limits());
        while !ws.session.connect_step(&mut parser, request, &expected)? {
            ws.fill().await?;
        }
        Ok(ws)
    }

    /// Reads the next whole message into `dst`, answering pings and echoing the peer's close on
    /// the way. After [`Message::Close`], drop the transport.
    pub async fn read<'d>(&mut self, dst: &'d mut [u8]) -> Result<Message<'d>, Error<T::Error>> {
        loop {
            let mask = self.masks.next_key();
            match self.session.read_step(dst, mask) {
                Step::Read => self.fill().await?,
                Step::Write(n) => self.write(n).await?,
                Step::Message(kind, len) => {
                    return Ok(Message::new(kind, dst.get(..len).unwrap_or_default()))
                }
                Step::Closed(code) => return Ok(Message::Close(code)),
                Step::Failed(e) => return Err(Error::Protocol(e)),
                Step::TooLarge => return Err(Error::MessageTooLarge),
            }
        }
    }

    /// Sends one whole message (a single frame).
    pub async fn send(&mut self, kind: MessageKind, payload: &[u8]) -> Result<(), Error<T::Error>> {
        let mask = self.masks.next_key();
        let n = self.session.data_header(kind, payload.len(), mask)?;
        self.write(n).await?;
        match self.session.conn.role() {
            Role::Server => self.io.write_all(payload).await.map_err(Error::Io)?,
            Role::Client => {
                let mut offset = 0;
                loop {
                    let n = self.session.mask_chunk(payload, offset, mask);
                    if n == 0 {
                        break;
                    }
                    self.write(n).await?;
                    offset += n;
                }
            }
        }
        self.io.flush().await.map_err(Error::Io)
    }

    /// Sends a text message.
    pub async fn send_text(&mut self, text: &str) -> Result<(), Error<T::Error>> {
        self.send(MessageKind::Text, text.as_bytes()).await
    }

    /// Sends a ping (at most 125 bytes); its pong is consumed by a later [`WebSocket::read`].
    pub async fn ping(&mut self, payload: &[u8]) -> Result<(), Error<T::Error>> {
        let mask = self.masks.next_key();
        let n = self.session.ping(payload, mask)?;
        self.write(n).await?;
        self.io.flush().await.map_err(Error::Io)
    }

    /// Sends our close (unless one was already sent) and reads until the peer's close or the end
    /// of the stream; messages arriving meanwhile are dropped. `dst` receives them.
    pub async fn close(
        &mut self,
        code: CloseCode,
        reason: &str,
        dst: &mut [u8],
    ) -> Result<(), Error<T::Error>> {
        let mask = self.masks.next_key();
        let n = self.session.close(code, reason, mask);
        self.write(n).await?;
        self.io.flush().await.map_err(Error::Io)?;
        loop {
            match self.read(dst).await {
                Ok(Message::Close(_)) | Err(Error::Eof) => return Ok(()),
                Ok(_) | Err(Error::MessageTooLarge) => {}
                Err(e) => return Err(e),
            }
            if self.session.conn.state() == ws_core::State::Closed {
                return Ok(());
            }
        }
    }

    /// The ws-core connection (state, timers).
    pub fn connection(&self) -> &Connection {
        &self.session.conn
    }

    /// Gives the stream back.
    pub fn into_inner(self) -> T {
        self.io
    }

    async fn fill(&mut self) -> Result<(), Error<T::Error>> {
        let n = self
            .io
            .read(self.session.rx_free()?)
            .await
            .map_err(Error::Io)?;
        if n == 0 {
            return Err(Error::Eof);
        }
        self.session.filled(n);
        Ok(())
    }

    async fn write(&mut self, n: usize) -> Result<(), Error<T::Error>> {
        if n > 0 {
            self.io
                .write_all(self.session.tx(n))
                .await
                .map_err(Error::Io)?;
        }
        Ok(())
    }
}

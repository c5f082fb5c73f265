//! The adapter over blocking `embedded_io::{Read, Write}` streams. asynch.rs mirrors it line for
//! line (only `async`/`.await` differ): change both together.

use crate::session::{HandshakeStep, Session, Step};
use crate::{Error, Message};
use embedded_io::{Read, Write};
use ws_core::handshake::{ClientRequest, RequestParser, ResponseParser};
use ws_core::{
    Client, CloseCode, Connection, Endpoint, Limits, MaskKeys, MessageKind, Server, Timers,
};

/// A WebSocket over a blocking stream `T`, with buffers borrowed for `'b`, in the role `R`
/// ([`Server`] after [`WebSocket::accept`], [`Client`] after [`WebSocket::connect`]).
pub struct WebSocket<'b, T, R = Server> {
    io: T,
    session: Session<'b, R>,
}

impl<'b, T: Read + Write> WebSocket<'b, T, Server> {
    /// Server: reads the opening request from `io` and answers it (101, or the error response,
    /// then `Err(Error::Handshake)`). Bytes after the head stay in `rx` for [`WebSocket::read`].
    pub fn accept(io: T, rx: &'b mut [u8], tx: &'b mut [u8]) -> Result<Self, Error<T::Error>> {
        let mut ws = Self {
            io,
            session: Session::new(
                Connection::server(Limits::DEFAULT, Timers::default(), 0),
                rx,
                tx,
            )?,
        };
        let mut parser = RequestParser::new(ws.session.head_limits());
        loop {
            match ws.session.accept_step(&mut parser) {
                HandshakeStep::Read => ws.fill()?,
                HandshakeStep::Write(n, result) => {
                    ws.write(n)?;
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

impl<'b, T: Read + Write, K: MaskKeys> WebSocket<'b, T, Client<K>> {
    /// Client: sends the opening request (with the 16 random bytes `nonce`) and validates the
    /// server's 101. `masks` gives a fresh random key for every frame sent (RFC 6455 §5.3).
    pub fn connect(
        io: T,
        request: &ClientRequest<'_>,
        nonce: [u8; 16],
        masks: K,
        rx: &'b mut [u8],
        tx: &'b mut [u8],
    ) -> Result<Self, Error<T::Error>> {
        let mut ws = Self {
            io,
            session: Session::new(
                Connection::client(Limits::DEFAULT, Timers::default(), 0, masks),
                rx,
                tx,
            )?,
        };
        let (n, expected) = ws.session.connect_request(request, nonce)?;
        ws.write(n)?;
        let mut parser = ResponseParser::new(ws.session.head_limits());
        while !ws.session.connect_step(&mut parser, request, &expected)? {
            ws.fill()?;
        }
        Ok(ws)
    }
}

impl<'b, T: Read + Write, R: Endpoint> WebSocket<'b, T, R> {
    /// Reads the next whole message into `dst`, answering pings and echoing the peer's close on
    /// the way. After [`Message::Close`], drop the transport.
    pub fn read<'d>(&mut self, dst: &'d mut [u8]) -> Result<Message<'d>, Error<T::Error>> {
        loop {
            match self.session.read_step(dst) {
                Step::Read => self.fill()?,
                Step::Write(n) => self.write(n)?,
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
    pub fn send(&mut self, kind: MessageKind, payload: &[u8]) -> Result<(), Error<T::Error>> {
        let (n, mask) = self.session.data_header(kind, payload.len())?;
        self.write(n)?;
        match mask {
            None => self.io.write_all(payload).map_err(Error::Io)?,
            Some(mask) => {
                let mut offset = 0;
                loop {
                    let n = self.session.mask_chunk(payload, offset, mask);
                    if n == 0 {
                        break;
                    }
                    self.write(n)?;
                    offset += n;
                }
            }
        }
        self.io.flush().map_err(Error::Io)
    }

    /// Sends a text message.
    pub fn send_text(&mut self, text: &str) -> Result<(), Error<T::Error>> {
        self.send(MessageKind::Text, text.as_bytes())
    }

    /// Sends a ping (at most 125 bytes); its pong is consumed by a later [`WebSocket::read`].
    pub fn ping(&mut self, payload: &[u8]) -> Result<(), Error<T::Error>> {
        let n = self.session.ping(payload)?;
        self.write(n)?;
        self.io.flush().map_err(Error::Io)
    }

    /// Sends our close (unless one was already sent) and reads until the peer's close or the end
    /// of the stream; messages arriving meanwhile are dropped. `dst` receives them.
    pub fn close(
        &mut self,
        code: CloseCode,
        reason: &str,
        dst: &mut [u8],
    ) -> Result<(), Error<T::Error>> {
        let n = self.session.close(code, reason);
        self.write(n)?;
        self.io.flush().map_err(Error::Io)?;
        loop {
            match self.read(dst) {
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
    pub fn connection(&self) -> &Connection<R> {
        &self.session.conn
    }

    /// Gives the stream back.
    pub fn into_inner(self) -> T {
        self.io
    }

    fn fill(&mut self) -> Result<(), Error<T::Error>> {
        let n = self.io.read(self.session.rx_free()?).map_err(Error::Io)?;
        if n == 0 {
            return Err(Error::Eof);
        }
        self.session.filled(n);
        Ok(())
    }

    fn write(&mut self, n: usize) -> Result<(), Error<T::Error>> {
        if n > 0 {
            self.io.write_all(self.session.tx(n)).map_err(Error::Io)?;
        }
        Ok(())
    }
}

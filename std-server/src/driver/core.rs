//! The ws-core connection of either role behind one type, for the [`super::Driver`], which
//! serves the server and the client role chosen at run time. ws-core types the role
//! (`Connection<Server>` / `Connection<Client<K>>`); this enum dispatches to the one in use.

use ws_core::connection::MIN_OUTPUT;
use ws_core::{
    Client, CloseCode, Connection, Limits, MaskKeys, MessageKind, Received, Role, SendError,
    Server, State, Timeout, Timers,
};

/// Fresh mask keys from the OS-seeded thread RNG (RFC 6455 §5.3: unpredictable).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct RandomKeys;

impl MaskKeys for RandomKeys {
    fn next_key(&mut self) -> [u8; 4] {
        rand::random()
    }
}

/// A ws-core connection in the server or the client role.
#[derive(Debug)]
pub(crate) enum Core {
    /// Never masks.
    Server(Connection<Server>),
    /// Masks every frame with a key from [`RandomKeys`]. Boxed: then the enum needs no tag
    /// beside the server's connection (96 bytes, not 104), and servers hold thousands of these
    /// while a client holds one.
    Client(Box<Connection<Client<RandomKeys>>>),
}

/// Runs `$body` with `$c` bound to the connection, whatever its role.
macro_rules! with {
    ($core:expr, $c:ident => $body:expr) => {
        match $core {
            Core::Server($c) => $body,
            Core::Client($c) => $body,
        }
    };
}

impl Core {
    /// A connection in the Open state.
    pub(crate) fn new(role: Role, limits: Limits, timers: Timers, now: u64) -> Self {
        match role {
            Role::Server => Core::Server(Connection::server(limits, timers, now)),
            Role::Client => Core::Client(Box::new(Connection::client(
                limits, timers, now, RandomKeys,
            ))),
        }
    }

    /// This side's role.
    #[inline]
    pub(crate) fn role(&self) -> Role {
        match self {
            Core::Server(_) => Role::Server,
            Core::Client(_) => Role::Client,
        }
    }

    /// See [`Connection::max_message_size`].
    pub(crate) fn max_message_size(&self) -> u64 {
        with!(self, c => c.max_message_size())
    }

    /// See [`Connection::frame_remaining`].
    pub(crate) fn frame_remaining(&self) -> u64 {
        with!(self, c => c.frame_remaining())
    }

    /// See [`Connection::state`].
    #[inline]
    pub(crate) fn state(&self) -> State {
        with!(self, c => c.state())
    }

    /// See [`Connection::poll_timeout`].
    pub(crate) fn poll_timeout(&self) -> Option<u64> {
        with!(self, c => c.poll_timeout())
    }

    /// See [`Connection::set_deflate`].
    pub(crate) fn set_deflate(&mut self, active: bool) {
        with!(self, c => c.set_deflate(active))
    }

    /// See [`Connection::receive`].
    pub(crate) fn receive<'a>(
        &mut self,
        input: &'a mut [u8],
        output: &mut [u8; MIN_OUTPUT],
        now: u64,
    ) -> Received<'a> {
        with!(self, c => c.receive(input, output, now))
    }

    /// See [`Connection::handle_timeout`].
    pub(crate) fn handle_timeout(&mut self, now: u64, output: &mut [u8; MIN_OUTPUT]) -> Timeout {
        with!(self, c => c.handle_timeout(now, output))
    }

    /// See [`Connection::send_ping`].
    pub(crate) fn send_ping(&mut self, payload: &[u8], out: &mut [u8]) -> Result<usize, SendError> {
        with!(self, c => c.send_ping(payload, out))
    }

    /// See [`Connection::send_close`].
    pub(crate) fn send_close(
        &mut self,
        code: Option<CloseCode>,
        reason: &str,
        now: u64,
        out: &mut [u8],
    ) -> Result<usize, SendError> {
        with!(self, c => c.send_close(code, reason, now, out))
    }

    /// [`Connection::send_data_header`] or, if `compressed`,
    /// [`Connection::send_compressed_data_header`].
    pub(crate) fn send_data_header(
        &mut self,
        kind: MessageKind,
        len: u64,
        fin: bool,
        compressed: bool,
        out: &mut [u8],
    ) -> Result<usize, SendError> {
        with!(self, c => if compressed {
            c.send_compressed_data_header(kind, len, fin, out)
        } else {
            c.send_data_header(kind, len, fin, out)
        })
    }
}

//! The reference echo server's handler.

use crate::http::{Handler, Reply, Request, Upgrade};
use crate::websocket::WebSocket;

/// Upgrades every request (any path) and echoes every message back (see [`WebSocket::echo`]);
/// requests that are not valid upgrades get ws-core's 4xx.
pub fn echo_handler() -> impl Handler {
    |_req: Request| async { Reply::Upgrade(Upgrade::new(WebSocket::echo)) }
}

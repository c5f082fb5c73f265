//! The `ws-server room` subcommand's server: one room on `/room` where every data message any
//! member sends is published, unchanged (text or binary), to every member, the sender included.
//! The reference broadcast the benchmarks run against (their fastwebsockets and tokio-tungstenite
//! peers serve the same protocol). [`handler`] serves it on the task server with a [`Room`],
//! [`LoopRelay`] on the event loop with a topic (`ws-server room --engine loop`); and
//! [`LoopEcho`] is the echo written as an event-loop application (`ws-server echo --engine
//! app-loop`), to measure what the application path costs against the built-in echo.

use std::sync::Arc;

use ws_server::evloop::{App, Conn, Head};
use ws_server::{Handler, HttpResponse, Message, Reply, Request, Room, Upgrade, WebSocket};

/// The path of the room.
const PATH: &str = "/room";
/// The answer to any other path.
const ELSEWHERE: &str = "not found: connect to /room";
/// The loop's topic for the room.
const TOPIC: &str = "room";

/// Serves `room`: connections to `/room` join it and publish every message they send; any other
/// path is 404.
pub fn handler(room: Arc<Room>) -> impl Handler {
    move |req: Request| {
        let room = room.clone();
        async move {
            if req.path != PATH {
                return Reply::Http(crate::web::error(404, ELSEWHERE));
            }
            Reply::Upgrade(Upgrade::new(move |ws: WebSocket| async move {
                let (mut reader, writer) = ws.split();
                room.subscribe(&writer);
                while let Some(msg) = reader.recv().await {
                    room.publish(&msg);
                }
                room.unsubscribe(&writer);
            }))
        }
    }
}

/// The room on the event loop: connections to `/room` join the topic `room` and publish every
/// message they send to it; any other path is 404.
#[derive(Debug, Default)]
pub struct LoopRelay;

impl App for LoopRelay {
    fn admit(&mut self, head: &Head<'_, '_>) -> Result<(), HttpResponse> {
        if head.path == PATH {
            Ok(())
        } else {
            Err(crate::web::error(404, ELSEWHERE))
        }
    }

    fn on_open(&mut self, conn: &mut Conn<'_>, _path: &str) {
        conn.subscribe(TOPIC);
    }

    fn on_message(&mut self, conn: &mut Conn<'_>, msg: Message) {
        conn.publish(TOPIC, &msg);
    }
}

/// The echo as an event-loop application: every message sent back whole (any path).
#[derive(Debug, Default)]
pub struct LoopEcho;

impl App for LoopEcho {
    fn on_message(&mut self, conn: &mut Conn<'_>, msg: Message) {
        // Fails only once the connection is closing: then there is nobody to answer.
        let _ = conn.send(msg);
    }
}

//! The `ws-server room` subcommand's server: one room on `/room` where every data message any
//! member sends is published, unchanged (text or binary), to every member, the sender included.
//! The reference broadcast the benchmarks run against (their fastwebsockets and tokio-tungstenite
//! peers serve the same protocol).

use std::sync::Arc;

use ws_server::{Handler, Reply, Request, Room, Upgrade, WebSocket};

/// Serves `room`: connections to `/room` join it and publish every message they send; any other
/// path is 404.
pub fn handler(room: Arc<Room>) -> impl Handler {
    move |req: Request| {
        let room = room.clone();
        async move {
            if req.path != "/room" {
                return Reply::Http(crate::web::error(404, "not found: connect to /room"));
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

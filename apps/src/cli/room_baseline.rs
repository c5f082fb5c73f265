//! `ws-server room` BEFORE rooms are in ws-server's API: the room written the way lib.rs's crate
//! example writes one today (a `Writer` per member in a `Vec`, `send(msg.clone())` to each in a
//! loop). It is the "before" baseline of the broadcast benchmark (issue 15); the rooms API's
//! `room` subcommand replaces this file.
//!
//! Every WebSocket on `/room` joins the one room; every data message a member sends goes to every
//! member, the sender included, unchanged. Other paths get 404.

use std::sync::{Arc, Mutex, PoisonError};
use ws_server::{Handler, HttpResponse, Reply, Request, Upgrade, WebSocket, Writer};

/// The handler: `/room` upgrades and joins, anything else is 404.
pub fn handler() -> impl Handler {
    let room: Arc<Mutex<Vec<Writer>>> = Arc::default();
    move |req: Request| {
        let room = room.clone();
        async move {
            if req.path != "/room" {
                return Reply::Http(HttpResponse::text(404, "not found"));
            }
            Reply::Upgrade(Upgrade::new(move |ws: WebSocket| async move {
                let (mut reader, writer) = ws.split();
                lock(&room).push(writer);
                while let Some(msg) = reader.recv().await {
                    // Never blocks: a member over its outbound cap is closed with 1008 (and
                    // dropped from the room, as is one already closed).
                    lock(&room).retain(|w| w.send(msg.clone()).is_ok());
                }
            }))
        }
    }
}

/// The member list; a panic elsewhere while holding it leaves a list still worth using.
fn lock(room: &Mutex<Vec<Writer>>) -> std::sync::MutexGuard<'_, Vec<Writer>> {
    room.lock().unwrap_or_else(PoisonError::into_inner)
}

//! A chat room on the event loop, the way Tornado's chat demo goes: each connection is given a
//! uid when it opens and the recent history, every message is broadcast to the room as
//! `<uid>: <text>`, and when a connection closes the others hear `<uid> left`.
//!
//! `cargo run --release -p ws-server --features evloop --example loop_chat -- 127.0.0.1:9001`
//! (tested by tests/app_loop_chat.rs).

use std::collections::{HashMap, VecDeque};
use ws_server::evloop::{App, AppLoop, Conn, ConnId};
use ws_server::{CloseCode, Config, Message};

/// The room's topic.
const ROOM: &str = "chat";

/// The chat: uids, the history and the room.
#[derive(Debug)]
pub struct Chat {
    next_uid: u64,
    uids: HashMap<ConnId, u64>,
    /// The latest messages, oldest first, replayed to each newcomer.
    history: VecDeque<Message>,
    keep: usize,
}

impl Chat {
    /// A chat that replays the last `keep` messages to newcomers.
    pub fn new(keep: usize) -> Self {
        Self {
            next_uid: 1,
            uids: HashMap::new(),
            history: VecDeque::new(),
            keep,
        }
    }

    /// Sends `text` to the room and keeps it in the history.
    fn say(&mut self, conn: &mut Conn<'_>, text: String) {
        let msg = Message::Text(text);
        conn.publish(ROOM, &msg);
        if self.history.len() == self.keep {
            self.history.pop_front();
        }
        self.history.push_back(msg);
    }
}

impl App for Chat {
    fn on_open(&mut self, conn: &mut Conn<'_>, _path: &str) {
        let uid = self.next_uid;
        self.next_uid += 1;
        self.uids.insert(conn.id(), uid);
        // The uid first, then the history, then live messages: nothing in between, since the
        // callbacks run one at a time on the loop.
        let _ = conn.send(Message::Text(format!("uid {uid}")));
        for msg in &self.history {
            let _ = conn.send(msg.clone());
        }
        conn.subscribe(ROOM);
    }

    fn on_message(&mut self, conn: &mut Conn<'_>, msg: Message) {
        let Some(&uid) = self.uids.get(&conn.id()) else {
            return;
        };
        match msg {
            Message::Text(text) => self.say(conn, format!("{uid}: {text}")),
            Message::Binary(_) => conn.close(CloseCode::UNSUPPORTED, "text only"),
        }
    }

    fn on_close(&mut self, conn: &mut Conn<'_>, _code: CloseCode, _reason: &str) {
        if let Some(uid) = self.uids.remove(&conn.id()) {
            self.say(conn, format!("{uid} left"));
        }
    }
}

#[allow(dead_code)]
fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9001".into());
    let server = AppLoop::bind(&addr, Config::default(), Chat::new(100))?;
    eprintln!("chat on ws://{}", server.local_addr());
    server.run()
}

//! A close the application asks for is logged with its own reason: an app that closes a socket
//! with 1008 because of a logout or a rate limit must not be logged as "outbound queue over its
//! cap" (the log said that for every server-initiated 1008 before the driver).

mod common;

use common::{client, start_with};
use std::sync::Mutex;
use tungstenite::Message as T;
use ws_server::{CloseCode, Config, Reply, Request, Upgrade, WebSocket};

/// Every log line, for the test to read.
struct Capture(Mutex<Vec<String>>);

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }
    fn log(&self, record: &log::Record<'_>) {
        if let Ok(mut lines) = self.0.lock() {
            lines.push(record.args().to_string());
        }
    }
    fn flush(&self) {}
}

static LOG: Capture = Capture(Mutex::new(Vec::new()));

#[test]
fn a_policy_close_is_logged_with_the_applications_reason() {
    log::set_logger(&LOG).unwrap();
    log::set_max_level(log::LevelFilter::Info);
    let handler = |_req: Request| async move {
        Reply::Upgrade(Upgrade::new(|ws: WebSocket| async move {
            let (mut reader, writer) = ws.split();
            if reader.recv().await.is_some() {
                writer.close(CloseCode::POLICY, "rate limit exceeded");
            }
            while reader.recv().await.is_some() {}
        }))
    };
    let server = start_with(Config::default(), handler);
    let mut ws = client(server.addr);
    ws.send(T::text("hi")).unwrap();
    match ws.read() {
        Ok(T::Close(Some(frame))) => assert_eq!(u16::from(frame.code), 1008),
        other => panic!("expected a 1008 close, got {other:?}"),
    }
    let _ = ws.close(None);
    let _ = ws.read();
    // The log line is written when the driver takes the close from the queue.
    std::thread::sleep(std::time::Duration::from_millis(200));
    let lines = LOG.0.lock().unwrap().join("\n");
    assert!(
        lines.contains("closing 1008: rate limit exceeded"),
        "{lines}"
    );
    assert!(!lines.contains("outbound queue over its cap"), "{lines}");
}

//! What the tests of the `ws-server` binary share: its path, a guard that kills it, and starting
//! it on a free loopback port with its log lines on a channel.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::Duration;

pub const BIN: &str = env!("CARGO_BIN_EXE_ws-server");

/// Kills the child on drop (by its own PID) so a failing test leaves nothing running.
pub struct Guard(pub Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `ws-server ARGS --addr 127.0.0.1:0`; returns it, its address, its log lines up to
/// "listening on" and the channel of the later ones.
pub fn start(args: &[&str]) -> (Guard, SocketAddr, Vec<String>, Receiver<String>) {
    let mut child = Command::new(BIN)
        .args(args)
        .args(["--addr", "127.0.0.1:0", "--log-level", "info"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        // Drains to the end even when nobody listens any more: a full pipe would block the
        // server's logging.
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let guard = Guard(child);
    let mut early = Vec::new();
    let addr = loop {
        let line = rx
            .recv_timeout(Duration::from_secs(10))
            .unwrap_or_else(|_| panic!("never listening: {early:#?}"));
        if let Some(a) = line.split("listening on ").nth(1) {
            break a.trim().parse().unwrap();
        }
        early.push(line);
    };
    (guard, addr, early, rx)
}

/// The next log line containing `what` (panics after 10 s).
pub fn wait_for(rx: &Receiver<String>, what: &str) -> String {
    loop {
        let line = rx
            .recv_timeout(Duration::from_secs(10))
            .unwrap_or_else(|_| panic!("no log line with {what:?}"));
        if line.contains(what) {
            return line;
        }
    }
}

/// The log lines after "listening on", up to the process's end (call once it exited).
pub fn rest_of_log(early: Vec<String>, rx: Receiver<String>) -> String {
    early
        .into_iter()
        .chain(rx.iter())
        .collect::<Vec<_>>()
        .join("\n")
}

//! Child processes are bounded: killed on drop and on timeout, early exits reported.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use ws_conformance::process::{free_port, Child};

fn log(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!(
        "ws-conformance-test-{}-{name}.log",
        std::process::id()
    ))
}

fn alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

#[test]
fn a_dropped_child_is_killed_and_reaped() {
    let child = Child::spawn("sleeper", Command::new("sleep").arg("30"), &log("drop")).unwrap();
    let pid = child.pid();
    assert!(alive(pid));
    drop(child);
    assert!(!alive(pid), "pid {pid} still exists after drop");
}

#[test]
fn wait_timeout_kills_a_child_that_runs_too_long() {
    let mut child =
        Child::spawn("sleeper", Command::new("sleep").arg("30"), &log("timeout")).unwrap();
    let pid = child.pid();
    let e = child.wait_timeout(Duration::from_millis(300)).unwrap_err();
    assert!(e.contains("killed"), "{e}");
    assert!(!alive(pid));
}

#[test]
fn wait_timeout_returns_the_exit_status() {
    let mut child = Child::spawn(
        "sh",
        Command::new("sh").args(["-c", "exit 3"]),
        &log("status"),
    )
    .unwrap();
    let status = child.wait_timeout(Duration::from_secs(30)).unwrap();
    assert_eq!(status.code(), Some(3));
}

#[test]
fn a_child_that_exits_before_listening_is_reported_with_its_log() {
    let port = free_port().unwrap();
    let cmd = "echo 'Address already in use' >&2; exit 1";
    let mut child = Child::spawn(
        "server",
        Command::new("sh").args(["-c", cmd]),
        &log("early"),
    )
    .unwrap();
    let e = child
        .wait_listening(port, Duration::from_secs(30))
        .unwrap_err();
    assert!(
        e.contains("exited early") && e.contains("Address already in use"),
        "{e}"
    );
}

#[test]
fn free_port_can_be_bound() {
    let port = free_port().unwrap();
    assert_ne!(port, 0);
    std::net::TcpListener::bind(("127.0.0.1", port)).unwrap();
}

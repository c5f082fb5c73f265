//! The `ws-server serve` command itself: it serves the index linking the three apps from a fresh
//! data directory (creating the key and token files privately) and exits cleanly on SIGTERM.

mod apps_support;

use apps_support::*;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn serve_command_serves_the_index_and_stops_on_sigterm() {
    let dir = TempDir::new("serve-cmd");
    let data = dir.path().join("data");
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let mut child = Command::new(env!("CARGO_BIN_EXE_ws-server"))
        .args(["serve", "--addr", &addr.to_string(), "--data-dir"])
        .arg(&data)
        .args(["--log-level", "warn"])
        .stdin(Stdio::null())
        .spawn()
        .expect("spawn ws-server serve");
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(addr).is_err() {
        assert!(Instant::now() < deadline, "server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    let r = http(addr, "GET", "/", &[], "");
    assert_eq!(r.status, 200);
    for link in ["href=\"/echo\"", "href=\"/chat\"", "href=\"/vote\""] {
        assert!(r.body.contains(link), "index links {link}");
    }
    assert!(r.header("content-security-policy").is_some());
    for (path, kind) in [
        ("/echo", "text/html"),
        ("/static/chat.js", "text/javascript"),
    ] {
        let r = http(addr, "GET", path, &[], "");
        assert_eq!(r.status, 200, "{path}");
        assert!(
            r.header("content-type").unwrap().starts_with(kind),
            "{path}"
        );
    }
    assert_eq!(http(addr, "GET", "/nope", &[], "").status, 404);
    let mut echo = ws_connect(addr, "/echo/ws", None, None).expect("echo upgrade");
    send_text(&mut echo, "hi");
    assert_eq!(echo.read().unwrap().into_text().unwrap().as_str(), "hi");
    drop(echo);

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for f in ["session.key", "notify.token"] {
            let mode = std::fs::metadata(data.join(f))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{f}");
        }
        assert!(data.join("ws.sqlite3").exists());
    }

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill -TERM");
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(15);
    let exit = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("ws-server serve did not exit on SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(exit.success(), "{exit:?}");
}

/// The effective uid (from /proc: no libc binding needed for one number).
fn euid() -> u32 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .and_then(|ids| ids.split_whitespace().nth(1))
                .and_then(|e| e.parse().ok())
        })
        .expect("effective uid from /proc/self/status")
}

// Before the fix `serve` started and listened on a data directory it could not write (logins,
// votes and chat messages then failed one by one at run time).
#[cfg(target_os = "linux")]
#[test]
fn serve_refuses_to_start_on_a_read_only_data_directory() {
    use std::os::unix::fs::PermissionsExt;
    let dir = TempDir::new("serve-ro");
    let data = dir.path().join("data");
    // A data directory from an earlier run: database, key and token in place.
    let mut app = ws_apps::AppConfig::new(&data);
    app.public_origins = ws_apps::origin::defaults_for(([127, 0, 0, 1], 1).into());
    drop(ws_apps::Apps::open(app).expect("first run"));
    let set = |path: &std::path::Path, mode: u32| {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap()
    };
    for entry in std::fs::read_dir(&data).unwrap() {
        set(&entry.unwrap().path(), 0o444);
    }
    set(&data, 0o555);
    // root writes whatever the mode says: as root, run the server as an unmapped user (nobody) in
    // a user namespace, for whom the root-owned directory is read-only.
    let mut cmd = if euid() == 0 {
        let mut c = Command::new("unshare");
        c.arg("-U").arg(env!("CARGO_BIN_EXE_ws-server"));
        c
    } else {
        Command::new(env!("CARGO_BIN_EXE_ws-server"))
    };
    let mut child = cmd
        .args(["serve", "--addr", "127.0.0.1:0", "--data-dir"])
        .arg(&data)
        .args(["--notify-token", "t", "--session-secret", "s"])
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn ws-server serve");
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            set(&data, 0o755);
            panic!("ws-server serve kept running on a read-only data directory");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut log = String::new();
    use std::io::Read;
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut log)
        .unwrap();
    set(&data, 0o755);
    assert!(!status.success(), "{status}: {log}");
    assert!(
        log.contains("not writable") && log.contains(&data.display().to_string()),
        "{log}"
    );
    assert!(!log.contains("listening on"), "{log}");
}

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

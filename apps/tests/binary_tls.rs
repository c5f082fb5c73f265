//! The `ws-server` binary over TLS: `echo --tls-cert/--tls-key` with wss:// from our client, a
//! SIGHUP reload that keeps the open connection, plain HTTP on the TLS port logged, errors that
//! name the file, and the `--tls-self-signed` development mode.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::Command;
use std::time::Duration;
use ws_server::tls::ClientTls;
use ws_server::{ClientConfig, Error, Message};

mod binary_support;

use binary_support::{start, wait_for, BIN};

/// Writes a fresh self-signed certificate for localhost to `dir/{cert,key}.pem`.
fn write_cert(dir: &Path) -> ClientTls {
    let c = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    std::fs::write(dir.join("cert.pem"), c.cert.pem()).unwrap();
    std::fs::write(dir.join("key.pem"), c.key_pair.serialize_pem()).unwrap();
    ClientTls::Pinned(c.cert.der().clone())
}

fn config(tls: ClientTls) -> ClientConfig {
    ClientConfig {
        tls,
        ..ClientConfig::default()
    }
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("ws-apps-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn echo_over_tls_reloads_on_sighup_and_keeps_open_connections() {
    let dir = temp_dir("tls-echo");
    let old = write_cert(&dir);
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let (guard, addr, _, log) = start(&[
        "echo",
        "--tls-cert",
        cert.to_str().unwrap(),
        "--tls-key",
        key.to_str().unwrap(),
    ]);
    let url = format!("wss://localhost:{}/", addr.port());
    async_std::task::block_on(async {
        let mut open = ws_server::connect_with(&url, config(old.clone()))
            .await
            .unwrap();
        open.send(Message::Text("one".into())).await.unwrap();
        assert_eq!(open.recv().await, Some(Message::Text("one".into())));

        let new = write_cert(&dir);
        let hup = Command::new("kill")
            .args(["-HUP", &guard.0.id().to_string()])
            .status()
            .unwrap();
        assert!(hup.success());
        wait_for(&log, "certificate reloaded");

        open.send(Message::Text("two".into())).await.unwrap();
        assert_eq!(open.recv().await, Some(Message::Text("two".into())));
        let err = ws_server::connect_with(&url, config(old))
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Certificate(_)), "{err:?}");
        let mut fresh = ws_server::connect_with(&url, config(new)).await.unwrap();
        fresh.send(Message::Text("three".into())).await.unwrap();
        assert_eq!(fresh.recv().await, Some(Message::Text("three".into())));
    });

    // Plain HTTP on the TLS port: a 400 that says why, and a log line.
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(b"GET /chat HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    let line = wait_for(&log, "plain HTTP on the TLS port");
    assert!(line.contains("GET /chat HTTP/1.1"), "{line}");
    drop(guard);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_bad_certificate_file_fails_the_start_naming_the_file() {
    let dir = temp_dir("tls-bad");
    write_cert(&dir);
    let missing = dir.join("nope.pem");
    let out = Command::new(BIN)
        .args(["echo", "--addr", "127.0.0.1:0", "--tls-cert"])
        .arg(&missing)
        .arg("--tls-key")
        .arg(dir.join("key.pem"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("nope.pem: cannot read"), "{err}");
    let out = Command::new(BIN)
        .args(["echo", "--addr", "127.0.0.1:0", "--tls-cert"])
        .arg(dir.join("key.pem"))
        .arg("--tls-key")
        .arg(dir.join("key.pem"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("key.pem: no certificate"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn self_signed_mode_logs_its_fingerprints_and_serves_wss() {
    let dir = temp_dir("tls-dev");
    let (_guard, addr, early, _) = start(&[
        "echo",
        "--tls-self-signed",
        "--tls-self-signed-out",
        dir.to_str().unwrap(),
    ]);
    let line = early
        .iter()
        .find(|l| l.contains("self-signed development certificate"))
        .unwrap_or_else(|| panic!("{early:#?}"));
    assert!(line.contains("SHA-256 fingerprint "), "{line}");
    assert!(
        line.contains("--ignore-certificate-errors-spki-list="),
        "{line}"
    );
    let pinned = ClientTls::pinned_pem_file(&dir.join("cert.pem")).unwrap();
    async_std::task::block_on(async {
        let url = format!("wss://localhost:{}/", addr.port());
        let mut ws = ws_server::connect_with(&url, config(pinned)).await.unwrap();
        ws.send(Message::Binary(vec![1, 2, 3])).await.unwrap();
        assert_eq!(ws.recv().await, Some(Message::Binary(vec![1, 2, 3])));
    });
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_loop_engine_says_it_has_no_tls() {
    let out = Command::new(BIN)
        .args([
            "echo",
            "--engine",
            "loop",
            "--addr",
            "127.0.0.1:0",
            "--tls-self-signed",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("TLS needs --engine tasks"), "{err}");
}

//! What an attacker tried against the apps (issue 17), over real loopback TCP: cross-site
//! login/logout (CSRF), DNS rebinding (Host and Origin both the attacker's), an https Origin on a
//! plain-http site, and unknown Host headers on the pages.

mod apps_support;

use apps_support::*;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// The status of a raw request with exactly these `Host` and optional `Origin` headers.
fn status_with(addr: SocketAddr, head: &str, host: &str, origin: Option<&str>) -> u16 {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut req = format!("{head}Host: {host}\r\n");
    if let Some(o) = origin {
        req.push_str(&format!("Origin: {o}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).unwrap();
    // Up to the end of the response head (a 101 keeps the connection open).
    let mut out = Vec::new();
    let mut byte = [0u8; 1];
    while !out.ends_with(b"\r\n\r\n") && matches!(s.read(&mut byte), Ok(1)) {
        out.push(byte[0]);
    }
    let text = String::from_utf8_lossy(&out);
    text.split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

const UPGRADE: &str = "Upgrade: websocket\r\nConnection: Upgrade\r\n\
                       Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n";

fn upgrade_status(addr: SocketAddr, path: &str, host: &str, origin: Option<&str>) -> u16 {
    status_with(
        addr,
        &format!("GET {path} HTTP/1.1\r\n{UPGRADE}"),
        host,
        origin,
    )
}

// Before the fix the Origin was compared with the Host header, so a rebound name that is both
// passed: 101 on /chat/ws and /echo/ws.
#[test]
fn dns_rebinding_with_host_and_origin_both_foreign_is_refused() {
    let dir = TempDir::new("sec-rebind");
    let s = AppServer::start_default(dir.path());
    let port = s.addr.port();
    let host = format!("evil.example:{port}");
    let origin = format!("http://evil.example:{port}");
    for path in ["/chat/ws", "/echo/ws", "/vote/ws"] {
        let st = upgrade_status(s.addr, path, &host, Some(&origin));
        assert!(st == 403 || st == 421, "{path}: {st}");
    }
    // Our own name still works.
    let own = s.addr.to_string();
    assert_eq!(
        upgrade_status(s.addr, "/echo/ws", &own, Some(&s.base())),
        101
    );
    let localhost = format!("localhost:{port}");
    let lo_origin = format!("http://localhost:{port}");
    assert_eq!(
        upgrade_status(s.addr, "/chat/ws", &localhost, Some(&lo_origin)),
        101
    );
    s.stop();
}

// Before the fix the scheme was ignored: `https://` + Host passed on a plain-http site.
#[test]
fn an_https_origin_is_refused_on_a_plain_http_site() {
    let dir = TempDir::new("sec-scheme");
    let s = AppServer::start_default(dir.path());
    let own = s.addr.to_string();
    let https = format!("https://{}", s.addr);
    for path in ["/chat/ws", "/echo/ws"] {
        assert_eq!(
            upgrade_status(s.addr, path, &own, Some(&https)),
            403,
            "{path}"
        );
    }
    s.stop();
}

// Before the fix any Host was served: 200.
#[test]
fn pages_with_an_unknown_host_are_refused() {
    let dir = TempDir::new("sec-host");
    let s = AppServer::start_default(dir.path());
    let port = s.addr.port();
    for path in ["/", "/chat", "/login", "/static/style.css"] {
        let head = format!("GET {path} HTTP/1.1\r\n");
        assert_eq!(
            status_with(s.addr, &head, &format!("evil.example:{port}"), None),
            421
        );
        assert_eq!(
            status_with(s.addr, &head, &s.addr.to_string(), None),
            200,
            "{path}"
        );
    }
    s.stop();
}

fn post_form(s: &AppServer, path: &str, headers: &[(&str, &str)], body: &str) -> Resp {
    let mut h = vec![("Content-Type", "application/x-www-form-urlencoded")];
    h.extend_from_slice(headers);
    http(s.addr, "POST", path, &h, body)
}

// Before the fix a cross-site POST /login answered 303 with the attacker's session cookie, and
// a cross-site POST /logout 303 with a cookie that clears the victim's.
#[test]
fn cross_site_login_and_logout_are_refused() {
    let dir = TempDir::new("sec-csrf");
    let s = AppServer::start_default(dir.path());
    let victim = login(s.addr, "victim");
    for headers in [
        vec![("Origin", "http://evil.example")],
        vec![("Origin", "null")],
        vec![("Referer", "http://evil.example/page")],
    ] {
        let r = post_form(&s, "/login", &headers, "name=attacker");
        assert_eq!(r.status, 403, "login with {headers:?}: {r:?}");
        assert!(r.header("set-cookie").is_none(), "{r:?}");
        let mut with_cookie = headers.clone();
        with_cookie.push(("Cookie", &victim));
        let r = post_form(&s, "/logout", &with_cookie, "");
        assert_eq!(r.status, 403, "logout with {headers:?}: {r:?}");
        assert!(r.header("set-cookie").is_none(), "{r:?}");
    }
    // The victim is still logged in.
    assert_eq!(
        http(s.addr, "GET", "/vote", &[("Cookie", &victim)], "").status,
        200
    );
    // The site's own forms (Origin, or only a same-site Referer) work, and logout revokes.
    let own = s.base();
    let r = post_form(&s, "/login", &[("Origin", &own)], "name=ann");
    assert_eq!(r.status, 303, "{r:?}");
    let referer = format!("{own}/vote");
    let r = post_form(
        &s,
        "/logout",
        &[("Referer", &referer), ("Cookie", &victim)],
        "",
    );
    assert_eq!(r.status, 303, "{r:?}");
    assert_eq!(
        http(s.addr, "GET", "/vote", &[("Cookie", &victim)], "").status,
        303
    );
    s.stop();
}

/// A raw POST with `Host` and `Origin` set; the whole response as text.
fn raw_post(
    addr: SocketAddr,
    path: &str,
    host: &str,
    origin: &str,
    extra: &str,
    body: &str,
) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let req = format!(
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nOrigin: {origin}\r\n{extra}\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

fn set_cookie(response: &str) -> &str {
    response
        .lines()
        .find_map(|l| l.strip_prefix("Set-Cookie: "))
        .unwrap_or_else(|| panic!("no Set-Cookie: {response}"))
}

// Before the fix the cookie never had `Secure`, even for a site served over https.
#[test]
fn the_session_cookie_is_secure_when_the_site_is_served_over_https() {
    let dir = TempDir::new("sec-secure");
    let mut app = ws_apps::AppConfig::new(dir.path());
    app.public_origins = vec![
        ws_apps::origin::Origin::parse("https://vote.example").unwrap(),
        ws_apps::origin::Origin::parse("http://plain.example").unwrap(),
    ];
    let s = AppServer::start(app, ws_server::Config::default());
    let r = raw_post(
        s.addr,
        "/login",
        "vote.example",
        "https://vote.example",
        "",
        "name=ann",
    );
    assert!(r.starts_with("HTTP/1.1 303"), "{r}");
    let cookie = set_cookie(&r);
    assert!(cookie.contains("; Secure"), "{cookie}");
    let pair = cookie.split(';').next().unwrap().to_owned();
    let r = raw_post(
        s.addr,
        "/logout",
        "vote.example",
        "https://vote.example",
        &format!("Cookie: {pair}\r\n"),
        "",
    );
    assert!(set_cookie(&r).contains("; Secure"), "{r}");
    // The same app under its plain-http name sets no Secure (the browser would drop it).
    let r = raw_post(
        s.addr,
        "/login",
        "plain.example",
        "http://plain.example",
        "",
        "name=bob",
    );
    assert!(!set_cookie(&r).contains("Secure"), "{r}");
    s.stop();
}

//! The apps' pages as a visitor meets them over real loopback TCP: error pages are the site's
//! styled pages, and a favicon is served.

mod apps_support;

use apps_support::*;

// Before the fix: a bare `text/plain` "not found" and a 404 for /favicon.ico.
#[test]
fn error_pages_are_styled_html_pages_of_the_site() {
    let dir = TempDir::new("pages-errors");
    let s = AppServer::start_default(dir.path());
    type Case<'a> = (&'a str, &'a str, &'a [(&'a str, &'a str)], u16);
    let cases: [Case; 3] = [
        ("GET", "/nope", &[], 404),
        ("PUT", "/", &[], 405),
        ("POST", "/login", &[("Origin", "http://evil.example")], 403),
    ];
    for (method, path, headers, status) in cases {
        let r = http(s.addr, method, path, headers, "");
        assert_eq!(r.status, status, "{method} {path}");
        assert!(
            r.header("content-type").unwrap().starts_with("text/html"),
            "{method} {path}: {r:?}"
        );
        assert!(
            r.body
                .contains("<link rel=\"stylesheet\" href=\"/static/style.css\">"),
            "{r:?}"
        );
        assert!(r.body.contains(&status.to_string()), "{r:?}");
        assert!(r.body.contains("href=\"/\""), "a way back: {r:?}");
    }
    // The bearer-token API keeps answering plain text to its clients.
    let r = http(s.addr, "POST", "/notify", &[], "x");
    assert_eq!(r.status, 401);
    assert!(
        r.header("content-type").unwrap().starts_with("text/plain"),
        "{r:?}"
    );
    s.stop();
}

#[test]
fn a_favicon_is_served_and_linked() {
    let dir = TempDir::new("pages-favicon");
    let s = AppServer::start_default(dir.path());
    let r = http(s.addr, "GET", "/favicon.ico", &[], "");
    assert_eq!(r.status, 200, "{r:?}");
    assert!(
        r.header("content-type")
            .unwrap()
            .starts_with("image/svg+xml"),
        "{r:?}"
    );
    assert!(r.body.contains("<svg"), "{r:?}");
    for page in ["/", "/echo", "/chat", "/login"] {
        let r = http(s.addr, "GET", page, &[], "");
        assert!(r.body.contains("rel=\"icon\""), "{page} links the icon");
    }
    s.stop();
}

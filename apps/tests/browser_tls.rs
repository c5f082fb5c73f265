//! The apps over https in real headless Chromium: `ws-server serve --tls-self-signed`, trusted by
//! Chromium for that certificate's SPKI hash only (`--ignore-certificate-errors-spki-list`, read
//! from the server's log), chat and voting over wss://, and a `Secure` session cookie.

mod binary_support;
mod browser_support;

use binary_support::{start, Guard};
use browser_support::log_in;
use browser_support::webdriver::{Browser, Driver};
use std::net::SocketAddr;

/// `ws-server serve --tls-self-signed` on a free port: the process, its address and the SPKI hash
/// it logged.
fn serve_https(data: &std::path::Path) -> (Guard, SocketAddr, String) {
    let data = data.to_str().expect("a UTF-8 temporary path");
    let (guard, addr, early, _rx) = start(&["serve", "--tls-self-signed", "--data-dir", data]);
    let spki = early
        .iter()
        .find_map(|line| line.split("--ignore-certificate-errors-spki-list=").nth(1))
        .map(|s| s.trim_end_matches(')').trim().to_owned())
        .expect("SPKI hash logged before listening");
    (guard, addr, spki)
}

fn text_of(b: &Browser, id: &str) -> String {
    b.js(&format!(
        "return document.getElementById('{id}').textContent;"
    ))
    .as_str()
    .unwrap_or_default()
    .to_owned()
}

#[test]
fn chat_and_vote_over_https_and_wss_with_a_secure_cookie() {
    let data = std::env::temp_dir().join(format!("ws-apps-browser-tls-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    let (server, addr, spki) = serve_https(&data);
    assert_eq!(spki.len(), 44, "base64 of a SHA-256: {spki:?}");
    // The default public origins of a TLS server are https://localhost:PORT and friends.
    let base = format!("https://localhost:{}", addr.port());
    let trust = [format!("--ignore-certificate-errors-spki-list={spki}")];
    let mut driver = Driver::start();
    let (ann, bob) = (driver.browser_with(&trust), driver.browser_with(&trust));

    // Chat: both pages open their socket with wss:// (derived from location) and see each other.
    for b in [&ann, &bob] {
        b.goto(&format!("{base}/chat"));
        assert_eq!(b.js("return location.protocol;"), "https:");
        b.wait_for(
            "document.body.dataset.history === 'loaded'",
            "chat history over wss",
        );
    }
    ann.type_into(&ann.find("#text"), "hello over wss");
    ann.click(&ann.find("#send"));
    bob.wait_for(
        "[...document.querySelectorAll('#log .body')].some(e => e.textContent === 'hello over wss')",
        "bob sees ann's message",
    );

    // Vote: two logged-in users, live counts.
    log_in(&ann, &base, "ann");
    log_in(&bob, &base, "bob");
    ann.double_click(&ann.find("#candidate-2"));
    bob.wait_for(
        "document.getElementById('count-2').textContent === '1'",
        "bob sees ann's vote",
    );
    assert_eq!(text_of(&bob, "user"), "bob");
    ann.screenshot("vote-https");

    // The session cookie is Secure (and HttpOnly, so only WebDriver can see it).
    let cookies = ann.cookies();
    let session = cookies
        .as_array()
        .and_then(|a| a.iter().find(|c| c["name"] == "ws_session"))
        .unwrap_or_else(|| panic!("no session cookie: {cookies}"));
    assert_eq!(session["secure"], true, "{session}");
    assert_eq!(session["httpOnly"], true, "{session}");

    drop((ann, bob));
    drop(driver);
    drop(server);
    let _ = std::fs::remove_dir_all(&data);
}

//! The apps in real headless Chromium (Debian's chromium + chromium-driver, installed by
//! scripts/install-browser), driven over WebDriver: echo page states, chat between two pages with
//! history replay and an XSS payload that stays text, voting with two users in two browsers
//! (double-click, live count, notify). Screenshots go to `<target>/screenshots/`.

mod apps_support;
mod browser_support;

use apps_support::*;
use browser_support::log_in;
use browser_support::webdriver::{Browser, Driver};
use std::sync::Mutex;

/// One browser test at a time: Chromium is heavy on a small machine.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
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
fn echo_page_connects_sends_and_closes() {
    let _g = serial();
    let dir = TempDir::new("browser-echo");
    let s = AppServer::start_default(dir.path());
    let mut driver = Driver::start();
    let b = driver.browser();
    b.goto(&format!("{}/echo", s.base()));
    assert_eq!(text_of(&b, "state"), "closed");
    b.click(&b.find("#connect"));
    b.wait_for(
        "document.getElementById('state').textContent === 'open'",
        "open state",
    );
    b.type_into(&b.find("#text"), "ping 你好");
    b.click(&b.find("#send"));
    b.wait_for(
        "[...document.querySelectorAll('#log li')].some(li => li.textContent === '← ping 你好')",
        "the echo",
    );
    b.screenshot("echo");
    b.click(&b.find("#close"));
    b.wait_for(
        "document.getElementById('state').textContent === 'closed'",
        "closed state",
    );
    drop(b);
    drop(driver);
    s.stop();
}

/// Stops `s` under the page `b`, checks the page says it is reconnecting (a screenshot named
/// `shot`, if any), and starts the server again on the same address and data directory.
fn restart_under(
    b: &Browser,
    s: AppServer,
    dir: &std::path::Path,
    shot: Option<&str>,
) -> AppServer {
    let addr = s.addr;
    s.stop();
    b.wait_for(
        "document.body.dataset.state === 'reconnecting'",
        "the reconnecting state",
    );
    let shown = text_of(b, "state");
    assert!(shown.starts_with("reconnecting in"), "{shown}");
    if let Some(name) = shot {
        b.screenshot(name);
    }
    let mut app = ws_apps::AppConfig::new(dir);
    app.notify_token = Some(TOKEN.into());
    AppServer::start_on(app, ws_server::Config::default(), &addr.to_string())
}

// Before the fix the echo page showed 'closed (1001)' after a server restart and stayed closed
// until the user pressed Connect again.
#[test]
fn echo_page_reconnects_after_a_restart_until_the_user_closes() {
    let _g = serial();
    let dir = TempDir::new("browser-echo-resume");
    let s = AppServer::start_default(dir.path());
    let mut driver = Driver::start();
    let b = driver.browser();
    b.goto(&format!("{}/echo", s.base()));
    b.click(&b.find("#connect"));
    b.wait_for("document.body.dataset.state === 'open'", "open state");
    let s = restart_under(&b, s, dir.path(), Some("echo-reconnecting"));
    b.wait_for("document.body.dataset.state === 'open'", "reconnected");
    b.type_into(&b.find("#text"), "after");
    b.click(&b.find("#send"));
    b.wait_for(
        "[...document.querySelectorAll('#log li')].some(li => li.textContent === '← after')",
        "the echo after reconnecting",
    );
    // The user's Close is final: no retry follows it.
    b.click(&b.find("#close"));
    b.wait_for("document.body.dataset.state === 'closed'", "closed state");
    std::thread::sleep(std::time::Duration::from_millis(1500));
    assert_eq!(text_of(&b, "state"), "closed", "no reconnect after Close");
    drop(b);
    drop(driver);
    s.stop();
}

#[test]
fn chat_between_two_pages_with_history_and_xss_as_text() {
    let _g = serial();
    let dir = TempDir::new("browser-chat");
    let s = AppServer::start_default(dir.path());
    let mut driver = Driver::start();
    let (one, two) = (driver.browser(), driver.browser());
    let url = format!("{}/chat", s.base());
    for b in [&one, &two] {
        b.goto(&url);
        b.wait_for(
            "document.body.dataset.history === 'loaded'",
            "history loaded",
        );
    }
    let uid_one = text_of(&one, "uid");
    assert_eq!(uid_one.len(), 36, "uid shown: {uid_one}");

    let payload = "<img src=x onerror=alert(1)>";
    for text in ["hello from one", payload] {
        one.type_into(&one.find("#text"), text);
        one.click(&one.find("#send"));
    }
    let has = |b: &Browser, text: &str| {
        let t = serde_json::to_string(text).unwrap();
        b.wait_for(
            &format!(
                "[...document.querySelectorAll('#log .body')].some(e => e.textContent === {t})"
            ),
            text,
        );
    };
    for b in [&one, &two] {
        has(b, "hello from one");
        has(b, payload);
        assert_eq!(
            b.js("return document.querySelectorAll('#log img').length;"),
            0
        );
        assert_eq!(b.alert_text(), None, "no alert() ran");
    }

    // A reload replays the history (marked as such) after the new uid.
    two.refresh();
    two.wait_for(
        "document.body.dataset.history === 'loaded'",
        "history after reload",
    );
    let replayed = two.js(
        "return [...document.querySelectorAll('#log li.history .body')].map(e => e.textContent);",
    );
    assert_eq!(replayed, serde_json::json!(["hello from one", payload]));
    assert_eq!(
        two.js("return document.querySelectorAll('#log img').length;"),
        0
    );
    two.screenshot("chat");
    drop((one, two));
    drop(driver);
    s.stop();
}

#[test]
fn voting_with_two_users_double_click_and_notify() {
    let _g = serial();
    let dir = TempDir::new("browser-vote");
    let s = AppServer::start_default(dir.path());
    let mut driver = Driver::start();
    let (ann, bob) = (driver.browser(), driver.browser());
    log_in(&ann, &s.base(), "ann");
    log_in(&bob, &s.base(), "bob");
    assert_eq!(text_of(&ann, "user"), "ann");
    assert_eq!(text_of(&bob, "user"), "bob");
    assert_eq!(text_of(&bob, "count-2"), "0");

    ann.double_click(&ann.find("#candidate-2"));
    bob.wait_for(
        "document.getElementById('count-2').textContent === '1'",
        "bob sees ann's vote",
    );
    ann.wait_for(
        "document.getElementById('candidate-2').classList.contains('mine')",
        "ann's mark",
    );

    bob.double_click(&bob.find("#candidate-2"));
    ann.wait_for(
        "document.getElementById('count-2').textContent === '2'",
        "ann sees bob's vote",
    );
    bob.double_click(&bob.find("#candidate-3"));
    ann.wait_for(
        "document.getElementById('count-3').textContent === '1'",
        "bob's vote moved",
    );
    ann.wait_for(
        "document.getElementById('count-2').textContent === '1'",
        "old count drops",
    );

    let auth = format!("Bearer {TOKEN}");
    let r = http(
        s.addr,
        "POST",
        "/notify",
        &[("Authorization", &auth)],
        "投票 closes <soon>",
    );
    assert_eq!(r.body, r#"{"delivered":2}"#);
    for b in [&ann, &bob] {
        b.wait_for(
            "[...document.querySelectorAll('#alerts .notify .msg')].some(e => e.textContent === '投票 closes <soon>')",
            "the notify alert",
        );
    }
    ann.screenshot("vote");

    // Counts are rendered on the server: a fresh page load shows them without the socket.
    bob.refresh();
    assert_eq!(text_of(&bob, "count-3"), "1");
    bob.click(&bob.find("#logout"));
    bob.wait_for("location.pathname === '/login'", "back at login");
    drop((ann, bob));
    drop(driver);
    s.stop();
}

// Before the fix the input was cleared on send, so a refused message was lost; and history
// showed only the time of day, whatever the day.
#[test]
fn chat_keeps_a_refused_message_and_dates_old_history() {
    let _g = serial();
    let dir = TempDir::new("browser-chat-refused");
    // A message from 2020-01-02 in the history.
    let old_ms = 1_577_966_400_000;
    ws_apps::store::Store::open(dir.path())
        .expect("store")
        .append_chat("0ld-uid", old_ms, "from 2020")
        .expect("old message");
    let mut app = ws_apps::AppConfig::new(dir.path());
    app.chat.max_message_bytes = 10;
    let s = AppServer::start(app, ws_server::Config::default());
    let mut driver = Driver::start();
    let b = driver.browser();
    b.goto(&format!("{}/chat", s.base()));
    b.wait_for(
        "document.body.dataset.history === 'loaded'",
        "history loaded",
    );
    let old_meta = b.js("return document.querySelector('#log li .meta').textContent;");
    assert!(
        old_meta.as_str().unwrap().contains("2020"),
        "dated: {old_meta}"
    );
    // Refused (over 10 bytes): the error shows and the text stays in the input.
    b.type_into(&b.find("#text"), "far too long for the room");
    b.click(&b.find("#send"));
    b.wait_for(
        "document.getElementById('error').textContent !== ''",
        "the refusal",
    );
    assert_eq!(
        b.js("return document.getElementById('text').value;"),
        serde_json::json!("far too long for the room")
    );
    b.screenshot("chat-refused");
    // Accepted: the input is cleared once the room has it, and today's message has no date.
    b.js("document.getElementById('text').value = ''; return true;");
    b.type_into(&b.find("#text"), "short");
    b.click(&b.find("#send"));
    b.wait_for(
        "[...document.querySelectorAll('#log .body')].some(e => e.textContent === 'short')",
        "the message",
    );
    b.wait_for(
        "document.getElementById('text').value === ''",
        "the input cleared",
    );
    let new_meta =
        b.js("return [...document.querySelectorAll('#log li .meta')].pop().textContent;");
    let year = b.js("return String(new Date().getFullYear());");
    assert!(
        !new_meta.as_str().unwrap().contains(year.as_str().unwrap()),
        "no date today: {new_meta}"
    );
    drop(b);
    drop(driver);
    s.stop();
}

/// The id of the focused element.
fn focused(b: &Browser) -> String {
    b.js("return document.activeElement ? document.activeElement.id : '';")
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

const TAB: &str = "\u{E004}";
const ENTER: &str = "\u{E007}";

// Before the fix the candidates could not be reached with Tab (nor voted by keyboard or a tap),
// notify alerts had no time and no dismiss button, and a closed page looked live.
#[test]
fn voting_by_keyboard_and_touch_alerts_dismiss_and_a_closed_page_is_disabled() {
    let _g = serial();
    let dir = TempDir::new("browser-vote-keys");
    let s = AppServer::start_default(dir.path());
    let mut driver = Driver::start();
    let b = driver.browser();
    log_in(&b, &s.base(), "ann");
    let mine =
        |id: u32| format!("document.getElementById('candidate-{id}').classList.contains('mine')");
    // Tab until the first candidate has the focus (a few controls come before it).
    for _ in 0..10 {
        if focused(&b) == "candidate-1" {
            break;
        }
        b.keys(TAB);
    }
    assert_eq!(focused(&b), "candidate-1", "Tab reaches the candidates");
    b.keys(ENTER);
    b.wait_for(&mine(1), "a vote by Enter");
    b.keys(TAB);
    assert_eq!(focused(&b), "candidate-2");
    b.keys(" ");
    b.wait_for(&mine(2), "a vote by Space");
    b.tap(&b.find("#candidate-3"));
    b.wait_for(&mine(3), "a vote by a tap");

    let auth = format!("Bearer {TOKEN}");
    let r = http(
        s.addr,
        "POST",
        "/notify",
        &[("Authorization", &auth)],
        "polls close at 6",
    );
    assert_eq!(r.status, 200);
    b.wait_for(
        "document.querySelector('#alerts .notify') !== null",
        "the alert",
    );
    let time = b.js("return document.querySelector('#alerts .notify .time').textContent;");
    assert!(
        time.as_str().is_some_and(|t| t.contains(':')),
        "a time: {time}"
    );
    b.screenshot("vote-alert");
    b.click(&b.find("#alerts .notify .dismiss"));
    b.wait_for(
        "document.querySelector('#alerts .notify') === null",
        "dismissed",
    );

    // The server goes away: the page shows a disabled state, not live-looking candidates.
    s.stop();
    b.wait_for(
        "document.getElementById('candidates').getAttribute('aria-disabled') === 'true'",
        "the disabled state",
    );
    assert_eq!(
        b.js("return document.getElementById('candidate-1').tabIndex;"),
        serde_json::json!(-1)
    );
    b.screenshot("vote-closed");
    drop(b);
    drop(driver);
}

/// The texts of the chat log's messages, in order.
fn chat_bodies(b: &Browser) -> Vec<String> {
    let v = b.js("return [...document.querySelectorAll('#log .body')].map(e => e.textContent);");
    serde_json::from_value(v).unwrap()
}

// Before the fix a reload gave the page a new uid (its own messages no longer marked as its
// own), and a server restart left 'disconnected (1006)' until the user reloaded.
#[test]
fn chat_keeps_its_identity_and_reconnects_after_a_restart_without_gap_or_duplicate() {
    let _g = serial();
    let dir = TempDir::new("browser-chat-resume");
    let s = AppServer::start_default(dir.path());
    let mut driver = Driver::start();
    let b = driver.browser();
    b.goto(&format!("{}/chat", s.base()));
    b.wait_for(
        "document.body.dataset.history === 'loaded'",
        "history loaded",
    );
    let uid = text_of(&b, "uid");
    b.type_into(&b.find("#text"), "one");
    b.click(&b.find("#send"));
    b.wait_for(
        "document.querySelector('#log li.mine') !== null",
        "my message",
    );

    b.refresh();
    b.wait_for(
        "document.body.dataset.history === 'loaded'",
        "history after reload",
    );
    assert_eq!(text_of(&b, "uid"), uid, "the same member after a reload");
    assert_eq!(
        b.js("return document.querySelectorAll('#log li.mine').length;"),
        serde_json::json!(1),
        "my message is still marked as mine"
    );

    let s = restart_under(&b, s, dir.path(), Some("chat-reconnecting"));
    // Someone posts while the page may still be away: it must get it once, live or replayed.
    let mut other = ws_connect(s.addr, "/chat/ws", None, None).expect("chat upgrade");
    while next_json(&mut other)["type"] != "history_end" {}
    send_text(&mut other, r#"{"message":"two"}"#);
    b.wait_for("document.body.dataset.state === 'open'", "reconnected");
    b.wait_for(
        "[...document.querySelectorAll('#log .body')].some(e => e.textContent === 'two')",
        "the message posted around the restart",
    );
    assert_eq!(chat_bodies(&b), ["one", "two"], "no gap, no duplicate");
    assert_eq!(
        text_of(&b, "uid"),
        uid,
        "the same member after reconnecting"
    );
    b.screenshot("chat-resumed");
    drop(other);
    drop(b);
    drop(driver);
    s.stop();
}

// Before the fix the voting page said 'Disconnected (1001). Reload the page to reconnect.' and
// stayed so after the server was back.
#[test]
fn voting_page_reconnects_after_a_restart_and_catches_up() {
    let _g = serial();
    let dir = TempDir::new("browser-vote-resume");
    let s = AppServer::start_default(dir.path());
    let mut driver = Driver::start();
    let b = driver.browser();
    log_in(&b, &s.base(), "ann");
    let s = restart_under(&b, s, dir.path(), None);
    // A vote cast while the page is away shows once it is back (the counts snapshot).
    let bob = login(s.addr, "bob");
    let origin = s.base();
    let mut ws = ws_connect(s.addr, "/vote/ws", Some(&bob), Some(&origin)).expect("bob's socket");
    send_text(&mut ws, "2");
    while next_json(&mut ws)["type"] != "voted" {}
    b.wait_for("document.body.dataset.state === 'open'", "reconnected");
    b.wait_for(
        "document.getElementById('count-2').textContent === '1'",
        "the vote cast meanwhile",
    );
    assert_eq!(
        b.js("return document.getElementById('candidates').getAttribute('aria-disabled');"),
        serde_json::json!("false")
    );
    b.double_click(&b.find("#candidate-1"));
    b.wait_for(
        "document.getElementById('candidate-1').classList.contains('mine')",
        "a vote after reconnecting",
    );
    drop(ws);
    drop(b);
    drop(driver);
    s.stop();
}

// At a phone's width (390 px): no page scrolls sideways, and the voting page's header row keeps
// each of its pieces whole (the name, the button and the state badge never break inside).
#[test]
fn pages_fit_a_390_px_phone() {
    let _g = serial();
    let dir = TempDir::new("browser-phone");
    let s = AppServer::start_default(dir.path());
    let mut driver = Driver::start();
    let b = driver.browser();
    b.set_size(390, 844);
    log_in(&b, &s.base(), "a rather long display name");
    let width = b.js("return window.innerWidth;");
    for page in ["/", "/echo", "/chat", "/vote", "/nope"] {
        b.goto(&format!("{}{page}", s.base()));
        let wide = b.js("return document.documentElement.scrollWidth;");
        assert!(
            wide.as_u64() <= width.as_u64(),
            "{page} scrolls sideways: {wide} > {width}"
        );
        let name = format!("phone{}", page.replace('/', "-"));
        b.screenshot(&name);
    }
    b.goto(&format!("{}/vote", s.base()));
    b.wait_for(
        "document.body.dataset.state === 'open'",
        "the voting socket",
    );
    for sel in ["#logout", "#state"] {
        let lines = b.js(&format!(
            "return document.querySelector('{sel}').getClientRects().length;"
        ));
        assert_eq!(lines, serde_json::json!(1), "{sel} is broken over lines");
        let h = b.js(&format!(
            "return document.querySelector('{sel}').getBoundingClientRect().height;"
        ));
        assert!(
            h.as_f64().unwrap() < 48.0,
            "{sel} wraps inside: {h} px high"
        );
    }
    drop(b);
    drop(driver);
    s.stop();
}

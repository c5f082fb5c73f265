//! Live voting over real loopback TCP: login and sessions, refused upgrades (no session, foreign
//! Origin), votes and moves broadcast, unknown ids, notify, logout/expiry close with 1008, restart
//! keeps the votes, 100 concurrent voters end with exact counts.

mod apps_support;

use apps_support::*;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Barrier};
use std::time::Duration;
use ws_apps::AppConfig;
use ws_server::Config;

/// A voting socket, after its opening `counts` snapshot (which also proves it is registered
/// for broadcasts).
fn vote_socket(s: &AppServer, cookie: &str) -> Ws {
    vote_socket_and_counts(s, cookie).0
}

/// A voting socket and its opening `counts` snapshot.
fn vote_socket_and_counts(s: &AppServer, cookie: &str) -> (Ws, Value) {
    let origin = s.base();
    let mut ws = ws_connect(s.addr, "/vote/ws", Some(cookie), Some(&origin)).expect("vote upgrade");
    let counts = next_json(&mut ws);
    assert_eq!(counts["type"], "counts", "first message: {counts}");
    (ws, counts)
}

/// Sends a vote and reads until the voter's own `voted` (or `error`) reply.
fn vote(ws: &mut Ws, id: &str) -> Value {
    send_text(ws, id);
    loop {
        let m = next_json(ws);
        if m["type"] == "voted" || m["type"] == "error" {
            return m;
        }
    }
}

#[test]
fn pages_need_a_session_and_login_sets_a_safe_cookie() {
    let dir = TempDir::new("vote-pages");
    let s = AppServer::start_default(dir.path());
    let r = http(s.addr, "GET", "/vote", &[], "");
    assert_eq!((r.status, r.header("location")), (303, Some("/login")));
    let r = http(s.addr, "GET", "/login", &[], "");
    assert_eq!(r.status, 200);
    assert!(r.body.contains("<form method=\"post\" action=\"/login\""));
    let r = http(s.addr, "POST", "/login", &[], "name=");
    assert_eq!(r.status, 400);
    let cookie = login(s.addr, "<b>ann</b>");
    let r = http(s.addr, "GET", "/vote", &[("Cookie", &cookie)], "");
    assert_eq!(r.status, 200);
    assert!(r.body.contains("&lt;b&gt;ann&lt;"), "user name is escaped");
    for name in ["小明", "小强", "小刚"] {
        assert!(r.body.contains(name));
    }
    let forged = cookie.replace("ws_session=", "ws_session=x");
    let r = http(s.addr, "GET", "/vote", &[("Cookie", &forged)], "");
    assert_eq!(r.status, 303);
    s.stop();
}

#[test]
fn upgrade_is_refused_without_session_or_from_a_foreign_origin() {
    let dir = TempDir::new("vote-refuse");
    let s = AppServer::start_default(dir.path());
    let own = s.base();
    assert_eq!(
        ws_connect(s.addr, "/vote/ws", None, Some(&own)).err(),
        Some(401)
    );
    assert_eq!(ws_connect(s.addr, "/vote/ws", None, None).err(), Some(401));
    let bad = "ws_session=abc.1.YQ.AAAA";
    assert_eq!(
        ws_connect(s.addr, "/vote/ws", Some(bad), Some(&own)).err(),
        Some(401)
    );
    let cookie = login(s.addr, "ann");
    let evil = ws_connect(
        s.addr,
        "/vote/ws",
        Some(&cookie),
        Some("http://evil.example"),
    );
    assert_eq!(evil.err(), Some(403));
    let other_port = ws_connect(
        s.addr,
        "/vote/ws",
        Some(&cookie),
        Some("http://127.0.0.1:1"),
    );
    assert_eq!(other_port.err(), Some(403));
    let ok = ws_connect(s.addr, "/vote/ws", Some(&cookie), Some(&own));
    assert!(ok.is_ok());
    drop(ok);
    s.stop();
}

#[test]
fn a_new_socket_starts_with_the_counts_and_its_own_vote() {
    let dir = TempDir::new("vote-snapshot");
    let s = AppServer::start_default(dir.path());
    let (ca, cb) = (login(s.addr, "ann"), login(s.addr, "bob"));
    let (mut a, first) = vote_socket_and_counts(&s, &ca);
    let zero = json!([{"user":1,"count":0},{"user":2,"count":0},{"user":3,"count":0}]);
    assert_eq!(first, json!({"type":"counts","counts":zero,"voted":null}));
    assert_eq!(vote(&mut a, "2")["type"], "voted");
    // A page that opens after the vote sees it in its snapshot, not as a broadcast it missed.
    let (b, counts) = vote_socket_and_counts(&s, &cb);
    let one = json!([{"user":1,"count":0},{"user":2,"count":1},{"user":3,"count":0}]);
    assert_eq!(counts, json!({"type":"counts","counts":one,"voted":null}));
    let (a2, counts) = vote_socket_and_counts(&s, &ca);
    assert_eq!(counts["voted"], 2);
    drop((a, b, a2));
    s.stop();
}

#[test]
fn votes_move_and_are_broadcast_unknown_ids_get_an_error() {
    let dir = TempDir::new("vote-flow");
    let s = AppServer::start_default(dir.path());
    let (ca, cb) = (login(s.addr, "ann"), login(s.addr, "bob"));
    let (mut a, mut b) = (vote_socket(&s, &ca), vote_socket(&s, &cb));

    send_text(&mut a, "1");
    assert_eq!(next_json(&mut a), json!({"type":"vote","user":1,"count":1}));
    assert_eq!(next_json(&mut a), json!({"type":"voted","candidate":1}));
    assert_eq!(next_json(&mut b), json!({"type":"vote","user":1,"count":1}));

    // Moving the vote updates both candidates.
    send_text(&mut a, "2");
    for ws in [&mut a, &mut b] {
        assert_eq!(next_json(ws), json!({"type":"vote","user":1,"count":0}));
        assert_eq!(next_json(ws), json!({"type":"vote","user":2,"count":1}));
    }
    assert_eq!(next_json(&mut a)["type"], "voted");

    // Unknown ids: an error for the sender only; bob's next message is his own vote's broadcast.
    for bad in ["9", "0", "-1", "abc", "", "1.5"] {
        let e = vote(&mut a, bad);
        assert_eq!(e["type"], "error", "{bad:?}: {e}");
    }
    send_text(&mut b, " 2 ");
    assert_eq!(next_json(&mut b), json!({"type":"vote","user":2,"count":2}));
    assert_eq!(page_count(s.addr, &ca, 1), 0);
    assert_eq!(page_count(s.addr, &ca, 2), 2);
    drop((a, b));
    s.stop();
}

#[test]
fn notify_needs_the_token_and_reaches_every_page() {
    let dir = TempDir::new("vote-notify");
    let s = AppServer::start_default(dir.path());
    let (ca, cb) = (login(s.addr, "ann"), login(s.addr, "bob"));
    let (mut a, mut b) = (vote_socket(&s, &ca), vote_socket(&s, &cb));
    // Wait until both sockets are registered (a vote round-trip proves it for each).
    vote(&mut a, "1");
    vote(&mut b, "1");
    let r = http(s.addr, "POST", "/notify", &[], "hi");
    assert_eq!(r.status, 401);
    let r = http(
        s.addr,
        "POST",
        "/notify",
        &[("Authorization", "Bearer nope")],
        "hi",
    );
    assert_eq!(r.status, 401);
    let auth = format!("Bearer {TOKEN}");
    let r = http(
        s.addr,
        "POST",
        "/notify",
        &[("Authorization", &auth)],
        "meeting <now>",
    );
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(
        serde_json::from_str::<Value>(&r.body).unwrap(),
        json!({"delivered": 2})
    );
    for ws in [&mut a, &mut b] {
        let m = loop {
            let m = next_json(ws);
            if m["type"] == "notify" {
                break m;
            }
        };
        assert_eq!(m["msg"], "meeting <now>");
    }
    let headers = [
        ("Authorization", auth.as_str()),
        ("Content-Type", "application/json"),
    ];
    let r = http(
        s.addr,
        "POST",
        "/notify",
        &headers,
        r#"{"msg":"json form"}"#,
    );
    assert_eq!(r.body, r#"{"delivered":2}"#);
    drop((a, b));
    s.stop();
}

#[test]
fn logout_and_expiry_close_the_users_sockets_with_1008() {
    let dir = TempDir::new("vote-logout");
    let mut app = AppConfig::new(dir.path());
    app.notify_token = Some(TOKEN.into());
    app.session_ttl = Duration::from_secs(2);
    let s = AppServer::start(app, Config::default());
    let ca = login(s.addr, "ann");
    let mut a = vote_socket(&s, &ca);
    vote(&mut a, "1");
    let r = http(s.addr, "POST", "/logout", &[("Cookie", &ca)], "");
    assert_eq!((r.status, r.header("location")), (303, Some("/login")));
    assert!(r.header("set-cookie").unwrap().contains("Max-Age=0"));
    assert_eq!(wait_close(&mut a), Some(1008));
    // The old cookie is revoked even though its signature is still valid.
    let own = s.base();
    assert_eq!(
        ws_connect(s.addr, "/vote/ws", Some(&ca), Some(&own)).err(),
        Some(401)
    );

    // A session that expires closes its socket by itself.
    let cb = login(s.addr, "bob");
    let mut b = vote_socket(&s, &cb);
    assert_eq!(wait_close(&mut b), Some(1008));
    drop((a, b));
    s.stop();
}

#[test]
fn votes_survive_a_restart() {
    let dir = TempDir::new("vote-restart");
    let s = AppServer::start_default(dir.path());
    let names = ["ann", "bob", "cy", "dee", "eve"];
    let cookies: Vec<String> = names.iter().map(|n| login(s.addr, n)).collect();
    for (i, c) in cookies.iter().enumerate() {
        let mut ws = vote_socket(&s, c);
        let id = if i < 3 { "3" } else { "1" };
        assert_eq!(vote(&mut ws, id)["type"], "voted");
    }
    let before: Vec<u64> = (1..=3)
        .map(|id| page_count(s.addr, &cookies[0], id))
        .collect();
    assert_eq!(before, [2, 0, 3]);
    s.stop();

    let s = AppServer::start_default(dir.path());
    // The session key and the sessions were kept too: the old cookie still works.
    let after: Vec<u64> = (1..=3)
        .map(|id| page_count(s.addr, &cookies[0], id))
        .collect();
    assert_eq!(after, before);
    s.stop();
}

#[test]
fn a_hundred_concurrent_voters_end_with_exact_counts() {
    let dir = TempDir::new("vote-100");
    let s = AppServer::start_default(dir.path());
    let n = 100;
    let cookies: Vec<String> = (0..n)
        .map(|i| login(s.addr, &format!("voter{i}")))
        .collect();
    let mut observer = vote_socket(&s, &login(s.addr, "observer"));
    send_text(&mut observer, "x");
    assert_eq!(next_json(&mut observer)["type"], "error"); // registered

    fn first(i: usize) -> i64 {
        (i % 3 + 1) as i64
    }
    fn second(i: usize) -> i64 {
        if i & 1 == 0 {
            ((i + 1) % 3 + 1) as i64
        } else {
            first(i)
        }
    }
    let barrier = Arc::new(Barrier::new(n));
    let threads: Vec<_> = cookies
        .into_iter()
        .enumerate()
        .map(|(i, cookie)| {
            let barrier = barrier.clone();
            let addr = s.addr;
            let origin = s.base();
            std::thread::spawn(move || {
                let mut ws = ws_connect(addr, "/vote/ws", Some(&cookie), Some(&origin)).unwrap();
                barrier.wait();
                assert_eq!(vote(&mut ws, &first(i).to_string())["type"], "voted");
                assert_eq!(vote(&mut ws, &second(i).to_string())["type"], "voted");
            })
        })
        .collect();
    for t in threads {
        t.join().expect("voter thread");
    }
    let mut expected: HashMap<i64, u64> = HashMap::new();
    for i in 0..n {
        *expected.entry(second(i)).or_default() += 1;
    }
    let cookie = login(s.addr, "reader");
    for id in 1..=3 {
        assert_eq!(
            page_count(s.addr, &cookie, id),
            expected[&id],
            "candidate {id}"
        );
    }
    assert_eq!(expected.values().sum::<u64>(), n as u64);

    // The broadcasts come in commit order: the last count seen for each candidate is the final one.
    let mut seen: HashMap<i64, u64> = HashMap::new();
    let changes: usize = 100 + (0..n).filter(|i| second(*i) != first(*i)).count() * 2;
    for _ in 0..changes {
        let m = next_json(&mut observer);
        assert_eq!(m["type"], "vote");
        seen.insert(m["user"].as_i64().unwrap(), m["count"].as_u64().unwrap());
    }
    assert_eq!(seen, expected);
    drop(observer);
    s.stop();
}

/// `POST /login` with `name` (form-encoded by the helper's rules); the response.
fn try_login(s: &AppServer, name: &str) -> Resp {
    let body: String = name
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect();
    let origin = s.base();
    http(
        s.addr,
        "POST",
        "/login",
        &[
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Origin", &origin),
        ],
        &format!("name={body}"),
    )
}

// Before the fix: 303 (logged in) for the bidi override, the zero-width space and the BOM, and
// "Ann", "ANN" and fullwidth "Ａｎｎ" were three voters with three votes.
#[test]
fn names_with_invisible_characters_are_refused_and_case_or_width_variants_are_one_voter() {
    let dir = TempDir::new("vote-names");
    let s = AppServer::start_default(dir.path());
    for spoof in [
        "admin\u{202E}nimda",
        "a\u{200B}b",
        "\u{FEFF}ann",
        "a\u{2066}b",
        "x\u{0007}",
        "\u{00AD}ann",
        "a\u{2028}b",
        "\u{E000}x",
    ] {
        let r = try_login(&s, spoof);
        assert_eq!(r.status, 400, "{spoof:?}: {r:?}");
        assert!(r.header("set-cookie").is_none(), "{spoof:?}");
    }
    let variants = ["Ann", "ANN", "\u{FF21}\u{FF4E}\u{FF4E}"];
    for (i, name) in variants.iter().enumerate() {
        let cookie = login(s.addr, name);
        let mut ws = vote_socket(&s, &cookie);
        // Each variant votes for another candidate: one voter moves its one vote.
        assert_eq!(vote(&mut ws, &(i + 1).to_string())["type"], "voted");
        drop(ws);
    }
    let cookie = login(s.addr, "ann");
    let total: u64 = (1..=3).map(|id| page_count(s.addr, &cookie, id)).sum();
    assert_eq!(total, 1, "one vote for the one voter");
    assert_eq!(page_count(s.addr, &cookie, 3), 1);
    // The page greets the NFKC form of the name as typed: the fullwidth login shows "Ann".
    let full = login(s.addr, "\u{FF21}\u{FF4E}\u{FF4E}");
    let page = http(s.addr, "GET", "/vote", &[("Cookie", &full)], "");
    assert!(
        page.body.contains("Ann") && !page.body.contains('\u{FF21}'),
        "{}",
        page.body
    );
    s.stop();
}

/// Holds the database's write lock from another connection (as another process would) until
/// dropped.
struct WriteLock(rusqlite::Connection);

impl WriteLock {
    fn take(dir: &std::path::Path) -> WriteLock {
        let c = rusqlite::Connection::open(dir.join(ws_apps::store::DB_FILE)).expect("open db");
        c.execute_batch("BEGIN IMMEDIATE; DELETE FROM sessions WHERE sid = 'none';")
            .expect("take the write lock");
        WriteLock(c)
    }
}

impl Drop for WriteLock {
    fn drop(&mut self) {
        let _ = self.0.execute_batch("ROLLBACK");
    }
}

// Before the fix reads and notify waited on the one connection's mutex held by the pending
// vote (the vote's error came first), and a login under the lock answered 500.
#[test]
fn reads_and_notify_do_not_queue_behind_a_blocked_write_and_login_says_busy() {
    let dir = TempDir::new("vote-locked");
    let s = AppServer::start_default(dir.path());
    let cookie = login(s.addr, "ann");
    let mut voter = vote_socket(&s, &cookie);
    let mut page = vote_socket(&s, &login(s.addr, "bob"));
    let lock = WriteLock::take(dir.path());
    // A vote that cannot commit while the lock is held: pending.
    send_text(&mut voter, "1");
    std::thread::sleep(Duration::from_millis(100));
    // Meanwhile: the voting page, a chat join and notify are answered...
    let r = http(s.addr, "GET", "/vote", &[("Cookie", &cookie)], "");
    assert_eq!(r.status, 200, "{r:?}");
    let mut chat = ws_connect(s.addr, "/chat/ws", None, None).expect("chat upgrade");
    assert_eq!(next_json(&mut chat)["type"], "hello");
    let auth = format!("Bearer {TOKEN}");
    let r = http(
        s.addr,
        "POST",
        "/notify",
        &[("Authorization", &auth)],
        "hello",
    );
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(next_json(&mut page)["type"], "notify");
    // ...before the vote is refused, which it is, with a clear error and nothing counted.
    let m = next_json(&mut voter);
    assert_eq!(m["type"], "notify", "notify before the vote's answer: {m}");
    let m = next_json(&mut voter);
    assert_eq!(m["type"], "error", "{m}");
    // A login that cannot be stored says so (503 and a page), instead of a bare 500.
    let origin = s.base();
    let r = http(
        s.addr,
        "POST",
        "/login",
        &[
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Origin", &origin),
        ],
        "name=carl",
    );
    assert_eq!(r.status, 503, "{r:?}");
    assert!(r.body.contains("busy"), "{}", r.body);
    drop(lock);
    assert_eq!(vote(&mut voter, "1")["type"], "voted");
    assert_eq!(page_count(s.addr, &cookie, 1), 1);
    drop((voter, page, chat));
    s.stop();
}

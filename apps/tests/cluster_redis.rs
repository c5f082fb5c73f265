//! Several `ws-server serve --redis` nodes behind HAProxy, against a real redis-server (issue 18):
//! one order on every node, exact votes under concurrent voters, resume after a node is killed,
//! Redis restarted with and without persistence, Redis down for a while.

mod apps_support;
mod cluster_support;

use std::net::SocketAddr;
use std::sync::{Arc, Barrier};
use std::time::Duration;

use apps_support::{http, next_json, ws_connect};
use cluster_support::{free_port, Haproxy, Member, Node, Persistence, Redis, TOKEN};

/// Two nodes and haproxy in front of them, sharing `redis`.
struct Site {
    nodes: Vec<Node>,
    proxy: Haproxy,
}

impl Site {
    fn start(redis: &Redis) -> Site {
        let (p1, p2, hp) = (free_port(), free_port(), free_port());
        let origins = [hp, p1, p2];
        let nodes = vec![
            Node::start(p1, &redis.url(), &origins),
            Node::start(p2, &redis.url(), &origins),
        ];
        let proxy = Haproxy::start(hp, &[p1, p2]);
        Site { nodes, proxy }
    }
}

/// Logs in as `name` through `via`; the cookie.
fn login(via: SocketAddr, name: &str) -> String {
    let origin = format!("http://{via}");
    let r = http(
        via,
        "POST",
        "/login",
        &[
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Origin", &origin),
            ("Connection", "close"),
        ],
        &format!("name={name}"),
    );
    assert_eq!(r.status, 303, "login: {r:?}");
    let set = r.header("set-cookie").expect("Set-Cookie");
    set.split(';').next().expect("cookie").to_owned()
}

/// Opens a voting page's socket at `via`; returns it after its counts snapshot.
fn vote_socket(via: SocketAddr, cookie: &str) -> (apps_support::Ws, serde_json::Value) {
    let origin = format!("http://{via}");
    let mut ws = ws_connect(via, "/vote/ws", Some(cookie), Some(&origin)).expect("vote socket");
    let counts = next_json(&mut ws);
    assert_eq!(counts["type"], "counts", "{counts}");
    (ws, counts)
}

fn counts_of(snapshot: &serde_json::Value) -> Vec<u64> {
    snapshot["counts"]
        .as_array()
        .expect("counts")
        .iter()
        .map(|c| c["count"].as_u64().expect("count"))
        .collect()
}

#[test]
fn two_nodes_one_order_exact_votes_and_notify() {
    let redis = Redis::start(Persistence::None);
    let site = Site::start(&redis);
    let (n1, n2) = (site.nodes[0].addr(), site.nodes[1].addr());

    // Chat: one member on each node, both posting at once; both see all 2 x 40 in one order.
    let members: Vec<Member> = [n1, n2].into_iter().map(Member::join).collect();
    let start = Arc::new(Barrier::new(2));
    let handles: Vec<_> = members
        .into_iter()
        .enumerate()
        .map(|(i, mut m)| {
            let start = start.clone();
            std::thread::spawn(move || {
                start.wait();
                for k in 0..40 {
                    assert!(m.say(&format!("node{i}-{k}")));
                }
                assert!(
                    m.pump_until(Duration::from_secs(20), |m| m.got.len() >= 80),
                    "member {i} got {} of 80",
                    m.got.len()
                );
                m
            })
        })
        .collect();
    let done: Vec<Member> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert_eq!(done[0].got, done[1].got, "both nodes deliver one order");
    let ids: Vec<u64> = done[0].got.iter().map(|g| g.id).collect();
    assert_eq!(ids, (1..=80).collect::<Vec<_>>());
    for i in 0..2 {
        let mine: Vec<String> = done[0]
            .bodies()
            .iter()
            .filter(|b| b.starts_with(&format!("node{i}-")))
            .map(|b| b.to_string())
            .collect();
        let sent: Vec<String> = (0..40).map(|k| format!("node{i}-{k}")).collect();
        assert_eq!(mine, sent, "a sender's messages keep their order");
    }
    // A third member joining through haproxy gets the same history.
    let late = Member::join(site.proxy.addr());
    assert_eq!(
        late.got.len(),
        80,
        "all 80 fit in the default history of 100"
    );
    assert_eq!(late.got, done[0].got);

    // Votes: an observer page on each node; 100 voters through haproxy (round robin over both
    // nodes), all at once, each voting then moving its vote.
    let watcher = login(n1, "watcher");
    let mut observers: Vec<_> = [n1, n2]
        .into_iter()
        .map(|n| vote_socket(n, &watcher).0)
        .collect();
    let proxy = site.proxy.addr();
    let go = Arc::new(Barrier::new(100));
    let voters: Vec<_> = (0..100)
        .map(|i| {
            let go = go.clone();
            std::thread::spawn(move || {
                let cookie = login(proxy, &format!("voter{i}"));
                let (mut ws, _) = vote_socket(proxy, &cookie);
                go.wait();
                let (first, last) = (1 + i % 3, 1 + (i / 3) % 3);
                for c in [first, last] {
                    ws.send(tungstenite::Message::text(c.to_string())).unwrap();
                    loop {
                        let v = next_json(&mut ws);
                        match v["type"].as_str() {
                            Some("voted") => break,
                            Some("vote" | "counts") => {}
                            _ => panic!("voter {i}: {v}"),
                        }
                    }
                }
                last as usize
            })
        })
        .collect();
    let mut expected = vec![0u64; 3];
    for v in voters {
        expected[v.join().unwrap() - 1] += 1;
    }
    // Fresh pages on both nodes see the exact counts; the observers' pushed counts end there.
    for n in [n1, n2] {
        let (_, snapshot) = vote_socket(n, &watcher);
        assert_eq!(counts_of(&snapshot), expected, "counts on {n}");
    }
    for (i, ws) in observers.iter_mut().enumerate() {
        let mut seen = vec![0u64; 3];
        ws.get_ref()
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        while seen != expected {
            let v = next_json(ws);
            if v["type"] == "vote" {
                let c = v["user"].as_u64().unwrap() as usize;
                seen[c - 1] = v["count"].as_u64().unwrap();
            }
        }
        assert_eq!(seen, expected, "observer {i}");
    }

    // Notify through node 1 reaches the page on node 2 too; the answer says its scope.
    let r = http(
        n1,
        "POST",
        "/notify",
        &[("Authorization", &format!("Bearer {TOKEN}"))],
        "hello all",
    );
    assert_eq!(r.status, 200, "{r:?}");
    let answer: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(answer["delivered"], 2, "one page on each node: {answer}");
    assert_eq!(answer["scope"], "cluster");
    assert_eq!(answer["this_node"], 1);
    assert_eq!(answer["nodes"], 2);
    assert_eq!(answer["nodes_counted"], 2);
    for ws in &mut observers {
        loop {
            let v = next_json(ws);
            if v["type"] == "notify" {
                assert_eq!(v["msg"], "hello all");
                break;
            }
        }
    }

    // Logging out on node 1 closes that login's pages on both nodes (1008).
    let origin = format!("http://{n1}");
    let r = http(
        n1,
        "POST",
        "/logout",
        &[
            ("Cookie", &watcher),
            ("Origin", &origin),
            ("Connection", "close"),
        ],
        "",
    );
    assert_eq!(r.status, 303, "{r:?}");
    for ws in &mut observers {
        assert_eq!(apps_support::wait_close(ws), Some(1008));
    }
}

#[test]
fn killed_node_members_resume_on_the_other_exactly_once_in_order() {
    let redis = Redis::start(Persistence::None);
    let mut site = Site::start(&redis);
    let survivor = site.nodes[1].addr();
    const TOTAL: usize = 150;

    // Six members through haproxy (round robin: three on each node), each in its own thread,
    // reading (and resuming through haproxy when dropped) until it has every message.
    let proxy = site.proxy.addr();
    let ready = Arc::new(Barrier::new(7));
    let members: Vec<_> = (0..6)
        .map(|i| {
            let ready = ready.clone();
            std::thread::spawn(move || {
                let mut m = Member::join(proxy);
                ready.wait();
                let all = m.pump_until(Duration::from_secs(30), |m| m.got.len() >= TOTAL);
                assert!(all, "member {i} has {} of {TOTAL}", m.got.len());
                m
            })
        })
        .collect();
    ready.wait();

    // The sender is on the surviving node; node 1 is killed (SIGKILL) after 40 messages.
    let mut sender = Member::join(survivor);
    for k in 0..TOTAL {
        if k == 40 {
            site.nodes[0].proc.kill();
        }
        assert!(sender.say(&format!("m{k}")), "sender lost its node");
        std::thread::sleep(Duration::from_millis(10));
        sender.pump_once();
    }
    let expected: Vec<String> = (0..TOTAL).map(|k| format!("m{k}")).collect();
    let mut reconnects = 0;
    for (i, h) in members.into_iter().enumerate() {
        let m = h.join().expect("member thread");
        // Duplicates or disorder would have failed in Member::handle already.
        assert_eq!(m.bodies(), expected, "member {i}");
        let ids: Vec<u64> = m.got.iter().map(|g| g.id).collect();
        assert_eq!(ids, (1..=TOTAL as u64).collect::<Vec<_>>(), "member {i}");
        assert!(m.resets.is_empty(), "member {i} was reset: {:?}", m.resets);
        reconnects += m.reconnects;
    }
    assert!(
        reconnects >= 3,
        "the killed node's three members reconnected ({reconnects})"
    );
}

/// A member that had `last` of `epoch` and reconnects through `via`.
fn returning(via: SocketAddr, epoch: &str, last: u64) -> Member {
    let mut m = Member::join(via);
    m.ws = None;
    m.got.clear();
    m.epoch = Some(epoch.to_owned());
    m.last = last;
    assert!(m.connect(), "reconnect");
    m
}

#[test]
fn redis_restarted_without_persistence_resets_pages_to_the_fresh_history() {
    let mut redis = Redis::start(Persistence::None);
    let site = Site::start(&redis);
    let (n1, n2) = (site.nodes[0].addr(), site.nodes[1].addr());
    let mut a = Member::join(n1);
    for k in 0..5 {
        assert!(a.say(&format!("old{k}")));
    }
    assert!(a.pump_until(Duration::from_secs(10), |m| m.got.len() == 5));
    let old_epoch = a.epoch.clone().expect("epoch");

    redis.restart();
    // The connected page is told Redis went away and came back, then reset (new epoch).
    assert!(
        a.pump_until(Duration::from_secs(10), |m| !m.resets.is_empty()
            && m.statuses.len() == 2),
        "no reset; statuses {:?}",
        a.statuses
    );
    assert_eq!(a.resets, ["epoch"]);
    assert_eq!(a.statuses, ["down", "up"]);
    assert_ne!(a.epoch.as_deref(), Some(old_epoch.as_str()));

    let mut b = Member::join(n2);
    assert!(b.got.is_empty(), "fresh history is empty: {:?}", b.got);
    assert!(b.say("new0"));
    assert!(a.pump_until(Duration::from_secs(10), |m| m.got.len() == 6));
    let newest = a.got.last().unwrap();
    assert_eq!((newest.id, newest.body.as_str()), (1, "new0"));
    assert_eq!(newest.epoch, *a.epoch.as_ref().unwrap());

    // A page that was away with the old position gets the reset and the fresh history only.
    let c = returning(site.proxy.addr(), &old_epoch, 5);
    assert_eq!(c.resets, ["epoch"]);
    assert_eq!(c.bodies(), ["new0"]);
}

#[test]
fn redis_restarted_with_aof_loses_nothing() {
    let mut redis = Redis::start(Persistence::Aof);
    let site = Site::start(&redis);
    let (n1, n2) = (site.nodes[0].addr(), site.nodes[1].addr());
    let mut a = Member::join(n1);
    for k in 0..5 {
        assert!(a.say(&format!("kept{k}")));
    }
    assert!(a.pump_until(Duration::from_secs(10), |m| m.got.len() == 5));
    let epoch = a.epoch.clone().expect("epoch");
    let cookie = login(n2, "ann");
    let (mut ws, _) = vote_socket(n2, &cookie);
    ws.send(tungstenite::Message::text("2")).unwrap();
    while next_json(&mut ws)["type"] != "voted" {}

    redis.restart();
    assert!(a.pump_until(Duration::from_secs(10), |m| m.statuses.len() == 2));
    assert_eq!(a.statuses, ["down", "up"]);
    assert!(a.say("kept5"));
    assert!(a.pump_until(Duration::from_secs(10), |m| m.got.len() == 6));
    assert!(a.resets.is_empty(), "{:?}", a.resets);
    assert_eq!(a.got.last().unwrap().id, 6);
    assert_eq!(a.epoch.as_deref(), Some(epoch.as_str()));

    // A page away since offset 2 gets exactly 3..6; the vote and the session survived.
    let b = returning(site.proxy.addr(), &epoch, 2);
    assert!(b.resets.is_empty(), "{:?}", b.resets);
    assert_eq!(b.bodies(), ["kept2", "kept3", "kept4", "kept5"]);
    let (_, snapshot) = vote_socket(n1, &cookie);
    assert_eq!(counts_of(&snapshot), [0, 1, 0]);
    assert_eq!(snapshot["voted"], 2);
}

#[test]
fn redis_down_for_five_seconds_refuses_writes_and_recovers_without_restart() {
    let mut redis = Redis::start(Persistence::Aof);
    let site = Site::start(&redis);
    let (n1, n2) = (site.nodes[0].addr(), site.nodes[1].addr());
    let mut a = Member::join(n1);
    let mut b = Member::join(n2);
    let cookie = login(n1, "bob");
    let (mut votes, _) = vote_socket(n1, &cookie);
    assert!(a.say("before"));
    assert!(b.pump_until(Duration::from_secs(10), |m| m.got.len() == 1));

    redis.stop();
    let down = std::time::Instant::now();
    assert!(a.pump_until(Duration::from_secs(5), |m| m.statuses == ["down"]));
    assert!(a.say("during"));
    assert!(a.pump_until(Duration::from_secs(5), |m| !m.errors.is_empty()));
    assert!(
        a.errors[0].contains("not stored") && a.errors[0].contains("Redis"),
        "{:?}",
        a.errors
    );
    // The voting page is told too, and its vote is refused.
    loop {
        let v = next_json(&mut votes);
        if v["type"] == "status" {
            assert_eq!(v["redis"], "down", "{v}");
            break;
        }
    }
    votes.send(tungstenite::Message::text("1")).unwrap();
    let refusal = loop {
        let v = next_json(&mut votes);
        if v["type"] == "error" {
            break v;
        }
        assert_ne!(
            v["type"], "voted",
            "a vote reported stored while Redis is down"
        );
    };
    assert!(refusal["error"].as_str().unwrap().contains("not stored"));
    // Pages needing the session store say so (503), not 'log in'.
    let page = http(n2, "GET", "/vote", &[("Cookie", &cookie)], "");
    assert_eq!(page.status, 503, "{page:?}");
    // A new member is still served (hello, status), its history comes when Redis is back.
    let mut c = Member::join(site.proxy.addr());
    assert_eq!(c.statuses, ["down"]);
    std::thread::sleep(Duration::from_secs(5).saturating_sub(down.elapsed()));

    redis.restart();
    assert!(a.pump_until(Duration::from_secs(10), |m| m.statuses == ["down", "up"]));
    assert!(a.say("after"));
    for m in [&mut a, &mut b, &mut c] {
        assert!(m.pump_until(Duration::from_secs(10), |m| m.bodies().contains(&"after")));
    }
    assert_eq!(a.bodies(), ["before", "after"]);
    assert_eq!(b.bodies(), ["before", "after"]);
    assert_eq!(
        c.bodies(),
        ["before", "after"],
        "late joiner's history, then live"
    );
    // The voting page hears Redis is back and gets fresh counts; votes are stored again.
    let mut seen = Vec::new();
    while !(seen.contains(&"status".to_owned()) && seen.contains(&"counts".to_owned())) {
        let v = next_json(&mut votes);
        seen.push(v["type"].as_str().unwrap_or_default().to_owned());
    }
    assert_eq!(seen.len(), 2, "{seen:?}");
    votes.send(tungstenite::Message::text("1")).unwrap();
    while next_json(&mut votes)["type"] != "voted" {}
}

#[test]
fn a_position_trimmed_from_the_stream_gets_an_explicit_reset() {
    // Stream nodes of 5 entries, so MAXLEN ~ 10 trims whole nodes of 5 and keeps 10 to 14.
    let redis = Redis::start_with(Persistence::None, &["--stream-node-max-entries", "5"]);
    let port = free_port();
    let node = Node::start_with(
        port,
        &redis.url(),
        &[port],
        &["--redis-stream-len", "10", "--history", "5"],
    );
    let mut a = Member::join(node.addr());
    for k in 1..=30 {
        assert!(a.say(&format!("m{k}")));
    }
    assert!(a.pump_until(Duration::from_secs(10), |m| m.got.len() == 30));
    let epoch = a.epoch.clone().expect("epoch");

    // Offset 2 is gone: reset, then the latest 5 (the history size), not a silent partial replay.
    let far = returning(node.addr(), &epoch, 2);
    assert_eq!(far.resets, ["trimmed"]);
    assert_eq!(far.bodies(), ["m26", "m27", "m28", "m29", "m30"]);
    // Offset 20 is still there: exactly 21..30, more than the history size, no reset.
    let near = returning(node.addr(), &epoch, 20);
    assert!(near.resets.is_empty(), "{:?}", near.resets);
    let expected: Vec<String> = (21..=30).map(|k| format!("m{k}")).collect();
    assert_eq!(near.bodies(), expected);
    // A fresh member gets the history size.
    let fresh = Member::join(node.addr());
    assert_eq!(fresh.bodies(), ["m26", "m27", "m28", "m29", "m30"]);
}

#[test]
fn redis_mode_needs_a_shared_session_secret_and_reads_it_from_a_file() {
    let dir = apps_support::TempDir::new("secret");
    let port = free_port();
    // No secret: the start fails and says why (a per-node key would make cookies node-bound).
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ws-server"))
        .args([
            "serve",
            "--addr",
            &format!("127.0.0.1:{port}"),
            "--data-dir",
        ])
        .arg(dir.path().join("data"))
        .args(["--redis", "redis://127.0.0.1:1"])
        .env_remove("WS_SESSION_SECRET")
        .output()
        .expect("run ws-server serve");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--session-secret-file"), "{err}");

    // The same secret from a file on two nodes: a cookie from node 1 is valid on node 2.
    let redis = Redis::start(Persistence::None);
    let file = dir.path().join("secret");
    std::fs::write(&file, "from-a-file\n").unwrap();
    let file = file.to_str().unwrap().to_owned();
    let (p1, p2) = (free_port(), free_port());
    let n1 = Node::start_with(
        p1,
        &redis.url(),
        &[p1, p2],
        &["--session-secret-file", &file],
    );
    let n2 = Node::start_with(
        p2,
        &redis.url(),
        &[p1, p2],
        &["--session-secret-file", &file],
    );
    let cookie = login(n1.addr(), "carol");
    let page = http(n2.addr(), "GET", "/vote", &[("Cookie", &cookie)], "");
    assert_eq!(page.status, 200, "{page:?}");
    assert!(page.body.contains("carol"));
}

#[test]
fn a_frozen_redis_is_noticed_by_its_silence_and_the_nodes_recover() {
    let redis = Redis::start(Persistence::None);
    let port = free_port();
    let node = Node::start(port, &redis.url(), &[port]);
    let mut a = Member::join(node.addr());
    assert!(a.say("before"));
    assert!(a.pump_until(Duration::from_secs(10), |m| m.got.len() == 1));
    // SIGSTOP: the TCP connections stay open, nothing answers.
    redis.signal("STOP");
    assert!(
        a.pump_until(Duration::from_secs(12), |m| m.statuses == ["down"]),
        "the node noticed within two ping periods: {:?}",
        a.statuses
    );
    redis.signal("CONT");
    assert!(a.pump_until(Duration::from_secs(10), |m| m.statuses == ["down", "up"]));
    assert!(a.say("after"));
    assert!(a.pump_until(Duration::from_secs(10), |m| m.got.len() == 2));
    assert_eq!(a.bodies(), ["before", "after"]);
    assert!(a.resets.is_empty(), "{:?}", a.resets);
}

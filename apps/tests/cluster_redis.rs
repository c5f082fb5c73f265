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
    assert_eq!(late.got.len(), 80.min(100));
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
    assert_eq!(answer["delivered"], 1, "{answer}");
    assert_eq!(answer["scope"], "this node");
    assert_eq!(answer["other_nodes_reached"], 1);
    for ws in &mut observers {
        loop {
            let v = next_json(ws);
            if v["type"] == "notify" {
                assert_eq!(v["msg"], "hello all");
                break;
            }
        }
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

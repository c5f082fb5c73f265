//! The chat page in headless Chromium, served through HAProxy by two `serve --redis` nodes: its
//! node is killed (SIGKILL) while messages flow, and the page's own JavaScript reconnects
//! through HAProxy to the other node and resumes with its epoch + offset: every message once,
//! in order.

mod apps_support;
mod browser_support;
mod cluster_support;

use std::time::Duration;

use browser_support::webdriver::{Browser, Driver};
use cluster_support::{free_port, Haproxy, Member, Node, Persistence, Redis};

/// The texts and offsets of the page's chat log, in order.
fn log_of(b: &Browser) -> (Vec<String>, Vec<u64>) {
    let bodies =
        b.js("return [...document.querySelectorAll('#log .body')].map(e => e.textContent);");
    let ids =
        b.js("return [...document.querySelectorAll('#log li')].map(e => Number(e.dataset.id));");
    (
        serde_json::from_value(bodies).unwrap(),
        serde_json::from_value(ids).unwrap(),
    )
}

#[test]
fn chat_page_resumes_on_the_other_node_when_its_node_is_killed() {
    let redis = Redis::start(Persistence::None);
    let ports = [free_port(), free_port()];
    let hp = free_port();
    let origins = [hp, ports[0], ports[1]];
    let mut nodes = ports.map(|p| Node::start(p, &redis.url(), &origins));
    let _proxy = Haproxy::start(hp, &ports);

    let mut driver = Driver::start();
    let b = driver.browser();
    b.goto(&format!("http://127.0.0.1:{hp}/chat"));
    b.wait_for(
        "document.body.dataset.history === 'loaded' && document.body.dataset.state === 'open'",
        "the page connected",
    );
    // Counts the page's drops (its state turning to 'reconnecting').
    b.js("window.drops = 0; new MutationObserver(() => { \
          if (document.body.dataset.state === 'reconnecting') window.drops += 1; }) \
          .observe(document.body, { attributes: true, attributeFilter: ['data-state'] }); \
          return 0;");

    // Which node holds the page's socket is HAProxy's choice: kill node 0 while messages flow;
    // if the page stayed connected it is on node 1, so bring node 0 back and kill node 1.
    let mut sent: Vec<String> = Vec::new();
    for victim in 0..2 {
        let mut sender = Member::join(nodes[1 - victim].addr());
        for k in 0..60 {
            if k == 20 {
                nodes[victim].proc.kill();
            }
            let text = format!("n{victim}-{k}");
            assert!(sender.say(&text), "the sender's node is alive");
            sent.push(text);
            std::thread::sleep(Duration::from_millis(10));
            sender.pump_once();
        }
        let all = sent.len();
        b.wait_for(
            &format!("document.querySelectorAll('#log li').length >= {all}"),
            "every message on the page",
        );
        if b.js("return window.drops;") != serde_json::json!(0) {
            break;
        }
        nodes[victim] = Node::start(ports[victim], &redis.url(), &origins);
        std::thread::sleep(Duration::from_millis(600)); // HAProxy's check sees it up (200 ms)
    }
    assert!(
        b.js("return window.drops;").as_u64().unwrap_or(0) >= 1,
        "the page's node was killed"
    );
    b.wait_for(
        "document.body.dataset.state === 'open'",
        "the page reconnected",
    );
    let (bodies, ids) = log_of(&b);
    assert_eq!(bodies, sent, "every message once, in order");
    assert_eq!(ids, (1..=sent.len() as u64).collect::<Vec<_>>());
    assert_eq!(
        b.js("return document.body.dataset.resets || '0';"),
        serde_json::json!("0")
    );
    b.screenshot("chat-cluster-failover");
    drop(b);
    drop(driver);
}

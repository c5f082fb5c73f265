//! Real headless Chromium (scripts/install-browser) negotiates permessage-deflate with our server:
//! its offer, our answer as the page sees it (`WebSocket.extensions`), and a 111 KB text that
//! Chromium compresses, we inflate, echo compressed and Chromium inflates back intact.

mod browser_support;
#[path = "../../std-server/tests/common/mod.rs"]
mod common;

use browser_support::webdriver::Driver;
use std::sync::{mpsc, Mutex};
use std::time::Duration;
use ws_server::deflate::PerMessageDeflate;
use ws_server::{Config, HttpResponse, Reply, Request, Upgrade, WebSocket};

type Seen = (Option<String>, Option<PerMessageDeflate>);

#[test]
fn chromium_negotiates_permessage_deflate_and_round_trips_a_large_text() {
    let (tx, rx) = mpsc::channel::<Seen>();
    let tx = Mutex::new(tx);
    let handler = move |req: Request| {
        let offer = req.header("sec-websocket-extensions").map(str::to_owned);
        let tx = tx.lock().unwrap().clone();
        let upgrade = req.is_upgrade;
        async move {
            if !upgrade {
                return Reply::Http(HttpResponse::html("<title>deflate</title>"));
            }
            Reply::Upgrade(Upgrade::new(move |mut ws: WebSocket| async move {
                let _ = tx.send((offer, ws.deflate()));
                while let Some(m) = ws.recv().await {
                    if ws.send(m).await.is_err() {
                        break;
                    }
                }
            }))
        }
    };
    let server = common::start_with(Config::default(), handler);
    let mut driver = Driver::start();
    let b = driver.browser();
    b.goto(&format!("http://{}/", server.addr));
    b.js(&format!(
        "window.r = {{}};
         const ws = new WebSocket('ws://{}/');
         const big = 'chat message over permessage-deflate '.repeat(3000);
         ws.onopen = () => {{ window.r.ext = ws.extensions; ws.send(big); }};
         ws.onmessage = e => {{ window.r.same = e.data === big; ws.close(1000); }};
         ws.onerror = () => {{ window.r.error = true; }};
         return true;",
        server.addr
    ));
    b.wait_for(
        "window.r.same !== undefined || window.r.error",
        "the echo of the large text",
    );
    assert_eq!(b.js("return window.r.same;"), serde_json::json!(true));
    let ext = b.js("return window.r.ext;");
    let ext = ext.as_str().unwrap_or_default().to_owned();
    let (offer, params) = rx
        .recv_timeout(Duration::from_secs(10))
        .expect("server saw the upgrade");
    eprintln!("Chromium offered {offer:?}; the page sees {ext:?}; agreed {params:?}");
    let offer = offer.expect("Chromium sent Sec-WebSocket-Extensions");
    assert!(offer.contains("permessage-deflate"), "{offer}");
    assert!(ext.starts_with("permessage-deflate"), "{ext}");
    assert!(params.is_some(), "server did not activate the extension");
    drop(b);
    drop(driver);
    server.shutdown();
}

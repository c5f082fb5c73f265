//! The wstest specs run every case and exclude nothing.

use serde_json::{json, Value};
use ws_conformance::spec;

#[test]
fn fuzzingclient_spec_tests_one_server_on_every_case() {
    let all = vec!["*".to_owned()];
    let v: Value = serde_json::from_str(&spec::fuzzingclient(
        "/out/server",
        "ws-server",
        "ws://127.0.0.1:9001",
        &all,
    ))
    .unwrap();
    assert_eq!(
        v,
        json!({
            "outdir": "/out/server",
            "servers": [{"agent": "ws-server", "url": "ws://127.0.0.1:9001"}],
            "cases": ["*"],
            "exclude-cases": [],
            "exclude-agent-cases": {},
        })
    );
}

#[test]
fn fuzzingserver_spec_listens_on_the_given_url() {
    let cases = vec!["6.4.*".to_owned(), "9.1.1".to_owned()];
    let v: Value = serde_json::from_str(&spec::fuzzingserver(
        "/out/client",
        "ws://127.0.0.1:9002",
        &cases,
    ))
    .unwrap();
    assert_eq!(v["url"], "ws://127.0.0.1:9002");
    assert_eq!(v["outdir"], "/out/client");
    assert_eq!(v["cases"], json!(["6.4.*", "9.1.1"]));
    assert_eq!(v["exclude-cases"], json!([]));
}

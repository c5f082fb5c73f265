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
        None,
    ))
    .unwrap();
    assert_eq!(v["url"], "ws://127.0.0.1:9002");
    assert_eq!(v["outdir"], "/out/client");
    assert_eq!(v["cases"], json!(["6.4.*", "9.1.1"]));
    assert_eq!(v["exclude-cases"], json!([]));
    assert!(v.get("key").is_none() && v.get("cert").is_none());
}

#[test]
fn a_tls_fuzzingserver_spec_names_its_key_and_certificate() {
    let v: Value = serde_json::from_str(&spec::fuzzingserver(
        "/out/client-tls",
        "wss://127.0.0.1:9003",
        &["1.*".to_owned()],
        Some(("/t/key.pem", "/t/cert.pem")),
    ))
    .unwrap();
    assert_eq!(v["url"], "wss://127.0.0.1:9003");
    assert_eq!(
        (v["key"].as_str(), v["cert"].as_str()),
        (Some("/t/key.pem"), Some("/t/cert.pem"))
    );
}

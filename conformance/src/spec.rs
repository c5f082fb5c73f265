//! The wstest spec files for both modes: every case, nothing excluded.

use serde_json::json;

/// The spec for `wstest -m fuzzingclient` (tests a server at `url` under the name `agent`).
pub fn fuzzingclient(outdir: &str, agent: &str, url: &str, cases: &[String]) -> String {
    let spec = json!({
        "outdir": outdir,
        "servers": [{ "agent": agent, "url": url }],
        "cases": cases,
        "exclude-cases": [],
        "exclude-agent-cases": {},
    });
    format!("{spec:#}\n")
}

/// The spec for `wstest -m fuzzingserver` (listens at `url` for a client testee; over TLS with
/// `tls`'s PEM key and certificate files).
pub fn fuzzingserver(
    outdir: &str,
    url: &str,
    cases: &[String],
    tls: Option<(&str, &str)>,
) -> String {
    let mut spec = json!({
        "url": url,
        "outdir": outdir,
        "cases": cases,
        "exclude-cases": [],
        "exclude-agent-cases": {},
    });
    if let (Some((key, cert)), Some(map)) = (tls, spec.as_object_mut()) {
        map.insert("key".into(), key.into());
        map.insert("cert".into(), cert.into());
    }
    format!("{spec:#}\n")
}

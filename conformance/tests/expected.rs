//! The expected-results file and the regression comparison, from literal JSON.

use ws_conformance::expected::{
    compare, describe, from_results, merge, parse_expected, render_expected, Verdict,
};
use ws_conformance::report::{parse_index, Behavior, CaseId};

const EXPECTED: &str = r#"{
  "server": {"1.1.1": "OK", "6.4.1": "NON-STRICT", "10.1.1": "INFORMATIONAL", "12.1.1": "UNIMPLEMENTED"},
  "client": {"1.1.1": "OK"}
}"#;

fn run(json: &str) -> Vec<ws_conformance::report::CaseResult> {
    parse_index(json, "a").unwrap()
}

fn verdict(role: &str, json: &str, partial: bool) -> Verdict {
    let mut v = Verdict::default();
    compare(
        &parse_expected(EXPECTED).unwrap(),
        role,
        &run(json),
        partial,
        &mut v,
    );
    v
}

#[test]
fn the_same_results_pass() {
    let v = verdict(
        "server",
        r#"{"a": {
          "1.1.1": {"behavior": "OK", "behaviorClose": "OK"},
          "6.4.1": {"behavior": "NON-STRICT", "behaviorClose": "OK"},
          "10.1.1": {"behavior": "INFORMATIONAL", "behaviorClose": "OK"},
          "12.1.1": {"behavior": "UNIMPLEMENTED", "behaviorClose": "OK"}}}"#,
        false,
    );
    assert_eq!(v, Verdict::default());
    assert!(!v.is_failure());
}

#[test]
fn worse_than_expected_or_missing_is_a_regression_better_is_not() {
    let v = verdict(
        "server",
        r#"{"a": {
          "1.1.1": {"behavior": "NON-STRICT", "behaviorClose": "OK"},
          "6.4.1": {"behavior": "OK", "behaviorClose": "OK"},
          "12.1.1": {"behavior": "UNIMPLEMENTED", "behaviorClose": "OK"}}}"#,
        false,
    );
    assert!(v.is_failure());
    let regressions: Vec<String> = v.regressions.iter().map(describe).collect();
    assert_eq!(
        regressions,
        [
            "server 1.1.1: expected OK, got NON-STRICT",
            "server 10.1.1: expected INFORMATIONAL, got (not run)"
        ]
    );
    assert_eq!(v.improvements.len(), 1);
    assert_eq!(v.improvements[0].id, CaseId::parse("6.4.1").unwrap());
}

#[test]
fn a_partial_run_does_not_count_missing_cases() {
    let v = verdict(
        "server",
        r#"{"a": {"1.1.1": {"behavior": "OK", "behaviorClose": "OK"}}}"#,
        true,
    );
    assert!(!v.is_failure(), "{v:?}");
}

#[test]
fn failed_always_fails_even_if_expected_or_unlisted() {
    let v = verdict(
        "client",
        r#"{"a": {
          "1.1.1": {"behavior": "OK", "behaviorClose": "UNCLEAN"},
          "2.1": {"behavior": "FAILED", "behaviorClose": "OK"},
          "3.1": {"behavior": "OK", "behaviorClose": "OK"}}}"#,
        false,
    );
    assert!(v.is_failure());
    let failed: Vec<String> = v.failed.iter().map(describe).collect();
    assert_eq!(
        failed,
        [
            "client 1.1.1: expected OK, got FAILED",
            "client 2.1: expected (not listed), got FAILED"
        ]
    );
    assert_eq!(v.unlisted.len(), 1, "3.1 is new but not failed: noted only");
    assert!(v.regressions.is_empty());
}

#[test]
fn a_role_missing_from_the_file_lists_everything_as_unlisted() {
    let mut v = Verdict::default();
    let results = run(r#"{"a": {"1.1.1": {"behavior": "OK", "behaviorClose": "OK"}}}"#);
    compare(
        &parse_expected(EXPECTED).unwrap(),
        "nobody",
        &results,
        false,
        &mut v,
    );
    assert_eq!((v.unlisted.len(), v.is_failure()), (1, false));
}

#[test]
fn rendering_round_trips_in_numeric_order_one_case_per_line() {
    let results = run(r#"{"a": {
      "1.1.10": {"behavior": "OK", "behaviorClose": "OK"},
      "1.1.2": {"behavior": "INFORMATIONAL", "behaviorClose": "OK"},
      "13.1.1": {"behavior": "UNIMPLEMENTED", "behaviorClose": "OK"}}}"#);
    let expected = from_results(&[("server", &results)]);
    let text = render_expected(&expected);
    assert_eq!(
        text,
        "{\n  \"server\": {\n    \"1.1.2\": \"INFORMATIONAL\",\n    \"1.1.10\": \"OK\",\n    \"13.1.1\": \"UNIMPLEMENTED\"\n  }\n}\n"
    );
    let back = parse_expected(&text).unwrap();
    assert_eq!(back, expected);
    assert_eq!(
        back["server"][&CaseId::parse("1.1.2").unwrap()],
        Behavior::Informational
    );
}

#[test]
fn an_unknown_behavior_in_the_file_is_an_error() {
    let e = parse_expected(r#"{"server": {"1.1.1": "PASS"}}"#).unwrap_err();
    assert!(e.contains("PASS"), "{e}");
}

#[test]
fn a_declined_deflate_case_is_unimplemented_if_it_closes_cleanly_and_failed_if_not() {
    // What wstest reports when the server answers the permessage-deflate offer without the
    // extension (measured against a server that declines it): UNIMPLEMENTED, close OK.
    let expected = r#"{"server-loop": {"12.1.1": "UNIMPLEMENTED", "13.7.18": "UNIMPLEMENTED"}}"#;
    let mut v = Verdict::default();
    let results = run(r#"{"a": {
      "12.1.1": {"behavior": "UNIMPLEMENTED", "behaviorClose": "OK"},
      "13.7.18": {"behavior": "UNIMPLEMENTED", "behaviorClose": "UNCLEAN"}}}"#);
    compare(
        &parse_expected(expected).unwrap(),
        "server-loop",
        &results,
        false,
        &mut v,
    );
    let failed: Vec<String> = v.failed.iter().map(describe).collect();
    assert_eq!(
        failed,
        ["server-loop 13.7.18: expected UNIMPLEMENTED, got FAILED"]
    );
    assert!(v.regressions.is_empty() && v.improvements.is_empty() && v.is_failure());
}

#[test]
fn merging_replaces_the_roles_run_and_keeps_the_others() {
    let old = parse_expected(EXPECTED).unwrap();
    let results = run(r#"{"a": {"12.1.1": {"behavior": "UNIMPLEMENTED", "behaviorClose": "OK"}}}"#);
    let merged = merge(old.clone(), from_results(&[("server-loop", &results)]));
    assert_eq!(merged["server"], old["server"]);
    assert_eq!(merged["client"], old["client"]);
    assert_eq!(merged["server-loop"].len(), 1);
    let results = run(r#"{"a": {"1.1.1": {"behavior": "NON-STRICT", "behaviorClose": "OK"}}}"#);
    let merged = merge(merged, from_results(&[("client", &results)]));
    assert_eq!(
        merged["client"][&CaseId::parse("1.1.1").unwrap()],
        Behavior::NonStrict
    );
    assert_eq!(merged["server"], old["server"]);
}

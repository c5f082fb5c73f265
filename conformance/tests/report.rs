//! index.json parsing, from literal JSON in Autobahn's own layout.

use ws_conformance::report::{parse_index, Behavior, CaseId};

const INDEX: &str = r#"{
   "ws-server": {
      "1.1.10": {"behavior": "OK", "behaviorClose": "OK", "duration": 3, "remoteCloseCode": 1000, "reportfile": "ws_server_case_1_1_10.json"},
      "1.1.2": {"behavior": "OK", "behaviorClose": "OK", "duration": 2, "remoteCloseCode": 1000, "reportfile": "ws_server_case_1_1_2.json"},
      "6.4.1": {"behavior": "NON-STRICT", "behaviorClose": "OK", "duration": 5, "remoteCloseCode": 1007, "reportfile": "ws_server_case_6_4_1.json"},
      "7.3.1": {"behavior": "OK", "behaviorClose": "WRONG CODE", "duration": 1, "remoteCloseCode": 1002, "reportfile": "ws_server_case_7_3_1.json"},
      "7.9.1": {"behavior": "OK", "behaviorClose": "UNCLEAN", "duration": 1, "remoteCloseCode": null, "reportfile": "ws_server_case_7_9_1.json"},
      "12.1.1": {"behavior": "UNIMPLEMENTED", "behaviorClose": "OK", "duration": 4, "remoteCloseCode": 1000, "reportfile": "ws_server_case_12_1_1.json"},
      "9.1.1": {"behavior": "OK", "behaviorClose": "OK", "duration": 12, "remoteCloseCode": 1000, "reportfile": "ws_server_case_9_1_1.json"}
   },
   "other": {
      "1.1.1": {"behavior": "FAILED", "behaviorClose": "FAILED", "duration": 1, "remoteCloseCode": null, "reportfile": "x.json"}
   }
}"#;

#[test]
fn cases_come_back_in_numeric_order_for_the_requested_agent() {
    let results = parse_index(INDEX, "ws-server").unwrap();
    let ids: Vec<&str> = results.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(
        ids,
        ["1.1.2", "1.1.10", "6.4.1", "7.3.1", "7.9.1", "9.1.1", "12.1.1"]
    );
    assert_eq!(results[0].duration_ms, 2);
    assert_eq!(results[0].remote_close_code, Some(1000));
    assert_eq!(results[0].report_file, "ws_server_case_1_1_2.json");
    assert_eq!(results[4].remote_close_code, None);
}

#[test]
fn behavior_is_the_worse_of_behavior_and_close_behavior() {
    let results = parse_index(INDEX, "ws-server").unwrap();
    let got = |id: &str| {
        results
            .iter()
            .find(|r| r.id.as_str() == id)
            .unwrap()
            .behavior
    };
    assert_eq!(got("1.1.2"), Behavior::Ok);
    assert_eq!(got("6.4.1"), Behavior::NonStrict);
    assert_eq!(
        got("7.3.1"),
        Behavior::NonStrict,
        "a wrong close code is not OK"
    );
    assert_eq!(
        got("7.9.1"),
        Behavior::Failed,
        "an unclean close fails the case"
    );
    assert_eq!(got("12.1.1"), Behavior::Unimplemented);
    let raw = results.iter().find(|r| r.id.as_str() == "7.9.1").unwrap();
    assert_eq!(
        (raw.raw_behavior.as_str(), raw.raw_close.as_str()),
        ("OK", "UNCLEAN")
    );
}

#[test]
fn a_missing_agent_or_bad_json_is_an_error_naming_the_problem() {
    let e = parse_index(INDEX, "ws-client").unwrap_err();
    assert!(e.contains("ws-client") && e.contains("ws-server"), "{e}");
    assert!(parse_index("{\"a\": ", "a").is_err());
    assert!(parse_index(
        r#"{"a": {"x.y": {"behavior": "OK", "behaviorClose": "OK"}}}"#,
        "a"
    )
    .is_err());
}

#[test]
fn behaviors_rank_ok_best_failed_worst() {
    use Behavior::*;
    assert!(
        Ok < NonStrict
            && NonStrict < Informational
            && Informational < Unimplemented
            && Unimplemented < Failed
    );
    for b in Behavior::ALL {
        assert_eq!(Behavior::parse(b.as_str()), Some(b));
    }
    assert_eq!(Behavior::from_case("NO_CLOSE"), Failed);
    assert_eq!(Behavior::from_close("FAILED BY CLIENT"), NonStrict);
    assert_eq!(Behavior::from_close("INFORMATIONAL"), Ok);
    assert_eq!(Behavior::from_close("FAILED"), Failed);
}

#[test]
fn case_ids_order_numerically_and_know_their_section() {
    let a = CaseId::parse("1.1.2").unwrap();
    let b = CaseId::parse("1.1.10").unwrap();
    let c = CaseId::parse("12.1.1").unwrap();
    assert!(a < b && b < c);
    assert_eq!(c.section(), 12);
    assert!(CaseId::parse("1.a").is_none());
    assert!(CaseId::parse("").is_none());
}

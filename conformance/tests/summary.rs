//! The per-section table, from literal index.json.

use ws_conformance::report::parse_index;
use ws_conformance::summary::{format_ms, render_table, section_tally};

const SERVER: &str = r#"{"s": {
  "1.1.1": {"behavior": "OK", "behaviorClose": "OK", "duration": 2},
  "1.1.2": {"behavior": "OK", "behaviorClose": "OK", "duration": 3},
  "6.4.1": {"behavior": "NON-STRICT", "behaviorClose": "OK", "duration": 5},
  "9.1.1": {"behavior": "OK", "behaviorClose": "OK", "duration": 1250},
  "9.1.2": {"behavior": "OK", "behaviorClose": "OK", "duration": 2300},
  "10.1.1": {"behavior": "INFORMATIONAL", "behaviorClose": "OK", "duration": 1},
  "12.1.1": {"behavior": "UNIMPLEMENTED", "behaviorClose": "OK", "duration": 4}
}}"#;

const CLIENT: &str = r#"{"c": {
  "1.1.1": {"behavior": "FAILED", "behaviorClose": "OK", "duration": 7},
  "9.1.1": {"behavior": "OK", "behaviorClose": "OK", "duration": 900}
}}"#;

#[test]
fn tallies_count_each_behavior_and_sum_durations_per_section() {
    let server = parse_index(SERVER, "s").unwrap();
    let s9 = section_tally(&server, 9);
    assert_eq!((s9.counts, s9.duration_ms), ([2, 0, 0, 0, 0], 3550));
    assert_eq!(section_tally(&server, 6).counts, [0, 1, 0, 0, 0]);
    assert_eq!(section_tally(&server, 12).counts, [0, 0, 0, 1, 0]);
    assert_eq!(section_tally(&server, 13).total(), 0);
    assert_eq!(format_ms(3550), "3.5 s");
    assert_eq!(format_ms(42), "0.0 s");
}

#[test]
fn the_table_has_a_row_per_section_and_role_and_totals() {
    let server = parse_index(SERVER, "s").unwrap();
    let client = parse_index(CLIENT, "c").unwrap();
    let table = render_table(&[("server", &server), ("client", &client)]);
    let lines: Vec<&str> = table.lines().collect();
    // header + separator + 11 sections x 2 roles + 2 totals
    assert_eq!(lines.len(), 2 + 22 + 2, "{table}");
    assert!(lines[0].starts_with(
        "| section | role | cases | OK | NON-STRICT | INFORMATIONAL | UNIMPLEMENTED | FAILED |"
    ));
    assert_eq!(
        lines[2],
        "| 1 Framing | server | 2 | 2 | 0 | 0 | 0 | 0 | 0.0 s |"
    );
    assert_eq!(
        lines[3],
        "| 1 Framing | client | 1 | 0 | 0 | 0 | 0 | 1 | 0.0 s |"
    );
    assert!(
        table.contains("| 9 Limits/Performance | server | 2 | 2 | 0 | 0 | 0 | 0 | 3.5 s |"),
        "{table}"
    );
    assert!(
        table.contains("| 12 Compression (payloads) | server | 1 | 0 | 0 | 0 | 1 | 0 | 0.0 s |"),
        "{table}"
    );
    assert!(
        table.contains("| 13 Compression (parameters) | client | 0 | 0 | 0 | 0 | 0 | 0 | 0.0 s |"),
        "{table}"
    );
    assert_eq!(
        lines[24],
        "| **all** | server | 7 | 4 | 1 | 1 | 1 | 0 | 3.5 s |"
    );
    assert_eq!(
        lines[25],
        "| **all** | client | 2 | 1 | 0 | 0 | 0 | 1 | 0.9 s |"
    );
}

#[test]
fn an_unknown_section_gets_its_own_rows_at_the_end() {
    let r = parse_index(
        r#"{"a": {"16.1.1": {"behavior": "OK", "behaviorClose": "OK"}}}"#,
        "a",
    )
    .unwrap();
    let table = render_table(&[("server", &r)]);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(
        lines[lines.len() - 2],
        "| 16 ? | server | 1 | 1 | 0 | 0 | 0 | 0 | 0.0 s |"
    );
}

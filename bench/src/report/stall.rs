//! The stalled-member table (issue 15: "a member that stops reading is handled per the policy
//! without slowing the others: the others' p99 does not move by more than 2x"): each stall
//! scenario run with no member stalled and with some stalled, on each server; the reading
//! members' p50/p99 both ways and their ratio, peak RSS both ways, reading members lost, and
//! what the server did with the stalled ones.

use super::{fmt_ratio, fmt_val, median, Record, MEASURED_PEERS, OURS, PEERS};
use std::fmt::Write;

/// The stall scenarios (ws-load's `room-*-stall`), in table order.
pub const STALLS: [&str; 2] = ["room-100-stall", "room-100-16k-stall"];

/// The servers measured in `recs`: ours, then the peers, then any other label, in the order
/// they first appear (so a server added to scripts/bench shows up without a change here).
fn servers(recs: &[Record]) -> Vec<&str> {
    let mut out: Vec<&str> = OURS
        .into_iter()
        .chain(PEERS)
        .chain(MEASURED_PEERS)
        .filter(|s| recs.iter().any(|r| r.server == *s))
        .collect();
    for r in recs {
        if !out.contains(&r.server.as_str()) {
            out.push(&r.server);
        }
    }
    out
}

/// The median of `get` over `runs`.
fn med(runs: &[&Record], get: impl Fn(&Record) -> Option<f64>) -> Option<f64> {
    median(runs.iter().filter_map(|r| get(r)).collect())
}

/// What the server did with the stalled members, over the runs: the outcome of most runs.
fn fate(runs: &[&Record]) -> String {
    let mut kinds: Vec<(String, usize)> = Vec::new();
    for r in runs {
        let kind = if r.stalled_garbled.unwrap_or(0) > 0 {
            "garbled stream".to_string()
        } else if r.stalled_closed.unwrap_or(0) > 0 {
            match r.stalled_close_code {
                Some(c) => format!("closed {c}"),
                None => "closed".to_string(),
            }
        } else if r.stalled_dropped.unwrap_or(0) > 0 {
            "dropped (EOF)".to_string()
        } else if r.stalled_skipped.unwrap_or(0) > 0 {
            "open, messages skipped".to_string()
        } else {
            "open, nothing lost".to_string()
        };
        match kinds.iter_mut().find(|(k, _)| *k == kind) {
            Some((_, n)) => *n += 1,
            None => kinds.push((kind, 1)),
        }
    }
    let mut parts = Vec::new();
    for (kind, n) in kinds {
        let of = |k: &str| -> Vec<&Record> {
            runs.iter()
                .copied()
                .filter(|r| match k {
                    _ if k.starts_with("closed") => r.stalled_closed.unwrap_or(0) > 0,
                    "open, messages skipped" => {
                        r.stalled_closed.unwrap_or(0) == 0
                            && r.stalled_dropped.unwrap_or(0) == 0
                            && r.stalled_skipped.unwrap_or(0) > 0
                    }
                    _ => false,
                })
                .collect()
        };
        let detail = if kind.starts_with("closed") {
            med(&of(&kind), |r| r.stalled_closed_after_s)
                .map(|s| format!(" after {s:.1} s"))
                .unwrap_or_default()
        } else if kind == "open, messages skipped" {
            med(&of(&kind), |r| r.stalled_skipped.map(|n| n as f64))
                .map(|n| format!(" ({n:.0})"))
                .unwrap_or_default()
        } else {
            String::new()
        };
        parts.push(format!("{kind}{detail} ({n}/{} runs)", runs.len()));
    }
    let gone = runs
        .iter()
        .filter(|r| r.stalled_dropped_after_s.is_some())
        .count();
    if let Some(s) = med(runs, |r| r.stalled_dropped_after_s) {
        parts.push(format!(
            "connection released by the server after {s:.1} s ({gone}/{} runs)",
            runs.len()
        ));
    }
    parts.join("; ")
}

/// The markdown table of the stall scenarios in `recs` (empty if none was measured). Runs with
/// `stalled: 0` are the baseline; a server measured several times shows medians.
pub fn stall_markdown(recs: &[Record]) -> String {
    let recs: Vec<Record> = recs
        .iter()
        .filter(|r| STALLS.contains(&r.scenario.as_str()))
        .cloned()
        .collect();
    if recs.is_empty() {
        return String::new();
    }
    let servers = servers(&recs);
    let mut out = String::from("| scenario | metric |");
    for s in &servers {
        let _ = write!(out, " {s} |");
    }
    out.push_str("\n|---|---|");
    out.push_str(&"---:|".repeat(servers.len()));
    out.push('\n');
    for scen in STALLS {
        let runs = |server: &str, stalled: bool| -> Vec<&Record> {
            recs.iter()
                .filter(|r| r.scenario == scen && r.server == server)
                .filter(|r| (r.stalled.unwrap_or(0) > 0) == stalled)
                .collect()
        };
        let Some(any) = recs.iter().find(|r| r.scenario == scen) else {
            continue;
        };
        let k = recs
            .iter()
            .filter(|r| r.scenario == scen)
            .filter_map(|r| r.stalled)
            .max()
            .unwrap_or(0);
        let title = format!(
            "{} members x {} B, {} in flight, {k} stalled",
            any.conns, any.size, any.window
        );
        type Cell<'a> = Box<dyn Fn(&str) -> String + 'a>;
        let num = |v: Option<f64>| v.map_or("-".to_string(), fmt_val);
        let rows: Vec<(String, Cell)> = vec![
            (
                "p50 us to last reading member, none stalled".into(),
                Box::new(|s: &str| num(med(&runs(s, false), |r| Some(r.p50_us)))),
            ),
            (
                format!("p50 us, {k} stalled"),
                Box::new(|s: &str| num(med(&runs(s, true), |r| Some(r.p50_us)))),
            ),
            (
                "p99 us to last reading member, none stalled".into(),
                Box::new(|s: &str| num(med(&runs(s, false), |r| Some(r.p99_us)))),
            ),
            (
                format!("p99 us, {k} stalled"),
                Box::new(|s: &str| num(med(&runs(s, true), |r| Some(r.p99_us)))),
            ),
            (
                "p99 stalled/none ↓ (target <= 2)".into(),
                Box::new(|s: &str| {
                    let none = med(&runs(s, false), |r| Some(r.p99_us));
                    let stalled = med(&runs(s, true), |r| Some(r.p99_us));
                    match (stalled, none) {
                        (Some(a), Some(b)) if b > 0.0 => fmt_ratio(a / b),
                        _ => "-".to_string(),
                    }
                }),
            ),
            (
                "deliveries/s, none stalled / stalled".into(),
                Box::new(|s: &str| {
                    let a = med(&runs(s, false), |r| r.deliveries_per_s);
                    let b = med(&runs(s, true), |r| r.deliveries_per_s);
                    format!("{} / {}", num(a), num(b))
                }),
            ),
            (
                "peak RSS MiB, none stalled / stalled".into(),
                Box::new(|s: &str| {
                    let a = med(&runs(s, false), |r| r.peak_rss_mib);
                    let b = med(&runs(s, true), |r| r.peak_rss_mib);
                    format!("{} / {}", num(a), num(b))
                }),
            ),
            (
                "reading members lost, none stalled / stalled".into(),
                Box::new(|s: &str| {
                    let lost = |st| {
                        let v: Vec<String> = runs(s, st)
                            .iter()
                            .map(|r| r.members_lost.map_or("-".into(), |n| n.to_string()))
                            .collect();
                        if v.is_empty() {
                            "-".to_string()
                        } else {
                            v.join(",")
                        }
                    };
                    format!("{} / {}", lost(false), lost(true))
                }),
            ),
            (
                "stalled members: what the server did".into(),
                Box::new(|s: &str| {
                    let r = runs(s, true);
                    if r.is_empty() {
                        "-".to_string()
                    } else {
                        fate(&r)
                    }
                }),
            ),
        ];
        for (metric, cell) in &rows {
            let _ = write!(out, "| {title} | {metric} |");
            for s in &servers {
                let _ = write!(out, " {} |", cell(s));
            }
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(server: &str, stalled: usize, p99: f64) -> Record {
        Record {
            server: server.into(),
            scenario: STALLS[0].into(),
            conns: 100,
            size: 16,
            window: 16,
            p50_us: p99 / 2.0,
            p99_us: p99,
            members_lost: Some(0),
            peak_rss_mib: Some(10.0 + stalled as f64),
            stalled: Some(stalled),
            ..Record::default()
        }
    }

    #[test]
    fn the_stall_table_compares_each_server_with_and_without_stalled_members() {
        let closed = Record {
            stalled_closed: Some(1),
            stalled_close_code: Some(1008),
            stalled_closed_after_s: Some(6.04),
            stalled_dropped_after_s: Some(11.2),
            ..rec(OURS[0], 1, 300.0)
        };
        let lagged = Record {
            stalled_open: Some(1),
            stalled_skipped: Some(1234),
            ..rec(PEERS[0], 1, 900.0)
        };
        let t = stall_markdown(&[
            rec(OURS[0], 0, 200.0),
            closed,
            rec(PEERS[0], 0, 300.0),
            lagged,
            // A server this module does not know still gets its column.
            rec("room-next", 0, 100.0),
            // Echo records are not this table's.
            Record {
                scenario: "b".into(),
                ..rec(PEERS[1], 0, 1.0)
            },
        ]);
        let header = t.lines().next().unwrap();
        assert_eq!(
            header,
            "| scenario | metric | ws-server | fastwebsockets | room-next |"
        );
        let row = |m: &str| t.lines().find(|l| l.contains(m)).unwrap().to_string();
        assert!(
            row("p99 stalled/none").ends_with("| 1.50 | 3.00 | - |"),
            "{t}"
        );
        assert!(row("p99 us, 1 stalled").ends_with("| 300.0 | 900.0 | - |"));
        assert!(row("peak RSS").contains("| 10.0 / 11.0 |"), "{t}");
        let fate = row("what the server did");
        assert!(
            fate.contains("| closed 1008 after 6.0 s (1/1 runs); connection released")
                && fate.ends_with("| open, messages skipped (1234) (1/1 runs) | - |"),
            "{fate}"
        );
        assert!(
            fate.contains("; connection released by the server after 11.2 s (1/1 runs) |"),
            "{fate}"
        );
        assert!(t.contains("100 members x 16 B, 16 in flight, 1 stalled"));
        let cells = |l: &str| l.matches('|').count();
        assert!(t.lines().all(|l| cells(l) == cells(header)), "{t}");
        assert!(!stall_markdown(&[rec(OURS[0], 0, 1.0)]).is_empty());
        assert!(stall_markdown(&[]).is_empty());
    }
}

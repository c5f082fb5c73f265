//! Result records (one JSON line per run) and the markdown comparison table built from them.

use serde::{Deserialize, Serialize};
use std::fmt::Write;

mod stall;

pub use stall::{stall_markdown, STALLS};

/// One run of one scenario against one server.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Record {
    /// Server label (`ws-server`, `ws-server-loop`, `fastwebsockets`, `tokio-tungstenite`).
    pub server: String,
    /// Scenario name (`b`, `c`, `d`, `rtt`, `idle`, `idle-spread` (more idle connections than one
    /// process may hold, over several server processes; `window` is their count), or `custom`).
    pub scenario: String,
    /// Connections.
    pub conns: usize,
    /// Payload bytes per message (0 in idle mode).
    pub size: usize,
    /// Messages in flight per connection (0 in idle mode).
    pub window: usize,
    /// Measured seconds.
    pub seconds: f64,
    /// Messages echoed in the measured interval.
    pub messages: u64,
    /// Messages per second.
    pub msgs_per_s: f64,
    /// Echoed payload megabytes (10^6 bytes, one direction) per second.
    pub mb_per_s: f64,
    /// Median round trip, microseconds.
    pub p50_us: f64,
    /// 99th percentile round trip, microseconds.
    pub p99_us: f64,
    /// Server CPU microseconds (user + system) per echoed message.
    pub server_cpu_us_per_msg: Option<f64>,
    /// Server CPU use over the interval, percent of one CPU.
    pub server_cpu_pct: Option<f64>,
    /// Generator CPU use over the interval, percent of one CPU (near 100: generator-bound).
    pub gen_cpu_pct: f64,
    /// Idle mode: server resident memory growth per connection, KiB.
    pub idle_kib_per_conn: Option<f64>,
    /// Idle mode: seconds to open and handshake every connection.
    pub handshake_s: Option<f64>,
    /// Room: message copies received by members per second.
    #[serde(default)]
    pub deliveries_per_s: Option<f64>,
    /// Room: server CPU microseconds per delivery.
    #[serde(default)]
    pub server_cpu_us_per_delivery: Option<f64>,
    /// Room: members lost (closed by the server or missing a message).
    #[serde(default)]
    pub members_lost: Option<usize>,
    /// Room: of those, members the server closed.
    #[serde(default)]
    pub members_closed: Option<usize>,
    /// Room: server peak resident memory (VmHWM), MiB.
    #[serde(default)]
    pub peak_rss_mib: Option<f64>,
    /// Room: server peak resident memory growth per member, KiB.
    #[serde(default)]
    pub kib_per_member: Option<f64>,
    /// Room: members that stopped reading once all joined (latency and losses are then those of
    /// the reading members).
    #[serde(default)]
    pub stalled: Option<usize>,
    /// Room: stalled members the server closed with a close frame.
    #[serde(default)]
    pub stalled_closed: Option<usize>,
    /// Room: the close code the first of those got, if any.
    #[serde(default)]
    pub stalled_close_code: Option<u16>,
    /// Room: seconds from stalling to the server giving up on a stalled member (median of those
    /// it closed with a close frame).
    #[serde(default)]
    pub stalled_closed_after_s: Option<f64>,
    /// Room: stalled members dropped without a close frame (EOF or reset).
    #[serde(default)]
    pub stalled_dropped: Option<usize>,
    /// Room: seconds from stalling to the server letting go of a stalled member's connection
    /// (its socket no longer established; median of those it let go of during the run).
    #[serde(default)]
    pub stalled_dropped_after_s: Option<f64>,
    /// Room: stalled members still open at the end (the server kept their messages).
    #[serde(default)]
    pub stalled_open: Option<usize>,
    /// Room: messages skipped in what the stalled members received (a lagging channel's drops).
    #[serde(default)]
    pub stalled_skipped: Option<u64>,
    /// Room: stalled members whose stream was out of order or not what was published.
    #[serde(default)]
    pub stalled_garbled: Option<usize>,
}

/// Our servers, in column order: `ws-server echo` on its default engine (a task per connection),
/// then on `--engine loop` (one thread, one epoll).
pub const OURS: [&str; 2] = ["ws-server", "ws-server-loop"];
/// The peers, in column order.
pub const PEERS: [&str; 2] = ["fastwebsockets", "tokio-tungstenite"];
/// Peers shown (after [`PEERS`], with each of ours over them) only when measured:
/// `uwebsockets` is C++ built by scripts/build-uws, so a run may leave it out.
pub const MEASURED_PEERS: [&str; 1] = ["uwebsockets"];
/// Our servers built from an earlier commit (`BENCH_BEFORE_BIN` in scripts/bench), each with the
/// current server it is compared with; shown only when measured.
pub const BEFORE: [(&str, &str); 2] = [
    ("ws-server-before", "ws-server"),
    ("ws-server-loop-before", "ws-server-loop"),
];

/// Other ways of running our servers, each with the one it is compared with (the ratio is
/// variant/base); shown only when measured. `ws-server-app-loop` is the echo written as an
/// application on the event loop (`ws-server echo --engine app-loop`): its ratio to the loop's
/// built-in echo is what the application path costs (issue 15's target: at most 1.2).
pub const VARIANTS: [(&str, &str); 1] = [("ws-server-app-loop", "ws-server-loop")];

/// The broadcast scenarios (ws-load's `room-*`), in table order.
pub const ROOMS: [&str; 4] = ["room-100", "room-1000", "room-10000", "room-100-16k"];

struct Metric {
    name: &'static str,
    scenarios: &'static [&'static str],
    /// `Some(higher_is_better)` for a figure of merit; `None` for context (no ratio).
    higher_is_better: Option<bool>,
    /// A count, shown without decimals.
    count: bool,
    get: fn(&Record) -> Option<f64>,
}

const METRICS: [Metric; 14] = [
    Metric {
        name: "msgs/s",
        scenarios: &["b", "c", "d"],
        higher_is_better: Some(true),
        count: false,
        get: |r| Some(r.msgs_per_s),
    },
    Metric {
        name: "MB/s",
        scenarios: &["b", "c", "d"],
        higher_is_better: Some(true),
        count: false,
        get: |r| Some(r.mb_per_s),
    },
    Metric {
        name: "deliveries/s",
        scenarios: &ROOMS,
        higher_is_better: Some(true),
        count: false,
        get: |r| r.deliveries_per_s,
    },
    Metric {
        name: "server CPU us/delivery",
        scenarios: &ROOMS,
        higher_is_better: Some(false),
        count: false,
        get: |r| r.server_cpu_us_per_delivery,
    },
    Metric {
        name: "p50 us to last member",
        scenarios: &ROOMS,
        higher_is_better: Some(false),
        count: false,
        get: |r| Some(r.p50_us),
    },
    Metric {
        name: "p99 us to last member",
        scenarios: &ROOMS,
        higher_is_better: Some(false),
        count: false,
        get: |r| Some(r.p99_us),
    },
    Metric {
        name: "peak RSS MiB",
        scenarios: &ROOMS,
        higher_is_better: Some(false),
        count: false,
        get: |r| r.peak_rss_mib,
    },
    Metric {
        name: "members lost",
        scenarios: &ROOMS,
        higher_is_better: None,
        count: true,
        get: |r| r.members_lost.map(|n| n as f64),
    },
    Metric {
        name: "p50 us",
        scenarios: &["b", "c", "d", "rtt"],
        higher_is_better: Some(false),
        count: false,
        get: |r| Some(r.p50_us),
    },
    Metric {
        name: "p99 us",
        scenarios: &["b", "c", "d", "rtt"],
        higher_is_better: Some(false),
        count: false,
        get: |r| Some(r.p99_us),
    },
    Metric {
        name: "server CPU us/msg",
        scenarios: &["b", "c", "d", "rtt"],
        higher_is_better: Some(false),
        count: false,
        get: |r| r.server_cpu_us_per_msg,
    },
    Metric {
        name: "KiB/conn",
        scenarios: &["idle", "idle-spread"],
        higher_is_better: Some(false),
        count: false,
        get: |r| r.idle_kib_per_conn,
    },
    Metric {
        name: "server CPU %",
        scenarios: &["b", "c", "d"],
        higher_is_better: None,
        count: false,
        get: |r| r.server_cpu_pct,
    },
    Metric {
        name: "generator CPU %",
        scenarios: &[
            "b",
            "c",
            "d",
            "room-100",
            "room-1000",
            "room-10000",
            "room-100-16k",
        ],
        higher_is_better: None,
        count: false,
        get: |r| Some(r.gen_cpu_pct),
    },
];

fn describe(s: &str, recs: &[Record]) -> String {
    let r = recs.iter().find(|r| r.scenario == s);
    match (s, r) {
        ("idle", Some(r)) => format!("idle, {} conns", r.conns),
        ("idle-spread", Some(r)) => format!(
            "idle, {} conns over {} processes (SO_REUSEPORT)",
            r.conns, r.window
        ),
        ("rtt", Some(r)) => format!("rtt same CPU, {} B", r.size),
        (_, Some(r)) if ROOMS.contains(&s) => format!(
            "broadcast: {} members x {} B, {} in flight",
            r.conns, r.size, r.window
        ),
        (_, Some(r)) => format!("{s}: {} x {} B, {} in flight", r.conns, r.size, r.window),
        _ => s.to_string(),
    }
}

fn fmt_val(v: f64) -> String {
    if v >= 1000.0 {
        format!("{:.0}", v)
    } else if v >= 10.0 {
        format!("{:.1}", v)
    } else {
        format!("{:.2}", v)
    }
}

/// A ratio with two decimals, or two significant digits below 0.1 (`0.0019`, not `0.00`).
fn fmt_ratio(r: f64) -> String {
    let decimals = if r > 0.0 && r < 0.1 {
        (1.0 - r.log10().floor()).min(6.0) as usize
    } else {
        2
    };
    format!("{r:.decimals$}")
}

/// The median of the values present (the mean of the middle two for an even count).
pub fn median(mut v: Vec<f64>) -> Option<f64> {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => v.get(n / 2).copied(),
        _ => Some((v[n / 2 - 1] + v[n / 2]) / 2.0),
    }
}

/// The markdown table: one row per scenario and metric, a column per server (ours, then the
/// peers), then each of ours over each peer. A server measured several times in a scenario shows
/// the median of its runs; a server not measured shows `-`.
pub fn markdown(recs: &[Record]) -> String {
    let value = |server: &str, scen: &str, get: fn(&Record) -> Option<f64>| {
        let runs = recs
            .iter()
            .filter(|r| r.server == server && r.scenario == scen);
        median(runs.filter_map(get).collect())
    };
    let before: Vec<(&str, &str)> = BEFORE
        .into_iter()
        .filter(|(b, _)| recs.iter().any(|r| r.server == *b))
        .collect();
    let variants: Vec<(&str, &str)> = VARIANTS
        .into_iter()
        .filter(|(v, _)| recs.iter().any(|r| r.server == *v))
        .collect();
    let peers: Vec<&str> = PEERS
        .into_iter()
        .chain(
            MEASURED_PEERS
                .into_iter()
                .filter(|p| recs.iter().any(|r| r.server == *p)),
        )
        .collect();
    let servers: Vec<&str> = OURS
        .into_iter()
        .chain(peers.iter().copied())
        .chain(before.iter().map(|(b, _)| *b))
        .chain(variants.iter().map(|(v, _)| *v))
        .collect();
    let mut pairs: Vec<(usize, usize)> = (0..OURS.len())
        .flat_map(|o| (0..peers.len()).map(move |p| (o, OURS.len() + p)))
        .collect();
    for (i, (_, now)) in before.iter().enumerate() {
        if let Some(o) = OURS.iter().position(|s| s == now) {
            pairs.push((o, OURS.len() + peers.len() + i));
        }
    }
    for (i, (_, base)) in variants.iter().enumerate() {
        if let Some(b) = OURS.iter().position(|s| s == base) {
            pairs.push((OURS.len() + peers.len() + before.len() + i, b));
        }
    }
    let mut out = String::from("| scenario | metric |");
    for s in &servers {
        let _ = write!(out, " {s} |");
    }
    for (o, p) in &pairs {
        let _ = write!(out, " {}/{} |", servers[*o], servers[*p]);
    }
    out.push_str("\n|---|---|");
    out.push_str(&"---:|".repeat(servers.len() + pairs.len()));
    out.push('\n');
    let scenarios = ["b", "c", "d", "rtt", "idle", "idle-spread"]
        .into_iter()
        .chain(ROOMS);
    for scen in scenarios {
        if !recs.iter().any(|r| r.scenario == scen) {
            continue;
        }
        for m in METRICS.iter().filter(|m| m.scenarios.contains(&scen)) {
            let vals: Vec<Option<f64>> = servers.iter().map(|s| value(s, scen, m.get)).collect();
            let arrow = match m.higher_is_better {
                Some(true) => " ↑",
                Some(false) => " ↓",
                None => "",
            };
            let _ = write!(out, "| {} | {}{arrow} |", describe(scen, recs), m.name);
            for v in &vals {
                let shown = match v {
                    None => "-".to_string(),
                    Some(v) if m.count => format!("{v:.0}"),
                    Some(v) => fmt_val(*v),
                };
                let _ = write!(out, " {shown} |");
            }
            for (o, p) in &pairs {
                let ratio = match (vals[*o], vals[*p], m.higher_is_better) {
                    (Some(a), Some(b), Some(_)) if b > 0.0 => fmt_ratio(a / b),
                    _ => "-".to_string(),
                };
                let _ = write!(out, " {ratio} |");
            }
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_ratios_keep_two_significant_digits() {
        assert_eq!(fmt_ratio(12.384), "12.38");
        assert_eq!(fmt_ratio(0.25), "0.25");
        assert_eq!(fmt_ratio(0.0019), "0.0019");
        assert_eq!(fmt_ratio(0.05), "0.050");
        assert_eq!(fmt_ratio(0.0), "0.00");
    }

    #[test]
    fn broadcast_rows_compare_ws_server_with_the_peer_rooms() {
        let rec = |server: &str, cpu: f64, lost: usize| Record {
            server: server.into(),
            scenario: "room-1000".into(),
            conns: 1000,
            size: 16,
            window: 16,
            p50_us: 100.0,
            p99_us: 200.0,
            deliveries_per_s: Some(1e6 / cpu),
            server_cpu_us_per_delivery: Some(cpu),
            members_lost: Some(lost),
            peak_rss_mib: Some(10.0),
            ..Record::default()
        };
        let t = markdown(&[
            rec(OURS[0], 0.5, 0),
            rec(PEERS[0], 1.0, 3),
            rec(PEERS[1], 2.0, 0),
        ]);
        assert!(
            t.contains("broadcast: 1000 members x 16 B, 16 in flight"),
            "{t}"
        );
        let line = t
            .lines()
            .find(|l| l.contains("server CPU us/delivery"))
            .unwrap();
        // ws-server, no loop engine room, the two peers; then ours over each peer.
        assert!(
            line.contains("| 0.50 | - | 1.00 | 2.00 | 0.50 | 0.25 | - | - |"),
            "{line}"
        );
        let lost = t.lines().find(|l| l.contains("members lost")).unwrap();
        assert!(lost.contains("| 0 | - | 3 | 0 | - | - | - | - |"), "{lost}");
        // No echo rows when only rooms were measured.
        assert!(!t.contains("| msgs/s"), "{t}");
    }

    #[test]
    fn median_of_odd_even_and_empty() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median(vec![]), None);
    }

    #[test]
    fn table_has_ratios_of_each_of_ours_against_each_peer() {
        let rec = |server: &str, v: f64| Record {
            server: server.into(),
            scenario: "b".into(),
            conns: 100,
            size: 16,
            window: 16,
            msgs_per_s: v,
            ..Record::default()
        };
        let all = [
            rec(OURS[0], 300.0),
            rec(OURS[1], 600.0),
            rec(PEERS[0], 100.0),
            rec(PEERS[1], 150.0),
        ];
        let t = markdown(&all);
        let header = t.lines().next().unwrap();
        assert_eq!(
            header,
            "| scenario | metric | ws-server | ws-server-loop | fastwebsockets | tokio-tungstenite \
             | ws-server/fastwebsockets | ws-server/tokio-tungstenite \
             | ws-server-loop/fastwebsockets | ws-server-loop/tokio-tungstenite |"
        );
        let line = t.lines().find(|l| l.contains("msgs/s")).unwrap();
        assert!(
            line.contains("| 300.0 | 600.0 | 100.0 | 150.0 | 3.00 | 2.00 | 6.00 | 4.00 |"),
            "{line}"
        );
        assert!(t.contains("b: 100 x 16 B, 16 in flight"));
        // Every row has as many cells as the header.
        let cells = |l: &str| l.matches('|').count();
        assert!(t.lines().all(|l| cells(l) == cells(header)), "{t}");
        // Repeated runs: the median per server.
        let t = markdown(&[
            rec(OURS[0], 300.0),
            rec(OURS[0], 100.0),
            rec(OURS[0], 900.0),
            rec(PEERS[0], 100.0),
        ]);
        assert!(
            t.contains("| 300.0 | - | 100.0 | - | 3.00 | - | - | - |"),
            "{t}"
        );
        // A variant of ours is shown when measured, with its ratio to its base.
        let t = markdown(&[rec(OURS[1], 300.0), rec(VARIANTS[0].0, 270.0)]);
        let header = t.lines().next().unwrap();
        assert!(
            header.ends_with(
                "| ws-server-app-loop | ws-server/fastwebsockets | ws-server/tokio-tungstenite \
             | ws-server-loop/fastwebsockets | ws-server-loop/tokio-tungstenite \
             | ws-server-app-loop/ws-server-loop |"
            ),
            "{header}"
        );
        assert!(t.contains("| 270.0 | - | - | - | - | 0.90 |"), "{t}");
        // uWebSockets: a column, and each of ours over it, only when measured.
        let t = markdown(&[
            rec(OURS[0], 300.0),
            rec(OURS[1], 600.0),
            rec(MEASURED_PEERS[0], 400.0),
        ]);
        let header = t.lines().next().unwrap();
        assert!(
            header.contains(
                "| tokio-tungstenite | uwebsockets | ws-server/fastwebsockets \
             | ws-server/tokio-tungstenite | ws-server/uwebsockets \
             | ws-server-loop/fastwebsockets | ws-server-loop/tokio-tungstenite \
             | ws-server-loop/uwebsockets |"
            ),
            "{header}"
        );
        assert!(
            t.contains("| 300.0 | 600.0 | - | - | 400.0 | - | - | 0.75 | - | - | 1.50 |"),
            "{t}"
        );
        assert!(t.lines().all(|l| cells(l) == cells(header)), "{t}");
        // A missing server shows as "-" rather than a made-up number.
        let t = markdown(&[rec(OURS[1], 300.0)]);
        assert!(t.contains("| - | 300.0 | - | - | - | - | - | - |"), "{t}");
    }
}

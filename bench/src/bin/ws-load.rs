//! Load generator for WebSocket echo servers; prints one JSON line of results.
//!
//! ```text
//! ws-load --addr 127.0.0.1:9001 --scenario b|c|d|rtt [--conns N --size B --window W]
//!         [--warmup S --duration S] [--server-pid PID] [--label NAME]
//! ws-load --addr 127.0.0.1:9001 --scenario idle --conns 10000 --server-pid PID [--settle S] [--hold S]
//! ws-load --addr 127.0.0.1:9001 --scenario room-100|room-1000|room-10000|room-100-16k
//!         [--conns N --size B --window W --rate MSGS_PER_S --stall S --stalled K]
//!         [--server-pid PID] [--require-lossless yes]
//! ws-load --addr 127.0.0.1:9001 --scenario room-100-stall|room-100-16k-stall [--stalled K] ...
//! ```
//! Scenarios: b = 100 conns x 16 B, 16 in flight; c = 10 x 64 KiB, 4 in flight;
//! d = 4 x 1 MiB, 1 in flight; rtt = 1 x 16 B, 1 in flight (run it on the server's CPU);
//! idle = hold `--conns` handshaken connections and report server RSS growth per connection;
//! room-N = N members of one room on `/room`, one publishing 16 B messages, 16 in flight (not yet
//! delivered to every member); room-100-16k = 100 members x 16 KiB, 256 in flight (a 4 MiB burst
//! per member: 4x ws-server's default outbound cap). `--stalled K`: the last K members stop reading
//! once all joined (latency and losses are then the reading members'; the record says what the
//! server did with the stalled ones); room-100-stall and room-100-16k-stall are room-100 and
//! room-100-16k with 1 stalled member (`--stalled 0` runs their baseline under the same name).
//! A room scenario prints its record even when members were lost; with `--require-lossless yes`
//! it then fails (exit 1) instead: a test that every reading member got every message in order.

use std::time::Duration;
use ws_bench::args::Args;
use ws_bench::idle;
use ws_bench::load::{self, LoadConfig};
use ws_bench::report::Record;
use ws_bench::room::{self, RoomConfig, RoomResult, StallEnd};

fn preset(scenario: &str) -> Option<(usize, usize, usize)> {
    match scenario {
        "b" => Some((100, 16, 16)),
        "c" => Some((10, 64 << 10, 4)),
        "d" => Some((4, 1 << 20, 1)),
        "rtt" => Some((1, 16, 1)),
        "idle" => Some((10_000, 0, 0)),
        "custom" => Some((1, 16, 1)),
        "room-100" => Some((100, 16, 16)),
        "room-1000" => Some((1000, 16, 16)),
        "room-10000" => Some((10_000, 16, 16)),
        "room-100-16k" | "room-100-16k-stall" => Some((100, 16 << 10, 256)),
        "room-100-stall" => Some((100, 16, 16)),
        _ => None,
    }
}

/// Members that stop reading in `scenario` unless `--stalled` says otherwise.
fn stalled_preset(scenario: &str) -> usize {
    usize::from(scenario.ends_with("-stall"))
}

fn secs(a: &Args, key: &str, default: f64) -> Result<Duration, String> {
    Duration::try_from_secs_f64(a.num(key, default)?).map_err(|e| format!("--{key}: {e}"))
}

fn main() {
    match run() {
        Ok(rec) => match serde_json::to_string(&rec) {
            Ok(line) => println!("{line}"),
            Err(e) => fail(&e.to_string()),
        },
        Err(e) => fail(&e),
    }
}

fn fail(e: &str) -> ! {
    eprintln!("ws-load: {e}");
    std::process::exit(1)
}

fn run() -> Result<Record, String> {
    let a = Args::parse(std::env::args().skip(1))?;
    let addr = a.loopback_addr()?;
    let scenario = a.get("scenario").unwrap_or("b").to_string();
    let (conns, size, window) =
        preset(&scenario).ok_or_else(|| format!("unknown scenario {scenario:?}"))?;
    let conns = a.num("conns", conns)?;
    let server_pid: Option<u32> = a
        .get("server-pid")
        .map(str::parse)
        .transpose()
        .map_err(|_| "--server-pid: bad pid")?;
    let mut rec = Record {
        server: a.get("label").unwrap_or("server").to_string(),
        scenario: scenario.clone(),
        conns,
        ..Record::default()
    };
    if scenario == "idle" {
        let pid = server_pid.ok_or("idle mode needs --server-pid")?;
        let (settle, hold) = (secs(&a, "settle", 1.0)?, secs(&a, "hold", 0.0)?);
        let r = idle::run(addr, conns, pid, settle, hold)?;
        rec.idle_kib_per_conn = Some(r.kib_per_conn());
        rec.handshake_s = Some(r.handshake_s);
        return Ok(rec);
    }
    if scenario.starts_with("room") {
        let cfg = RoomConfig {
            addr,
            members: conns,
            size: a.num("size", size)?,
            window: a.num("window", window)?.max(1),
            rate: a
                .get("rate")
                .map(str::parse)
                .transpose()
                .map_err(|_| "--rate: bad value")?,
            warmup: secs(&a, "warmup", 0.5)?,
            duration: secs(&a, "duration", 3.0)?,
            server_pid,
            stall: secs(&a, "stall", 10.0)?,
            stalled: a.num("stalled", stalled_preset(&scenario))?,
        };
        ws_bench::raise_fd_limit().map_err(|e| format!("raising the descriptor limit: {e}"))?;
        let r = room::run(&cfg)?;
        room_record(&mut rec, &cfg, &r);
        if a.get("require-lossless") == Some("yes") {
            if r.lost() > 0 {
                return Err(format!(
                    "{} of {} members lost ({} closed by the server); {} messages delivered",
                    r.lost(),
                    r.members,
                    r.closed,
                    r.delivered
                ));
            }
            if r.delivered == 0 {
                return Err("no message reached every member".into());
            }
        }
        return Ok(rec);
    }
    let cfg = LoadConfig {
        addr,
        conns,
        size: a.num("size", size)?,
        window: a.num("window", window)?.max(1),
        warmup: secs(&a, "warmup", 0.5)?,
        duration: secs(&a, "duration", 3.0)?,
        server_pid,
    };
    let r = load::run(&cfg)?;
    let q = |p: f64| r.latency_ns.value_at_quantile(p) as f64 / 1000.0;
    rec.size = cfg.size;
    rec.window = cfg.window;
    rec.seconds = r.elapsed_s;
    rec.messages = r.messages;
    rec.msgs_per_s = r.messages as f64 / r.elapsed_s;
    rec.mb_per_s = rec.msgs_per_s * cfg.size as f64 / 1e6;
    rec.p50_us = q(0.5);
    rec.p99_us = q(0.99);
    rec.server_cpu_us_per_msg = r.server_cpu_s.map(|c| c * 1e6 / r.messages.max(1) as f64);
    rec.server_cpu_pct = r.server_cpu_s.map(|c| 100.0 * c / r.elapsed_s);
    rec.gen_cpu_pct = 100.0 * r.gen_cpu_s / r.elapsed_s;
    if r.messages == 0 {
        return Err("no message was echoed in the measured interval".into());
    }
    Ok(rec)
}

/// The record of a room run: `messages` are those every live member received, latency is from
/// publishing to the last member, server CPU is divided by deliveries (message copies received).
fn room_record(rec: &mut Record, cfg: &RoomConfig, r: &RoomResult) {
    let q = |p: f64| r.latency_ns.value_at_quantile(p) as f64 / 1000.0;
    let s = r.elapsed_s.max(1e-9);
    rec.size = cfg.size;
    rec.window = cfg.window;
    rec.seconds = r.elapsed_s;
    rec.messages = r.delivered;
    rec.msgs_per_s = r.delivered as f64 / s;
    rec.deliveries_per_s = Some(r.deliveries as f64 / s);
    rec.mb_per_s = r.deliveries as f64 * cfg.size as f64 / s / 1e6;
    rec.p50_us = q(0.5);
    rec.p99_us = q(0.99);
    rec.server_cpu_us_per_msg = r.server_cpu_s.map(|c| c * 1e6 / r.delivered.max(1) as f64);
    rec.server_cpu_us_per_delivery = r.server_cpu_s.map(|c| c * 1e6 / r.deliveries.max(1) as f64);
    rec.server_cpu_pct = r.server_cpu_s.map(|c| 100.0 * c / s);
    rec.gen_cpu_pct = 100.0 * r.gen_cpu_s / s;
    rec.members_lost = Some(r.lost());
    rec.members_closed = Some(r.closed);
    rec.peak_rss_mib = r.peak_rss_kib.map(|k| k as f64 / 1024.0);
    rec.kib_per_member = match (r.peak_rss_kib, r.rss_before_kib) {
        (Some(p), Some(b)) => Some((p as f64 - b as f64) / r.members.max(1) as f64),
        _ => None,
    };
    rec.handshake_s = Some(r.connect_s);
    rec.stalled = Some(cfg.stalled);
    if cfg.stalled == 0 {
        return;
    }
    let count = |f: fn(&StallEnd) -> bool| r.stalled.iter().filter(|s| f(&s.end)).count();
    rec.stalled_closed = Some(count(|e| matches!(e, StallEnd::Closed { .. })));
    rec.stalled_dropped = Some(count(|e| *e == StallEnd::Dropped));
    rec.stalled_open = Some(count(|e| *e == StallEnd::Open));
    rec.stalled_garbled = Some(count(|e| *e == StallEnd::Garbled));
    rec.stalled_skipped = Some(r.stalled.iter().map(|s| s.skipped).sum());
    let closed = r.stalled.iter().filter_map(|s| match s.end {
        StallEnd::Closed { code, after } => Some((code, after)),
        _ => None,
    });
    rec.stalled_dropped_after_s =
        ws_bench::report::median(r.released.iter().map(|d| d.as_secs_f64()).collect());
    rec.stalled_close_code = closed.clone().find_map(|(code, _)| code);
    rec.stalled_closed_after_s = ws_bench::report::median(
        closed
            .filter_map(|(_, after)| after.map(|d| d.as_secs_f64()))
            .collect(),
    );
}

//! Reads JSON result lines (from `ws-load`) on stdin or from the files given, prints the
//! markdown comparison table.

use std::io::Read;
use ws_bench::report::{markdown, stall_markdown, Record};

fn main() -> Result<(), String> {
    let paths: Vec<String> = std::env::args().skip(1).collect();
    let mut text = String::new();
    if paths.is_empty() {
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| e.to_string())?;
    }
    for p in &paths {
        text += &std::fs::read_to_string(p).map_err(|e| format!("{p}: {e}"))?;
    }
    let mut recs = Vec::new();
    for line in text.lines().filter(|l| l.trim_start().starts_with('{')) {
        recs.push(serde_json::from_str::<Record>(line).map_err(|e| format!("{e}: {line}"))?);
    }
    // The main table (header and separator alone when only stall scenarios were measured).
    let main = markdown(&recs);
    let main_rows = main.lines().count() > 2;
    if main_rows {
        print!("{main}");
    }
    let stalls = stall_markdown(&recs);
    if !stalls.is_empty() {
        if main_rows {
            println!();
        }
        println!(
            "A member that stops reading (issue 15): each stall scenario without and with stalled"
        );
        println!(
            "members (the last ones to join; they never read again), p50/p99 from publishing to the"
        );
        println!(
            "last *reading* member; afterwards each stalled member reads what it was still sent."
        );
        println!();
        print!("{stalls}");
    }
    Ok(())
}

//! `ws-conformance`: the Autobahn|Testsuite report for ws-server's engines and client (see the crate docs).

use std::fs;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use ws_conformance::args::Args;
use ws_conformance::expected::{self, Verdict};
use ws_conformance::report::{self, Behavior, CaseResult};
use ws_conformance::role::Role;
use ws_conformance::run::{self, Tools};
use ws_conformance::summary::{self, format_ms};

fn main() -> ExitCode {
    let args = match Args::parse(std::env::args().skip(1)) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    match conformance(&args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("conformance: error: {e}");
            ExitCode::from(2)
        }
    }
}

/// Runs, reports and compares; `Ok(false)` when a case FAILED or regressed.
fn conformance(args: &Args) -> Result<bool, String> {
    let out = std::env::current_dir()
        .map_err(|e| e.to_string())?
        .join(&args.out);
    fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    let times = if args.report_only {
        Vec::new()
    } else {
        run_roles(args, &out)?
    };

    let mut results: Vec<(Role, Vec<CaseResult>)> = Vec::new();
    for role in &args.roles {
        results.push((*role, read_index(&out.join(role.name()), role.agent())?));
    }
    let roles: Vec<(&str, &[CaseResult])> = results
        .iter()
        .map(|(r, v)| (r.name(), v.as_slice()))
        .collect();

    println!();
    for role in &args.roles {
        println!(
            "Autobahn|Testsuite 25.10.1, {role} role: {}.",
            role.describe()
        );
    }
    println!();
    print!("{}", summary::render_table(&roles));
    println!();
    for (role, results) in &results {
        if let Some(note) = role.deflate_note() {
            let t = summary::section_tally(results, 12);
            let u = summary::section_tally(results, 13);
            println!(
                "{role} role, sections 12 and 13: {} of {} cases UNIMPLEMENTED ({}); {note}.",
                t.count(Behavior::Unimplemented) + u.count(Behavior::Unimplemented),
                t.total() + u.total(),
                format_ms(t.duration_ms + u.duration_ms),
            );
        }
    }
    for (role, results) in &roles {
        let s9 = summary::section_tally(results, 9);
        println!(
            "section 9 total case time, {role} role: {}",
            format_ms(s9.duration_ms)
        );
    }
    if args.runs(Role::ServerMcu) {
        let path = out.join(ws_conformance::mcu::CHECKS_REPORT);
        if let Ok(report) = fs::read_to_string(&path) {
            println!("server-mcu role, the firmware checks passed after the run:");
            for line in report.lines() {
                println!("  {line}");
            }
        }
        let path = out.join(ws_conformance::mcu::RAM_REPORT);
        if let Ok(report) = fs::read_to_string(&path) {
            println!("server-mcu role, the firmware's RAM after the run (GET /ram):");
            for line in report.lines() {
                println!("  {line}");
            }
        }
    }
    for (role, took) in &times {
        println!(
            "wall time, {role} role: {}",
            format_ms(took.as_millis() as u64)
        );
    }
    for (role, _) in &roles {
        println!(
            "HTML report, {role} role: {}",
            out.join(role).join("index.html").display()
        );
    }

    if args.update_expected {
        // Roles not run keep their expected results.
        let old = match fs::read_to_string(&args.expected) {
            Ok(text) => expected::parse_expected(&text)?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => expected::Expected::new(),
            Err(e) => return Err(format!("{}: {e}", args.expected.display())),
        };
        let merged = expected::merge(old, expected::from_results(&roles));
        fs::write(&args.expected, expected::render_expected(&merged))
            .map_err(|e| format!("{}: {e}", args.expected.display()))?;
        println!("wrote {}", args.expected.display());
    }
    let text = fs::read_to_string(&args.expected)
        .map_err(|e| format!("{}: {e}", args.expected.display()))?;
    let want = expected::parse_expected(&text)?;
    let mut verdict = Verdict::default();
    for (role, results) in &roles {
        if *role == Role::External.name() {
            // Someone else's server: nothing to compare with, only FAILED cases count.
            expected::compare(
                &expected::Expected::new(),
                role,
                results,
                true,
                &mut verdict,
            );
            verdict.unlisted.clear();
            continue;
        }
        // Each role is compared on its own: a role that ran every case must have every case.
        expected::compare(&want, role, results, !args.all_cases(), &mut verdict);
    }
    print_verdict(&verdict, &roles, &out);
    Ok(!verdict.is_failure())
}

/// Runs every role of the run side by side (own ports, own output directories); the wall time of each.
fn run_roles(args: &Args, out: &Path) -> Result<Vec<(Role, Duration)>, String> {
    ws_conformance::process::kill_children_on_signal()?;
    let tools = Tools::locate(args)?;
    let took: Vec<(Role, Result<Duration, String>)> = std::thread::scope(|scope| {
        // Every role on a thread of its own (the client roles' testees are our client).
        let runs: Vec<_> = args
            .roles
            .iter()
            .map(|&role| {
                let tools = &tools;
                let cases = args.cases_for(role);
                (
                    role,
                    scope.spawn(move || {
                        if role.is_server() {
                            run::server_role(tools, out, role, &cases)
                        } else {
                            run::client_role(tools, out, role, &cases)
                        }
                    }),
                )
            })
            .collect();
        runs.into_iter()
            .map(|(role, h)| {
                let r = h
                    .join()
                    .unwrap_or_else(|_| Err(format!("{role} role panicked")));
                (role, r)
            })
            .collect()
    });
    took.into_iter()
        .map(|(role, r)| {
            r.map(|d| (role, d))
                .map_err(|e| format!("{role} role: {e}"))
        })
        .collect()
}

fn read_index(dir: &Path, agent: &str) -> Result<Vec<CaseResult>, String> {
    let path = dir.join("index.json");
    let text = fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    report::parse_index(&text, agent).map_err(|e| format!("{}: {e}", path.display()))
}

/// How many improved or unlisted cases are printed one by one.
const NOTED: usize = 10;

fn print_verdict(v: &Verdict, roles: &[(&str, &[CaseResult])], out: &Path) {
    let detail = |c: &expected::Change| {
        let r = roles
            .iter()
            .find(|(role, _)| *role == c.role)
            .and_then(|(_, results)| results.iter().find(|r| r.id == c.id));
        match r {
            Some(r) => format!(
                "{} (behavior {}, close {}, close code {:?}; {})",
                expected::describe(c),
                r.raw_behavior,
                r.raw_close,
                r.remote_close_code,
                out.join(&c.role)
                    .join(r.report_file.replace(".json", ".html"))
                    .display()
            ),
            None => expected::describe(c),
        }
    };
    for c in &v.failed {
        println!("FAILED: {}", detail(c));
    }
    for c in &v.regressions {
        println!("REGRESSION: {}", detail(c));
    }
    // Better or new results do not fail the run: the first few, then how many (a role missing
    // from the expected file would otherwise print all its 517 cases).
    for (what, list) in [
        ("improved (run with --update-expected)", &v.improvements),
        (
            "not in the expected file (run with --update-expected)",
            &v.unlisted,
        ),
    ] {
        for c in list.iter().take(NOTED) {
            println!("{what}: {}", detail(c));
        }
        if list.len() > NOTED {
            println!("{what}: {} more", list.len() - NOTED);
        }
    }
    if v.is_failure() {
        println!(
            "conformance: FAIL ({} failed, {} regressions)",
            v.failed.len(),
            v.regressions.len()
        );
    } else {
        println!("conformance: ok (no FAILED case, nothing worse than expected)");
    }
}

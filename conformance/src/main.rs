//! `ws-conformance`: the Autobahn|Testsuite report for ws-server in both roles (see the crate docs).

use std::fs;
use std::path::Path;
use std::process::ExitCode;

use ws_conformance::args::Args;
use ws_conformance::expected::{self, Verdict};
use ws_conformance::report::{self, CaseResult};
use ws_conformance::run::{self, Tools, CLIENT_AGENT, SERVER_AGENT};
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
    let mut times = Vec::new();
    if !args.report_only {
        ws_conformance::process::kill_children_on_signal()?;
        let tools = Tools::locate(args.server_bin.clone(), args.wstest.clone())?;
        // The roles are independent (own ports, own output directories): run them side by side.
        let (server, client) = std::thread::scope(|scope| {
            let server = args
                .roles
                .server()
                .then(|| scope.spawn(|| run::server_role(&tools, &out, &args.cases)));
            let client = args
                .roles
                .client()
                .then(|| run::client_role(&tools, &out, &args.cases));
            let server = server.map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err("server role panicked".into()))
            });
            (server, client)
        });
        if let Some(took) = server {
            times.push(("server role (fuzzingclient)", took?));
        }
        if let Some(took) = client {
            times.push(("client role (fuzzingserver)", took?));
        }
    }

    let mut roles: Vec<(&str, Vec<CaseResult>)> = Vec::new();
    if args.roles.server() {
        roles.push(("server", read_index(&out.join("server"), SERVER_AGENT)?));
    }
    if args.roles.client() {
        roles.push(("client", read_index(&out.join("client"), CLIENT_AGENT)?));
    }
    let roles: Vec<(&str, &[CaseResult])> = roles.iter().map(|(r, v)| (*r, v.as_slice())).collect();

    println!("\nAutobahn|Testsuite 25.10.1: server role = `ws-server echo` under wstest -m fuzzingclient;");
    println!("client role = ws_server::connect echo client under wstest -m fuzzingserver.\n");
    print!("{}", summary::render_table(&roles));
    println!();
    for (role, results) in &roles {
        let s9 = summary::section_tally(results, 9);
        println!(
            "section 9 total case time, {role} role: {}",
            format_ms(s9.duration_ms)
        );
    }
    for (what, took) in &times {
        println!("wall time, {what}: {}", format_ms(took.as_millis() as u64));
    }
    for (role, _) in &roles {
        println!(
            "HTML report, {role} role: {}",
            out.join(role).join("index.html").display()
        );
    }

    if args.update_expected {
        let text = expected::render_expected(&expected::from_results(&roles));
        fs::write(&args.expected, text).map_err(|e| format!("{}: {e}", args.expected.display()))?;
        println!("wrote {}", args.expected.display());
    }
    let text = fs::read_to_string(&args.expected)
        .map_err(|e| format!("{}: {e}", args.expected.display()))?;
    let want = expected::parse_expected(&text)?;
    let mut verdict = Verdict::default();
    for (role, results) in &roles {
        expected::compare(&want, role, results, args.is_partial(), &mut verdict);
    }
    print_verdict(&verdict, &roles, &out);
    Ok(!verdict.is_failure())
}

fn read_index(dir: &Path, agent: &str) -> Result<Vec<CaseResult>, String> {
    let path = dir.join("index.json");
    let text = fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    report::parse_index(&text, agent).map_err(|e| format!("{}: {e}", path.display()))
}

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
    for c in &v.improvements {
        println!("improved (run with --update-expected): {}", detail(c));
    }
    for c in &v.unlisted {
        println!("not in the expected file: {}", detail(c));
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

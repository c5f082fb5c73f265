//! Running wstest in both modes against our server and our client.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::args::Args;
use crate::process::{free_port, Child};
use crate::role::Role;
use crate::{spec, testee};

/// Upper bound for a whole fuzzingclient run (CI must stay well inside its 90 minutes).
const FUZZINGCLIENT_LIMIT: Duration = Duration::from_secs(30 * 60);
/// Upper bound for the whole client role.
const CLIENT_LIMIT: Duration = Duration::from_secs(30 * 60);
/// Upper bound for one client-role case (above Autobahn's own longest case limit, 100 s in 9.x).
const CASE_LIMIT: Duration = Duration::from_secs(120);

/// Where the tools are, and the server under test for the external role.
pub struct Tools {
    /// The ws-server binary (run as `ws-server echo --addr 127.0.0.1:PORT [--engine loop]`).
    pub server_bin: PathBuf,
    /// Autobahn's wstest.
    pub wstest: PathBuf,
    /// The bare-metal echo firmware (role server-mcu).
    pub firmware: PathBuf,
    /// qemu-system-arm (role server-mcu).
    pub qemu: PathBuf,
    /// The external server's URL (role external).
    pub url: Option<String>,
}

impl Tools {
    /// Resolves the defaults (ws-server next to this binary, wstest in the install cache) and
    /// checks that what the roles of `args` need is there.
    pub fn locate(args: &Args) -> Result<Tools, String> {
        let server_bin = match &args.server_bin {
            Some(p) => p.clone(),
            None => env::current_exe()
                .map_err(|e| format!("current_exe: {e}"))?
                .with_file_name("ws-server"),
        };
        let wstest = match &args.wstest {
            Some(p) => p.clone(),
            None => {
                let home = match env::var_os("AUTOBAHN_HOME") {
                    Some(h) => PathBuf::from(h),
                    None => PathBuf::from(env::var_os("HOME").ok_or("HOME is not set")?)
                        .join(".cache/ws-autobahn"),
                };
                home.join("venv/bin/wstest")
            }
        };
        let mut needed = vec![(&wstest, "install with scripts/install-autobahn")];
        if args.runs(Role::Server) || args.runs(Role::ServerLoop) {
            needed.push((&server_bin, "build with `cargo build --release -p ws-apps`"));
        }
        if args.runs(Role::ServerMcu) {
            needed.push((&args.firmware, "build with scripts/net-echo"));
        }
        for (p, how) in needed {
            if !p.is_file() {
                return Err(format!("{} not found ({how})", p.display()));
            }
        }
        Ok(Tools {
            server_bin,
            wstest,
            firmware: args.firmware.clone(),
            qemu: args.qemu.clone(),
            url: args.url.clone(),
        })
    }
}

/// Creates `dir` empty (old per-case reports would otherwise linger).
pub fn fresh_dir(dir: &Path) -> Result<(), String> {
    if dir.exists() {
        fs::remove_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}

/// A server role (`role.is_server()`): our echo server on the role's engine and a free port (or
/// the firmware under QEMU, or the external URL), `wstest -m fuzzingclient` against it; reports in
/// `out/<role>`, logs and spec in `out` named after the role. Returns the wall time.
pub fn server_role(
    tools: &Tools,
    out: &Path,
    role: Role,
    cases: &[String],
) -> Result<Duration, String> {
    let dir = out.join(role.name());
    fresh_dir(&dir)?;
    let (mut server, url) = match role {
        Role::External => (
            None,
            tools.url.clone().ok_or("the external role needs --url")?,
        ),
        Role::ServerMcu => {
            let (child, addr) = start_firmware(tools, out)?;
            (Some(child), format!("ws://{addr}"))
        }
        _ => {
            let (child, addr) = start_server(tools, out, role)?;
            (Some(child), format!("ws://{addr}"))
        }
    };

    let spec_path = out.join(format!("fuzzingclient-{role}.json"));
    write(
        &spec_path,
        &spec::fuzzingclient(&dir.to_string_lossy(), role.agent(), &url, cases),
    )?;
    eprintln!("conformance: {role} role: wstest -m fuzzingclient against {url}");
    let started = Instant::now();
    let mut wstest = Child::spawn(
        &format!("wstest fuzzingclient ({role})"),
        Command::new(&tools.wstest)
            .args(["-m", "fuzzingclient", "-s"])
            .arg(&spec_path),
        &out.join(format!("fuzzingclient-{role}.log")),
    )?;
    let status = wstest.wait_timeout(FUZZINGCLIENT_LIMIT)?;
    let took = started.elapsed();
    if !status.success() {
        return Err(format!(
            "wstest fuzzingclient ({role}): {status}; log tail:\n{}",
            wstest.log_tail(2000)
        ));
    }
    if let Some(server) = server.as_mut() {
        if let Some(status) = server.try_wait()? {
            return Err(format!(
                "{} exited during the run ({status}); log tail:\n{}",
                role.agent(),
                server.log_tail(2000)
            ));
        }
    }
    if role == Role::ServerMcu {
        let addr = url.trim_start_matches("ws://");
        let checks = crate::mcu_checks::run(addr).map_err(|e| format!("firmware check: {e}"))?;
        write(
            &out.join(crate::mcu::CHECKS_REPORT),
            &(checks.join("\n") + "\n"),
        )?;
        let ram = crate::mcu::fetch_ram(addr)?;
        write(&out.join(crate::mcu::RAM_REPORT), &ram)?;
        // Painted words left between the statics and the stack prove it never overflowed.
        match crate::mcu::ram_total(&ram) {
            Some((used, region)) if used < region => {}
            _ => return Err(format!("the firmware's stack reached its statics:\n{ram}")),
        }
    }
    Ok(took)
}

/// Boots the firmware under QEMU with a free loopback port forwarded to its port 80; waits until
/// it says it is ready (QEMU accepts on the port before the firmware listens). Retries with
/// another port if QEMU could not bind it.
fn start_firmware(tools: &Tools, out: &Path) -> Result<(Child, String), String> {
    let mut attempt = 1;
    loop {
        let port = free_port()?;
        let mut qemu = Child::spawn(
            "qemu-system-arm (ws-net-echo)",
            Command::new(&tools.qemu)
                .args(crate::mcu::qemu_args(port))
                .arg("-kernel")
                .arg(&tools.firmware),
            &out.join(format!("{}.log", Role::ServerMcu.agent())),
        )?;
        match qemu.wait_log_line(crate::mcu::READY, Duration::from_secs(30)) {
            Ok(()) => return Ok((qemu, format!("127.0.0.1:{port}"))),
            Err(e) if attempt < 3 && e.contains("forward") => {
                eprintln!("conformance: port {port} was taken, trying another");
                attempt += 1;
            }
            Err(e) => return Err(e),
        }
    }
}

/// Starts `ws-server echo` with the role's engine on a free port; retries with another port if
/// someone took it meanwhile.
fn start_server(tools: &Tools, out: &Path, role: Role) -> Result<(Child, String), String> {
    let mut attempt = 1;
    loop {
        let port = free_port()?;
        let addr = format!("127.0.0.1:{port}");
        let mut server = Child::spawn(
            &format!("ws-server echo ({role})"),
            Command::new(&tools.server_bin)
                .args(["echo", "--addr", &addr])
                .args(role.engine_args()),
            &out.join(format!("{}.log", role.agent())),
        )?;
        match server.wait_listening(port, Duration::from_secs(10)) {
            Ok(()) => return Ok((server, addr)),
            Err(e) if attempt < 3 && e.contains("in use") => {
                eprintln!("conformance: port {port} was taken, trying another");
                attempt += 1;
            }
            Err(e) => return Err(e),
        }
    }
}

/// Client role: `wstest -m fuzzingserver` on a free port, our echo client against it; reports in
/// `out/client`. Returns the wall time.
pub fn client_role(tools: &Tools, out: &Path, cases: &[String]) -> Result<Duration, String> {
    let dir = out.join(Role::Client.name());
    fresh_dir(&dir)?;
    let port = free_port()?;
    let url = format!("ws://127.0.0.1:{port}");
    let spec_path = out.join("fuzzingserver.json");
    write(
        &spec_path,
        &spec::fuzzingserver(&dir.to_string_lossy(), &url, cases),
    )?;
    let mut wstest = Child::spawn(
        "wstest fuzzingserver",
        Command::new(&tools.wstest)
            .args(["-m", "fuzzingserver", "-u", "0", "-s"])
            .arg(&spec_path),
        &out.join("fuzzingserver.log"),
    )?;
    wstest.wait_listening(port, Duration::from_secs(60))?;
    eprintln!("conformance: client role: our client against wstest -m fuzzingserver at {url}");
    let started = Instant::now();
    let run = testee::run(&url, Role::Client.agent(), CASE_LIMIT, CLIENT_LIMIT)?;
    let took = started.elapsed();
    for case in &run.timed_out {
        eprintln!(
            "conformance: client testee: case #{case} hit the {} s limit",
            CASE_LIMIT.as_secs()
        );
    }
    for (case, e) in &run.connect_errors {
        eprintln!("conformance: client testee: case #{case}: {e}");
    }
    if !dir.join("index.json").is_file() {
        return Err(format!(
            "fuzzingserver wrote no index.json; log tail:\n{}",
            wstest.log_tail(2000)
        ));
    }
    Ok(took)
}

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
    /// The TLS roles' certificate and key (made by [`Tools::locate`] when a TLS role runs).
    pub tls: Option<TlsFiles>,
}

/// A self-signed certificate for 127.0.0.1 and localhost, written as PEM files.
pub struct TlsFiles {
    /// The certificate (PEM).
    pub cert: PathBuf,
    /// Its private key (PEM, PKCS#8).
    pub key: PathBuf,
    /// The certificate our client pins.
    pub pinned: ws_server::tls::ClientTls,
}

impl TlsFiles {
    /// Makes a fresh certificate and writes `dir/cert.pem` and `dir/key.pem`.
    pub fn make(dir: &Path) -> Result<TlsFiles, String> {
        let names = vec!["127.0.0.1".to_owned(), "localhost".to_owned()];
        let made = rcgen::generate_simple_self_signed(names).map_err(|e| e.to_string())?;
        fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
        write(&cert, &made.cert.pem())?;
        write(&key, &made.key_pair.serialize_pem())?;
        Ok(TlsFiles {
            cert,
            key,
            pinned: ws_server::tls::ClientTls::Pinned(made.cert.der().clone()),
        })
    }
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
        if args.roles.iter().any(|r| r.runs_ws_server()) {
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
        let tls = if args.roles.iter().any(|r| r.is_tls()) {
            let dir = env::current_dir()
                .map_err(|e| e.to_string())?
                .join(&args.out)
                .join("tls");
            Some(TlsFiles::make(&dir)?)
        } else {
            None
        };
        Ok(Tools {
            server_bin,
            wstest,
            firmware: args.firmware.clone(),
            qemu: args.qemu.clone(),
            url: args.url.clone(),
            tls,
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
            let scheme = if role.is_tls() { "wss" } else { "ws" };
            (Some(child), format!("{scheme}://{addr}"))
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
        let mut command = Command::new(&tools.server_bin);
        command
            .args(["echo", "--addr", &addr])
            .args(role.engine_args());
        if role.is_tls() {
            let tls = tools.tls.as_ref().ok_or("no TLS certificate made")?;
            command
                .arg("--tls-cert")
                .arg(&tls.cert)
                .arg("--tls-key")
                .arg(&tls.key);
        }
        let mut server = Child::spawn(
            &format!("ws-server echo ({role})"),
            &mut command,
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

/// A client role (client or client-tls): `wstest -m fuzzingserver` on a free port (with the TLS
/// certificate for client-tls), our echo client against it; reports in `out/<role>`. Returns the
/// wall time.
pub fn client_role(
    tools: &Tools,
    out: &Path,
    role: Role,
    cases: &[String],
) -> Result<Duration, String> {
    let dir = out.join(role.name());
    fresh_dir(&dir)?;
    let port = free_port()?;
    let (url, tls, files) = if role.is_tls() {
        let tls = tools.tls.as_ref().ok_or("no TLS certificate made")?;
        let files = (
            tls.key.to_string_lossy().into_owned(),
            tls.cert.to_string_lossy().into_owned(),
        );
        (
            format!("wss://127.0.0.1:{port}"),
            tls.pinned.clone(),
            Some(files),
        )
    } else {
        (format!("ws://127.0.0.1:{port}"), Default::default(), None)
    };
    // The client role keeps its file names of before.
    let name = match role {
        Role::Client => "fuzzingserver".to_owned(),
        _ => format!("fuzzingserver-{role}"),
    };
    let spec_path = out.join(format!("{name}.json"));
    let key_cert = files.as_ref().map(|(k, c)| (k.as_str(), c.as_str()));
    write(
        &spec_path,
        &spec::fuzzingserver(&dir.to_string_lossy(), &url, cases, key_cert),
    )?;
    let mut wstest = Child::spawn(
        &format!("wstest fuzzingserver ({role})"),
        Command::new(&tools.wstest)
            .args(["-m", "fuzzingserver", "-u", "0", "-s"])
            .arg(&spec_path),
        &out.join(format!("{name}.log")),
    )?;
    wstest.wait_listening(port, Duration::from_secs(60))?;
    eprintln!("conformance: {role} role: our client against wstest -m fuzzingserver at {url}");
    let started = Instant::now();
    let run = testee::run(&url, role.agent(), tls, CASE_LIMIT, CLIENT_LIMIT)?;
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

//! Command-line options of `ws-conformance`.

use std::path::PathBuf;

use crate::role::Role;

/// Usage text.
pub const USAGE: &str = "\
usage: ws-conformance [options]
  --update-expected     rewrite the expected results of the roles run (all cases only)
  --expected FILE       expected results [conformance/expected.json]
  --out DIR             where reports go [target/autobahn]
  --server-bin PATH     the ws-server binary [next to this binary]
  --wstest PATH         wstest [$AUTOBAHN_HOME/venv/bin/wstest, AUTOBAHN_HOME=~/.cache/ws-autobahn]
  --role LIST           comma-separated roles: server (default engine), server-loop
                        (--engine loop), server-app-loop (--engine app-loop), client,
                        server-mcu (the bare-metal firmware under QEMU), server-tls and
                        client-tls (over wss://, sections 1-10 in a full run); or all [all]
  --url URL             test the WebSocket server at URL (e.g. ws://192.0.2.7:80/echo: your
                        own device or product; it must echo every message) instead of ours:
                        the fuzzingclient runs against it as role `external`, a FAILED case
                        fails the run, nothing is compared with the expected file
  --firmware PATH       the server-mcu firmware
                        [embedded/net-echo/target/thumbv7em-none-eabihf/release/ws-net-echo]
  --qemu PATH           qemu-system-arm for server-mcu [qemu-system-arm on PATH]
  --cases LIST          comma-separated case patterns, e.g. 1.*,6.4.* [*] (a partial run)
  --report-only         do not run anything: read the reports already in --out
";

/// Parsed options.
#[derive(Debug, Clone)]
pub struct Args {
    /// Rewrite the expected file.
    pub update_expected: bool,
    /// The expected-results file.
    pub expected: PathBuf,
    /// The report directory.
    pub out: PathBuf,
    /// The ws-server binary, if given.
    pub server_bin: Option<PathBuf>,
    /// wstest, if given.
    pub wstest: Option<PathBuf>,
    /// Roles to run, each once, in [`Role::ALL`] order.
    pub roles: Vec<Role>,
    /// Case patterns.
    pub cases: Vec<String>,
    /// Only read existing reports.
    pub report_only: bool,
    /// The server under test for [`Role::External`].
    pub url: Option<String>,
    /// The firmware for [`Role::ServerMcu`].
    pub firmware: PathBuf,
    /// qemu-system-arm for [`Role::ServerMcu`].
    pub qemu: PathBuf,
}

impl Args {
    /// True when the run covers fewer than all cases of all roles.
    pub fn is_partial(&self) -> bool {
        self.roles != Role::ALL || self.cases != ["*"]
    }

    /// True when every case runs (of the roles that run).
    pub fn all_cases(&self) -> bool {
        self.cases == ["*"]
    }

    /// The case patterns `role` runs: `--cases`, or for a full run the role's
    /// [`Role::full_cases`] (sections 1-10 for the TLS roles).
    pub fn cases_for(&self, role: Role) -> Vec<String> {
        if self.all_cases() {
            role.full_cases().iter().map(|c| (*c).to_owned()).collect()
        } else {
            self.cases.clone()
        }
    }

    /// True when `role` is part of the run.
    pub fn runs(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// Parses the arguments (without the program name).
    pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Args, String> {
        let mut parsed = Args {
            update_expected: false,
            expected: PathBuf::from("conformance/expected.json"),
            out: PathBuf::from("target/autobahn"),
            server_bin: None,
            wstest: None,
            roles: Role::ALL.to_vec(),
            cases: vec!["*".to_owned()],
            report_only: false,
            url: None,
            firmware: PathBuf::from(
                "embedded/net-echo/target/thumbv7em-none-eabihf/release/ws-net-echo",
            ),
            qemu: PathBuf::from("qemu-system-arm"),
        };
        let mut roles_given = false;
        let mut it = args.into_iter();
        while let Some(arg) = it.next() {
            let mut value = |name: &str| it.next().ok_or_else(|| format!("{name} needs a value"));
            match arg.as_str() {
                "--update-expected" => parsed.update_expected = true,
                "--report-only" => parsed.report_only = true,
                "--expected" => parsed.expected = value(&arg)?.into(),
                "--out" => parsed.out = value(&arg)?.into(),
                "--server-bin" => parsed.server_bin = Some(value(&arg)?.into()),
                "--wstest" => parsed.wstest = Some(value(&arg)?.into()),
                "--cases" => {
                    parsed.cases = value(&arg)?
                        .split(',')
                        .map(str::trim)
                        .filter(|c| !c.is_empty())
                        .map(str::to_owned)
                        .collect()
                }
                "--role" => {
                    parsed.roles = parse_roles(&value(&arg)?)?;
                    roles_given = true;
                }
                "--url" => parsed.url = Some(parse_url(&value(&arg)?)?),
                "--firmware" => parsed.firmware = value(&arg)?.into(),
                "--qemu" => parsed.qemu = value(&arg)?.into(),
                "-h" | "--help" => return Err(USAGE.to_owned()),
                other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
            }
        }
        if parsed.cases.is_empty() {
            return Err("--cases: no case pattern".to_owned());
        }
        if parsed.url.is_some() {
            if roles_given {
                return Err("--url runs the external role only: no --role with it".to_owned());
            }
            if parsed.update_expected {
                return Err("--url: an external server has no expected results".to_owned());
            }
            parsed.roles = vec![Role::External];
        }
        if parsed.update_expected && !parsed.all_cases() {
            return Err("--update-expected needs every case of the roles it rewrites".to_owned());
        }
        Ok(parsed)
    }
}

/// Checks `--url`'s value: `ws://HOST[:PORT][/PATH]` (wstest's fuzzingclient speaks plain
/// WebSocket; put a TLS-terminating proxy in front of a `wss` server).
fn parse_url(url: &str) -> Result<String, String> {
    let Some(rest) = url.strip_prefix("ws://") else {
        return Err(format!("--url: {url:?} is not a ws:// URL"));
    };
    let host = rest.split('/').next().unwrap_or_default();
    if host.is_empty() || host.contains(char::is_whitespace) {
        return Err(format!("--url: {url:?} has no host"));
    }
    Ok(url.to_owned())
}

/// Parses `--role`'s list: role names or `all`, in any order; the result is in [`Role::ALL`] order.
fn parse_roles(list: &str) -> Result<Vec<Role>, String> {
    let mut roles = Vec::new();
    for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        match name {
            "all" => roles.extend(Role::ALL),
            _ => roles
                .push(Role::parse(name).ok_or_else(|| format!("--role: unknown role {name:?}"))?),
        }
    }
    roles.sort();
    roles.dedup();
    if roles.is_empty() {
        return Err("--role: no role".to_owned());
    }
    Ok(roles)
}

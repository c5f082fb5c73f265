//! Command-line options of `ws-conformance`.

use std::path::PathBuf;

/// Usage text.
pub const USAGE: &str = "\
usage: ws-conformance [options]
  --update-expected     rewrite the expected-results file from this run (full runs only)
  --expected FILE       expected results [conformance/expected.json]
  --out DIR             where reports go [target/autobahn]
  --server-bin PATH     the ws-server binary [next to this binary]
  --wstest PATH         wstest [$AUTOBAHN_HOME/venv/bin/wstest, AUTOBAHN_HOME=~/.cache/ws-autobahn]
  --role ROLE           server, client or both [both]
  --cases LIST          comma-separated case patterns, e.g. 1.*,6.4.* [*] (a partial run)
  --report-only         do not run anything: read the reports already in --out
";

/// Which side of the connection we test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Roles {
    /// The echo server, tested by the fuzzingclient.
    Server,
    /// Our client, tested by the fuzzingserver.
    Client,
    /// Both.
    Both,
}

impl Roles {
    /// True when the server role runs.
    pub fn server(self) -> bool {
        self != Roles::Client
    }

    /// True when the client role runs.
    pub fn client(self) -> bool {
        self != Roles::Server
    }
}

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
    /// Roles to run.
    pub roles: Roles,
    /// Case patterns.
    pub cases: Vec<String>,
    /// Only read existing reports.
    pub report_only: bool,
}

impl Args {
    /// True when the run covers fewer than all cases of both roles.
    pub fn is_partial(&self) -> bool {
        self.roles != Roles::Both || self.cases != ["*"]
    }

    /// Parses the arguments (without the program name).
    pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Args, String> {
        let mut parsed = Args {
            update_expected: false,
            expected: PathBuf::from("conformance/expected.json"),
            out: PathBuf::from("target/autobahn"),
            server_bin: None,
            wstest: None,
            roles: Roles::Both,
            cases: vec!["*".to_owned()],
            report_only: false,
        };
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
                    parsed.roles = match value(&arg)?.as_str() {
                        "server" => Roles::Server,
                        "client" => Roles::Client,
                        "both" => Roles::Both,
                        other => return Err(format!("--role: unknown role {other:?}")),
                    }
                }
                "-h" | "--help" => return Err(USAGE.to_owned()),
                other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
            }
        }
        if parsed.cases.is_empty() {
            return Err("--cases: no case pattern".to_owned());
        }
        if parsed.update_expected && parsed.is_partial() {
            return Err("--update-expected needs a full run (both roles, all cases)".to_owned());
        }
        Ok(parsed)
    }
}

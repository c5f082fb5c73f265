//! The client-role testee: an echo client on `ws_server::connect`, driven by `wstest -m fuzzingserver`.

use std::time::{Duration, Instant};

use async_std::future::timeout;
use ws_server::tls::ClientTls;
use ws_server::{ClientConfig, Message};

/// What the testee did, for the log.
#[derive(Debug, Default)]
pub struct TesteeRun {
    /// Cases run.
    pub cases: u32,
    /// Cases that hit the per-case time limit (their report will show what went wrong).
    pub timed_out: Vec<u32>,
    /// Cases whose connection could not be opened, with the error.
    pub connect_errors: Vec<(u32, String)>,
}

/// Runs every case of the fuzzingserver at `base` (`ws://127.0.0.1:PORT`, or `wss://` trusting
/// `tls`) as `agent`, each at most `per_case` and all within `total`, then asks it to write the
/// reports.
pub fn run(
    base: &str,
    agent: &str,
    tls: ClientTls,
    per_case: Duration,
    total: Duration,
) -> Result<TesteeRun, String> {
    let mut config = ClientConfig {
        tls,
        ..ClientConfig::default()
    };
    // The fuzzingserver writes its 101 together with a case's first frames; for 9.3.x/9.4.x
    // (4 MiB in 64-byte to 4 KiB fragments) Python builds and, over TLS, encrypts all of them
    // before the 101 leaves: with the other roles beside it on 2 cores that passed our 10 s
    // default (client-tls 9.3.1/9.4.1 failed so, 3.6 s when run alone). Autobahn's own case limit
    // is 100 s.
    config.connection.handshake_timeout = Duration::from_secs(100);
    async_std::task::block_on(run_all(base, agent, &config, per_case, total))
}

async fn run_all(
    base: &str,
    agent: &str,
    config: &ClientConfig,
    per_case: Duration,
    total: Duration,
) -> Result<TesteeRun, String> {
    let count = timeout(Duration::from_secs(30), case_count(base, config))
        .await
        .map_err(|_| format!("{base}/getCaseCount: no answer within 30 s"))??;
    eprintln!("conformance: client testee: {count} cases");
    let mut run = TesteeRun::default();
    let started = Instant::now();
    for case in 1..=count {
        if started.elapsed() > total {
            return Err(format!(
                "client testee: {} s limit reached at case #{case} of {count}",
                total.as_secs()
            ));
        }
        let url = format!("{base}/runCase?case={case}&agent={agent}");
        match timeout(per_case, echo(&url, config)).await {
            Err(_) => run.timed_out.push(case),
            Ok(Err(e)) => run.connect_errors.push((case, e)),
            Ok(Ok(())) => {}
        }
        run.cases += 1;
        if case % 100 == 0 {
            eprintln!(
                "conformance: client testee: {case}/{count} cases, {} s",
                started.elapsed().as_secs()
            );
        }
    }
    let url = format!("{base}/updateReports?agent={agent}");
    timeout(Duration::from_secs(60), drain(&url, config))
        .await
        .map_err(|_| "updateReports timed out".to_owned())??;
    Ok(run)
}

/// Asks `/getCaseCount`: the server sends the number as a text message, then closes.
async fn case_count(base: &str, config: &ClientConfig) -> Result<u32, String> {
    let url = format!("{base}/getCaseCount");
    let mut ws = ws_server::connect_with(&url, config.clone())
        .await
        .map_err(|e| format!("{url}: {e}"))?;
    let mut count = None;
    while let Some(msg) = timeout(Duration::from_secs(30), ws.recv())
        .await
        .map_err(|_| format!("{url}: no answer"))?
    {
        if let Message::Text(t) = msg {
            count = t.trim().parse::<u32>().ok();
        }
    }
    count.ok_or_else(|| format!("{url}: no case count received"))
}

/// Echoes every message back (text as text, binary as binary) until the connection closes.
async fn echo(url: &str, config: &ClientConfig) -> Result<(), String> {
    let mut ws = ws_server::connect_with(url, config.clone())
        .await
        .map_err(|e| e.to_string())?;
    while let Some(msg) = ws.recv().await {
        if ws.send(msg).await.is_err() {
            // The connection failed; keep reading until recv reports the end.
            continue;
        }
    }
    Ok(())
}

/// Connects and reads until the server closes.
async fn drain(url: &str, config: &ClientConfig) -> Result<(), String> {
    let mut ws = ws_server::connect_with(url, config.clone())
        .await
        .map_err(|e| format!("{url}: {e}"))?;
    while ws.recv().await.is_some() {}
    Ok(())
}

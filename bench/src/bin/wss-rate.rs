//! A wss:// client load for scripts/bench-tls: new connections per second (TCP + TLS handshake +
//! upgrade + close, from `--conns` concurrent loops) and echo throughput (64 KiB binary messages,
//! one connection, one at a time), on ws-server's client with the server's certificate pinned.
//! One thread (async-io's block_on), so the generator is one CPU like the server.
//!
//! Usage: `wss-rate --url wss://127.0.0.1:9001/ --cert cert.pem [--secs 3] [--conns 8]`

use std::time::{Duration, Instant};
use ws_server::tls::ClientTls;
use ws_server::{ClientConfig, CloseCode, Message};

fn arg(name: &str) -> Option<String> {
    let mut it = std::env::args();
    it.position(|a| a == name)?;
    it.next()
}

/// Connect, close, wait for the server's close, until `until`; returns how many.
async fn churn(url: &str, config: &ClientConfig, until: Instant) -> Result<u32, ws_server::Error> {
    let mut n = 0;
    while Instant::now() < until {
        let mut ws = ws_server::connect_with(url, config.clone()).await?;
        ws.close(CloseCode::NORMAL, "").await?;
        while ws.recv().await.is_some() {}
        n += 1;
    }
    Ok(n)
}

fn main() -> Result<(), String> {
    let url = arg("--url").ok_or("--url wss://HOST:PORT/")?;
    let cert = arg("--cert").ok_or("--cert FILE (the server's, pinned)")?;
    let secs: f64 = arg("--secs")
        .map_or(Ok(3.0), |s| s.parse())
        .map_err(|e| format!("--secs: {e}"))?;
    let conns: usize = arg("--conns")
        .map_or(Ok(8), |s| s.parse())
        .map_err(|e| format!("--conns: {e}"))?;
    let tls = ClientTls::pinned_pem_file(std::path::Path::new(&cert)).map_err(|e| e.to_string())?;
    let config = ClientConfig {
        tls,
        ..ClientConfig::default()
    };
    let run = Duration::from_secs_f64(secs);
    async_io::block_on(async {
        let start = Instant::now();
        let until = start + run;
        let loops = (0..conns).map(|_| churn(&url, &config, until));
        let counts = futures_util::future::join_all(loops).await;
        let mut total = 0;
        for c in counts {
            total += c.map_err(|e| format!("connect: {e}"))?;
        }
        let rate = f64::from(total) / start.elapsed().as_secs_f64();

        let mut ws = ws_server::connect_with(&url, config.clone())
            .await
            .map_err(|e| e.to_string())?;
        let msg = vec![0x5au8; 64 << 10];
        let (mut bytes, start) = (0usize, Instant::now());
        while start.elapsed() < run {
            ws.send(Message::Binary(msg.clone()))
                .await
                .map_err(|e| e.to_string())?;
            match ws.recv().await {
                Some(Message::Binary(b)) if b.len() == msg.len() => bytes += b.len(),
                other => return Err(format!("unexpected echo: {:?}", other.map(|m| m.kind()))),
            }
        }
        let mib_s = bytes as f64 / f64::from(1u32 << 20) / start.elapsed().as_secs_f64();
        let _ = ws.close(CloseCode::NORMAL, "").await;
        println!(
            "{{\"url\":\"{url}\",\"connections_per_s\":{rate:.0},\"echo_mib_per_s\":{mib_s:.1}}}"
        );
        Ok(())
    })
}

//! Echo server on fastwebsockets 0.10 over tokio-rustls (ring provider, ALPN http/1.1), the peer
//! of `ws-server echo --tls-cert --tls-key` in scripts/bench-tls; single-threaded runtime like
//! fws-echo.
//!
//! Usage: `fws-tls-echo --addr 127.0.0.1:9002 --cert cert.pem --key key.pem`

use hyper::server::conn::http1;
use hyper::service::service_fn;
use std::sync::Arc;
use tokio::net::TcpListener;
use ws_bench::fws_echo::server_upgrade;
use ws_server::tls::rustls;
use ws_server::tls::rustls::pki_types::pem::PemObject;
use ws_server::tls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

fn arg(name: &str) -> Option<String> {
    let mut it = std::env::args();
    it.position(|a| a == name)?;
    it.next()
}

fn config() -> std::io::Result<rustls::ServerConfig> {
    let bad = |e: String| std::io::Error::new(std::io::ErrorKind::InvalidInput, e);
    let cert = arg("--cert").ok_or_else(|| bad("--cert FILE".into()))?;
    let key = arg("--key").ok_or_else(|| bad("--key FILE".into()))?;
    let chain = CertificateDer::pem_file_iter(&cert)
        .and_then(|i| i.collect::<Result<Vec<_>, _>>())
        .map_err(|e| bad(format!("{cert}: {e}")))?;
    let key = PrivateKeyDer::from_pem_file(&key).map_err(|e| bad(format!("{key}: {e}")))?;
    #[allow(deprecated)] // ring, as ws-server's TLS (see std-server/src/tls/mod.rs)
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| bad(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| bad(e.to_string()))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

fn main() -> std::io::Result<()> {
    let addr = ws_bench::addr_arg("127.0.0.1:9002");
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config()?));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()?;
    rt.block_on(async move {
        let listener = TcpListener::bind(&addr).await?;
        eprintln!("fws-tls-echo listening on {addr}");
        loop {
            let (stream, _) = listener.accept().await?;
            stream.set_nodelay(true)?;
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(stream).await else {
                    return;
                };
                let io = hyper_util::rt::TokioIo::new(tls);
                let conn = http1::Builder::new()
                    .serve_connection(io, service_fn(server_upgrade))
                    .with_upgrades();
                let _ = conn.await;
            });
        }
    })
}

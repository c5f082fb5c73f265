//! Echo server on fastwebsockets 0.10 (tokio + hyper upgrade, as in its `echo_server` example),
//! single-threaded runtime so it is comparable with a server pinned on one CPU.
//!
//! Usage: `fws-echo [--addr 127.0.0.1:9002]`

use hyper::server::conn::http1;
use hyper::service::service_fn;
use tokio::net::TcpListener;
use ws_bench::fws_echo::server_upgrade;

fn main() -> std::io::Result<()> {
    let addr = ws_bench::addr_arg("127.0.0.1:9002");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()?;
    rt.block_on(async move {
        let listener = TcpListener::bind(&addr).await?;
        eprintln!("fws-echo listening on {addr}");
        loop {
            let (stream, _) = listener.accept().await?;
            stream.set_nodelay(true)?;
            tokio::spawn(async move {
                let io = hyper_util::rt::TokioIo::new(stream);
                let conn = http1::Builder::new()
                    .serve_connection(io, service_fn(server_upgrade))
                    .with_upgrades();
                let _ = conn.await;
            });
        }
    })
}

//! Echo server on tokio-tungstenite 0.30 (`accept_async`, echo every data message), on a
//! single-threaded runtime so it is comparable with a server pinned on one CPU.
//!
//! Usage: `tt-echo [--addr 127.0.0.1:9003]`

use futures_util::{SinkExt, StreamExt};
use tokio::net::{TcpListener, TcpStream};

async fn handle_client(stream: TcpStream) -> Result<(), tokio_tungstenite::tungstenite::Error> {
    let mut ws = tokio_tungstenite::accept_async(stream).await?;
    while let Some(msg) = ws.next().await {
        let msg = msg?;
        if msg.is_text() || msg.is_binary() {
            ws.send(msg).await?;
        }
    }
    Ok(())
}

fn main() -> std::io::Result<()> {
    let addr = ws_bench::addr_arg("127.0.0.1:9003");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()?;
    rt.block_on(async move {
        let listener = TcpListener::bind(&addr).await?;
        eprintln!("tt-echo listening on {addr}");
        loop {
            let (stream, _) = listener.accept().await?;
            stream.set_nodelay(true)?;
            tokio::spawn(async move {
                // Errors are the load generator hanging up: nothing to report.
                let _ = handle_client(stream).await;
            });
        }
    })
}

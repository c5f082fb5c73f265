//! The fastwebsockets echo both peer binaries serve (`fws-echo` over TCP, `fws-tls-echo` over
//! tokio-rustls), written as its `echo_server` example does.

use fastwebsockets::{upgrade, OpCode, WebSocketError};
use http_body_util::Empty;
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};

/// Echoes every data message (fragments collected) until the close.
async fn handle_client(fut: upgrade::UpgradeFut) -> Result<(), WebSocketError> {
    let mut ws = fastwebsockets::FragmentCollector::new(fut.await?);
    loop {
        let frame = ws.read_frame().await?;
        match frame.opcode {
            OpCode::Close => break,
            OpCode::Text | OpCode::Binary => ws.write_frame(frame).await?,
            _ => {}
        }
    }
    Ok(())
}

/// Answers the upgrade and runs the echo on its own task.
pub async fn server_upgrade(
    mut req: Request<Incoming>,
) -> Result<Response<Empty<Bytes>>, WebSocketError> {
    let (response, fut) = upgrade::upgrade(&mut req)?;
    tokio::task::spawn(async move {
        // Errors are the load generator hanging up: nothing to report.
        let _ = tokio::task::unconstrained(handle_client(fut)).await;
    });
    Ok(response)
}

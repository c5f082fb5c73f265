//! wss:// against ws:// on loopback, server and client in this process: new connections per
//! second (TCP + TLS handshake + upgrade + close) and echo throughput of 64 KiB messages over one
//! connection. A rough figure for the cost TLS adds, not a comparison with other servers (that
//! needs a TLS load generator in bench/).
//!
//! `cargo run --release -p ws-server --features tls --example tls_rate`

use std::time::{Duration, Instant};
use ws_server::tls::rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use ws_server::tls::{ClientTls, TlsAcceptor};
use ws_server::{ClientConfig, CloseCode, Config, Message, Server};

const RUN: Duration = Duration::from_secs(3);

fn main() {
    let made = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(made.key_pair.serialize_der()));
    let acceptor = TlsAcceptor::from_der(vec![made.cert.der().clone()], key).unwrap();
    let pinned = ClientTls::Pinned(made.cert.der().clone());
    async_std::task::block_on(async {
        for tls in [false, true] {
            let mut server = Server::bind("127.0.0.1:0", Config::default())
                .await
                .unwrap();
            if tls {
                server = server.with_tls(acceptor.clone());
            }
            let addr = server.local_addr();
            let handle = server.shutdown_handle();
            let task = async_std::task::spawn(server.serve(ws_server::echo_handler()));
            let url = format!("{}://{addr}/", if tls { "wss" } else { "ws" });
            let config = ClientConfig {
                tls: pinned.clone(),
                ..ClientConfig::default()
            };
            let (mut n, start, mut connecting) = (0u32, Instant::now(), Duration::ZERO);
            while start.elapsed() < RUN {
                let t = Instant::now();
                let mut ws = ws_server::connect_with(&url, config.clone()).await.unwrap();
                connecting += t.elapsed();
                ws.close(CloseCode::NORMAL, "").await.unwrap();
                while ws.recv().await.is_some() {}
                n += 1;
            }
            let connect_ms = connecting.as_secs_f64() * 1000.0 / f64::from(n);
            let rate = f64::from(n) / start.elapsed().as_secs_f64();
            let mut ws = ws_server::connect_with(&url, config.clone()).await.unwrap();
            let msg = vec![7u8; 64 << 10];
            let (mut bytes, start) = (0usize, Instant::now());
            while start.elapsed() < RUN {
                ws.send(Message::Binary(msg.clone())).await.unwrap();
                let _ = ws.recv().await.unwrap();
                bytes += msg.len();
            }
            let mib_s = bytes as f64 / (1 << 20) as f64 / start.elapsed().as_secs_f64();
            println!(
                "{}: {rate:.0} connections/s (connect, handshake, close; {connect_ms:.2} ms of it to connect), echo {mib_s:.0} MiB/s one way (64 KiB messages, one connection)",
                if tls { "wss" } else { "ws " }
            );
            drop(ws);
            handle.shutdown();
            task.await.unwrap();
        }
    });
}

//! TLS end to end over loopback: `wss://` echo, ALPN, the client's certificate checks (custom
//! root, expired and wrong-host leaves, untrusted, pinned), plain HTTP on the TLS port, a stalled
//! TLS handshake, the connection limit, and a certificate reload that keeps open connections.

mod common;

use common::*;
use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
use std::io::{Read, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};
use ws_server::tls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use ws_server::tls::rustls::{self, CertificateError};
use ws_server::tls::{ClientTls, TlsAcceptor};
use ws_server::{ClientConfig, Config, Error, Message, Server};

/// A certificate and its key.
struct Issued {
    cert: rcgen::Certificate,
    key: KeyPair,
}

impl Issued {
    fn der(&self) -> CertificateDer<'static> {
        self.cert.der().clone()
    }

    fn key_der(&self) -> PrivateKeyDer<'static> {
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key.serialize_der()))
    }

    fn acceptor(&self) -> TlsAcceptor {
        TlsAcceptor::from_der(vec![self.der()], self.key_der()).unwrap()
    }
}

/// A self-signed certificate for `names`.
fn self_signed(names: &[&str]) -> Issued {
    let key = KeyPair::generate().unwrap();
    let params =
        CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>()).unwrap();
    Issued {
        cert: params.self_signed(&key).unwrap(),
        key,
    }
}

/// A CA, and leaves it signs.
struct Ca(Issued);

impl Ca {
    fn new() -> Self {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        Ca(Issued {
            cert: params.self_signed(&key).unwrap(),
            key,
        })
    }

    /// A leaf for `names`; `expired` puts its validity in 2020.
    fn leaf(&self, names: &[&str], expired: bool) -> Issued {
        let key = KeyPair::generate().unwrap();
        let mut params =
            CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
                .unwrap();
        if expired {
            params.not_before = rcgen::date_time_ymd(2020, 1, 1);
            params.not_after = rcgen::date_time_ymd(2020, 12, 31);
        }
        Issued {
            cert: params.signed_by(&key, &self.0.cert, &self.0.key).unwrap(),
            key,
        }
    }

    fn client_tls(&self) -> ClientTls {
        ClientTls::Roots(vec![self.0.der()])
    }
}

/// Starts the echo server over TLS with `config`.
fn start_tls(config: Config, acceptor: TlsAcceptor) -> TestServer {
    let server = async_std::task::block_on(Server::bind("127.0.0.1:0", config))
        .expect("bind")
        .with_tls(acceptor);
    let addr = server.local_addr();
    let handle = server.shutdown_handle();
    let thread = std::thread::spawn(move || {
        async_std::task::block_on(server.serve(ws_server::echo_handler()))
    });
    TestServer {
        addr,
        handle,
        thread: Some(thread),
    }
}

fn client(tls: ClientTls) -> ClientConfig {
    ClientConfig {
        tls,
        ..ClientConfig::default()
    }
}

/// Connects to `url` and echoes one message.
fn echo_once(url: &str, tls: ClientTls) -> Result<(), Error> {
    async_std::task::block_on(async {
        let mut ws = ws_server::connect_with(url, client(tls)).await?;
        ws.send(Message::Text("over tls".into())).await?;
        assert_eq!(ws.recv().await, Some(Message::Text("over tls".into())));
        ws.close(ws_server::CloseCode::NORMAL, "").await?;
        Ok(())
    })
}

#[test]
fn wss_echo_with_a_custom_root_and_sni_from_the_url_host() {
    let ca = Ca::new();
    let server = start_tls(Config::default(), ca.leaf(&["localhost"], false).acceptor());
    let url = format!("wss://localhost:{}/", server.addr.port());
    echo_once(&url, ca.client_tls()).unwrap();
    // A large message crosses many TLS records each way.
    async_std::task::block_on(async {
        let mut ws = ws_server::connect_with(&url, client(ca.client_tls()))
            .await
            .unwrap();
        let big: Vec<u8> = (0..1_000_000u32).map(|i| (i % 251) as u8).collect();
        ws.send(Message::Binary(big.clone())).await.unwrap();
        assert_eq!(ws.recv().await, Some(Message::Binary(big)));
    });
}

#[test]
fn the_server_negotiates_alpn_http_1_1() {
    let leaf = self_signed(&["localhost"]);
    let server = start_tls(Config::default(), leaf.acceptor());
    let mut roots = rustls::RootCertStore::empty();
    roots.add(leaf.der()).unwrap();
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
        #[allow(deprecated)]
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let name = "localhost".try_into().unwrap();
    let mut conn = rustls::ClientConnection::new(Arc::new(config), name).unwrap();
    let mut tcp = tcp(server.addr);
    while conn.is_handshaking() {
        conn.complete_io(&mut tcp).unwrap();
    }
    assert_eq!(conn.alpn_protocol(), Some(&b"http/1.1"[..]));
}

#[test]
fn the_client_refuses_an_expired_certificate_and_says_so() {
    let ca = Ca::new();
    let server = start_tls(Config::default(), ca.leaf(&["localhost"], true).acceptor());
    let url = format!("wss://localhost:{}/", server.addr.port());
    let err = echo_once(&url, ca.client_tls()).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Certificate(CertificateError::Expired | CertificateError::ExpiredContext { .. })
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("expired"), "{err}");
}

#[test]
fn the_client_refuses_a_certificate_for_another_host() {
    let ca = Ca::new();
    let server = start_tls(
        Config::default(),
        ca.leaf(&["other.example"], false).acceptor(),
    );
    let url = format!("wss://localhost:{}/", server.addr.port());
    let err = echo_once(&url, ca.client_tls()).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Certificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. }
            )
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("localhost"), "{err}");
    // The same server under the name in its certificate is fine (SNI and check use the URL host;
    // other.example is not resolvable here, so only the refusal above is checked end to end).
}

#[test]
fn the_client_refuses_an_untrusted_certificate_with_the_default_roots() {
    let server = start_tls(Config::default(), self_signed(&["localhost"]).acceptor());
    let url = format!("wss://localhost:{}/", server.addr.port());
    let err = echo_once(&url, ClientTls::default()).unwrap_err();
    assert!(
        matches!(err, Error::Certificate(CertificateError::UnknownIssuer)),
        "{err:?}"
    );
}

#[test]
fn a_pinned_certificate_is_accepted_by_ip_and_another_is_refused() {
    let leaf = self_signed(&["localhost"]);
    let server = start_tls(Config::default(), leaf.acceptor());
    // Pinned: the URL host need not be in the certificate.
    let url = format!("wss://{}/", server.addr);
    echo_once(&url, ClientTls::Pinned(leaf.der())).unwrap();
    let other = self_signed(&["localhost"]);
    let err = echo_once(&url, ClientTls::Pinned(other.der())).unwrap_err();
    assert!(matches!(err, Error::Certificate(_)), "{err:?}");
}

#[test]
fn plain_http_on_the_tls_port_gets_a_400_that_says_why() {
    let server = start_tls(Config::default(), self_signed(&["localhost"]).acceptor());
    let mut s = tcp(server.addr);
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 400 "), "{answer:?}");
    assert!(answer.contains("use https:// or wss://"), "{answer:?}");
}

#[test]
fn a_stalled_tls_handshake_is_dropped_at_the_handshake_timeout() {
    let leaf = self_signed(&["localhost"]);
    let server = start_tls(short_timeouts(), leaf.acceptor());
    // Silent after connecting.
    let mut silent = tcp(server.addr);
    let took = assert_closed_within(&mut silent, Duration::from_secs(3));
    assert!(
        took >= Duration::from_millis(250),
        "dropped early: {took:?}"
    );
    // Stalled inside the ClientHello: a record header that announces 512 bytes, then nothing.
    let mut stalled = tcp(server.addr);
    stalled
        .write_all(&[0x16, 0x03, 0x01, 0x02, 0x00, 0x01])
        .unwrap();
    let took = assert_closed_within(&mut stalled, Duration::from_secs(3));
    assert!(
        took >= Duration::from_millis(200),
        "dropped early: {took:?}"
    );
    // The server still serves.
    echo_once(
        &format!("wss://{}/", server.addr),
        ClientTls::Pinned(leaf.der()),
    )
    .unwrap();
}

#[test]
fn the_connection_limit_counts_tls_handshakes() {
    let leaf = self_signed(&["localhost"]);
    let config = Config {
        max_connections: 1,
        handshake_timeout: Duration::from_millis(500),
        ..Config::default()
    };
    let server = start_tls(config, leaf.acceptor());
    let url = format!("wss://{}/", server.addr);
    let mut stalled = tcp(server.addr);
    stalled.write_all(&[0x16, 0x03, 0x01]).unwrap();
    std::thread::sleep(Duration::from_millis(100));
    // The one slot is held by the stalled handshake: closed at once, no TLS work done.
    let t = Instant::now();
    let err = echo_once(&url, ClientTls::Pinned(leaf.der())).unwrap_err();
    assert!(
        t.elapsed() < Duration::from_millis(400),
        "{:?}",
        t.elapsed()
    );
    assert!(matches!(err, Error::Io(_)), "{err:?}");
    // Once the stalled client is dropped at the timeout, the slot is free again.
    assert_closed_within(&mut stalled, Duration::from_secs(3));
    std::thread::sleep(Duration::from_millis(50));
    echo_once(&url, ClientTls::Pinned(leaf.der())).unwrap();
}

#[test]
fn a_reload_serves_new_connections_with_the_new_certificate_and_keeps_open_ones() {
    let (old, new) = (self_signed(&["localhost"]), self_signed(&["localhost"]));
    let acceptor = old.acceptor();
    let server = start_tls(Config::default(), acceptor.clone());
    let url = format!("wss://{}/", server.addr);
    let dir = std::env::temp_dir().join(format!("ws-tls-reload-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (cert_path, key_path) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert_path, new.cert.pem()).unwrap();
    std::fs::write(&key_path, new.key.serialize_pem()).unwrap();
    async_std::task::block_on(async {
        let mut open = ws_server::connect_with(&url, client(ClientTls::Pinned(old.der())))
            .await
            .unwrap();
        acceptor.reload_pem_files(&cert_path, &key_path).unwrap();
        // The open connection goes on with the session it negotiated.
        open.send(Message::Text("still here".into())).await.unwrap();
        assert_eq!(open.recv().await, Some(Message::Text("still here".into())));
        // New connections get the new certificate.
        let err = ws_server::connect_with(&url, client(ClientTls::Pinned(old.der())))
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Certificate(_)), "{err:?}");
        open.send(Message::Text("and here".into())).await.unwrap();
        assert_eq!(open.recv().await, Some(Message::Text("and here".into())));
    });
    echo_once(&url, ClientTls::Pinned(new.der())).unwrap();
    // A reload from a bad file names it and keeps the configuration in use.
    std::fs::write(&key_path, "not a key").unwrap();
    let err = acceptor
        .reload_pem_files(&cert_path, &key_path)
        .unwrap_err();
    assert!(err.to_string().contains("key.pem"), "{err}");
    echo_once(&url, ClientTls::Pinned(new.der())).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn pem_errors_name_the_file_and_the_problem() {
    let dir = std::env::temp_dir().join(format!("ws-tls-pem-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let leaf = self_signed(&["localhost"]);
    let (cert, key) = (dir.join("c.pem"), dir.join("k.pem"));
    std::fs::write(&cert, leaf.cert.pem()).unwrap();
    std::fs::write(&key, leaf.key.serialize_pem()).unwrap();
    assert!(TlsAcceptor::from_pem_files(&cert, &key).is_ok());
    let missing = dir.join("missing.pem");
    let e = TlsAcceptor::from_pem_files(&missing, &key).unwrap_err();
    assert!(e.to_string().contains("missing.pem: cannot read"), "{e}");
    let e = TlsAcceptor::from_pem_files(&key, &key).unwrap_err();
    assert!(e.to_string().contains("k.pem: no certificate"), "{e}");
    let e = TlsAcceptor::from_pem_files(&cert, &cert).unwrap_err();
    assert!(e.to_string().contains("c.pem: no private key"), "{e}");
    // A key that does not match the certificate.
    std::fs::write(&key, self_signed(&["x"]).key.serialize_pem()).unwrap();
    let e = TlsAcceptor::from_pem_files(&cert, &key).unwrap_err();
    assert!(e.to_string().contains("refused"), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
}

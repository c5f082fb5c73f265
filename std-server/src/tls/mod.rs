//! TLS (`wss://`, and `https://` for a server's pages) with rustls, behind the cargo feature `tls`.
//!
//! - Server: a [`TlsAcceptor`] from a PEM chain and key ([`TlsAcceptor::from_pem_files`]), given
//!   to [`crate::Server::with_tls`]. The TLS handshake runs inside the connection's task, counted
//!   by the connection limit and bounded by the handshake timeout together with the HTTP head (one
//!   deadline from accept). ALPN `http/1.1`. [`TlsAcceptor::reload_pem_files`] swaps the
//!   certificate for new connections; open ones keep the session they negotiated. A plain-HTTP
//!   request on the TLS port is answered 400 and logged, never left hanging.
//! - Client: [`crate::connect`] takes `wss://` URLs, with SNI from the URL host and the roots of
//!   [`ClientTls`] (Mozilla's, compiled in via webpki-roots, by default; a custom root; or a
//!   pinned certificate). A refused certificate is [`crate::Error::Certificate`], saying what failed.
//!
//! Crypto provider: rustls's `ring`. aws-lc-rs (rustls's default) compiles AWS-LC's large C tree
//! on every clean build (a long step on a 2-core CI machine); ring is small and is what rcgen uses
//! too, so the tree has one provider. The cost: rustls 0.23.48 deprecated ring's provider because
//! it lacks the post-quantum hybrid key exchange (X25519MLKEM768) that aws-lc-rs offers; the
//! classical groups (X25519, P-256, P-384) remain. Moving to aws-lc-rs is this one function and
//! the futures-rustls feature. The provider is passed explicitly, never installed process-wide,
//! so a program linking both providers still works.
//!
//! Not here: client certificates (mutual TLS), OCSP stapling, the platform's root store (bring it
//! as [`ClientTls::Config`] with rustls-platform-verifier), and TLS on the event-loop engine.

mod accept;
mod client;
mod pem;
mod prefixed;

pub use client::ClientTls;
pub use futures_rustls::rustls;
pub use pem::TlsConfigError;

pub(crate) use accept::accept;
pub(crate) use client::connect;

use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::ServerConfig;
use std::path::Path;
use std::sync::{Arc, RwLock};

/// The crypto provider of every configuration built here (ring; why: see the module docs).
#[allow(deprecated)] // rustls 0.23.48: ring has no post-quantum key exchange (see above)
pub(crate) fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A server's TLS configuration, shared by its connections and replaceable while it runs (clones
/// share it: keep one to call [`TlsAcceptor::reload_pem_files`] on SIGHUP).
#[derive(Clone)]
pub struct TlsAcceptor {
    config: Arc<RwLock<Arc<ServerConfig>>>,
}

impl std::fmt::Debug for TlsAcceptor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsAcceptor").finish_non_exhaustive()
    }
}

impl TlsAcceptor {
    /// Reads a PEM certificate chain (leaf first) and a PEM private key (PKCS#8, PKCS#1 or SEC1);
    /// an error names the file and what is wrong with it.
    pub fn from_pem_files(cert: &Path, key: &Path) -> Result<Self, TlsConfigError> {
        Ok(Self::from_config(Arc::new(pem::server_config(cert, key)?)))
    }

    /// From a DER chain (leaf first) and its key; ALPN `http/1.1`.
    pub fn from_der(
        chain: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
    ) -> Result<Self, TlsConfigError> {
        Ok(Self::from_config(Arc::new(server_config(chain, key)?)))
    }

    /// From a rustls configuration of your own (it decides ALPN, versions, client auth).
    pub fn from_config(config: Arc<ServerConfig>) -> Self {
        Self {
            config: Arc::new(RwLock::new(config)),
        }
    }

    /// Reads the files again and serves new connections with them; open connections keep theirs.
    /// On error the configuration in use stays.
    pub fn reload_pem_files(&self, cert: &Path, key: &Path) -> Result<(), TlsConfigError> {
        self.replace(Arc::new(pem::server_config(cert, key)?));
        Ok(())
    }

    /// Serves new connections with `config`; open connections keep theirs.
    pub fn replace(&self, config: Arc<ServerConfig>) {
        *self.config.write().unwrap_or_else(|p| p.into_inner()) = config;
    }

    /// The configuration new connections get.
    pub(crate) fn current(&self) -> Arc<ServerConfig> {
        self.config
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

/// A server configuration for `chain` and `key` with ALPN `http/1.1` (RFC 7301; a WebSocket
/// handshake is an HTTP/1.1 request).
pub(crate) fn server_config(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Result<ServerConfig, TlsConfigError> {
    let mut config = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(TlsConfigError::Rustls)?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(TlsConfigError::Rustls)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

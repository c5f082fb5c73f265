//! The client side: which certificates a `wss://` connection trusts, and its TLS handshake.

use super::{pem, provider, rustls, TlsConfigError};
use crate::conn::Stream;
use crate::error::Error;
use async_io::Timer;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use std::future::{poll_fn, Future};
use std::path::Path;
use std::pin::pin;
use std::sync::{Arc, OnceLock};
use std::task::Poll;
use std::time::Instant;

/// Which server certificates a `wss://` connection accepts ([`crate::ClientConfig::tls`]).
#[non_exhaustive]
#[derive(Clone, Debug, Default)]
pub enum ClientTls {
    /// Chains to Mozilla's root certificates (webpki-roots), valid now, for the URL's host.
    #[default]
    WebPkiRoots,
    /// Chains to one of these roots (e.g. a company or test CA), valid now, for the URL's host.
    Roots(Vec<CertificateDer<'static>>),
    /// Exactly this end-entity certificate, whatever its issuer, name or dates (a self-signed
    /// development certificate; tests). The handshake signature is still checked against it.
    Pinned(CertificateDer<'static>),
    /// A rustls configuration of your own (e.g. with rustls-platform-verifier's roots).
    Config(Arc<ClientConfig>),
}

impl ClientTls {
    /// [`ClientTls::Roots`] from a PEM file of one or more root certificates.
    pub fn roots_pem_file(path: &Path) -> Result<Self, TlsConfigError> {
        Ok(Self::Roots(pem::certificates(path)?))
    }

    /// [`ClientTls::Pinned`] from the first certificate of a PEM file.
    pub fn pinned_pem_file(path: &Path) -> Result<Self, TlsConfigError> {
        let mut chain = pem::certificates(path)?;
        Ok(Self::Pinned(chain.swap_remove(0)))
    }

    /// The rustls configuration (ALPN `http/1.1`).
    fn config(&self) -> Result<Arc<ClientConfig>, Error> {
        static WEBPKI: OnceLock<Arc<ClientConfig>> = OnceLock::new();
        let with_roots = |roots: RootCertStore| -> Result<Arc<ClientConfig>, Error> {
            let mut config = ClientConfig::builder_with_provider(provider())
                .with_safe_default_protocol_versions()
                .map_err(Error::Tls)?
                .with_root_certificates(roots)
                .with_no_client_auth();
            config.alpn_protocols = vec![b"http/1.1".to_vec()];
            Ok(Arc::new(config))
        };
        match self {
            Self::WebPkiRoots => {
                if let Some(c) = WEBPKI.get() {
                    return Ok(c.clone());
                }
                let config = with_roots(RootCertStore {
                    roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
                })?;
                Ok(WEBPKI.get_or_init(|| config).clone())
            }
            Self::Roots(certs) => {
                let mut roots = RootCertStore::empty();
                for c in certs {
                    roots.add(c.clone()).map_err(Error::Tls)?;
                }
                with_roots(roots)
            }
            Self::Pinned(cert) => {
                let verifier = Arc::new(Pinned {
                    cert: cert.clone(),
                    provider: provider(),
                });
                let mut config = ClientConfig::builder_with_provider(provider())
                    .with_safe_default_protocol_versions()
                    .map_err(Error::Tls)?
                    .dangerous()
                    .with_custom_certificate_verifier(verifier)
                    .with_no_client_auth();
                config.alpn_protocols = vec![b"http/1.1".to_vec()];
                Ok(Arc::new(config))
            }
            Self::Config(c) => Ok(c.clone()),
        }
    }
}

/// Runs the TLS handshake over `io` for `host` (SNI and the name checked), by `deadline`.
pub(crate) async fn connect(
    io: Box<dyn Stream>,
    host: &str,
    tls: &ClientTls,
    deadline: Instant,
) -> Result<Box<dyn Stream>, Error> {
    let name = ServerName::try_from(host.to_owned())
        .map_err(|_| Error::InvalidUrl("host is not a valid DNS name or IP address"))?;
    let connector = futures_rustls::TlsConnector::from(tls.config()?);
    let mut handshake = pin!(connector.connect(name, io));
    let mut timer = Timer::at(deadline);
    let done = poll_fn(|cx| {
        if let Poll::Ready(r) = handshake.as_mut().poll(cx) {
            return Poll::Ready(Some(r));
        }
        if std::pin::Pin::new(&mut timer).poll(cx).is_ready() {
            return Poll::Ready(None);
        }
        Poll::Pending
    })
    .await;
    match done {
        Some(Ok(stream)) => Ok(Box::new(stream)),
        Some(Err(e)) => Err(tls_error(e)),
        None => Err(Error::Timeout),
    }
}

/// The typed error inside futures-rustls's `io::Error`, if it holds one.
fn tls_error(e: std::io::Error) -> Error {
    match e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
        Some(rustls::Error::InvalidCertificate(c)) => Error::Certificate(c.clone()),
        Some(other) => Error::Tls(other.clone()),
        None => Error::Io(e),
    }
}

/// Accepts exactly one end-entity certificate; signatures are verified as usual.
#[derive(Debug)]
struct Pinned {
    cert: CertificateDer<'static>,
    provider: Arc<rustls::crypto::CryptoProvider>,
}

impl ServerCertVerifier for Pinned {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if end_entity.as_ref() == self.cert.as_ref() {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::UnknownIssuer,
            ))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

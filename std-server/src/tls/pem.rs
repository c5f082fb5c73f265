//! Loading a certificate chain and key from PEM files, with errors that name the file.

use super::rustls;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::fmt;
use std::path::{Path, PathBuf};

/// Why a TLS configuration could not be built.
#[non_exhaustive]
#[derive(Debug)]
pub enum TlsConfigError {
    /// A file could not be read.
    Read(PathBuf, std::io::Error),
    /// A file is not PEM, or a PEM section in it is malformed.
    Pem(PathBuf, String),
    /// The certificate file holds no `CERTIFICATE` section.
    NoCertificate(PathBuf),
    /// The key file holds no private key (`PRIVATE KEY`, `RSA PRIVATE KEY`, `EC PRIVATE KEY`).
    NoKey(PathBuf),
    /// rustls refused the pair (e.g. the key does not match the certificate, or an unsupported
    /// key type).
    Rustls(rustls::Error),
}

impl fmt::Display for TlsConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Read(p, e) => write!(f, "{}: cannot read: {e}", p.display()),
            Self::Pem(p, e) => write!(f, "{}: not valid PEM: {e}", p.display()),
            Self::NoCertificate(p) => write!(
                f,
                "{}: no certificate (expected a PEM \"BEGIN CERTIFICATE\" section)",
                p.display()
            ),
            Self::NoKey(p) => write!(
                f,
                "{}: no private key (expected a PEM \"BEGIN PRIVATE KEY\", \"BEGIN RSA PRIVATE KEY\" or \"BEGIN EC PRIVATE KEY\" section)",
                p.display()
            ),
            Self::Rustls(e) => write!(f, "certificate and key refused: {e}"),
        }
    }
}

impl std::error::Error for TlsConfigError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Read(_, e) => Some(e),
            Self::Rustls(e) => Some(e),
            _ => None,
        }
    }
}

/// Reads every certificate of a PEM file (leaf first).
pub(crate) fn certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsConfigError> {
    let bytes = std::fs::read(path).map_err(|e| TlsConfigError::Read(path.to_owned(), e))?;
    let chain = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsConfigError::Pem(path.to_owned(), e.to_string()))?;
    if chain.is_empty() {
        return Err(TlsConfigError::NoCertificate(path.to_owned()));
    }
    Ok(chain)
}

/// Reads the first private key of a PEM file.
fn private_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsConfigError> {
    let bytes = std::fs::read(path).map_err(|e| TlsConfigError::Read(path.to_owned(), e))?;
    PrivateKeyDer::from_pem_slice(&bytes).map_err(|e| match e {
        rustls::pki_types::pem::Error::NoItemsFound => TlsConfigError::NoKey(path.to_owned()),
        e => TlsConfigError::Pem(path.to_owned(), e.to_string()),
    })
}

/// A server configuration from a PEM chain file and a PEM key file.
pub(crate) fn server_config(
    cert: &Path,
    key: &Path,
) -> Result<rustls::ServerConfig, TlsConfigError> {
    super::server_config(certificates(cert)?, private_key(key)?)
}

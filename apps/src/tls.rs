//! The servers' TLS flags: `--tls-cert FILE --tls-key FILE` (PEM), or `--tls-self-signed` (a
//! development certificate for localhost made at start, its fingerprints logged), and the
//! SIGHUP reload of the files.

use base64ct::{Base64, Encoding};
use clap::Args;
use sha2::{Digest, Sha256};
use std::io;
use std::path::PathBuf;
use ws_server::tls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use ws_server::tls::TlsAcceptor;

/// TLS flags (no flag: plain http:// and ws://).
#[derive(Args, Debug, Clone, Default)]
pub struct TlsArgs {
    /// PEM certificate chain, leaf first: serve https:// and wss:// (with --tls-key). SIGHUP
    /// reads both files again; open connections keep their certificate.
    #[arg(long, requires = "tls_key", value_name = "FILE")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of --tls-cert (PKCS#8, PKCS#1 or SEC1).
    #[arg(long, requires = "tls_cert", value_name = "FILE")]
    pub tls_key: Option<PathBuf>,
    /// Development: serve TLS with a self-signed certificate for localhost, 127.0.0.1 and ::1
    /// made at start; its SHA-256 fingerprint and SPKI hash (for Chromium's
    /// --ignore-certificate-errors-spki-list) are logged.
    #[arg(long, conflicts_with_all = ["tls_cert", "tls_key"])]
    pub tls_self_signed: bool,
    /// With --tls-self-signed: also write its cert.pem and key.pem into DIR (for clients that
    /// pin it).
    #[arg(long, requires = "tls_self_signed", value_name = "DIR")]
    pub tls_self_signed_out: Option<PathBuf>,
}

/// A server's TLS: the acceptor, and how SIGHUP reloads it.
#[derive(Clone, Debug)]
pub struct Tls {
    /// Shared with the server; replaced on reload.
    pub acceptor: TlsAcceptor,
    /// The files to read again on SIGHUP (none for a self-signed certificate).
    files: Option<(PathBuf, PathBuf)>,
}

impl Tls {
    /// Reads the certificate files again (SIGHUP); logs what happened. New connections get the
    /// new certificate, open ones keep theirs; on error the old one stays.
    pub fn reload(&self) {
        let Some((cert, key)) = &self.files else {
            log::info!("SIGHUP: no certificate files to reload (self-signed certificate)");
            return;
        };
        match self.acceptor.reload_pem_files(cert, key) {
            Ok(()) => log::info!(
                "SIGHUP: certificate reloaded from {} (open connections keep theirs)",
                cert.display()
            ),
            Err(e) => log::error!("SIGHUP: certificate not reloaded, the old one stays: {e}"),
        }
    }
}

impl TlsArgs {
    /// True if these flags ask for TLS.
    pub fn enabled(&self) -> bool {
        self.tls_cert.is_some() || self.tls_self_signed
    }

    /// The TLS these flags ask for, or `None` for plain TCP. Errors name the file.
    pub fn load(&self) -> io::Result<Option<Tls>> {
        if let (Some(cert), Some(key)) = (&self.tls_cert, &self.tls_key) {
            let acceptor = TlsAcceptor::from_pem_files(cert, key)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e.to_string()))?;
            log::info!("TLS: certificate {}", cert.display());
            return Ok(Some(Tls {
                acceptor,
                files: Some((cert.clone(), key.clone())),
            }));
        }
        if !self.tls_self_signed {
            return Ok(None);
        }
        let names = ["localhost", "127.0.0.1", "::1"];
        let generated = rcgen::generate_simple_self_signed(names.map(String::from).to_vec())
            .map_err(|e| io::Error::other(format!("self-signed certificate: {e}")))?;
        let der: CertificateDer<'static> = generated.cert.der().clone();
        let spki = generated.key_pair.public_key_der();
        log::info!(
            "TLS: self-signed development certificate for {}; SHA-256 fingerprint {}; SPKI sha256 {} (chromium --ignore-certificate-errors-spki-list={})",
            names.join(", "),
            fingerprint(&der),
            Base64::encode_string(&Sha256::digest(&spki)),
            Base64::encode_string(&Sha256::digest(&spki)),
        );
        if let Some(dir) = &self.tls_self_signed_out {
            std::fs::create_dir_all(dir)?;
            std::fs::write(dir.join("cert.pem"), generated.cert.pem())?;
            std::fs::write(dir.join("key.pem"), generated.key_pair.serialize_pem())?;
            log::info!("TLS: wrote {}/cert.pem and key.pem", dir.display());
        }
        let key =
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(generated.key_pair.serialize_der()));
        let acceptor =
            TlsAcceptor::from_der(vec![der], key).map_err(|e| io::Error::other(e.to_string()))?;
        Ok(Some(Tls {
            acceptor,
            files: None,
        }))
    }
}

/// `AB:CD:...`: the SHA-256 of a certificate as browsers show it.
pub fn fingerprint(cert: &[u8]) -> String {
    Sha256::digest(cert)
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

//! HTTPS on `listen`: the certificate chain and key named by `tls_cert` and `tls_key`, loaded
//! into a rustls server config that every new connection reads.
//!
//! Invariants: the served config is only ever replaced by one that loaded completely (every
//! certificate parsed, the key parsed and matching the first certificate), so a bad file at a
//! reload leaves the running certificate in place; connections already open keep the one they
//! were made with. Only HTTP/1.1 is offered (ALPN `http/1.1`), with TLS 1.2 and 1.3 or 1.3
//! alone as `tls_min_version` says. The crypto provider is aws-lc-rs, the one reqwest's rustls
//! uses for outgoing deliveries, so one TLS library serves both directions. Errors name the file
//! and say what is wrong with it; they never quote key material.

use crate::config::{Config, TlsVersion};
use rustls::ServerConfig;
use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use tokio_rustls::TlsAcceptor;

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("{path}: cannot read: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Certificate { path: PathBuf, message: String },
    #[error("{path}: {message}")]
    Key { path: PathBuf, message: String },
    #[error("{key}: this private key does not belong to the certificate in {cert}")]
    Mismatch { cert: PathBuf, key: PathBuf },
}

/// The TLS side of the HTTP listener as it is now: `None` serves plain HTTP.
#[derive(Default)]
pub struct Slot {
    current: RwLock<Option<TlsAcceptor>>,
}

impl Slot {
    /// What a connection accepted now is served with.
    pub fn acceptor(&self) -> Option<TlsAcceptor> {
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub fn set(&self, config: Option<Arc<ServerConfig>>) {
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = config.map(TlsAcceptor::from);
    }
}

/// The server config for `config`'s TLS settings, or `None` when TLS is off.
pub fn load(config: &Config) -> Result<Option<Arc<ServerConfig>>, TlsError> {
    let (Some(cert), Some(key)) = (&config.tls_cert, &config.tls_key) else {
        return Ok(None);
    };
    let chain = read_chain(cert)?;
    let private = read_key(key)?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let versions: &[&rustls::SupportedProtocolVersion] = match config.tls_min_version {
        TlsVersion::V1_2 => &[&rustls::version::TLS13, &rustls::version::TLS12],
        TlsVersion::V1_3 => &[&rustls::version::TLS13],
    };
    let builder = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(versions)
        .map_err(|e| TlsError::Certificate {
            path: cert.clone(),
            message: format!("cannot set up TLS: {e}"),
        })?
        .with_no_client_auth();
    let mut server = builder
        .with_single_cert(chain, private)
        .map_err(|e| match e {
            rustls::Error::InconsistentKeys(_) => TlsError::Mismatch {
                cert: cert.clone(),
                key: key.clone(),
            },
            rustls::Error::InvalidCertificate(e) => TlsError::Certificate {
                path: cert.clone(),
                message: format!("the certificate is not usable: {e}"),
            },
            _ => TlsError::Key {
                path: key.clone(),
                message: "not a private key hookd can use (RSA, ECDSA P-256/P-384 or Ed25519)"
                    .into(),
            },
        })?;
    server.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Some(Arc::new(server)))
}

fn read(path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Read {
        path: path.to_path_buf(),
        source,
    })
}

fn read_chain(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let bad = |message: String| TlsError::Certificate {
        path: path.to_path_buf(),
        message,
    };
    let chain = CertificateDer::pem_slice_iter(&read(path)?)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad(format!("not a valid PEM file: {}", describe(&e))))?;
    if chain.is_empty() {
        return Err(bad(
            "holds no certificate (expected -----BEGIN CERTIFICATE-----)".into(),
        ));
    }
    Ok(chain)
}

fn read_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = std::fs::metadata(path)
        && meta.permissions().mode() & 0o004 != 0
    {
        tracing::warn!(
            "{}: the private key is readable by every user; chmod o-r it",
            path.display()
        );
    }
    PrivateKeyDer::from_pem_slice(&read(path)?).map_err(|e| TlsError::Key {
        path: path.to_path_buf(),
        message: match e {
            pem::Error::NoItemsFound => {
                "holds no private key (expected -----BEGIN PRIVATE KEY-----, or an RSA or EC key)"
                    .into()
            }
            e => format!("not a valid PEM private key: {}", describe(&e)),
        },
    })
}

/// A PEM error in words, without the bytes it tripped over (they may be key material).
fn describe(e: &pem::Error) -> &'static str {
    match e {
        pem::Error::MissingSectionEnd { .. } => "a section has no END line",
        pem::Error::IllegalSectionStart { .. } => "a BEGIN line is malformed",
        pem::Error::Base64Decode(_) => "a section is not valid base64",
        pem::Error::NoItemsFound => "nothing found",
        pem::Error::SectionTooLarge => "a section is too large",
        _ => "unreadable",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let (cert, key) = (dir.path().join("c.pem"), dir.path().join("k.pem"));
        std::fs::write(&cert, "not a certificate\n").unwrap();
        std::fs::write(&key, "").unwrap();
        let config = Config {
            tls_cert: Some(cert.clone()),
            tls_key: Some(key.clone()),
            ..Config::default()
        };
        let e = load(&config).unwrap_err().to_string();
        assert!(e.starts_with(&cert.display().to_string()), "{e}");
        assert!(e.contains("no certificate"), "{e}");
        std::fs::write(&cert, "-----BEGIN CERTIFICATE-----\nAAAA\n").unwrap();
        let e = load(&config).unwrap_err().to_string();
        assert!(e.contains("no END line"), "{e}");
        assert!(load(&Config::default()).unwrap().is_none());
    }
}

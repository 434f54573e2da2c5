//! TLS to PostgreSQL on rustls, as libpq's `sslmode` and `sslrootcert` say, for the pool, the
//! migrations and the listener alike (no OpenSSL):
//!
//! | `sslmode` | TLS | the server's certificate |
//! | --- | --- | --- |
//! | `disable` | never | – |
//! | `prefer` (the default, as libpq's) | when the server offers it | not checked |
//! | `require` | always | not checked; with `sslrootcert`, as `verify-ca` (as libpq) |
//! | `verify-ca` | always | signed by a trusted root |
//! | `verify-full` | always | signed by a trusted root, and naming the host connected to |
//!
//! The trusted roots are `sslrootcert` (a PEM file; `system` for the system's), else the
//! system's. Channel binding is not offered: SCRAM authenticates without it.

use std::fmt;
use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::ServerCertVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject as _;
use rustls::{ClientConfig, RootCertStore};
use tokio_postgres::config::SslMode;

/// What is wrong with `database.url`'s TLS settings.
#[derive(Debug, thiserror::Error)]
pub enum PgTlsError {
    #[error("database.url is not a postgres:// URL: {0}")]
    Url(String),
    #[error(
        "database.url: sslmode={0:?} is not one of disable, prefer, require, verify-ca, verify-full"
    )]
    SslMode(String),
    #[error("database.url: sslrootcert {path:?} cannot be read: {reason}")]
    RootCert { path: String, reason: String },
    #[error("database.url: {0}")]
    Config(String),
}

/// How to reach the database: the connection settings and the TLS that goes with them.
#[derive(Clone)]
pub struct PgConnector {
    config: tokio_postgres::Config,
    tls: RustlsConnect,
}

impl fmt::Debug for PgConnector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgConnector")
            .field("ssl_mode", &self.config.get_ssl_mode())
            .finish_non_exhaustive()
    }
}

/// A client and the connection that drives it.
pub type PgClient = (
    tokio_postgres::Client,
    tokio_postgres::Connection<tokio_postgres::Socket, RustlsStream<tokio_postgres::Socket>>,
);

/// The modes the gateway takes, as libpq names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl PgConnector {
    /// The connector for `url` (`postgres://…`, with `sslmode` and `sslrootcert` read here and
    /// every other parameter as tokio-postgres reads it).
    pub fn new(url: &str) -> Result<Self, PgTlsError> {
        crate::tls_provider::install_tls_provider();
        let mut parsed = reqwest::Url::parse(url).map_err(|e| PgTlsError::Url(e.to_string()))?;
        let mut mode = None;
        let mut root_cert = None;
        let mut kept: Vec<(String, String)> = Vec::new();
        for (key, value) in parsed.query_pairs() {
            match key.as_ref() {
                "sslmode" => mode = Some(value.into_owned()),
                "sslrootcert" => root_cert = Some(value.into_owned()),
                _ => kept.push((key.into_owned(), value.into_owned())),
            }
        }
        if kept.is_empty() {
            parsed.set_query(None);
        } else {
            parsed.query_pairs_mut().clear().extend_pairs(&kept);
        }
        let mode = match mode.as_deref() {
            None | Some("prefer" | "allow") => Mode::Prefer,
            Some("disable") => Mode::Disable,
            Some("require") if root_cert.is_some() => Mode::VerifyCa,
            Some("require") => Mode::Require,
            Some("verify-ca") => Mode::VerifyCa,
            Some("verify-full") => Mode::VerifyFull,
            Some(other) => return Err(PgTlsError::SslMode(other.to_owned())),
        };
        let mut config: tokio_postgres::Config = parsed
            .as_str()
            .parse()
            .map_err(|e: tokio_postgres::Error| PgTlsError::Config(e.to_string()))?;
        config.ssl_mode(match mode {
            Mode::Disable => SslMode::Disable,
            Mode::Prefer => SslMode::Prefer,
            Mode::Require | Mode::VerifyCa | Mode::VerifyFull => SslMode::Require,
        });
        let tls = RustlsConnect(Arc::new(client_config(mode, root_cert.as_deref())?));
        Ok(Self { config, tls })
    }

    /// The connection settings (to add to them before connecting).
    pub fn config(&self) -> &tokio_postgres::Config {
        &self.config
    }

    /// Connects with `config` (these settings, changed) over this connector's TLS.
    pub async fn connect_with(
        &self,
        config: &tokio_postgres::Config,
    ) -> Result<PgClient, tokio_postgres::Error> {
        config.connect(self.tls.clone()).await
    }

    /// Connects with these settings.
    pub async fn connect(&self) -> Result<PgClient, tokio_postgres::Error> {
        self.connect_with(&self.config).await
    }
}

/// The trusted roots: the PEM file at `path` (`system`: the system's), else the system's.
fn roots(path: Option<&str>) -> Result<RootCertStore, PgTlsError> {
    let mut roots = RootCertStore::empty();
    match path {
        Some(path) if path != "system" => {
            let unreadable = |reason: String| PgTlsError::RootCert {
                path: path.to_owned(),
                reason,
            };
            let certificates = CertificateDer::pem_file_iter(path)
                .map_err(|e| unreadable(e.to_string()))?
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| unreadable(e.to_string()))?;
            if certificates.is_empty() {
                return Err(unreadable("it holds no certificate".into()));
            }
            for certificate in certificates {
                roots
                    .add(certificate)
                    .map_err(|e| unreadable(e.to_string()))?;
            }
        }
        _ => {
            let found = rustls_native_certs::load_native_certs();
            for certificate in found.certs {
                // A system root rustls cannot read is one no server of ours is signed by.
                let _ = roots.add(certificate);
            }
        }
    }
    Ok(roots)
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn client_config(mode: Mode, root_cert: Option<&str>) -> Result<ClientConfig, PgTlsError> {
    let builder = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| PgTlsError::Config(e.to_string()))?;
    let verifier: Arc<dyn ServerCertVerifier> = match mode {
        Mode::Disable | Mode::Prefer | Mode::Require => Arc::new(Unverified(provider())),
        Mode::VerifyCa | Mode::VerifyFull => {
            let webpki = WebPkiServerVerifier::builder_with_provider(
                Arc::new(roots(root_cert)?),
                provider(),
            )
            .build()
            .map_err(|e| PgTlsError::Config(format!("no trusted root: {e}")))?;
            if mode == Mode::VerifyCa {
                Arc::new(AnyName(webpki))
            } else {
                webpki
            }
        }
    };
    Ok(builder
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth())
}

mod stream;
mod verify;

use stream::RustlsConnect;
pub use stream::RustlsStream;
use verify::{AnyName, Unverified};

#[cfg(test)]
mod tests {
    use super::*;

    fn mode_of(url: &str) -> Option<SslMode> {
        PgConnector::new(url)
            .ok()
            .map(|c| c.config().get_ssl_mode())
    }

    #[test]
    fn sslmode_is_read_as_libpq_reads_it_and_taken_out_of_the_url() {
        let base = "postgres://u:p@127.0.0.1:5432/db";
        assert_eq!(mode_of(base), Some(SslMode::Prefer));
        assert_eq!(
            mode_of(&format!("{base}?sslmode=disable")),
            Some(SslMode::Disable)
        );
        for mode in ["require", "verify-ca", "verify-full"] {
            assert_eq!(
                mode_of(&format!("{base}?sslmode={mode}&application_name=x")),
                Some(SslMode::Require),
                "{mode}"
            );
        }
        assert!(matches!(
            PgConnector::new(&format!("{base}?sslmode=sometimes")),
            Err(PgTlsError::SslMode(_))
        ));
        let missing = PgConnector::new(&format!(
            "{base}?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem"
        ));
        assert!(
            matches!(&missing, Err(PgTlsError::RootCert { path, .. }) if path == "/nonexistent/ca.pem"),
            "{missing:?}"
        );
        let connector = PgConnector::new(&format!("{base}?sslmode=require")).expect("reads");
        assert_eq!(connector.config().get_dbname(), Some("db"));
        assert!(
            !format!("{connector:?}").contains(":p@"),
            "no password shown"
        );
    }
}

//! A certificate authority of one test's own, and the server certificates it signs: for the
//! gateway's TLS to PostgreSQL and Redis.

use std::path::{Path, PathBuf};

use rand::Rng;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};

/// A self-signed CA, its PEM written to a file of its own (removed when dropped).
#[derive(Debug)]
pub struct TestCa {
    params: CertificateParams,
    key: KeyPair,
    pem: String,
    dir: PathBuf,
}

/// A server's certificate and key, as PEM.
#[derive(Debug, Clone)]
pub struct ServerCertificate {
    pub cert_pem: String,
    pub key_pem: String,
}

impl TestCa {
    /// A new CA, named `name`.
    pub fn new(name: &str) -> Self {
        let key = KeyPair::generate().expect("a key");
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let pem = params.self_signed(&key).expect("self-signed").pem();
        let dir = std::env::temp_dir().join(format!(
            "calendly-gateway-ca-{:016x}",
            rand::rng().random::<u64>()
        ));
        std::fs::create_dir_all(&dir).expect("a folder");
        std::fs::write(dir.join("ca.pem"), &pem).expect("written");
        Self {
            params,
            key,
            pem,
            dir,
        }
    }

    /// The CA's certificate file (PEM).
    pub fn pem_file(&self) -> PathBuf {
        self.dir.join("ca.pem")
    }

    pub fn pem(&self) -> &str {
        &self.pem
    }

    /// A server certificate naming `names` (host names or IP addresses), signed by this CA.
    pub fn issue(&self, names: &[&str]) -> ServerCertificate {
        let key = KeyPair::generate().expect("a key");
        let mut params =
            CertificateParams::new(names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>())
                .expect("params");
        params.distinguished_name.push(
            DnType::CommonName,
            names.first().copied().unwrap_or("server"),
        );
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let issuer = Issuer::from_params(&self.params, &self.key);
        let cert = params.signed_by(&key, &issuer).expect("signed");
        ServerCertificate {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        }
    }
}

impl ServerCertificate {
    /// Writes `server.crt` and `server.key` into `dir`: their paths.
    pub fn write_to(&self, dir: &Path) -> (PathBuf, PathBuf) {
        let (cert, key) = (dir.join("server.crt"), dir.join("server.key"));
        std::fs::write(&cert, &self.cert_pem).expect("written");
        std::fs::write(&key, &self.key_pem).expect("written");
        (cert, key)
    }
}

impl Drop for TestCa {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

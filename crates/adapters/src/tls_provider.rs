//! The process's TLS crypto provider: ring, for every TLS client the adapters make (reqwest's,
//! PostgreSQL's, Redis's).

/// Makes ring the process's TLS crypto provider. reqwest is built without one (which keeps
/// aws-lc's C build out) and refuses to build a client until one is installed; every process
/// that builds a TLS client calls this first. A second call changes nothing.
pub fn install_tls_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

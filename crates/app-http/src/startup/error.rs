//! Why the application could not start.

/// What stopped the start, named.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Key(#[from] adapters::crypto::KeyError),
    #[error(transparent)]
    Pool(#[from] adapters::PoolSetupError),
    #[error(transparent)]
    Migration(#[from] adapters::postgres::MigrationError),
    #[error("cannot build the Calendly client: {0}")]
    HttpClient(#[from] adapters::calendly::ClientBuildError),
    #[error("database: {0}")]
    Repository(domain::RepositoryError),
    #[error(transparent)]
    SharedTier(#[from] adapters::shared_tier::InvalidRedisUrl),
    #[error("cannot listen on {address}: {source}")]
    Bind {
        address: String,
        source: std::io::Error,
    },
}

//! The storage adapter `database.url` selects: migrations, repositories and key rotation.

use std::sync::Arc;
use std::time::Duration;

use adapters::KeyRotation;
use adapters::crypto::TokenCipher;
use adapters::postgres::{PgPoolSettings, PgTokenRepository};
use adapters::sqlite::{SqlitePoolSettings, SqliteTokenRepository};
use domain::TokenRepository;
use secrecy::ExposeSecret;

use super::StartupError;
use crate::metrics::Metrics;
use crate::settings::Settings;

/// How much longer than its busy timeout an SQLite query may take before it is given up.
const SQLITE_QUERY_GRACE: Duration = Duration::from_secs(1);

/// Which storage adapter `database.url` selects.
enum Database<'a> {
    Postgres,
    /// The file of the embedded database.
    Sqlite(&'a str),
}

fn database(settings: &Settings) -> Database<'_> {
    let url = settings.database.url.expose_secret();
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Database::Postgres
    } else {
        Database::Sqlite(adapters::sqlite::sqlite_path(url))
    }
}

/// Applies pending migrations to the configured database (creating an SQLite file and its
/// folder when missing).
pub async fn migrate(settings: &Settings) -> Result<Vec<String>, StartupError> {
    Ok(match database(settings) {
        Database::Postgres => adapters::postgres::run_migrations(&settings.database.url).await?,
        Database::Sqlite(path) => adapters::sqlite::run_migrations(path).await?,
    })
}

fn pg_repository(
    settings: &Settings,
    cipher: Arc<TokenCipher>,
    pool_size: usize,
) -> Result<Arc<PgTokenRepository>, StartupError> {
    let pool = adapters::postgres::build_pool(&PgPoolSettings {
        url: settings.database.url.clone(),
        max_size: pool_size,
        acquire_timeout: Duration::from_millis(settings.database.pool_timeout_ms),
        statement_timeout: Duration::from_millis(settings.database.statement_timeout_ms),
    })?;
    Ok(Arc::new(PgTokenRepository::new(
        pool,
        cipher,
        Duration::from_millis(settings.database.statement_timeout_ms),
    )))
}

fn sqlite_repository(
    settings: &Settings,
    path: &str,
    cipher: Arc<TokenCipher>,
    pool_size: usize,
) -> Result<Arc<SqliteTokenRepository>, StartupError> {
    let pool = adapters::sqlite::build_pool(&SqlitePoolSettings {
        path: path.to_owned(),
        max_size: pool_size,
        acquire_timeout: Duration::from_millis(settings.database.pool_timeout_ms),
        busy_timeout: Duration::from_millis(settings.database.statement_timeout_ms),
    })?;
    Ok(Arc::new(SqliteTokenRepository::new(
        pool,
        cipher,
        // SQLite's own busy timeout answers first.
        Duration::from_millis(settings.database.statement_timeout_ms) + SQLITE_QUERY_GRACE,
    )))
}

/// The repository on the configured database, its pool watched by `metrics` when given.
pub(super) fn token_repository(
    settings: &Settings,
    cipher: Arc<TokenCipher>,
    pool_size: usize,
    metrics: Option<&Metrics>,
) -> Result<Arc<dyn TokenRepository>, StartupError> {
    Ok(match database(settings) {
        Database::Postgres => {
            let repository = pg_repository(settings, cipher, pool_size)?;
            if let Some(metrics) = metrics {
                let watched = Arc::clone(&repository);
                metrics.watch_pool(move || watched.pool_status());
            }
            repository
        }
        Database::Sqlite(path) => {
            let repository = sqlite_repository(settings, path, cipher, pool_size)?;
            if let Some(metrics) = metrics {
                let watched = Arc::clone(&repository);
                metrics.watch_pool(move || watched.pool_status());
            }
            repository
        }
    })
}

/// `calendly-gateway rotate-keys`: applies pending migrations, then seals every stored token
/// with the current key (the first of `calendly.token_encryption_keys`).
pub async fn rotate_keys(settings: &Settings) -> Result<KeyRotation, StartupError> {
    migrate(settings).await?;
    let cipher = Arc::new(TokenCipher::from_keys(&settings.token_encryption_keys())?);
    let rotated = match database(settings) {
        Database::Postgres => pg_repository(settings, cipher, 2)?.rotate_keys().await,
        Database::Sqlite(path) => {
            sqlite_repository(settings, path, cipher, 2)?
                .rotate_keys()
                .await
        }
    };
    rotated.map_err(StartupError::Repository)
}

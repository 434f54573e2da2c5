//! The storage adapter `database.url` selects: migrations, repositories and key rotation; and
//! the stores beside it: connections kept in memory, the tier the instances share (Redis).

use std::sync::Arc;
use std::time::Duration;

use adapters::KeyRotation;
use adapters::crypto::TokenCipher;
use adapters::postgres::{PgPoolSettings, PgTokenRepository};
use adapters::shared_tier::{SharedTier, SharedTierObserver, SharedTierSettings};
use adapters::sqlite::{SqlitePoolSettings, SqliteTokenRepository};
use domain::booking::{IdempotencyKeys, SlotHolds};
use domain::{OAuthStarts, TokenRepository, WebhookChecks};
use secrecy::ExposeSecret;

use super::error::StartupError;
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

/// The connections kept in memory, listening on the configured database for their changes:
/// PostgreSQL with `cache.connections_max_users` above 0 only (SQLite has no notices).
pub(super) fn connection_cache(
    settings: &Settings,
    metrics: &Arc<Metrics>,
) -> Option<Arc<adapters::connections::ConnectionCache>> {
    let max_users = usize::try_from(settings.cache.connections_max_users).unwrap_or(usize::MAX);
    if max_users == 0 || !matches!(database(settings), Database::Postgres) {
        return None;
    }
    // The listener is a task of the runtime the application is built on: without one, no cache.
    tokio::runtime::Handle::try_current().ok()?;
    let cache = adapters::connections::ConnectionCache::new(
        max_users,
        Some(Arc::new(metrics.freshness.clone()) as Arc<dyn adapters::cache::CacheObserver>),
    );
    // Runs for the life of the process (or of the runtime it was started on).
    drop(cache.listen(settings.database.url.clone()));
    Some(cache)
}

/// The tier the instances share (Redis), when `cache.redis_url` is set; it connects in the
/// background, so that the gateway starts (and answers) whether Redis is up or not.
pub(super) fn shared_tier(
    settings: &Settings,
    metrics: &Arc<Metrics>,
) -> Result<Option<SharedTier>, StartupError> {
    let Some(url) = &settings.cache.redis_url else {
        return Ok(None);
    };
    let tier = SharedTier::new(
        &SharedTierSettings {
            url: url.expose_secret().to_owned(),
            prefix: settings.cache.redis_prefix.clone(),
            timeout: Duration::from_millis(settings.cache.redis_timeout_ms),
            connections: settings.cache.redis_connections,
            ca_file: settings.cache.redis_ca_file.clone(),
        },
        Some(Arc::new(metrics.freshness.clone()) as Arc<dyn SharedTierObserver>),
    )?;
    if tokio::runtime::Handle::try_current().is_ok() {
        tier.start();
    }
    Ok(Some(tier))
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
    Ok(Arc::new(
        PgTokenRepository::new(
            pool,
            cipher,
            Duration::from_millis(settings.database.statement_timeout_ms),
        )
        .with_lock_wait(lock_wait(settings)),
    ))
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

/// How long a request waits for a connection locked for renewing its credential: as long as
/// the renewal may take, a call to Calendly's OAuth server and the write of its answer.
fn lock_wait(settings: &Settings) -> Duration {
    settings.calendly_timeout() + Duration::from_millis(settings.database.statement_timeout_ms)
}

/// What is kept in the configured database, on one pool: the connections, and the OAuth
/// starts awaiting their callback.
#[derive(Clone)]
pub(super) struct Storage {
    pub tokens: Arc<dyn TokenRepository>,
    pub oauth_starts: Arc<dyn OAuthStarts>,
    pub webhook_checks: Arc<dyn WebhookChecks>,
    /// Bookings' idempotency keys and held seats.
    pub booking_keys: Arc<dyn IdempotencyKeys>,
    pub slot_holds: Arc<dyn SlotHolds>,
}

/// The storage on the configured database, its pool watched by `metrics` when given.
pub(super) fn storage(
    settings: &Settings,
    cipher: Arc<TokenCipher>,
    pool_size: usize,
    metrics: Option<&Metrics>,
) -> Result<Storage, StartupError> {
    Ok(match database(settings) {
        Database::Postgres => {
            let repository = pg_repository(settings, cipher, pool_size)?;
            if let Some(metrics) = metrics {
                let watched = Arc::clone(&repository);
                metrics.watch_pool(move || watched.pool_status());
            }
            Storage {
                tokens: Arc::clone(&repository) as Arc<dyn TokenRepository>,
                oauth_starts: Arc::clone(&repository) as Arc<dyn OAuthStarts>,
                booking_keys: Arc::clone(&repository) as Arc<dyn IdempotencyKeys>,
                slot_holds: Arc::clone(&repository) as Arc<dyn SlotHolds>,
                webhook_checks: repository,
            }
        }
        Database::Sqlite(path) => {
            let repository = sqlite_repository(settings, path, cipher, pool_size)?;
            if let Some(metrics) = metrics {
                let watched = Arc::clone(&repository);
                metrics.watch_pool(move || watched.pool_status());
            }
            Storage {
                tokens: Arc::clone(&repository) as Arc<dyn TokenRepository>,
                oauth_starts: Arc::clone(&repository) as Arc<dyn OAuthStarts>,
                booking_keys: Arc::clone(&repository) as Arc<dyn IdempotencyKeys>,
                slot_holds: Arc::clone(&repository) as Arc<dyn SlotHolds>,
                webhook_checks: repository,
            }
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

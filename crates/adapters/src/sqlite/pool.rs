//! A pool of SQLite connections in WAL mode with a busy timeout, so that concurrent requests
//! wait for each other instead of failing with "database is locked".

use std::path::Path;
use std::time::Duration;

use diesel::ConnectionError;
use diesel::sqlite::SqliteConnection;
use diesel_async::pooled_connection::deadpool::Pool;
use diesel_async::pooled_connection::{
    AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod,
};
use diesel_async::sync_connection_wrapper::SyncConnectionWrapper;
use diesel_async::{AsyncConnection as _, SimpleAsyncConnection};

use crate::token_store::{PoolSetupError, bounded_pool};

pub type SqliteConnectionAsync = SyncConnectionWrapper<SqliteConnection>;
pub type SqlitePool = Pool<SqliteConnectionAsync>;

#[derive(Debug, Clone)]
pub struct SqlitePoolSettings {
    /// The database file; its folder is created when missing.
    pub path: String,
    pub max_size: usize,
    /// How long a request waits for a free connection before the database counts as
    /// unavailable.
    pub acquire_timeout: Duration,
    /// How long a statement waits for another connection's write lock.
    pub busy_timeout: Duration,
}

/// The file a `database.url` names: `sqlite://data/x.db`, `sqlite:data/x.db` or `data/x.db`.
pub fn sqlite_path(url: &str) -> &str {
    url.strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url)
}

/// Creates the folder of `path` when it does not exist yet.
pub(super) fn ensure_parent_dir(path: &str) -> std::io::Result<()> {
    match Path::new(path).parent() {
        Some(parent) if !parent.as_os_str().is_empty() => std::fs::create_dir_all(parent),
        _ => Ok(()),
    }
}

/// The settings every connection gets. The busy timeout comes first: setting the journal
/// mode takes a lock, and a connection made while another writes would otherwise fail at once
/// with "database is locked".
pub(super) fn pragmas(busy_timeout: Duration) -> String {
    format!(
        "PRAGMA busy_timeout = {}; \
         PRAGMA journal_mode = WAL; \
         PRAGMA synchronous = NORMAL; \
         PRAGMA foreign_keys = ON;",
        busy_timeout.as_millis()
    )
}

/// A pool that opens connections lazily.
pub fn build_pool(settings: &SqlitePoolSettings) -> Result<SqlitePool, PoolSetupError> {
    let pragmas = pragmas(settings.busy_timeout);
    let mut config = ManagerConfig::default();
    // No test query on every checkout, which would double the round trips of a request; a local file has nothing to verify.
    config.recycling_method = RecyclingMethod::Fast;
    config.custom_setup = Box::new(move |path| {
        let path = path.to_owned();
        let pragmas = pragmas.clone();
        Box::pin(async move {
            let mut connection = SqliteConnectionAsync::establish(&path).await?;
            connection
                .batch_execute(&pragmas)
                .await
                .map_err(ConnectionError::CouldntSetupConfiguration)?;
            Ok(connection)
        })
    });
    let manager = AsyncDieselConnectionManager::<SqliteConnectionAsync>::new_with_config(
        &settings.path,
        config,
    );
    bounded_pool(manager, settings.max_size, settings.acquire_timeout)
}

#[cfg(test)]
mod tests {
    use super::sqlite_path;

    #[test]
    fn urls_name_files() {
        assert_eq!(sqlite_path("sqlite://data/gateway.db"), "data/gateway.db");
        assert_eq!(
            sqlite_path("sqlite:///var/lib/gateway.db"),
            "/var/lib/gateway.db"
        );
        assert_eq!(sqlite_path("sqlite:data/gateway.db"), "data/gateway.db");
        assert_eq!(sqlite_path("data/gateway.db"), "data/gateway.db");
    }
}

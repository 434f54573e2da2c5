//! The embedded migrations, applied under an advisory lock.

use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel_async::AsyncPgConnection;
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use secrecy::{ExposeSecret, SecretString};

use super::pool::connect;
use super::tls::PgConnector;
use crate::errors::error_chain;

/// How long connecting to migrate may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");
/// Any constant will do, as long as it is this service's own: instances starting together
/// wait for each other here rather than race through the migrations.
const MIGRATION_LOCK_KEY: i64 = 0x6361_6c65_6e64_6c79; // "calendly"

#[derive(Debug, thiserror::Error)]
pub enum MigrationError {
    #[error("cannot connect to the database to migrate it: {0}")]
    Connect(String),
    #[error("a migration failed: {0}")]
    Failed(String),
}

/// Applies the migrations not yet applied; returns their names. Safe when several instances
/// start at once: they take turns under an advisory lock.
pub async fn run_migrations(url: &SecretString) -> Result<Vec<String>, MigrationError> {
    let connector = PgConnector::new(url.expose_secret())
        .map_err(|e| MigrationError::Connect(e.to_string()))?;
    let connection = connect(&connector, CONNECT_TIMEOUT)
        .await
        .map_err(|e| MigrationError::Connect(error_chain(&e)))?;
    // diesel_migrations is synchronous: it runs on a blocking thread through a wrapper that
    // drives the async connection.
    tokio::task::spawn_blocking(move || {
        let mut connection = AsyncConnectionWrapper::<AsyncPgConnection>::from(connection);
        connection
            .batch_execute(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})"))
            .map_err(|e| MigrationError::Connect(error_chain(&e)))?;
        let applied = connection
            .run_pending_migrations(MIGRATIONS)
            .map(|versions| versions.iter().map(ToString::to_string).collect())
            .map_err(|e| MigrationError::Failed(error_chain(e.as_ref())));
        // Closing the connection releases the lock too; unlocking is just tidier.
        let _ =
            connection.batch_execute(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})"));
        applied
    })
    .await
    .map_err(|e| MigrationError::Failed(format!("the migration task died: {e}")))?
}

//! The embedded SQLite migrations.

use std::time::Duration;

use diesel::connection::{Connection, SimpleConnection};
use diesel::sqlite::SqliteConnection;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use super::pool::{ensure_parent_dir, pragmas};
use crate::errors::error_chain;
use crate::postgres::MigrationError;

const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");

/// Creates the database file (and its folder) when missing and applies the migrations not yet
/// applied; returns their names. SQLite's own file lock keeps two processes from migrating at
/// once.
pub async fn run_migrations(path: &str) -> Result<Vec<String>, MigrationError> {
    let path = path.to_owned();
    tokio::task::spawn_blocking(move || {
        ensure_parent_dir(&path).map_err(|e| {
            MigrationError::Connect(format!("cannot create the folder of {path}: {e}"))
        })?;
        let mut connection = SqliteConnection::establish(&path)
            .map_err(|e| MigrationError::Connect(error_chain(&e)))?;
        connection
            .batch_execute(&pragmas(Duration::from_secs(5)))
            .map_err(|e| MigrationError::Connect(error_chain(&e)))?;
        connection
            .run_pending_migrations(MIGRATIONS)
            .map(|versions| versions.iter().map(ToString::to_string).collect())
            .map_err(|e| MigrationError::Failed(error_chain(e.as_ref())))
    })
    .await
    .map_err(|e| MigrationError::Failed(format!("the migration task died: {e}")))?
}

//! [`TokenRepository`](domain::TokenRepository) on SQLite.

use super::pool::SqliteConnectionAsync;
use super::schema;
use crate::token_store::{DieselTokenRepository, diesel_token_repository};

/// Calendly connections in SQLite's `calendly_connections` table.
pub type SqliteTokenRepository = DieselTokenRepository<SqliteConnectionAsync>;

diesel_token_repository!(SqliteConnectionAsync, busy);

/// Whether an error message means the database is busy, not that the query is wrong.
fn busy(message: &str) -> bool {
    // SQLITE_BUSY after the busy timeout: another writer held the file too long.
    message.contains("locked") || message.contains("busy")
}

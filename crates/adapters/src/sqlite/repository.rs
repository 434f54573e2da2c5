//! [`TokenRepository`](domain::TokenRepository) on SQLite.

use diesel_async::SimpleAsyncConnection;

use super::pool::SqliteConnectionAsync;
use super::schema;
use crate::token_store::{
    Backend, DieselTokenRepository, diesel_bookings, diesel_token_repository,
};

/// Calendly connections in SQLite's `calendly_connections` table.
pub type SqliteTokenRepository = DieselTokenRepository<SqliteConnectionAsync>;

// The database's write lock is awaited for the connection's busy timeout.
diesel_token_repository!(SqliteConnectionAsync, |_| "BEGIN IMMEDIATE".to_owned());

// Bookings' idempotency keys and slot holds, in tables of their own.
diesel_bookings!(SqliteConnectionAsync);

impl Backend for SqliteConnectionAsync {
    /// SQLITE_BUSY after the busy timeout: another writer held the file too long. (SQLite's
    /// messages are fixed English text, never translated.)
    fn busy(message: &str) -> bool {
        message.contains("locked") || message.contains("busy")
    }

    async fn answers(&mut self) -> bool {
        self.batch_execute("SELECT 1").await.is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_locked_or_busy_database_is_busy_and_a_constraint_is_not() {
        assert!(SqliteConnectionAsync::busy("database is locked"));
        assert!(SqliteConnectionAsync::busy("database table is locked"));
        assert!(!SqliteConnectionAsync::busy(
            "UNIQUE constraint failed: calendly_connections.user_id"
        ));
    }
}

//! [`TokenRepository`](domain::TokenRepository) on PostgreSQL.

use diesel_async::{AsyncPgConnection, SimpleAsyncConnection};

use super::schema;
use crate::token_store::{
    Backend, DieselTokenRepository, diesel_bookings, diesel_token_repository,
};

/// Calendly connections in PostgreSQL's `calendly_connections` table.
pub type PgTokenRepository = DieselTokenRepository<AsyncPgConnection>;

// The statement timeout of the transaction covers waiting for the row's lock.
diesel_token_repository!(
    AsyncPgConnection,
    |lock_wait| format!(
        "BEGIN; SET LOCAL statement_timeout = {}",
        lock_wait.as_millis()
    ),
    for_update
);

// Bookings' idempotency keys and slot holds, in tables of their own.
diesel_bookings!(AsyncPgConnection);

impl Backend for AsyncPgConnection {
    /// PostgreSQL's messages are in the server's language and are never read: a busy or
    /// departing server is recognised by the connection failing, or by the deadline.
    fn busy(_message: &str) -> bool {
        false
    }

    async fn answers(&mut self) -> bool {
        self.batch_execute("SELECT 1").await.is_ok()
    }
}

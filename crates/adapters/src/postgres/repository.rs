//! [`TokenRepository`](domain::TokenRepository) on PostgreSQL.

use diesel_async::AsyncPgConnection;

use super::schema;
use crate::token_store::{DieselTokenRepository, diesel_token_repository};

/// Calendly connections in PostgreSQL's `calendly_connections` table.
pub type PgTokenRepository = DieselTokenRepository<AsyncPgConnection>;

diesel_token_repository!(AsyncPgConnection, busy);

/// Whether an error message means the database is busy, not that the query is wrong.
fn busy(message: &str) -> bool {
    // SQLSTATE 57014, as tokio-postgres reports it: the statement timeout fired.
    message.contains("statement timeout")
}

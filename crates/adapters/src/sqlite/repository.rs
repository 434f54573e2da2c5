//! [`TokenRepository`](domain::TokenRepository) on SQLite.

use diesel::result::{DatabaseErrorKind, Error as DieselError};
use domain::RepositoryError;

use super::pool::SqliteConnectionAsync;
use super::schema;
use crate::error_chain;
use crate::token_store::{DieselTokenRepository, diesel_token_repository};

/// Calendly connections in SQLite's `calendly_connections` table.
pub type SqliteTokenRepository = DieselTokenRepository<SqliteConnectionAsync>;

diesel_token_repository!(SqliteConnectionAsync, query_error);

fn query_error(error: DieselError) -> RepositoryError {
    match &error {
        DieselError::DatabaseError(DatabaseErrorKind::ClosedConnection, _)
        | DieselError::BrokenTransactionManager => {
            RepositoryError::Unavailable(error_chain(&error))
        }
        // SQLITE_BUSY after the busy timeout: another writer held the file too long.
        DieselError::DatabaseError(_, info)
            if info.message().contains("locked") || info.message().contains("busy") =>
        {
            RepositoryError::Unavailable(error_chain(&error))
        }
        _ => RepositoryError::Unexpected(Box::new(error)),
    }
}

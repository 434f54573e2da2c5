//! [`TokenRepository`](domain::TokenRepository) on PostgreSQL.

use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel_async::AsyncPgConnection;
use domain::RepositoryError;

use super::schema;
use crate::error_chain;
use crate::token_store::{DieselTokenRepository, diesel_token_repository};

/// Calendly connections in PostgreSQL's `calendly_connections` table.
pub type PgTokenRepository = DieselTokenRepository<AsyncPgConnection>;

diesel_token_repository!(AsyncPgConnection, query_error);

fn query_error(error: DieselError) -> RepositoryError {
    match &error {
        DieselError::DatabaseError(DatabaseErrorKind::ClosedConnection, _)
        | DieselError::BrokenTransactionManager => {
            RepositoryError::Unavailable(error_chain(&error))
        }
        // SQLSTATE 57014, as tokio-postgres reports it: the statement timeout fired.
        DieselError::DatabaseError(_, info) if info.message().contains("statement timeout") => {
            RepositoryError::Unavailable(error_chain(&error))
        }
        _ => RepositoryError::Unexpected(Box::new(error)),
    }
}

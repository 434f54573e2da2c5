//! [`TokenRepository`](domain::TokenRepository) on PostgreSQL.

use diesel_async::AsyncPgConnection;

use super::schema;
use crate::token_store::{DieselTokenRepository, diesel_token_repository};

/// Calendly connections in PostgreSQL's `calendly_connections` table.
pub type PgTokenRepository = DieselTokenRepository<AsyncPgConnection>;

diesel_token_repository!(AsyncPgConnection, busy);

/// Messages of errors that mean "try again later": the server timed the statement out, is
/// shutting down or starting up, or is out of connections. (Diesel passes on PostgreSQL's
/// message, not its SQLSTATE.)
fn busy(message: &str) -> bool {
    const TRY_LATER: [&str; 7] = [
        // 57014: the statement timeout fired.
        "statement timeout",
        // 57P01, 57P02, 57P03: an administrator or a crash ended the connection, or the
        // server cannot take connections now.
        "terminating connection due to administrator command",
        "terminating connection because of crash of another server process",
        "the database system is shutting down",
        "the database system is starting up",
        "the database system is in recovery mode",
        // 53300
        "too many clients already",
    ];
    TRY_LATER.iter().any(|reason| message.contains(reason))
}

#[cfg(test)]
mod tests {
    use super::busy;

    #[test]
    fn a_server_going_away_is_busy_and_a_constraint_is_not() {
        assert!(busy("canceling statement due to statement timeout"));
        assert!(busy("terminating connection due to administrator command"));
        assert!(busy("FATAL: the database system is shutting down"));
        assert!(!busy("duplicate key value violates unique constraint"));
    }
}

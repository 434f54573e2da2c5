//! What became of a query, in the port's terms, decided without reading the server's
//! (translatable) messages: the gateway's own deadline, and whether a connection that failed
//! still answers.

use std::time::Duration;

use deadpool::managed::Manager;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel_async::pooled_connection::deadpool::Object;
use diesel_async::pooled_connection::{
    AsyncDieselConnectionManager, PoolError as ConnectError, PoolableConnection,
};
use domain::RepositoryError;

use super::repository::DieselTokenRepository;
use crate::errors::error_chain;

/// What each backend tells of a failed query. PostgreSQL's messages are translated (its
/// `lc_messages`) and diesel-async does not pass its SQLSTATE on, so nothing here reads them.
pub(crate) trait Backend: PoolableConnection + 'static {
    /// Whether `message` says the database is busy. (SQLite's messages are fixed English text,
    /// never translated; PostgreSQL's are not read.)
    fn busy(message: &str) -> bool;

    /// Whether the connection still answers a trivial query.
    fn answers(&mut self) -> impl Future<Output = bool> + Send;
}

/// How long a connection that failed a query of unknown kind has to answer a trivial one.
const PROBE_TIMEOUT: Duration = Duration::from_secs(1);

/// One query run within the repository's deadline: its result, or the deadline passed.
pub(crate) type Outcome<T> = Result<diesel::QueryResult<T>, tokio::time::error::Elapsed>;

/// A query's outcome on a connection the caller keeps, in the port's terms (see
/// [`DieselTokenRepository::settled`]): the error, and whether the connection may still be used
/// (the caller closes it otherwise).
pub(crate) async fn judge<T, C: Backend>(
    outcome: Outcome<T>,
    db: &mut C,
    query_timeout: Duration,
) -> Result<T, (RepositoryError, bool)> {
    let error = match outcome {
        Ok(Ok(value)) => return Ok(value),
        Ok(Err(error)) => error,
        Err(_) => {
            return Err((
                RepositoryError::Unavailable(format!(
                    "the database did not answer within {} ms",
                    query_timeout.as_millis()
                )),
                false,
            ));
        }
    };
    let gone = match &error {
        DieselError::DatabaseError(
            DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
            _,
        )
        | DieselError::BrokenTransactionManager => true,
        DieselError::DatabaseError(_, info) if C::busy(info.message()) => {
            return Err((RepositoryError::Unavailable(error_chain(&error)), true));
        }
        // A kind the driver does not tell: the server may have ended the connection (an
        // administrator, a shutdown, a crash), and then the connection no longer answers.
        DieselError::DatabaseError(DatabaseErrorKind::Unknown, _) => {
            !tokio::time::timeout(PROBE_TIMEOUT, db.answers())
                .await
                .unwrap_or(false)
        }
        _ => false,
    };
    Err(if gone {
        (RepositoryError::Unavailable(error_chain(&error)), false)
    } else {
        (RepositoryError::Unexpected(Box::new(error)), true)
    })
}

impl<C: PoolableConnection + 'static> DieselTokenRepository<C>
where
    AsyncDieselConnectionManager<C>: Manager<Type = C, Error = ConnectError>,
{
    /// A query's outcome in the port's terms, decided without reading the server's message:
    /// past the deadline, on a connection that failed or no longer answers (the server shut
    /// down, crashed or ended it), or with a busy SQLite, [`RepositoryError::Unavailable`];
    /// any other failure [`RepositoryError::Unexpected`]. A connection that may be unusable
    /// (an answer may still be on its way, or it is gone) is closed, not returned to the pool.
    pub(crate) async fn settled<T>(
        &self,
        outcome: Outcome<T>,
        mut db: Object<C>,
    ) -> Result<T, RepositoryError>
    where
        C: Backend,
    {
        self.judged(outcome, &mut db)
            .await
            .map_err(|(error, usable)| {
                if !usable {
                    drop(Object::take(db));
                }
                error
            })
    }

    /// As [`Self::settled`], and whether the failure was the connection itself, gone (its
    /// backend ended by an administrator, a restart or a crash while it waited in the pool):
    /// a read may then be tried once more, on another connection.
    pub(crate) async fn settled_or_gone<T>(
        &self,
        outcome: Outcome<T>,
        mut db: Object<C>,
    ) -> Result<T, (RepositoryError, bool)>
    where
        C: Backend,
    {
        let timed_out = outcome.is_err();
        self.judged(outcome, &mut db)
            .await
            .map_err(|(error, usable)| {
                if !usable {
                    drop(Object::take(db));
                }
                (error, !usable && !timed_out)
            })
    }

    /// The outcome of `read` (one query on a connection of the pool, within its deadline), read
    /// once more on another connection when the first turned out gone (see
    /// [`Self::settled_or_gone`]).
    pub(crate) async fn read_once_more<T: Send>(
        &self,
        read: impl for<'c> Fn(&'c mut Object<C>) -> futures::future::BoxFuture<'c, Outcome<T>>,
    ) -> Result<T, RepositoryError>
    where
        C: Backend,
    {
        let mut tries = 0;
        loop {
            tries += 1;
            let mut db = self.connection().await?;
            let outcome = read(&mut db).await;
            match self.settled_or_gone(outcome, db).await {
                Ok(value) => return Ok(value),
                Err((_, true)) if tries == 1 => {}
                Err((error, _)) => return Err(error),
            }
        }
    }

    /// [`judge`] with this repository's deadline.
    pub(crate) async fn judged<T>(
        &self,
        outcome: Outcome<T>,
        db: &mut C,
    ) -> Result<T, (RepositoryError, bool)>
    where
        C: Backend,
    {
        judge(outcome, db, self.query_timeout).await
    }
}

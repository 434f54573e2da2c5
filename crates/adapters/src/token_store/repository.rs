//! The repository over a Diesel pool: the pool, the cipher and the timeouts the queries use.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use deadpool::managed::Manager;
use diesel_async::pooled_connection::deadpool::{Object, Pool, PoolError};
use diesel_async::pooled_connection::{
    AsyncDieselConnectionManager, PoolError as ConnectError, PoolableConnection,
};
use domain::RepositoryError;

use crate::crypto::TokenCipher;
use crate::errors::error_chain;

/// [`domain::TokenRepository`] over a Diesel connection pool: PostgreSQL or SQLite.
pub struct DieselTokenRepository<C: PoolableConnection + 'static>
where
    AsyncDieselConnectionManager<C>: Manager<Type = C, Error = ConnectError>,
{
    pub(super) pool: Pool<C>,
    pub(super) cipher: Arc<TokenCipher>,
    pub(super) query_timeout: Duration,
    pub(super) lock_wait: Duration,
}

impl<C: PoolableConnection + 'static> fmt::Debug for DieselTokenRepository<C>
where
    AsyncDieselConnectionManager<C>: Manager<Type = C, Error = ConnectError>,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DieselTokenRepository")
            .field("pool", &self.pool.status())
            .finish_non_exhaustive()
    }
}

/// A pool that opens connections lazily, at most `max_size`, and gives up waiting for one
/// (or for a new one to be opened) after `acquire_timeout`.
pub(crate) fn bounded_pool<C: PoolableConnection + 'static>(
    manager: AsyncDieselConnectionManager<C>,
    max_size: usize,
    acquire_timeout: Duration,
) -> Result<Pool<C>, PoolSetupError>
where
    AsyncDieselConnectionManager<C>: Manager<Type = C, Error = ConnectError>,
{
    Ok(Pool::builder(manager)
        .max_size(max_size)
        .wait_timeout(Some(acquire_timeout))
        .create_timeout(Some(acquire_timeout))
        .recycle_timeout(Some(acquire_timeout))
        .runtime(deadpool::Runtime::Tokio1)
        .build()?)
}

/// The pool cannot be set up.
#[derive(Debug, thiserror::Error)]
pub enum PoolSetupError {
    #[error("cannot set up the database pool: {0}")]
    Build(#[from] diesel_async::pooled_connection::deadpool::BuildError),
    /// The database URL's TLS settings cannot be met (the reason, which names the setting).
    #[error("{0}")]
    Tls(String),
}

impl<C: PoolableConnection + 'static> DieselTokenRepository<C>
where
    AsyncDieselConnectionManager<C>: Manager<Type = C, Error = ConnectError>,
{
    /// A repository on `pool`, sealing tokens with `cipher`; a query that has not finished
    /// after `query_timeout` is given up (the database counts as unavailable).
    pub fn new(pool: Pool<C>, cipher: Arc<TokenCipher>, query_timeout: Duration) -> Self {
        Self {
            pool,
            cipher,
            query_timeout,
            lock_wait: query_timeout,
        }
    }

    /// The same repository, waiting up to `lock_wait` for a connection locked for renewal
    /// (PostgreSQL; SQLite waits for its busy timeout). It should exceed the longest renewal:
    /// a call to the OAuth server.
    #[must_use]
    pub fn with_lock_wait(self, lock_wait: Duration) -> Self {
        Self { lock_wait, ..self }
    }

    /// How long a lock for renewal may be awaited.
    pub(crate) fn lock_wait(&self) -> Duration {
        self.lock_wait
    }

    /// The cipher tokens are sealed with.
    pub(crate) fn cipher(&self) -> Arc<TokenCipher> {
        Arc::clone(&self.cipher)
    }

    /// How long a query may take.
    pub(crate) fn query_timeout(&self) -> Duration {
        self.query_timeout
    }

    /// The id of the key new tokens are sealed with.
    pub(crate) fn current_key_id(&self) -> &str {
        self.cipher.current_key_id()
    }

    /// The pool's size, idle connections and waiting requests now.
    pub fn pool_status(&self) -> deadpool::Status {
        self.pool.status()
    }

    pub(crate) async fn connection(&self) -> Result<Object<C>, RepositoryError> {
        self.pool.get().await.map_err(|error| match error {
            PoolError::Timeout(_) | PoolError::Backend(_) | PoolError::Closed => {
                RepositoryError::Unavailable(error_chain(&error))
            }
            other => RepositoryError::Unexpected(Box::new(other)),
        })
    }
}

/// What `rotate_keys` did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct KeyRotation {
    /// Tokens now sealed with the current key.
    pub rotated: u64,
    /// Tokens that did not open (tampered, or sealed with a key no longer configured): left as
    /// they are, each logged; their users must reconnect.
    pub undecryptable: u64,
    /// Tokens replaced by a connect or removed by a disconnect while they were rotated.
    pub changed_meanwhile: u64,
}

/// Rows read at a time by `rotate_keys`.
pub(crate) const ROTATION_BATCH: i64 = 100;

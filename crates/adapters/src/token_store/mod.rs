//! What the SQL backends share: the repository type, how a connection becomes a stored row
//! (its token sealed) and back, and the queries, written once for every backend.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use deadpool::managed::Manager;
use diesel_async::pooled_connection::deadpool::{Object, Pool, PoolError};
use diesel_async::pooled_connection::{
    AsyncDieselConnectionManager, PoolError as ConnectError, PoolableConnection,
};
use domain::{CalendlyConnection, CalendlyToken, RepositoryError, UserId};

use crate::crypto::{SealedToken, TokenCipher};
use crate::error_chain;

mod checks;
mod lease;
mod oauth_starts;
mod outcome;
mod queries;
mod rows;
mod starts_queries;

pub(crate) use outcome::{Backend, judge};

pub use lease::Lease;

pub(crate) use oauth_starts::{StoredStart, state_hash};

pub(crate) use checks::diesel_webhook_checks;
pub(crate) use queries::diesel_token_repository;
use rows::sealed_refresh_token;
pub(crate) use rows::{HookRow, stored_row, stored_webhooks};
pub(crate) use starts_queries::diesel_oauth_starts;

/// [`domain::TokenRepository`] over a Diesel connection pool: PostgreSQL or SQLite.
pub struct DieselTokenRepository<C: PoolableConnection + 'static>
where
    AsyncDieselConnectionManager<C>: Manager<Type = C, Error = ConnectError>,
{
    pool: Pool<C>,
    cipher: Arc<TokenCipher>,
    query_timeout: Duration,
    lock_wait: Duration,
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

/// One row of `calendly_connections`, whichever the backend. The fields are in the order of
/// the table's columns (each backend's `schema.rs`), which is how Diesel reads a whole row.
#[derive(diesel::Queryable)]
pub(crate) struct StoredConnection {
    pub user_id: String,
    pub token_ciphertext: Vec<u8>,
    pub token_key_id: String,
    pub calendly_user_uri: String,
    pub name: String,
    pub email: String,
    pub scheduling_url: String,
    pub timezone: String,
    pub connected_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// `personal_access_token` or `oauth`.
    pub method: String,
    /// OAuth only: the refresh token, sealed under `token_key_id` for its purpose.
    pub refresh_token_ciphertext: Option<Vec<u8>>,
    /// OAuth only: when the access token (`token_ciphertext`) expires.
    pub access_token_expires_at: Option<DateTime<Utc>>,
    /// OAuth only: when it was issued.
    pub access_token_issued_at: Option<DateTime<Utc>>,
    pub calendly_organization_uri: Option<String>,
    /// `off`, `unavailable` or `active`.
    pub webhook_status: String,
    /// Active webhooks only: the hook id, its signing key (sealed under `token_key_id` for its
    /// purpose) and the subscription's URI at Calendly.
    pub hook_id: Option<String>,
    pub webhook_key_ciphertext: Option<Vec<u8>>,
    pub webhook_subscription_uri: Option<String>,
    pub webhook_signed_by: String,
    pub webhook_disabled: bool,
    pub scopes: Option<String>,
    /// Read with the row, never written by a save and never used: only claiming a check
    /// moves it.
    #[allow(dead_code)]
    pub webhook_check_due_at: Option<DateTime<Utc>>,
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
    pub fn pool_status(&self) -> crate::PoolStatus {
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

    pub(crate) fn stored(&self, connection: &CalendlyConnection) -> StoredConnection {
        stored_row(&self.cipher, connection)
    }

    /// A refresh token sealed with the current key, for its purpose (it never opens as an
    /// access token, nor the other way round).
    fn sealed_refresh_token(&self, user_id: &UserId, token: &CalendlyToken) -> SealedToken {
        sealed_refresh_token(&self.cipher, user_id, token)
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

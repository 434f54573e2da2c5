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
use domain::{
    CalendlyConnection, CalendlyCredential, CalendlyToken, CalendlyUser, CalendlyUserUri,
    RepositoryError, UserId,
};

use crate::crypto::{SealedToken, TokenCipher};
use crate::error_chain;

mod lease;
mod oauth_starts;
mod outcome;
mod queries;

pub(crate) use outcome::{Backend, judge};

pub use lease::Lease;

pub(crate) use oauth_starts::{StoredStart, state_hash};

pub(crate) use queries::diesel_token_repository;

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
#[error("cannot set up the database pool: {0}")]
pub struct PoolSetupError(#[from] diesel_async::pooled_connection::deadpool::BuildError);

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

/// `connection` as a row, its tokens sealed with `cipher`'s current key.
pub(crate) fn stored_row(
    cipher: &TokenCipher,
    connection: &CalendlyConnection,
) -> StoredConnection {
    {
        let user_id = &connection.user_id;
        let credential = &connection.credential;
        let sealed = cipher.seal(user_id, credential.access_token());
        let (refresh_token_ciphertext, access_token_issued_at, access_token_expires_at) =
            match credential {
                CalendlyCredential::PersonalAccessToken(_) => (None, None, None),
                CalendlyCredential::OAuth {
                    refresh_token,
                    issued_at,
                    expires_at,
                    ..
                } => (
                    refresh_token
                        .as_ref()
                        .map(|token| sealed_refresh_token(cipher, user_id, token).bytes),
                    Some(*issued_at),
                    Some(*expires_at),
                ),
            };
        let user = &connection.calendly_user;
        StoredConnection {
            user_id: user_id.as_str().to_owned(),
            token_ciphertext: sealed.bytes,
            token_key_id: sealed.key_id,
            calendly_user_uri: user.uri.as_str().to_owned(),
            name: user.name.clone(),
            email: user.email.clone(),
            scheduling_url: user.scheduling_url.clone(),
            timezone: user.timezone.clone(),
            connected_at: connection.connected_at,
            updated_at: Utc::now(),
            method: credential.method().as_str().to_owned(),
            refresh_token_ciphertext,
            access_token_expires_at,
            access_token_issued_at,
        }
    }
}

fn sealed_refresh_token(
    cipher: &TokenCipher,
    user_id: &UserId,
    token: &CalendlyToken,
) -> SealedToken {
    cipher.seal_for(REFRESH_TOKEN_PURPOSE, user_id, token.expose())
}

impl<C: PoolableConnection + 'static> DieselTokenRepository<C>
where
    AsyncDieselConnectionManager<C>: Manager<Type = C, Error = ConnectError>,
{
    /// The token `sealed` holds for `user_id`; one that does not open is logged, and
    /// [`RepositoryError::Undecryptable`].
    fn opened(
        &self,
        user_id: &UserId,
        sealed: &SealedToken,
    ) -> Result<CalendlyToken, RepositoryError> {
        self.cipher.open(user_id, sealed).map_err(|error| {
            tracing::error!(
                user_id = %user_id,
                key_id = %sealed.key_id,
                error = %error,
                "a stored Calendly token cannot be decrypted; the user must reconnect"
            );
            RepositoryError::Undecryptable
        })
    }

    /// A stored token (and the refresh token beside it, if any) sealed again with the current
    /// key; `None` (logged) when either cannot be opened, and then the row is left as it is.
    pub(crate) fn resealed(
        &self,
        user_id: &str,
        sealed: &SealedToken,
        refresh_token: Option<Vec<u8>>,
    ) -> Option<(SealedToken, Option<Vec<u8>>)> {
        let user = match UserId::parse(user_id) {
            Ok(user) => user,
            Err(error) => {
                tracing::error!(user_id, %error, "a stored connection has an unreadable user id; its token is left as it is");
                return None;
            }
        };
        let token = self.opened(&user, sealed).ok()?;
        let refresh_token = match refresh_token {
            Some(bytes) => {
                let token = self
                    .opened_refresh_token(&user, &sealed.key_id, bytes)
                    .ok()?;
                Some(self.sealed_refresh_token(&user, &token).bytes)
            }
            None => None,
        };
        Some((self.cipher.seal(&user, &token), refresh_token))
    }

    /// The refresh token sealed beside an access token under `key_id`; one that does not open
    /// is logged, and [`RepositoryError::Undecryptable`].
    fn opened_refresh_token(
        &self,
        user_id: &UserId,
        key_id: &str,
        bytes: Vec<u8>,
    ) -> Result<CalendlyToken, RepositoryError> {
        let sealed = SealedToken {
            key_id: key_id.to_owned(),
            bytes,
        };
        self.cipher
            .open_for(REFRESH_TOKEN_PURPOSE, user_id, &sealed)
            .ok()
            .and_then(|text| CalendlyToken::parse(&text).ok())
            .ok_or_else(|| {
                tracing::error!(
                    user_id = %user_id,
                    key_id,
                    "a stored Calendly refresh token cannot be decrypted; the user must reconnect"
                );
                RepositoryError::Undecryptable
            })
    }

    pub(crate) fn restored(
        &self,
        row: StoredConnection,
    ) -> Result<CalendlyConnection, RepositoryError> {
        let unexpected = |e: domain::InvalidValue| RepositoryError::Unexpected(Box::new(e));
        let user_id = UserId::parse(row.user_id).map_err(unexpected)?;
        let sealed = SealedToken {
            key_id: row.token_key_id,
            bytes: row.token_ciphertext,
        };
        let access_token = self.opened(&user_id, &sealed)?;
        let credential = match (
            row.method.as_str(),
            row.refresh_token_ciphertext,
            row.access_token_issued_at,
            row.access_token_expires_at,
        ) {
            ("oauth", refresh, Some(issued_at), Some(expires_at)) => CalendlyCredential::OAuth {
                refresh_token: refresh
                    .map(|refresh| self.opened_refresh_token(&user_id, &sealed.key_id, refresh))
                    .transpose()?,
                access_token,
                issued_at,
                expires_at,
            },
            ("personal_access_token", None, None, None) => {
                CalendlyCredential::PersonalAccessToken(access_token)
            }
            (method, ..) => {
                return Err(RepositoryError::Unexpected(
                    format!("a stored connection of method {method:?} is incomplete").into(),
                ));
            }
        };
        Ok(CalendlyConnection {
            user_id,
            credential,
            calendly_user: CalendlyUser {
                uri: CalendlyUserUri::parse(row.calendly_user_uri).map_err(unexpected)?,
                name: row.name,
                email: row.email,
                scheduling_url: row.scheduling_url,
                timezone: row.timezone,
            },
            connected_at: row.connected_at,
        })
    }
}

/// The purpose a refresh token is sealed for (see [`TokenCipher::seal_for`]).
const REFRESH_TOKEN_PURPOSE: &str = "refresh_token";

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

//! [`TokenRepository`] on PostgreSQL, with tokens sealed by [`TokenCipher`].

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel::upsert::excluded;
use diesel_async::AsyncPgConnection;
use diesel_async::RunQueryDsl;
use diesel_async::pooled_connection::deadpool::{Object, PoolError};
use domain::{
    CalendlyConnection, CalendlyUser, CalendlyUserUri, RepositoryError, TokenRepository, UserId,
};
use tracing::instrument;

use super::pool::PgPool;
use super::schema::calendly_connections::{self, dsl};
use crate::crypto::{SealedToken, TokenCipher, UnsealError};
use crate::error_chain;

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = calendly_connections, check_for_backend(diesel::pg::Pg))]
struct ConnectionRow {
    user_id: String,
    token_ciphertext: Vec<u8>,
    token_key_id: String,
    calendly_user_uri: String,
    name: String,
    email: String,
    scheduling_url: String,
    timezone: String,
    connected_at: DateTime<Utc>,
}

/// Calendly connections in the `calendly_connections` table.
#[derive(Clone)]
pub struct PgTokenRepository {
    pool: PgPool,
    cipher: Arc<TokenCipher>,
}

impl fmt::Debug for PgTokenRepository {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgTokenRepository")
            .field("pool", &self.pool.status())
            .finish_non_exhaustive()
    }
}

impl PgTokenRepository {
    pub fn new(pool: PgPool, cipher: Arc<TokenCipher>) -> Self {
        Self { pool, cipher }
    }

    async fn connection(&self) -> Result<Object<AsyncPgConnection>, RepositoryError> {
        self.pool.get().await.map_err(pool_error)
    }

    fn row(&self, connection: &CalendlyConnection) -> ConnectionRow {
        let sealed = self.cipher.seal(&connection.user_id, &connection.token);
        let user = &connection.calendly_user;
        ConnectionRow {
            user_id: connection.user_id.as_str().to_owned(),
            token_ciphertext: sealed.bytes,
            token_key_id: sealed.key_id,
            calendly_user_uri: user.uri.as_str().to_owned(),
            name: user.name.clone(),
            email: user.email.clone(),
            scheduling_url: user.scheduling_url.clone(),
            timezone: user.timezone.clone(),
            connected_at: connection.connected_at,
        }
    }

    fn connection_from(&self, row: ConnectionRow) -> Result<CalendlyConnection, RepositoryError> {
        let unexpected = |e: domain::InvalidValue| RepositoryError::Unexpected(Box::new(e));
        let user_id = UserId::parse(row.user_id).map_err(unexpected)?;
        let sealed = SealedToken {
            key_id: row.token_key_id,
            bytes: row.token_ciphertext,
        };
        let token = self.cipher.open(&user_id, &sealed).map_err(|error| {
            tracing::error!(
                user_id = %user_id,
                key_id = %sealed.key_id,
                error = %error,
                "a stored Calendly token cannot be decrypted; the user must reconnect"
            );
            match error {
                UnsealError::UnknownKey(_) | UnsealError::Tampered | UnsealError::Malformed => {
                    RepositoryError::Undecryptable
                }
            }
        })?;
        Ok(CalendlyConnection {
            user_id,
            token,
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

#[async_trait]
impl TokenRepository for PgTokenRepository {
    #[instrument(skip_all, fields(user_id = %connection.user_id), err(Display))]
    async fn save(&self, connection: &CalendlyConnection) -> Result<(), RepositoryError> {
        let row = self.row(connection);
        let mut db = self.connection().await?;
        diesel::insert_into(dsl::calendly_connections)
            .values(&row)
            .on_conflict(dsl::user_id)
            .do_update()
            .set((
                dsl::token_ciphertext.eq(excluded(dsl::token_ciphertext)),
                dsl::token_key_id.eq(excluded(dsl::token_key_id)),
                dsl::calendly_user_uri.eq(excluded(dsl::calendly_user_uri)),
                dsl::name.eq(excluded(dsl::name)),
                dsl::email.eq(excluded(dsl::email)),
                dsl::scheduling_url.eq(excluded(dsl::scheduling_url)),
                dsl::timezone.eq(excluded(dsl::timezone)),
                dsl::connected_at.eq(excluded(dsl::connected_at)),
                dsl::updated_at.eq(diesel::dsl::now),
            ))
            .execute(&mut db)
            .await
            .map_err(query_error)?;
        Ok(())
    }

    #[instrument(skip_all, fields(user_id = %user_id), err(Display))]
    async fn load(&self, user_id: &UserId) -> Result<Option<CalendlyConnection>, RepositoryError> {
        let mut db = self.connection().await?;
        let row = dsl::calendly_connections
            .find(user_id.as_str())
            .select(ConnectionRow::as_select())
            .first(&mut db)
            .await
            .optional()
            .map_err(query_error)?;
        drop(db);
        row.map(|row| self.connection_from(row)).transpose()
    }

    #[instrument(skip_all, fields(user_id = %user_id), err(Display))]
    async fn delete(&self, user_id: &UserId) -> Result<bool, RepositoryError> {
        let mut db = self.connection().await?;
        let deleted = diesel::delete(dsl::calendly_connections.find(user_id.as_str()))
            .execute(&mut db)
            .await
            .map_err(query_error)?;
        Ok(deleted > 0)
    }

    async fn ping(&self) -> Result<(), RepositoryError> {
        let mut db = self.connection().await?;
        diesel::sql_query("SELECT 1")
            .execute(&mut db)
            .await
            .map_err(query_error)?;
        Ok(())
    }
}

fn pool_error(error: PoolError) -> RepositoryError {
    match error {
        PoolError::Timeout(_) | PoolError::Backend(_) | PoolError::Closed => {
            RepositoryError::Unavailable(error_chain(&error))
        }
        other => RepositoryError::Unexpected(Box::new(other)),
    }
}

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

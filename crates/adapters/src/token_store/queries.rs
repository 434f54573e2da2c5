//! The repository's queries, the same text for every backend, written once as a macro that each
//! backend's module expands for its connection type.

/// Implements [`domain::TokenRepository`] for `DieselTokenRepository<$connection>`, with the
/// `schema` module of the calling backend. The queries are the same text for every backend, so
/// they are written here once; each runs within the query deadline, its outcome settled by
/// `DieselTokenRepository::settled`. `$begin`, given how long a lock may be awaited, is the SQL
/// that opens a transaction that locks for writing, and `$lock` (PostgreSQL's `for_update`)
/// locks the row it reads, where the backend has it.
macro_rules! diesel_token_repository {
    ($connection:ty, $begin:expr $(, $lock:ident)?) => {
        #[async_trait::async_trait]
        impl domain::TokenRepository for $crate::token_store::DieselTokenRepository<$connection> {
            #[tracing::instrument(skip_all, fields(user_id = %connection.user_id), err(Display))]
            async fn save(
                &self,
                connection: &domain::CalendlyConnection,
            ) -> Result<(), domain::RepositoryError> {
                use diesel::prelude::*;
                use diesel::upsert::excluded;
                use diesel_async::RunQueryDsl;
                use schema::calendly_connections::dsl;

                let row = self.stored(connection);
                let mut db = self.connection().await?;
                let query = diesel::insert_into(dsl::calendly_connections)
                    .values((
                        dsl::user_id.eq(&row.user_id),
                        dsl::token_ciphertext.eq(&row.token_ciphertext),
                        dsl::token_key_id.eq(&row.token_key_id),
                        dsl::calendly_user_uri.eq(&row.calendly_user_uri),
                        dsl::name.eq(&row.name),
                        dsl::email.eq(&row.email),
                        dsl::scheduling_url.eq(&row.scheduling_url),
                        dsl::timezone.eq(&row.timezone),
                        dsl::connected_at.eq(row.connected_at),
                        dsl::updated_at.eq(row.updated_at),
                        dsl::method.eq(&row.method),
                        dsl::refresh_token_ciphertext.eq(&row.refresh_token_ciphertext),
                        dsl::access_token_expires_at.eq(row.access_token_expires_at),
                        dsl::access_token_issued_at.eq(row.access_token_issued_at),
                        dsl::calendly_organization_uri.eq(&row.calendly_organization_uri),
                        dsl::webhook_status.eq(&row.webhook_status),
                        dsl::hook_id.eq(&row.hook_id),
                        dsl::webhook_key_ciphertext.eq(&row.webhook_key_ciphertext),
                        dsl::webhook_subscription_uri.eq(&row.webhook_subscription_uri),
                        dsl::webhook_signed_by.eq(&row.webhook_signed_by),
                        dsl::webhook_disabled.eq(row.webhook_disabled),
                        dsl::scopes.eq(&row.scopes),
                    ))
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
                        dsl::updated_at.eq(excluded(dsl::updated_at)),
                        dsl::method.eq(excluded(dsl::method)),
                        dsl::refresh_token_ciphertext.eq(excluded(dsl::refresh_token_ciphertext)),
                        dsl::access_token_expires_at.eq(excluded(dsl::access_token_expires_at)),
                        dsl::access_token_issued_at.eq(excluded(dsl::access_token_issued_at)),
                        dsl::calendly_organization_uri.eq(excluded(dsl::calendly_organization_uri)),
                        dsl::webhook_status.eq(excluded(dsl::webhook_status)),
                        dsl::hook_id.eq(excluded(dsl::hook_id)),
                        dsl::webhook_key_ciphertext.eq(excluded(dsl::webhook_key_ciphertext)),
                        dsl::webhook_subscription_uri.eq(excluded(dsl::webhook_subscription_uri)),
                        dsl::webhook_signed_by.eq(excluded(dsl::webhook_signed_by)),
                        dsl::webhook_disabled.eq(excluded(dsl::webhook_disabled)),
                        dsl::scopes.eq(excluded(dsl::scopes)),
                    ))
                    .execute(&mut db);
                let outcome = tokio::time::timeout(self.query_timeout(), query).await;
                self.settled(outcome, db).await?;
                Ok(())
            }

            #[tracing::instrument(level = "debug", skip_all, fields(user_id = %user_id), err(Display))]
            async fn load(
                &self,
                user_id: &domain::UserId,
            ) -> Result<Option<std::sync::Arc<domain::CalendlyConnection>>, domain::RepositoryError>
            {
                use diesel::prelude::*;
                use diesel_async::RunQueryDsl;
                use schema::calendly_connections::dsl;

                // Waiting for the lock may take as long as another's renewal; a pooled
                // connection whose backend ended is read from once more, on another.
                let deadline = self.lock_wait() + self.query_timeout();
                let id = user_id.as_str().to_owned();
                let row = self
                    .read_once_more(|db| {
                        let id = id.clone();
                        Box::pin(async move {
                            let query = dsl::calendly_connections
                                .find(id)
                                .first::<$crate::token_store::StoredConnection>(db);
                            tokio::time::timeout(deadline, query)
                                .await
                                .map(diesel::OptionalExtension::optional)
                        })
                    })
                    .await?;
                row.map(|row| self.restored(row).map(std::sync::Arc::new))
                    .transpose()
            }

            #[tracing::instrument(skip_all, fields(user_id = %user_id), err(Display))]
            async fn delete(
                &self,
                user_id: &domain::UserId,
            ) -> Result<bool, domain::RepositoryError> {
                use diesel::prelude::*;
                use diesel_async::RunQueryDsl;
                use schema::calendly_connections::dsl;

                let mut db = self.connection().await?;
                let query =
                    diesel::delete(dsl::calendly_connections.find(user_id.as_str())).execute(&mut db);
                let outcome = tokio::time::timeout(self.query_timeout(), query).await;
                Ok(self.settled(outcome, db).await? > 0)
            }

            #[tracing::instrument(level = "debug", skip_all, err(Display))]
            async fn find_hook(
                &self,
                hook_id: &domain::HookId,
            ) -> Result<Option<domain::HookedAccount>, domain::RepositoryError> {
                use diesel::prelude::*;
                use diesel_async::RunQueryDsl;
                use schema::calendly_connections::dsl;

                let deadline = self.query_timeout();
                let hook = hook_id.as_str().to_owned();
                let row = self
                    .read_once_more(|db| {
                        let hook = hook.clone();
                        Box::pin(async move {
                            let query = dsl::calendly_connections
                                .select((
                                    dsl::user_id,
                                    dsl::calendly_user_uri,
                                    dsl::token_key_id,
                                    dsl::webhook_signed_by,
                                    dsl::webhook_key_ciphertext,
                                ))
                                .filter(dsl::hook_id.eq(hook))
                                .filter(dsl::webhook_status.eq("active"))
                                .first::<$crate::token_store::HookRow>(db);
                            tokio::time::timeout(deadline, query)
                                .await
                                .map(diesel::OptionalExtension::optional)
                        })
                    })
                    .await?;
                row.map(|row| self.hooked(row)).transpose()
            }

            #[tracing::instrument(skip_all, fields(user_id = %user_id), err(Display))]
            async fn set_webhooks<'a>(
                &self,
                user_id: &domain::UserId,
                expected: Option<&'a domain::HookId>,
                webhooks: &domain::Webhooks,
            ) -> Result<bool, domain::RepositoryError> {
                use diesel::prelude::*;
                use diesel::sql_types::Bool;
                use diesel_async::RunQueryDsl;
                use schema::calendly_connections::dsl;

                let stored = $crate::token_store::stored_webhooks(&self.cipher(), user_id, webhooks);
                let mut db = self.connection().await?;
                let still_expected = dsl::hook_id
                    .eq(expected.map_or("", |id| id.as_str()))
                    .or(dsl::hook_id.is_null().and(expected.is_none().into_sql::<Bool>()));
                // A key of its own is sealed under the current key: the row's token must be
                // sealed under it too (it is, but in the moment keys are rotated).
                let key_matches = dsl::token_key_id
                    .eq(self.current_key_id())
                    .or(stored.key_ciphertext.is_none().into_sql::<Bool>());
                let query = diesel::update(
                    dsl::calendly_connections
                        .find(user_id.as_str())
                        .filter(still_expected)
                        .filter(key_matches),
                )
                .set((
                    dsl::webhook_status.eq(stored.status),
                    dsl::hook_id.eq(stored.hook_id),
                    dsl::webhook_key_ciphertext.eq(stored.key_ciphertext),
                    dsl::webhook_subscription_uri.eq(stored.subscription_uri),
                    dsl::webhook_signed_by.eq(stored.signed_by),
                    dsl::webhook_disabled.eq(stored.disabled),
                    dsl::updated_at.eq(chrono::Utc::now()),
                ))
                .execute(&mut db);
                let outcome = tokio::time::timeout(self.query_timeout(), query).await;
                Ok(self.settled(outcome, db).await? > 0)
            }

            #[tracing::instrument(skip_all, fields(user_id = %user_id), err(Display))]
            async fn lock_for_refresh(
                &self,
                user_id: &domain::UserId,
            ) -> Result<Option<Box<dyn domain::RefreshLease>>, domain::RepositoryError> {
                use diesel::prelude::*;
                use diesel_async::{RunQueryDsl, SimpleAsyncConnection};
                use diesel_async::pooled_connection::deadpool::Object;
                use schema::calendly_connections::dsl;

                let mut db = self.connection().await?;
                let begin: fn(std::time::Duration) -> String = $begin;
                let begin = begin(self.lock_wait());
                let begun =
                    tokio::time::timeout(self.query_timeout(), db.batch_execute(&begin)).await;
                if let Err((error, _)) = self.judged(begun, &mut db).await {
                    drop(Object::take(db));
                    return Err(error);
                }
                let query = dsl::calendly_connections
                    .find(user_id.as_str())
                    $(.$lock())?
                    .first::<$crate::token_store::StoredConnection>(&mut db);
                // Waiting for the lock may take as long as another's renewal.
                let outcome = tokio::time::timeout(self.lock_wait() + self.query_timeout(), query)
                    .await
                    .map(diesel::OptionalExtension::optional);
                let row = match self.judged(outcome, &mut db).await {
                    Ok(row) => row,
                    Err((error, _)) => {
                        drop(Object::take(db));
                        return Err(error);
                    }
                };
                let connection = match row.map(|row| self.restored(row)).transpose() {
                    Ok(Some(connection)) => connection,
                    other => {
                        // Nothing to renew: the transaction ends with the connection.
                        drop(Object::take(db));
                        return other.map(|_| None);
                    }
                };
                Ok(Some(Box::new($crate::token_store::Lease {
                    db: Some(db),
                    connection,
                    cipher: self.cipher(),
                    query_timeout: self.query_timeout(),
                })))
            }

            async fn ping(&self) -> Result<(), domain::RepositoryError> {
                use diesel_async::RunQueryDsl;

                let mut db = self.connection().await?;
                let query = diesel::sql_query("SELECT 1").execute(&mut db);
                let outcome = tokio::time::timeout(self.query_timeout(), query).await;
                self.settled(outcome, db).await?;
                Ok(())
            }
        }

        #[async_trait::async_trait]
        impl domain::RefreshLease for $crate::token_store::Lease<$connection> {
            fn connection(&self) -> &domain::CalendlyConnection {
                &self.connection
            }

            #[tracing::instrument(skip_all, fields(user_id = %self.connection.user_id), err(Display))]
            async fn commit(
                mut self: Box<Self>,
                credential: domain::CalendlyCredential,
            ) -> Result<domain::CalendlyConnection, domain::RepositoryError> {
                use diesel::prelude::*;
                use diesel_async::{RunQueryDsl, SimpleAsyncConnection};
                use diesel_async::pooled_connection::deadpool::Object;
                use schema::calendly_connections::dsl;

                let connection = domain::CalendlyConnection {
                    credential,
                    ..self.connection.clone()
                };
                let row = $crate::token_store::stored_row(&self.cipher, &connection);
                let Some(mut db) = self.db.take() else {
                    return Err(domain::RepositoryError::Unexpected(
                        "a refresh lease was committed twice".into(),
                    ));
                };
                let query = diesel::update(dsl::calendly_connections.find(&row.user_id))
                    .set((
                        dsl::token_ciphertext.eq(&row.token_ciphertext),
                        dsl::token_key_id.eq(&row.token_key_id),
                        dsl::method.eq(&row.method),
                        dsl::refresh_token_ciphertext.eq(&row.refresh_token_ciphertext),
                        dsl::access_token_expires_at.eq(row.access_token_expires_at),
                        dsl::access_token_issued_at.eq(row.access_token_issued_at),
                        dsl::updated_at.eq(row.updated_at),
                    ))
                    .execute(&mut db);
                let outcome = tokio::time::timeout(self.query_timeout, query).await;
                let updated =
                    $crate::token_store::judge(outcome, &mut *db, self.query_timeout).await;
                let committed = match updated {
                    Ok(_) => {
                        let outcome =
                            tokio::time::timeout(self.query_timeout, db.batch_execute("COMMIT"))
                                .await;
                        $crate::token_store::judge(outcome, &mut *db, self.query_timeout).await
                    }
                    Err(failure) => Err(failure),
                };
                match committed {
                    Ok(()) => Ok(connection),
                    Err((error, _)) => {
                        drop(Object::take(db));
                        Err(error)
                    }
                }
            }
        }

        $crate::token_store::diesel_webhook_checks!($connection);
        $crate::token_store::diesel_oauth_starts!($connection);

        impl $crate::token_store::DieselTokenRepository<$connection> {
            /// Seals every stored token that another key sealed with the current key. Each row
            /// is rewritten only if it is still what was read, so a connect or disconnect made
            /// meanwhile is never undone.
            pub async fn rotate_keys(
                &self,
            ) -> Result<$crate::token_store::KeyRotation, domain::RepositoryError> {
                use diesel::prelude::*;
                use diesel_async::RunQueryDsl;
                use schema::calendly_connections::dsl;

                let current = self.current_key_id().to_owned();
                let mut done = $crate::token_store::KeyRotation::default();
                let mut after = String::new();
                loop {
                    let mut db = self.connection().await?;
                    let query = dsl::calendly_connections
                        .select((
                            dsl::user_id,
                            dsl::token_key_id,
                            dsl::token_ciphertext,
                            dsl::refresh_token_ciphertext,
                            dsl::webhook_key_ciphertext,
                        ))
                        .filter(dsl::token_key_id.ne(&current))
                        .filter(dsl::user_id.gt(&after))
                        .order(dsl::user_id)
                        .limit($crate::token_store::ROTATION_BATCH)
                        .load::<(String, String, Vec<u8>, Option<Vec<u8>>, Option<Vec<u8>>)>(&mut db);
                    let outcome = tokio::time::timeout(self.query_timeout(), query).await;
                    let rows = self.settled(outcome, db).await?;
                    let Some((last, ..)) = rows.last() else {
                        return Ok(done);
                    };
                    after = last.clone();
                    for (user_id, key_id, bytes, refresh_token, webhook_key) in rows {
                        let sealed = $crate::crypto::SealedToken { key_id, bytes };
                        let Some((resealed, refresh_token, webhook_key)) =
                            self.resealed(&user_id, &sealed, refresh_token, webhook_key)
                        else {
                            done.undecryptable += 1;
                            continue;
                        };
                        let mut db = self.connection().await?;
                        let query = diesel::update(
                            dsl::calendly_connections
                                .filter(dsl::user_id.eq(&user_id))
                                .filter(dsl::token_key_id.eq(&sealed.key_id))
                                .filter(dsl::token_ciphertext.eq(&sealed.bytes)),
                        )
                        .set((
                            dsl::token_ciphertext.eq(&resealed.bytes),
                            dsl::token_key_id.eq(&resealed.key_id),
                            dsl::refresh_token_ciphertext.eq(&refresh_token),
                            dsl::webhook_key_ciphertext.eq(&webhook_key),
                        ))
                        .execute(&mut db);
                        let outcome = tokio::time::timeout(self.query_timeout(), query).await;
                        let updated = self.settled(outcome, db).await?;
                        if updated == 1 {
                            done.rotated += 1;
                        } else {
                            done.changed_meanwhile += 1;
                        }
                    }
                }
            }
        }
    };
}

pub(crate) use diesel_token_repository;

//! When the connections' webhook subscriptions are looked at next, the same text for every
//! backend: [`domain::WebhookChecks`] for `DieselTokenRepository<$connection>`.

/// Implements [`domain::WebhookChecks`] for `DieselTokenRepository<$connection>`, with the
/// `schema` module of the calling backend.
macro_rules! diesel_webhook_checks {
    ($connection:ty) => {
        #[async_trait::async_trait]
        impl domain::WebhookChecks for $crate::token_store::DieselTokenRepository<$connection> {
            #[tracing::instrument(level = "debug", skip_all, err(Display))]
            async fn claim_due(
                &self,
                now: chrono::DateTime<chrono::Utc>,
                next: chrono::DateTime<chrono::Utc>,
                limit: u32,
            ) -> Result<Vec<domain::UserId>, domain::RepositoryError> {
                use diesel::prelude::*;
                use diesel_async::RunQueryDsl;
                use schema::calendly_connections::dsl;

                let due = || {
                    dsl::webhook_check_due_at
                        .is_null()
                        .or(dsl::webhook_check_due_at.le(now))
                };
                let mut db = self.connection().await?;
                let query = dsl::calendly_connections
                    .select(dsl::user_id)
                    .filter(due())
                    .order((
                        dsl::webhook_check_due_at.is_not_null().asc(),
                        dsl::webhook_check_due_at.asc(),
                    ))
                    .limit(i64::from(limit))
                    .load::<String>(&mut db);
                let outcome = tokio::time::timeout(self.query_timeout(), query).await;
                let (most_overdue, mut db) = match self.judged(outcome, &mut db).await {
                    Ok(users) if users.is_empty() => return Ok(Vec::new()),
                    Ok(users) => (users, db),
                    Err((error, usable)) => {
                        if !usable {
                            drop(diesel_async::pooled_connection::deadpool::Object::take(db));
                        }
                        return Err(error);
                    }
                };
                // The condition is asked again as the rows are written: an instance that
                // claimed one meanwhile moved it past `now`, so no row is claimed twice.
                let query = diesel::update(
                    dsl::calendly_connections
                        .filter(due())
                        .filter(dsl::user_id.eq_any(&most_overdue)),
                )
                .set(dsl::webhook_check_due_at.eq(next))
                .returning(dsl::user_id)
                .get_results::<String>(&mut db);
                let outcome = tokio::time::timeout(self.query_timeout(), query).await;
                let claimed = self.settled(outcome, db).await?;
                Ok(claimed
                    .into_iter()
                    .filter_map(|user| domain::UserId::parse(user).ok())
                    .collect())
            }

            #[tracing::instrument(level = "debug", skip_all, err(Display))]
            async fn watched(&self) -> Result<u64, domain::RepositoryError> {
                use diesel::prelude::*;
                use diesel_async::RunQueryDsl;
                use schema::calendly_connections::dsl;

                let mut db = self.connection().await?;
                let query = dsl::calendly_connections.count().get_result::<i64>(&mut db);
                let outcome = tokio::time::timeout(self.query_timeout(), query).await;
                let count = self.settled(outcome, db).await?;
                Ok(u64::try_from(count).unwrap_or_default())
            }
        }
    };
}

pub(crate) use diesel_webhook_checks;

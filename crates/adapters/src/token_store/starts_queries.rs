//! The OAuth starts' queries, the same text for every backend.

/// Implements [`domain::OAuthStarts`] for `DieselTokenRepository<$connection>`, with the
/// `schema` module of the calling backend.
macro_rules! diesel_oauth_starts {
    ($connection:ty) => {
        #[async_trait::async_trait]
        impl domain::OAuthStarts for $crate::token_store::DieselTokenRepository<$connection> {
            #[tracing::instrument(skip_all, fields(user_id = %start.user_id), err(Display))]
            async fn save_start(
                &self,
                state: &domain::OAuthStateToken,
                start: &domain::OAuthStart,
            ) -> Result<(), domain::RepositoryError> {
                use diesel::prelude::*;
                use diesel_async::RunQueryDsl;
                use schema::calendly_oauth_starts::dsl;

                let hash = $crate::token_store::state_hash(state);
                let sealed = self.sealed_verifier(start);
                let mut db = self.connection().await?;
                let query = diesel::delete(
                    dsl::calendly_oauth_starts.filter(dsl::expires_at.lt(chrono::Utc::now())),
                )
                .execute(&mut db);
                let outcome = tokio::time::timeout(self.query_timeout(), query).await;
                self.settled(outcome, db).await?;

                let mut db = self.connection().await?;
                let query = diesel::insert_into(dsl::calendly_oauth_starts)
                    .values((
                        dsl::state_hash.eq(&hash),
                        dsl::user_id.eq(start.user_id.as_str()),
                        dsl::verifier_ciphertext.eq(&sealed.bytes),
                        dsl::verifier_key_id.eq(&sealed.key_id),
                        dsl::expires_at.eq(start.expires_at),
                    ))
                    .execute(&mut db);
                let outcome = tokio::time::timeout(self.query_timeout(), query).await;
                self.settled(outcome, db).await?;
                Ok(())
            }

            #[tracing::instrument(skip_all, err(Display))]
            async fn take_start(
                &self,
                state: &domain::OAuthStateToken,
                now: chrono::DateTime<chrono::Utc>,
            ) -> Result<Option<domain::OAuthStart>, domain::RepositoryError> {
                use diesel::prelude::*;
                use diesel_async::RunQueryDsl;
                use schema::calendly_oauth_starts::dsl;

                let hash = $crate::token_store::state_hash(state);
                let mut db = self.connection().await?;
                // Deleting is taking: of concurrent takes, one gets the row.
                let query = diesel::delete(dsl::calendly_oauth_starts.find(&hash))
                    .returning((
                        dsl::user_id,
                        dsl::verifier_ciphertext,
                        dsl::verifier_key_id,
                        dsl::expires_at,
                    ))
                    .get_result::<$crate::token_store::StoredStart>(&mut db);
                let outcome = tokio::time::timeout(self.query_timeout(), query)
                    .await
                    .map(diesel::OptionalExtension::optional);
                let row = self.settled(outcome, db).await?;
                row.filter(|(.., expires_at)| *expires_at > now)
                    .map(|row| self.opened_start(row))
                    .transpose()
            }
        }
    };
}

pub(crate) use diesel_oauth_starts;

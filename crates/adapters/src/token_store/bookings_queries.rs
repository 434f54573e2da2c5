//! The bookings' idempotency keys and slot holds, the same text for every backend. Each claim
//! and hold is one statement that either writes its row or finds another's, so that of
//! instances racing for one key or seat, one wins.

use sha2::{Digest as _, Sha256};

/// The fingerprint as kept: a SHA-256 of the request's canonical text, in hex.
pub(crate) fn fingerprint_hash(fingerprint: &str) -> String {
    Sha256::digest(fingerprint.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// Most seats of one time tried when holding one (a larger group is held as this many).
pub(crate) const MAX_SEATS_TRIED: u32 = 1_000;

/// Implements [`domain::booking::IdempotencyKeys`] and [`domain::booking::SlotHolds`] for
/// `DieselTokenRepository<$connection>`, with the `schema` module of the calling backend.
macro_rules! diesel_bookings {
    ($connection:ty) => {
        impl $crate::token_store::DieselTokenRepository<$connection> {
            /// Runs `query` (made on a pooled connection) within the query timeout.
            async fn run_booking_query<T, F>(&self, query: F) -> Result<T, domain::RepositoryError>
            where
                F: for<'c> FnOnce(
                    &'c mut $connection,
                )
                    -> futures::future::BoxFuture<'c, diesel::QueryResult<T>>,
            {
                let mut db = self.connection().await?;
                let outcome = tokio::time::timeout(self.query_timeout(), query(&mut db)).await;
                self.settled(outcome, db).await
            }
        }

        #[async_trait::async_trait]
        impl domain::booking::IdempotencyKeys
            for $crate::token_store::DieselTokenRepository<$connection>
        {
            #[tracing::instrument(skip_all, fields(user_id = %user), err(Display))]
            async fn claim(
                &self,
                user: &domain::UserId,
                key: &domain::booking::IdempotencyKey,
                fingerprint: &str,
                now: chrono::DateTime<chrono::Utc>,
            ) -> Result<domain::booking::Claim, domain::RepositoryError> {
                use diesel::prelude::*;
                use diesel_async::RunQueryDsl;
                use domain::booking::Claim;
                use futures::FutureExt as _;
                use schema::booking_keys::dsl;

                let (user, key) = (user.as_str().to_owned(), key.as_str().to_owned());
                let hash = $crate::token_store::fingerprint_hash(fingerprint);
                let expired = now - domain::booking::KEY_LIFETIME;
                let mine = || {
                    dsl::booking_keys
                        .filter(dsl::user_id.eq(user.clone()))
                        .filter(dsl::idempotency_key.eq(key.clone()))
                };
                let old = mine().filter(dsl::created_at.lt(expired));
                self.run_booking_query(|db| diesel::delete(old).execute(db).boxed())
                    .await?;
                let insert = diesel::insert_into(dsl::booking_keys)
                    .values((
                        dsl::user_id.eq(user.clone()),
                        dsl::idempotency_key.eq(key.clone()),
                        dsl::fingerprint.eq(hash.clone()),
                        dsl::state.eq("running"),
                        dsl::claimed_at.eq(now),
                        dsl::created_at.eq(now),
                    ))
                    .on_conflict_do_nothing();
                let inserted = self
                    .run_booking_query(|db| insert.execute(db).boxed())
                    .await?;
                if inserted == 1 {
                    return Ok(Claim::Claimed { after_doubt: false });
                }
                let read =
                    mine().select((dsl::fingerprint, dsl::state, dsl::answer, dsl::claimed_at));
                type KeyRow = (
                    String,
                    String,
                    Option<String>,
                    chrono::DateTime<chrono::Utc>,
                );
                let row: Option<KeyRow> = self
                    .run_booking_query(|db| {
                        async move {
                            diesel::OptionalExtension::optional(read.first::<KeyRow>(db).await)
                        }
                        .boxed()
                    })
                    .await?;
                let Some((kept, state, answer, claimed_at)) = row else {
                    // Expired and deleted by another claim meanwhile: this one waits its turn.
                    return Ok(Claim::Running);
                };
                if kept != hash {
                    return Ok(Claim::Reused);
                }
                if let Some(answer) = answer {
                    let booking = serde_json::from_str(&answer)
                        .map_err(|error| domain::RepositoryError::Unexpected(Box::new(error)))?;
                    return Ok(Claim::Answered(Box::new(booking)));
                }
                let stale = claimed_at <= now - domain::booking::RUNNING_LEASE;
                if state == "running" && !stale {
                    return Ok(Claim::Running);
                }
                // In doubt, or its runner stopped: taken over by one claim only.
                let take = diesel::update(
                    mine()
                        .filter(dsl::state.eq(state))
                        .filter(dsl::claimed_at.eq(claimed_at)),
                )
                .set((dsl::state.eq("running"), dsl::claimed_at.eq(now)));
                let taken = self
                    .run_booking_query(|db| take.execute(db).boxed())
                    .await?;
                Ok(if taken == 1 {
                    Claim::Claimed { after_doubt: true }
                } else {
                    Claim::Running
                })
            }

            #[tracing::instrument(skip_all, fields(user_id = %user), err(Display))]
            async fn answer(
                &self,
                user: &domain::UserId,
                key: &domain::booking::IdempotencyKey,
                booking: &domain::booking::Booking,
            ) -> Result<(), domain::RepositoryError> {
                use diesel::prelude::*;
                use diesel_async::RunQueryDsl;
                use futures::FutureExt as _;
                use schema::booking_keys::dsl;

                let answer = serde_json::to_string(booking)
                    .map_err(|error| domain::RepositoryError::Unexpected(Box::new(error)))?;
                let set = diesel::update(
                    dsl::booking_keys
                        .filter(dsl::user_id.eq(user.as_str().to_owned()))
                        .filter(dsl::idempotency_key.eq(key.as_str().to_owned())),
                )
                .set((dsl::state.eq("answered"), dsl::answer.eq(answer)));
                self.run_booking_query(|db| set.execute(db).boxed()).await?;
                Ok(())
            }

            #[tracing::instrument(skip_all, fields(user_id = %user), err(Display))]
            async fn forget(
                &self,
                user: &domain::UserId,
                key: &domain::booking::IdempotencyKey,
            ) -> Result<(), domain::RepositoryError> {
                use diesel::prelude::*;
                use diesel_async::RunQueryDsl;
                use futures::FutureExt as _;
                use schema::booking_keys::dsl;

                let delete = diesel::delete(
                    dsl::booking_keys
                        .filter(dsl::user_id.eq(user.as_str().to_owned()))
                        .filter(dsl::idempotency_key.eq(key.as_str().to_owned()))
                        .filter(dsl::state.ne("answered")),
                );
                self.run_booking_query(|db| delete.execute(db).boxed())
                    .await?;
                Ok(())
            }

            #[tracing::instrument(skip_all, fields(user_id = %user), err(Display))]
            async fn doubt(
                &self,
                user: &domain::UserId,
                key: &domain::booking::IdempotencyKey,
            ) -> Result<(), domain::RepositoryError> {
                use diesel::prelude::*;
                use diesel_async::RunQueryDsl;
                use futures::FutureExt as _;
                use schema::booking_keys::dsl;

                let set = diesel::update(
                    dsl::booking_keys
                        .filter(dsl::user_id.eq(user.as_str().to_owned()))
                        .filter(dsl::idempotency_key.eq(key.as_str().to_owned()))
                        .filter(dsl::state.eq("running")),
                )
                .set(dsl::state.eq("doubt"));
                self.run_booking_query(|db| set.execute(db).boxed()).await?;
                Ok(())
            }
        }

        #[async_trait::async_trait]
        impl domain::booking::SlotHolds
            for $crate::token_store::DieselTokenRepository<$connection>
        {
            #[tracing::instrument(skip_all, err(Display))]
            async fn hold(
                &self,
                event_type: &domain::EventTypeUri,
                start_time: chrono::DateTime<chrono::Utc>,
                seats: u32,
                now: chrono::DateTime<chrono::Utc>,
                until: chrono::DateTime<chrono::Utc>,
            ) -> Result<Option<domain::booking::SlotHold>, domain::RepositoryError> {
                use diesel::prelude::*;
                use diesel_async::RunQueryDsl;
                use futures::FutureExt as _;
                use schema::slot_holds::dsl;

                let time = dsl::slot_holds
                    .filter(dsl::event_type.eq(event_type.as_str().to_owned()))
                    .filter(dsl::start_time.eq(start_time));
                let ended = diesel::delete(time.filter(dsl::held_until.le(now)));
                self.run_booking_query(|db| ended.execute(db).boxed())
                    .await?;
                for seat in 0..seats.clamp(1, $crate::token_store::MAX_SEATS_TRIED) {
                    let insert = diesel::insert_into(dsl::slot_holds)
                        .values((
                            dsl::event_type.eq(event_type.as_str().to_owned()),
                            dsl::start_time.eq(start_time),
                            dsl::seat.eq(i32::try_from(seat).unwrap_or(i32::MAX)),
                            dsl::held_until.eq(until),
                        ))
                        .on_conflict_do_nothing();
                    let inserted = self
                        .run_booking_query(|db| insert.execute(db).boxed())
                        .await?;
                    if inserted == 1 {
                        return Ok(Some(domain::booking::SlotHold {
                            event_type: event_type.clone(),
                            start_time,
                            seat,
                        }));
                    }
                }
                Ok(None)
            }

            #[tracing::instrument(skip_all, err(Display))]
            async fn release(
                &self,
                hold: &domain::booking::SlotHold,
            ) -> Result<(), domain::RepositoryError> {
                use diesel::prelude::*;
                use diesel_async::RunQueryDsl;
                use futures::FutureExt as _;
                use schema::slot_holds::dsl;

                let delete = diesel::delete(
                    dsl::slot_holds
                        .filter(dsl::event_type.eq(hold.event_type.as_str().to_owned()))
                        .filter(dsl::start_time.eq(hold.start_time))
                        .filter(dsl::seat.eq(i32::try_from(hold.seat).unwrap_or(i32::MAX))),
                );
                self.run_booking_query(|db| delete.execute(db).boxed())
                    .await?;
                Ok(())
            }

            #[tracing::instrument(skip_all, err(Display))]
            async fn release_all(
                &self,
                event_type: &domain::EventTypeUri,
                start_time: chrono::DateTime<chrono::Utc>,
            ) -> Result<(), domain::RepositoryError> {
                use diesel::prelude::*;
                use diesel_async::RunQueryDsl;
                use futures::FutureExt as _;
                use schema::slot_holds::dsl;

                let delete = diesel::delete(
                    dsl::slot_holds
                        .filter(dsl::event_type.eq(event_type.as_str().to_owned()))
                        .filter(dsl::start_time.eq(start_time)),
                );
                self.run_booking_query(|db| delete.execute(db).boxed())
                    .await?;
                Ok(())
            }
        }
    };
}

pub(crate) use diesel_bookings;

//! What a booking page draws beside the slots: when the user is busy, and their availability
//! schedules.

use chrono::{DateTime, Utc};
use futures::{FutureExt as _, StreamExt as _, TryStreamExt as _, stream};
use tracing::instrument;

use super::service::SchedulingService;
use crate::error::GatewayError;
use crate::model::{BusyTime, RawJson, UserId};
use crate::ports::TimesAsked;

impl SchedulingService {
    /// When the user is busy between `start` and `end`, sorted by start, each once.
    ///
    /// The range is bounded and cut as for [`Self::check_availability`], in pieces of at most
    /// `max_busy_call_span` (the provider answers a week at a time). A busy time two pieces both
    /// report (one that spans their boundary) appears once.
    #[instrument(level = "debug", skip_all, fields(user_id = %user_id))]
    pub async fn busy_times(
        &self,
        user_id: &UserId,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<Vec<BusyTime>, GatewayError> {
        let requested = self.validated_range(start, end)?;
        let connection = self.connection(user_id).await?;
        connection.require(crate::scope::Scope::AvailabilityRead)?;
        self.with_renewal(connection, |connection| {
            async move {
                let Some(range) = self.still_ahead(requested) else {
                    return Ok(Vec::new());
                };
                let token = connection.credential.access_token();
                let user = &connection.calendly_user.uri;
                let pieces = range.split(self.policy.max_busy_call_span);
                let asked: Vec<TimesAsked> = pieces
                    .iter()
                    .map(|piece| TimesAsked {
                        event_type: None,
                        range: *piece,
                    })
                    .collect();
                self.afford(user, &asked).await?;
                let pieces: Vec<Vec<BusyTime>> = stream::iter(pieces)
                    .map(|piece| self.ports.scheduling.busy_times(token, user, piece))
                    .buffered(self.policy.max_concurrent_calls.max(1))
                    .try_collect()
                    .await?;
                let mut times: Vec<BusyTime> = pieces.into_iter().flatten().collect();
                times.sort_by(|a, b| {
                    (a.start_time, a.json.as_bytes()).cmp(&(b.start_time, b.json.as_bytes()))
                });
                times.dedup();
                Ok(times)
            }
            .boxed()
        })
        .await
    }

    /// The user's availability schedules, as the provider wrote them.
    #[instrument(level = "debug", skip_all, fields(user_id = %user_id))]
    pub async fn availability_schedules(
        &self,
        user_id: &UserId,
    ) -> Result<Vec<RawJson>, GatewayError> {
        let connection = self.connection(user_id).await?;
        connection.require(crate::scope::Scope::AvailabilityRead)?;
        self.with_renewal(connection, |connection| {
            async move {
                Ok(self
                    .ports
                    .scheduling
                    .availability_schedules(
                        connection.credential.access_token(),
                        &connection.calendly_user.uri,
                    )
                    .await?)
            }
            .boxed()
        })
        .await
    }
}
